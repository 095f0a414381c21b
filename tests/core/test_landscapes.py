"""The 2-D landscapes (Beale, Himmelblau, Rastrigin, saddle) and the 2-D quadratic: exact
gradients, known minima, evaluation of many runs at once, the command line."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lrviz.engine import Simulation
from lrviz.objectives import OBJECTIVES, make_objective
from lrviz.objectives.expression import ExpressionObjective
from lrviz.objectives.landscapes import LANDSCAPES, Saddle
from lrviz.objectives.quadratic import Quadratic
from tests.cli_call import call
from tests.core.test_objectives import assert_gradient_matches

#: The same functions typed as formulas: a second, independent implementation (the
#: expression's gradient is symbolic differentiation of the tree).
AS_FORMULAS = {
    "beale": "(1.5 - x + x*y)**2 + (2.25 - x + x*y**2)**2 + (2.625 - x + x*y**3)**2",
    "himmelblau": "(x**2 + y - 11)**2 + (x + y**2 - 7)**2",
    "rastrigin": "20 + x**2 - 10*cos(2*pi*x) + y**2 - 10*cos(2*pi*y)",
    "saddle": "x**2 - y**2 + 0.25*y**4 + 1",
}
NAMES = sorted(LANDSCAPES)


def points_in(domain, size=2):
    (x0, x1), (y0, y1) = domain
    return st.tuples(st.floats(x0, x1, allow_nan=False), st.floats(y0, y1, allow_nan=False)).map(
        np.array
    )


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_gradient_matches_central_differences_over_the_whole_domain(name, data):
    objective = LANDSCAPES[name]()
    assert_gradient_matches(objective, data.draw(points_in(objective.domain)))


@pytest.mark.parametrize("name", NAMES)
def test_loss_and_gradient_are_those_of_the_formula(name):
    objective = LANDSCAPES[name]()
    formula = ExpressionObjective(AS_FORMULAS[name], start=objective.initial_point())
    (x0, x1), (y0, y1) = objective.domain
    rng = np.random.default_rng(4)
    w = np.column_stack([rng.uniform(x0, x1, 500), rng.uniform(y0, y1, 500)])
    mine, theirs = objective.evaluate(w), formula.evaluate(w)
    np.testing.assert_allclose(mine.loss, theirs.loss, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(mine.grad, theirs.grad, rtol=1e-10, atol=1e-9)


@pytest.mark.parametrize("name", NAMES)
def test_the_minima_have_loss_zero_and_no_slope(name):
    objective = LANDSCAPES[name]()
    minima = np.array(objective.minima)
    evaluation = objective.evaluate(minima)
    np.testing.assert_allclose(evaluation.loss, 0.0, atol=1e-12)
    np.testing.assert_allclose(evaluation.grad, 0.0, atol=1e-9)
    # and nothing in the domain is lower (a 201 x 201 grid)
    (x0, x1), (y0, y1) = objective.domain
    gx, gy = np.meshgrid(np.linspace(x0, x1, 201), np.linspace(y0, y1, 201))
    assert objective.loss(gx, gy).min() >= -1e-12


@pytest.mark.parametrize("name", NAMES)
def test_many_runs_at_once_equal_one_at_a_time(name):
    objective = LANDSCAPES[name]()
    rng = np.random.default_rng(1)
    w = rng.normal(scale=2.0, size=(7, 2))
    together = objective.evaluate(w)
    for i in range(7):
        alone = objective.evaluate(w[i : i + 1])
        np.testing.assert_array_equal(alone.loss, together.loss[i : i + 1])
        np.testing.assert_array_equal(alone.grad, together.grad[i : i + 1])
    np.testing.assert_array_equal(objective.loss_only(w), together.loss)


def test_a_start_point_can_be_given_and_is_checked():
    assert make_objective("himmelblau", start=(1.0, -2.0)).initial_point().tolist() == [1, -2]
    with pytest.raises(ValueError, match="2 coordinates"):
        Saddle(start=(1.0, 2.0, 3.0))
    with pytest.raises(ValueError, match="finite"):
        Saddle(start=(1.0, float("nan")))


def test_registered_and_gradient_descent_reaches_a_minimum():
    for name in NAMES:
        assert OBJECTIVES[name] is LANDSCAPES[name]
    # Himmelblau from its default start at a moderate λ: one of its four minima.
    sim = Simulation(LANDSCAPES["himmelblau"](), "sgd", [0.01], 2000)
    for _ in sim.run():
        pass
    nearest = np.min(
        np.linalg.norm(np.array(LANDSCAPES["himmelblau"].minima) - sim.weights[0], axis=1)
    )
    assert nearest < 1e-6


def test_a_run_resting_at_loss_zero_is_not_called_diverged():
    """The saddle's loss at its minimum rounds to 0 or 1.1e-16 from step to step: 1.1e-16
    is more than 4 x 0, and the engine used to call that run diverged (at iteration 100)."""
    sim = Simulation(Saddle(), "sgd", [0.464, 0.01], 300)
    for _ in sim.run():
        pass
    assert not sim.summaries()[0]["diverged"]
    assert sim.summaries()[0]["best_loss"] == pytest.approx(0.0, abs=1e-15)
    # the same function typed as a formula (the saddle preset)
    sim = Simulation(ExpressionObjective.from_preset("saddle"), "sgd", [0.464], 300)
    for _ in sim.run():
        pass
    assert not sim.summaries()[0]["diverged"]
    # a run that really blows up still does
    sim = Simulation(Saddle(), "sgd", [1.2], 300)
    for _ in sim.run():
        pass
    assert sim.summaries()[0]["diverged"]


def test_the_2d_quadratic_takes_a_start_and_its_curvatures_are_L_and_L_over_K():
    q = Quadratic(dim=2, curvature=8.0, condition=16.0, start=(1.5, -1.0))
    assert q.initial_point().tolist() == [1.5, -1.0]
    np.testing.assert_allclose(np.linalg.eigvalsh(q.matrix), [0.5, 8.0])
    assert q.smallest_curvature == pytest.approx(0.5)


@pytest.mark.parametrize("name", NAMES)
def test_simulate_runs_each_landscape_from_the_command_line(name, capsys):
    code, out, err = call(
        ["simulate", "--objective", name, "--lrs", "1e-3,1e-2", "--iterations", "50", "--json"],
        capsys,
    )
    assert code == 0, err
    runs = json.loads(out)["runs"]
    assert [r["lr"] for r in runs] == [1e-3, 1e-2]


def test_simulate_takes_a_start_for_the_landscapes_and_the_quadratic(capsys):
    code, out, err = call(
        [
            "simulate",
            "--objective",
            "saddle",
            "--start=0,1.4142135623730951",
            "--lrs",
            "0.1",
            "--iterations",
            "5",
            "--json",
        ],
        capsys,
    )
    assert code == 0, err
    assert json.loads(out)["runs"][0]["final_loss"] == pytest.approx(0.0, abs=1e-12)
    code, out, err = call(
        ["simulate", "--objective", "quadratic", "--start", "1,2,3", "--lrs", "0.1", "--json"],
        capsys,
    )
    assert code == 2 and len(err.strip().splitlines()) == 1 and "start" in err

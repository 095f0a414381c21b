"""Theory λ: 2/L and 2/(μ+L) on quadratics, None where they do not hold, and agreement with
the simulation."""

from __future__ import annotations

import numpy as np
import pytest

from lrviz.engine import Simulation
from lrviz.objectives import make_objective
from lrviz.objectives.expression import ExpressionObjective
from lrviz.objectives.quadratic import Quadratic
from lrviz.schedules import Schedule
from lrviz.theory import constant_hessian, theory_lrs


def test_the_quadratic_objective_gives_2_over_L_and_2_over_mu_plus_L():
    theory = theory_lrs(Quadratic(dim=20, curvature=10.0, condition=50.0))
    assert theory.largest_curvature == pytest.approx(10.0)
    assert theory.smallest_curvature == pytest.approx(0.2)
    assert theory.stability_limit == pytest.approx(0.2)
    assert theory.best_constant == pytest.approx(2.0 / 10.2)
    assert theory.contraction == pytest.approx(9.8 / 10.2)
    (limit, limit_label), (best, best_label) = theory.lines()
    assert limit == pytest.approx(0.2) and limit_label == "2/L = 0.2"
    assert "Stability limit" in theory.descriptions()[0]
    assert best == pytest.approx(0.196078, rel=1e-5) and "2/(μ+L)" in best_label


def test_on_a_round_bowl_the_best_step_is_1_over_L_one_step_to_the_minimum():
    objective = Quadratic(dim=2, curvature=10.0, condition=1.0)
    theory = theory_lrs(objective)
    assert theory.best_constant == pytest.approx(0.1) and theory.contraction == pytest.approx(0)
    sim = Simulation(objective, "sgd", [theory.best_constant], 2)
    for _ in sim.run():
        pass
    assert sim.final_loss[0] == pytest.approx(0.0, abs=1e-28)


@pytest.mark.parametrize(
    "formula, mu, big",
    [
        ("x**2 + 10*y**2", 2.0, 20.0),  # Hessian diag(2, 20)
        ("x**2 + x*y + y**2 + 3*x - 1", 1.0, 3.0),  # [[2, 1], [1, 2]]: a rotated bowl
        ("5*x**2", 10.0, 10.0),
        ("0.5*(w[0]**2 + 4*w[1]**2 + 9*w[2]**2)", 1.0, 9.0),
    ],
)
def test_a_typed_convex_quadratic_is_recognised(formula, mu, big):
    objective = ExpressionObjective(formula)
    theory = theory_lrs(objective)
    assert theory is not None
    assert theory.smallest_curvature == pytest.approx(mu, rel=1e-6)
    assert theory.largest_curvature == pytest.approx(big, rel=1e-6)


@pytest.mark.parametrize(
    "formula",
    ["x**4 + y**2", "x**2 - y**2 + 1", "(1 - x)**2 + 100*(y - x**2)**2", "x**2", "sin(x) + y**2"],
)
def test_formulas_that_are_not_convex_quadratics_have_no_theory(formula):
    if formula == "x**2":
        assert theory_lrs(ExpressionObjective(formula)).stability_limit == pytest.approx(1.0)
        return
    assert theory_lrs(ExpressionObjective(formula)) is None


def test_no_theory_for_other_objectives_optimizers_or_a_schedule():
    quadratic = Quadratic(dim=2, curvature=4.0)
    for name in ("rosenbrock", "beale", "saddle", "logreg"):
        assert theory_lrs(make_objective(name, samples=50, features=3)) is None
    assert theory_lrs(quadratic, optimizer="adam") is None
    assert theory_lrs(quadratic, optimizer="momentum") is None
    assert theory_lrs(quadratic, schedule=Schedule()) is None
    assert constant_hessian(make_objective("rosenbrock")) is None


def test_the_simulation_agrees_with_theory():
    """Just below 2/L converges, just above diverges, and among constant λ the fastest to a
    small loss is the one nearest 2/(μ+L)."""
    objective = Quadratic(dim=2, curvature=10.0, condition=10.0, seed=3)
    theory = theory_lrs(objective)
    limit = theory.stability_limit
    sim = Simulation(objective, "sgd", [0.97 * limit, 1.03 * limit], 600)
    for _ in sim.run():
        pass
    below, above = sim.summaries()
    assert below["final_loss"] < 1e-6 * sim.objective.loss_only(objective.initial_point()[None])[0]
    assert not below["diverged"] and above["diverged"]

    lrs = np.linspace(0.3, 1.0, 29) * limit
    sim = Simulation(objective, "sgd", lrs, 60, divergence_factor=None)
    for _ in sim.run():
        pass
    fastest = lrs[int(np.argmin(sim.final_loss))]
    assert fastest == pytest.approx(theory.best_constant, rel=0.06)

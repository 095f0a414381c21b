"""The expr objective: gradient descent on a formula behaves as theory says, many runs at
once match one at a time, presets, seeded gradient noise, and the simulation config."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lrviz.engine import Simulation
from lrviz.expressions import ExpressionError
from lrviz.objectives import OBJECTIVES, make_objective
from lrviz.objectives.expression import DEFAULT_PRESET, PRESETS, ExpressionObjective
from lrviz.objectives.quadratic import Quadratic
from lrviz.objectives.rosenbrock import Rosenbrock
from lrviz.simulation_config import SimulationConfig


def run(objective, lrs, iterations, seed=0, **options):
    """Every iteration's loss (n, R) and the final weights (R, dim)."""
    simulation = Simulation(objective, "sgd", lrs, iterations, seed=seed, **options)
    losses = [batch.loss for batch in simulation.run(batch_iterations=iterations)]
    return np.vstack(losses), simulation.weights


# --- gradient descent matches theory --------------------------------------------------------


@settings(max_examples=50, deadline=None)
@given(start=st.floats(-1e6, 1e6, allow_nan=False).filter(lambda v: abs(v) > 1e-300))
def test_gd_on_x_squared_with_lr_half_lands_on_the_minimum_in_one_step(start):
    # f = x**2, f' = 2x: x - 0.5 * 2x is exactly 0 in floating point.
    objective = ExpressionObjective("x**2", start=[start])
    loss, weights = run(objective, [0.5], 3)
    assert loss[0, 0] == pytest.approx(start * start, rel=1e-15)
    assert loss[1, 0] == 0.0 and loss[2, 0] == 0.0
    assert weights[0, 0] == 0.0


@settings(max_examples=40, deadline=None)
@given(
    a=st.floats(0.01, 1000.0),
    below=st.floats(0.05, 0.95),
    above=st.floats(1.05, 3.0),
)
def test_gd_on_a_x_squared_diverges_above_1_over_a_and_converges_below(a, below, above):
    # f = a x**2, f' = 2 a x: x <- (1 - 2 a lr) x, stable exactly when lr < 1/a.
    objective = ExpressionObjective(f"{a!r}*x**2", start=[1.0])
    lrs = np.array([below / a, above / a])
    iterations = 300
    loss, _ = run(objective, lrs, iterations)
    stable, unstable = loss[:, 0], loss[:, 1]
    assert np.all(np.isfinite(stable)) and stable[-1] < stable[0]
    factor = (1.0 - 2.0 * below) ** 2  # per-iteration ratio of the loss, from theory
    t = np.arange(iterations)
    # atol: near below = 0.5 the factor is 0 in theory and ~1e-32 in floating point (lr·2a is
    # not exactly 1); losses 1e-12 below the start are numerically zero either way.
    np.testing.assert_allclose(stable, a * factor**t, rtol=1e-9 * iterations, atol=1e-12 * a)
    # The unstable run grows by (1 - 2 above)^2 > 1.21 per step and is stopped once it
    # exceeds 4x its best: after about log(4) / log(1.21) = 7.3 steps.
    diverged_at = np.flatnonzero(np.isnan(unstable))
    assert diverged_at.size > 0 and diverged_at[0] <= 40


def test_the_stability_limit_is_2_over_the_curvature_like_the_builtin_quadratic():
    # 0.5 * 10 * (x**2 + y**2) is Quadratic(curvature=10); GD is stable below lr 0.2.
    lrs = np.geomspace(1e-3, 1.0, 31)
    expr = ExpressionObjective("5*(x**2 + y**2)", start=Quadratic().initial_point())
    expr_loss, _ = run(expr, lrs, 100)
    quadratic_loss, _ = run(Quadratic(), lrs, 100)
    np.testing.assert_allclose(expr_loss, quadratic_loss, rtol=1e-9, atol=1e-20, equal_nan=True)
    diverged = np.isnan(expr_loss[-1])
    np.testing.assert_array_equal(diverged, lrs > 0.2)


def test_the_rosenbrock_preset_is_the_builtin_rosenbrock():
    preset = ExpressionObjective.from_preset("rosenbrock")
    builtin = Rosenbrock()
    np.testing.assert_array_equal(preset.initial_point(), builtin.initial_point())
    points = np.random.default_rng(3).uniform(-2.0, 2.0, (50, 2))
    ours, theirs = preset.evaluate(points), builtin.evaluate(points)
    np.testing.assert_allclose(ours.loss, theirs.loss, rtol=1e-12)
    np.testing.assert_allclose(ours.grad, theirs.grad, rtol=1e-12, atol=1e-12)


# --- many runs at once ------------------------------------------------------------------------


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_many_learning_rates_at_once_match_one_at_a_time(preset):
    objective = ExpressionObjective.from_preset(preset)
    lrs = np.geomspace(1e-3, 0.5, 6)
    together, weights = run(objective, lrs, 60, seed=7)
    for r, lr in enumerate(lrs):
        alone, alone_weights = run(objective, [lr], 60, seed=7)
        # A run alone stops when it diverges; together, the others keep the clock going.
        steps = alone.shape[0]
        assert np.all(np.isnan(together[steps:, r]))
        np.testing.assert_allclose(together[:steps, r], alone[:, 0], rtol=1e-12, equal_nan=True)
        np.testing.assert_allclose(weights[r], alone_weights[0], rtol=1e-12, equal_nan=True)


def test_evaluate_on_r_rows_matches_row_by_row():
    objective = ExpressionObjective("w[0]**2 * sin(w[1]) + exp(-w[2]) * w[0]")
    points = np.random.default_rng(0).normal(size=(20, 3))
    together = objective.evaluate(points)
    for r in range(20):
        alone = objective.evaluate(points[r : r + 1])
        np.testing.assert_allclose(together.loss[r], alone.loss[0], rtol=1e-12)
        np.testing.assert_allclose(together.grad[r], alone.grad[0], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(objective.loss_only(points), together.loss, rtol=1e-15)


# --- presets -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_presets_are_non_negative_with_minimum_zero_and_start_inside_the_domain(name):
    preset = PRESETS[name]
    objective = ExpressionObjective.from_preset(name)
    assert objective.dim == len(preset.start) == len(preset.domain) == 2
    (x0, x1), (y0, y1) = objective.domain
    xs, ys = np.linspace(x0, x1, 201), np.linspace(y0, y1, 201)
    surface = objective.formula.grid(xs, ys)
    assert np.all(np.isfinite(surface))
    # The divergence test compares a loss with a multiple of its best: it needs losses >= 0.
    assert surface.min() >= -1e-12
    assert surface.min() < 0.05 * (surface.max() - surface.min())
    start = objective.initial_point()
    assert x0 < start[0] < x1 and y0 < start[1] < y1
    assert preset.description and preset.label


def test_presets_show_what_they_claim():
    # bowl: curvatures 2 and 50, so plain GD's limit is lr = 2/50
    bowl = ExpressionObjective.from_preset("bowl")
    loss, _ = run(bowl, [0.039, 0.041], 400)
    assert np.isfinite(loss[-1, 0]) and np.isnan(loss[-1, 1])
    # saddle: from next to the ridge (y = 0.01) the run lingers by the saddle (loss 1)
    # before it reaches a minimum (loss 0, y = ±√2); from y = 0.5 it does not
    saddle = ExpressionObjective.from_preset("saddle")
    lingering, weights = run(saddle, [0.05], 400)
    direct, _ = run(ExpressionObjective(saddle.formula, start=(1.5, 0.5)), [0.05], 400)
    assert (np.abs(lingering[:, 0] - 1.0) < 0.05).sum() >= 10
    assert (np.abs(direct[:, 0] - 1.0) < 0.05).sum() == 0
    arrival = np.argmax(lingering[:, 0] < 1e-3), np.argmax(direct[:, 0] < 1e-3)
    assert arrival[0] > 1.5 * arrival[1] > 0
    assert lingering[-1, 0] < 1e-6 and abs(abs(weights[0, 1]) - np.sqrt(2.0)) < 1e-3
    # cliff: the gradient at the wall is about 19, against 0.4 on the plateau's edge
    cliff = ExpressionObjective.from_preset("cliff")
    wall = cliff.evaluate(np.array([[0.0, 0.0], [2.0, 0.0]])).grad[:, 0]
    assert 18.0 < wall[0] < 20.0 and wall[1] < 0.5


def test_the_default_objective_is_the_default_preset():
    objective = make_objective("expr")
    preset = PRESETS[DEFAULT_PRESET]
    assert objective.formula.text == preset.formula
    np.testing.assert_array_equal(objective.initial_point(), preset.start)
    assert objective.domain == preset.domain


# --- gradient noise ------------------------------------------------------------------------------


def test_gradient_noise_is_seeded_shared_by_runs_and_leaves_the_loss_exact():
    objective = ExpressionObjective("x**2 + y**2", gradient_noise=0.5)
    assert objective.stochastic
    first = objective.batches(np.random.default_rng(1))
    again = objective.batches(np.random.default_rng(1))
    other = objective.batches(np.random.default_rng(2))
    a, b, c = next(first), next(again), next(other)
    assert a.shape == (2,)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    points = np.array([[1.0, 2.0], [3.0, -1.0]])
    noisy = objective.evaluate(points, a)
    exact = objective.evaluate(points)
    np.testing.assert_array_equal(noisy.loss, exact.loss)
    np.testing.assert_allclose(noisy.grad - exact.grad, np.tile(a, (2, 1)), rtol=1e-12)


def test_gradient_noise_has_the_requested_spread():
    objective = ExpressionObjective("x**2", gradient_noise=0.3)
    stream = objective.batches(np.random.default_rng(0))
    draws = np.array([next(stream)[0] for _ in range(20_000)])
    assert abs(draws.mean()) < 0.3 * 5 / np.sqrt(20_000)
    assert draws.std() == pytest.approx(0.3, rel=0.03)


def test_the_noisy_bowl_settles_at_the_floor_theory_predicts():
    # GD on 0.5 |w|^2 with noise sigma: w <- (1 - lr) w - lr xi, whose stationary loss is
    # E[0.5 |w|^2] = dim/2 * lr sigma^2 / (2 - lr) = lr sigma^2 / (2 - lr) in 2-D.
    objective = ExpressionObjective.from_preset("noisy-bowl")
    lrs = np.array([0.1, 0.5, 1.0])
    loss, _ = run(objective, lrs, 4000, seed=0, divergence_factor=None)
    floor = loss[1000:].mean(axis=0)
    theory = lrs * 0.5**2 / (2.0 - lrs)
    np.testing.assert_allclose(floor / theory, 1.0, atol=0.25)
    assert floor[0] < floor[1] < floor[2]  # the larger lr jitters higher ...
    arrival = [int(np.argmax(loss[:, r] < 0.2)) for r in range(3)]
    assert arrival[0] > arrival[1] > arrival[2]  # ... but gets down sooner


def test_noisy_runs_repeat_with_the_seed_and_differ_without_it():
    objective = ExpressionObjective.from_preset("noisy-bowl")
    one, _ = run(objective, [0.1, 0.5], 80, seed=4)
    same, _ = run(objective, [0.1, 0.5], 80, seed=4)
    other, _ = run(objective, [0.1, 0.5], 80, seed=5)
    np.testing.assert_array_equal(one, same)
    assert not np.allclose(one, other)


def test_noiseless_objectives_yield_no_batches():
    objective = ExpressionObjective("x**2")
    stream = objective.batches(np.random.default_rng(0))
    assert [next(stream) for _ in range(3)] == [None, None, None]
    assert not objective.stochastic


# --- construction and validation --------------------------------------------------------------


def test_start_defaults_to_one_per_coordinate_and_is_checked():
    assert ExpressionObjective("w[0] + w[4]**2").initial_point().tolist() == [1.0] * 5
    with pytest.raises(ValueError, match=r"2 coordinates but the formula has 1 \(x\)"):
        ExpressionObjective("x**2", start=[1.0, 2.0])
    with pytest.raises(ValueError, match="finite"):
        ExpressionObjective("x**2", start=[np.nan])
    with pytest.raises(ValueError, match="gradient noise"):
        ExpressionObjective("x**2", gradient_noise=-1.0)


def test_domain_defaults_around_the_start_and_is_checked():
    assert ExpressionObjective("x*y", start=[4.0, -1.0]).domain == ((-6.0, 6.0), (-6.0, 6.0))
    assert ExpressionObjective("x**2").domain == ((-2.0, 2.0),)
    assert ExpressionObjective("w[0] + w[2]").domain is None  # no contour beyond 2-D
    given = ((-1.0, 2.0), (0.0, 5.0))
    assert ExpressionObjective("x*y", domain=given).domain == given
    with pytest.raises(ValueError, match="low < high"):
        ExpressionObjective("x*y", domain=((1.0, 0.0), (0.0, 1.0)))
    with pytest.raises(ValueError, match="one \\(low, high\\) range per coordinate"):
        ExpressionObjective("x*y", domain=((0.0, 1.0),))


def test_a_bad_formula_raises_the_positioned_error():
    with pytest.raises(ExpressionError, match="column 5"):
        ExpressionObjective("x + bogus")
    with pytest.raises(ValueError, match="unknown preset 'nope'"):
        ExpressionObjective.from_preset("nope")


def test_registered_as_expr_and_built_from_foreign_options():
    assert OBJECTIVES["expr"] is ExpressionObjective
    objective = make_objective(
        "expr", expr="x**2 + y", start=(2.0, 3.0), dim=7, curvature=3.0, seed=1
    )
    assert objective.dim == 2 and objective.initial_point().tolist() == [2.0, 3.0]


def test_simulation_config_carries_the_formula_start_and_noise():
    config = SimulationConfig(
        objective="expr",
        expr="x**2 + 10*y**2",
        start=(1.0, 1.0),
        gradient_noise=0.1,
        lrs=np.array([0.01, 0.05]),
        iterations=20,
    )
    simulation = config.build()
    assert simulation.objective.formula.text == "x**2 + 10*y**2"
    assert simulation.objective.gradient_noise == 0.1
    data = config.to_dict()
    assert (data["expr"], data["start"], data["gradient_noise"]) == (
        "x**2 + 10*y**2",
        (1.0, 1.0),
        0.1,
    )


def test_simulation_config_refuses_a_start_of_the_wrong_length_for_rosenbrock():
    SimulationConfig(objective="rosenbrock", start=(0.0, 0.0)).build()
    with pytest.raises(ValueError, match="3 coordinates but rosenbrock has 2 parameters"):
        SimulationConfig(objective="rosenbrock", start=(0.0, 0.0, 0.0)).build()


def test_other_objectives_ignore_the_expression_fields():
    config = SimulationConfig(objective="quadratic", expr="x**2", gradient_noise=1.0)
    assert isinstance(config.build().objective, Quadratic)

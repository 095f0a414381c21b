"""Sharpness tracked during a simulation (edge of stability, issue 12): equal to L on the
quadratic, the Hessian's top eigenvalue on logistic regression and the MLP, streamed into
the RunStore, and refused when it would be measured absurdly often."""

from __future__ import annotations

import numpy as np
import pytest

from lrviz.limits import SizeError, check_simulation
from lrviz.run_store import RunStore
from lrviz.sharpness import objective_gradient
from lrviz.simulation_config import SimulationConfig


def tracked(config: SimulationConfig, batch_iterations: int = 13, **engine):
    simulation = config.build(**engine)
    batches = list(simulation.run(batch_iterations=batch_iterations))
    iterations = np.concatenate([b.sharpness[0] for b in batches])
    values = np.concatenate([b.sharpness[1] for b in batches])
    return simulation, batches, iterations, values


def test_on_the_quadratic_sharpness_is_L_for_every_run_and_every_measurement():
    config = SimulationConfig(
        objective="quadratic",
        lrs=np.array([0.01, 0.1, 0.19]),
        iterations=100,
        dim=20,
        curvature=10.0,
        condition=50.0,
        sharpness_every=10,
    )
    _simulation, _batches, iterations, values = tracked(config)
    np.testing.assert_array_equal(iterations, np.arange(0, 100, 10))
    # warm-started power iteration: close from the first measurement, closer every time
    np.testing.assert_allclose(values, 10.0, rtol=2e-4)
    np.testing.assert_allclose(values[-1], 10.0, rtol=1e-7)


def test_a_diverged_run_is_not_measured_after_it_froze():
    config = SimulationConfig(
        objective="quadratic", lrs=np.array([0.1, 0.5]), iterations=60, sharpness_every=5
    )
    simulation, _batches, iterations, values = tracked(config)
    stop = simulation.diverged_at[1]
    assert 0 < stop < 60 and simulation.diverged_at[0] == -1
    assert np.all(np.isnan(values[iterations > stop, 1]))
    assert np.all(np.isfinite(values[:, 0]))
    np.testing.assert_allclose(values[iterations <= stop, 1], 10.0, rtol=1e-3)


def full_hessian_top(objective, weights: np.ndarray) -> float:
    """The largest eigenvalue of the Hessian built column by column by central differences
    of the gradient (independent of the power iteration under test)."""
    gradient = objective_gradient(objective)
    dim, h = weights.size, 1e-5
    columns = []
    for i in range(dim):
        step = np.zeros(dim)
        step[i] = h
        pair = gradient(np.stack([weights + step, weights - step]))
        columns.append((pair[0] - pair[1]) / (2 * h))
    hessian = np.array(columns)
    return float(np.linalg.eigvalsh(0.5 * (hessian + hessian.T)).max())


@pytest.mark.parametrize(
    "objective, options",
    [("logreg", dict(samples=300, features=6)), ("mlp", dict(samples=120, features=3))],
)
def test_logreg_and_mlp_sharpness_is_the_top_hessian_eigenvalue(objective, options):
    config = SimulationConfig(
        objective=objective,
        lrs=np.array([0.1, 1.0]),
        iterations=41,
        sharpness_every=20,
        divergence_factor=None,
        **options,
    )
    simulation = config.build(record_weights=True, sharpness_max_iterations=200)
    batches = list(simulation.run(batch_iterations=1000))
    weights = np.concatenate([b.weights for b in batches])
    iterations = np.concatenate([b.sharpness[0] for b in batches])
    values = np.concatenate([b.sharpness[1] for b in batches])
    assert iterations.tolist() == [0, 20, 40]
    for row, t in enumerate(iterations):
        for run in range(2):
            expected = full_hessian_top(simulation.objective, weights[t, run])
            assert values[row, run] == pytest.approx(expected, rel=1e-4)


def test_run_store_keeps_the_measurements_in_place():
    config = SimulationConfig(
        objective="quadratic", lrs=np.array([0.05, 0.1]), iterations=47, sharpness_every=6
    )
    simulation = config.build()
    store = RunStore(config.lrs, config.iterations, sharpness_every=6)
    for batch in simulation.run(batch_iterations=5):
        store.append(batch)
    assert store.sharpness_count == 8  # iterations 0, 6, ..., 42
    np.testing.assert_array_equal(store.sharpness_x(), np.arange(0, 47, 6))
    np.testing.assert_allclose(store.sharpness[: store.sharpness_count], 10.0, rtol=1e-3)
    assert store.sharpness.shape == (8, 2)


def test_without_tracking_batches_have_no_sharpness():
    simulation = SimulationConfig(iterations=5).build()
    assert all(b.sharpness is None for b in simulation.run())


@pytest.mark.parametrize("every", [0, -3, 2.5])
def test_a_bad_interval_is_refused(every):
    with pytest.raises(SizeError, match="sharpness interval"):
        check_simulation(SimulationConfig(sharpness_every=every))


def test_too_many_measurements_are_refused_before_anything_runs():
    config = SimulationConfig(iterations=1_000_000, lrs=np.array([0.1]), sharpness_every=1)
    with pytest.raises(SizeError, match=r"1,000,000 sharpness measurements.*measure less often"):
        check_simulation(config)
    check_simulation(SimulationConfig(iterations=1_000_000, lrs=[0.1], sharpness_every=100))

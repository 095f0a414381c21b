"""The schedules the Simulate form offers, fitted to the run's length."""

from __future__ import annotations

import numpy as np
import pytest

from lrviz.schedules import POLICIES, POLICY_LABELS, schedule_for_run
from lrviz.simulation_config import SimulationConfig


def lrs_of(policy, iterations, lr=0.5):
    config = SimulationConfig(
        objective="quadratic", lrs=np.array([lr]), iterations=iterations,
        schedule=schedule_for_run(policy, iterations),
    )  # fmt: skip
    schedule = config.make_schedule()
    if schedule is None:
        return np.full(iterations, lr)
    return schedule.lr(np.arange(iterations), np.array([lr]))[:, 0]


def test_every_policy_is_offered_and_constant_means_none():
    assert set(POLICY_LABELS) == set(POLICIES)
    assert schedule_for_run("constant", 300) is None
    with pytest.raises(ValueError, match="unknown policy"):
        schedule_for_run("warp", 300)


@pytest.mark.parametrize("iterations", [1, 2, 7, 300, 10_001])
@pytest.mark.parametrize("policy", POLICIES)
def test_each_policy_runs_and_the_runs_lr_is_its_peak(policy, iterations):
    lr = lrs_of(policy, iterations)
    assert lr.shape == (iterations,) and np.all(np.isfinite(lr)) and np.all(lr >= 0)
    if policy == "exp_range":  # its amplitude shrinks from the first iteration on
        assert 0.05 <= lr.max() <= 0.5
    elif iterations >= 4:  # 1cycle's peak falls between two iterations
        assert lr.max() == pytest.approx(0.5, rel=0.05 if policy == "1cycle" else 1e-9)


def test_the_shapes_fit_the_run():
    n = 300
    step = lrs_of("step", n)
    np.testing.assert_allclose(np.unique(np.round(step, 12))[::-1], [0.5, 0.05, 0.005])
    assert lrs_of("exponential", n)[-1] == pytest.approx(0.005, rel=1e-9)
    cosine = lrs_of("cosine", n)
    assert cosine[0] == pytest.approx(0.5) and cosine[-1] < 1e-3
    # two cycles between a tenth of the peak and the peak, within the run
    tri = lrs_of("triangular", n)
    peaks = np.flatnonzero(np.isclose(tri, 0.5))
    assert peaks.tolist() == [75, 225] and tri.min() == pytest.approx(0.05)
    exp_range = lrs_of("exp_range", n)
    assert exp_range[225] - 0.05 == pytest.approx(0.5 * (exp_range[75] - 0.05), rel=1e-9)
    restarts = lrs_of("cosine_restarts", n)
    assert np.flatnonzero(np.diff(restarts) > 0).tolist() == [74, 149, 224]
    one = lrs_of("1cycle", n)
    assert int(np.argmax(one)) == pytest.approx(0.3 * n, abs=2) and one[0] == pytest.approx(0.02)

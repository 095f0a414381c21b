"""Trajectories of 2-D runs: the history within its budget, and the drawn path at screen
resolution that keeps every kept step whole."""

from __future__ import annotations

import numpy as np
import pytest

from lrviz.engine import Simulation
from lrviz.objectives.landscapes import Himmelblau
from lrviz.objectives.quadratic import Quadratic
from lrviz.run_store import RunStore
from lrviz.trajectories import PATH_POINTS_BUDGET, Trajectories, path_capacity


def run_into_store(objective, lrs, iterations, batch_iterations=37, **store_options):
    sim = Simulation(objective, "sgd", lrs, iterations, record_weights=True)
    store = RunStore(lrs, iterations, trajectories=True, **store_options)
    for batch in sim.run(batch_iterations=batch_iterations):
        store.append(batch)
    return sim, store


def test_the_store_keeps_every_position_the_engine_visited():
    objective = Himmelblau()
    lrs = [1e-3, 1e-2]
    _sim, store = run_into_store(objective, lrs, 300)
    traj = store.trajectories
    assert traj.count == 300 and traj.stride == 1
    # Replay plain GD by hand: x_{k+1} = x_k - λ grad(x_k)
    for run, lr in enumerate(lrs):
        w = objective.initial_point()[None, :]
        for k in range(300):
            np.testing.assert_allclose(traj.positions[k, run], w[0], rtol=1e-12, atol=1e-12)
            w = w - lr * objective.evaluate(w).grad
    x, y = traj.path(1)
    assert x.size == 300 and (x[0], y[0]) == tuple(objective.initial_point())
    np.testing.assert_array_equal(traj.start_point(), objective.initial_point())


def test_a_diverged_run_ends_where_it_blew_up():
    objective = Quadratic(dim=2, curvature=10.0, seed=1)
    _sim, store = run_into_store(objective, [0.05, 0.5], 200)
    x, y = store.trajectories.path(1)
    at = int(store.diverged_at[1])
    assert 0 < at < 200
    assert x.size == at + 1 and np.all(np.isfinite(x)) and np.all(np.isfinite(y))
    np.testing.assert_allclose([x[-1], y[-1]], store.trajectories.positions[at, 1])
    assert np.all(np.isnan(store.trajectories.positions[at + 1 :, 1]))


def test_the_drawn_path_stays_within_capacity_and_keeps_step_pairs():
    traj = Trajectories(runs=1, iterations=10_000, capacity=64)
    # A bounce across a valley: x alternates sign every step while it shrinks slowly.
    k = np.arange(10_000)
    x = (-1.0) ** k * 0.9999**k
    weights = np.stack([x, np.zeros_like(x)], axis=1)[:, None, :]
    for start in range(0, 10_000, 333):
        traj.add(start, weights[start : start + 333])
    px, _py = traj.path(0)
    assert px.size <= 64 + 1
    kept = traj.path_iterations()
    assert traj.step > 1 and set(kept % traj.step) <= {0, 1}
    # every kept step still crosses the valley: the drawn x alternates in sign
    assert np.all(np.sign(px[:-1][1:]) != np.sign(px[:-1][:-1]))
    assert px[-1] == pytest.approx(x[-1])  # ends at the latest position


def test_a_batch_seen_twice_adds_nothing_and_bad_shapes_are_refused():
    traj = Trajectories(runs=2, iterations=10)
    w = np.arange(40, dtype=float).reshape(10, 2, 2)
    traj.add(0, w[:6])
    traj.add(0, w[:6])
    traj.add(4, w[4:])
    assert traj.count == 10 and traj.path(0)[0].size == 10
    np.testing.assert_array_equal(traj.positions, w)
    with pytest.raises(ValueError, match="expected"):
        traj.add(0, np.zeros((3, 3, 2)))


def test_history_is_strided_beyond_its_budget_and_summaries_are_unaffected():
    objective = Quadratic(dim=2, curvature=1.0, seed=0)
    budget = 16 * 2 * 1000  # 1000 iterations of 2 runs
    sim = Simulation(objective, "sgd", [0.1, 0.2], 5000, record_weights=True)
    traj = Trajectories(2, 5000, budget=budget)
    for batch in sim.run(batch_iterations=123):
        traj.add(batch.start, batch.weights)
    assert traj.stride == 5 and traj.positions.nbytes <= budget
    assert np.all(np.isfinite(traj.positions))
    assert traj.path(0)[0].size <= traj.capacity + 1


def test_the_drawn_paths_of_all_runs_stay_within_one_budget():
    assert path_capacity(4) == path_capacity(64) == 1024
    for runs in (65, 256, 1000, 4096):
        capacity = path_capacity(runs)
        assert capacity % 2 == 0 and capacity >= 128
        assert capacity * runs <= PATH_POINTS_BUDGET or capacity == 128
    assert Trajectories(runs=512, iterations=10).capacity == 128


# --- a zoomed-in view re-derives the path from the full history ----------------------------
def test_a_zoomed_path_keeps_every_step_inside_the_view_and_breaks_where_it_leaves():
    n = 4000
    t = np.arange(n, dtype=np.float64)
    # a spiral into the origin: its last thousands of steps sit in a tiny box
    r = np.exp(-t / 500.0)
    weights = np.stack([r * np.cos(t / 7.0), r * np.sin(t / 7.0)], axis=1)[:, None, :]
    traj = Trajectories(1, n, capacity=256)
    traj.add(0, weights)
    coarse_x, _ = traj.path(0)
    box = ((-0.01, 0.01), (-0.01, 0.01))
    inside = (np.abs(weights[:, 0, 0]) <= 0.01) & (np.abs(weights[:, 0, 1]) <= 0.01)
    x, y = traj.path_within(0, box, capacity=4096)
    shown = np.isfinite(x)
    # every position inside the box is drawn, plus one neighbour on each side of a run
    drawn = {(a, b) for a, b in zip(x[shown], y[shown], strict=True)}
    assert all((a, b) in drawn for a, b in weights[inside, 0])
    assert (
        shown.sum() >= inside.sum() > 10 * np.sum(np.abs(coarse_x) <= 0.01)
    )  # the screen-resolution path had far fewer points there
    # it leaves and comes back on the early, wide turns: NaN breaks, never a jump across
    assert np.isnan(x).any()
    finite_runs = np.split(np.arange(x.size), np.flatnonzero(np.isnan(x)))
    assert len(finite_runs) > 1


def test_a_zoomed_path_thins_to_its_capacity_in_step_pairs():
    n = 10_000
    weights = np.zeros((n, 1, 2))
    weights[:, 0, 0] = np.linspace(0.0, 1.0, n)
    traj = Trajectories(1, n, capacity=256)
    traj.add(0, weights)
    x, _y = traj.path_within(0, ((-1.0, 2.0), (-1.0, 1.0)), capacity=500)
    assert 250 <= np.isfinite(x).sum() <= 500
    assert not np.isnan(x).any()  # thinned, not broken: the steps kept are pairs
    assert x[0] == 0.0


def test_a_zoomed_path_of_a_diverged_run_stops_where_it_blew_up():
    weights = np.zeros((50, 1, 2))
    weights[:, 0, 0] = np.arange(50) * 0.01
    weights[30:] = np.nan
    traj = Trajectories(1, 50)
    traj.add(0, weights)
    x, y = traj.path_within(0, ((-1.0, 1.0), (-1.0, 1.0)))
    np.testing.assert_allclose(x, np.arange(30) * 0.01)
    assert np.all(y == 0.0)

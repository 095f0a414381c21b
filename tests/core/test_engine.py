"""The engine: vectorization, divergence, GD theory, determinism and streaming batches."""

from __future__ import annotations

import itertools
import json
import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lrviz.engine import Batch, Simulation
from lrviz.objectives import Evaluation, Objective, make_objective
from lrviz.objectives.logreg import LogisticRegression
from lrviz.objectives.quadratic import Quadratic
from lrviz.objectives.rosenbrock import Rosenbrock
from lrviz.run_store import RunStore
from lrviz.schedules import RangeRamp


def collect(sim: Simulation, batch_iterations: int = 1000, batch_seconds: float = 1e9):
    """Run to the end; (loss, lr, accuracy, weights) padded to (iterations, R[, dim]) with NaN."""
    shape = (sim.iterations, sim.runs)
    loss, lr = np.full(shape, np.nan), np.full(shape, np.nan)
    acc = np.full(shape, np.nan)
    weights = np.full((*shape, sim.objective.dim), np.nan) if sim.record_weights else None
    for b in sim.run(batch_iterations=batch_iterations, batch_seconds=batch_seconds):
        loss[b.start : b.stop] = b.loss
        lr[b.start : b.stop] = b.lr
        if b.accuracy is not None:
            acc[b.start : b.stop] = b.accuracy
        if weights is not None:
            weights[b.start : b.stop] = b.weights
    return loss, lr, acc, weights


# --- vectorization ----------------------------------------------------------------------


def compare_vectorized_with_single_runs(make, optimizer, lrs, iterations, exact, **engine):
    """R runs at once against R one-lr simulations of fresh, identical objectives."""
    together = Simulation(make(), optimizer, lrs, iterations, record_weights=True, **engine)
    loss, lr, acc, weights = collect(together, batch_iterations=37)
    for r, one_lr in enumerate(lrs):
        alone = Simulation(make(), optimizer, [one_lr], iterations, record_weights=True, **engine)
        s_loss, s_lr, s_acc, s_weights = collect(alone, batch_iterations=23)
        assert alone.diverged_at[0] == together.diverged_at[r], f"run {r} (lr {one_lr:g})"
        if exact:
            np.testing.assert_array_equal(s_loss[:, 0], loss[:, r])
            np.testing.assert_array_equal(s_acc[:, 0], acc[:, r])
            np.testing.assert_array_equal(s_weights[:, 0], weights[:, r])
            np.testing.assert_array_equal(alone.weights[0], together.weights[r])
        else:
            np.testing.assert_allclose(s_loss[:, 0], loss[:, r], rtol=1e-9, atol=0)
            scale = np.nanmax(np.abs(weights[:, r]))
            np.testing.assert_allclose(s_weights[:, 0], weights[:, r], rtol=1e-9, atol=1e-9 * scale)
            # accuracy counts signs: it may only differ where a logit is within rounding of 0
            assert np.mean(np.isclose(s_acc[:, 0], acc[:, r], equal_nan=True)) > 0.99
        np.testing.assert_array_equal(s_lr[:, 0], lr[:, r])
    return together


OPTIMIZER_CASES = [
    ("sgd", {}),
    ("momentum", {"momentum": 0.9}),
    ("nesterov", {"momentum": 0.7, "weight_decay": 1e-3}),
    ("adam", {}),
]


@pytest.mark.parametrize(("optimizer", "options"), OPTIMIZER_CASES)
def test_vectorized_rosenbrock_is_bit_identical_to_single_runs(optimizer, options):
    """Rosenbrock is elementwise numpy, so stacking runs must not change a single bit, including
    the freezing of the runs that diverge (about half of these lrs)."""
    lrs = np.geomspace(1e-5, 0.5 if optimizer == "adam" else 1e-2, 9)
    together = compare_vectorized_with_single_runs(
        Rosenbrock, optimizer, lrs, 300, exact=True, optimizer_options=options
    )
    diverged = together.diverged_at >= 0
    assert diverged.any() and not diverged.all()


def test_vectorized_runs_with_a_schedule_and_smoothed_divergence_are_bit_identical():
    ramp = RangeRamp(1e-6, 1e-2, 200)
    compare_vectorized_with_single_runs(
        Rosenbrock,
        "momentum",
        [1.0, 2.0, 3.0],
        200,
        exact=True,
        schedule=ramp,
        divergence_smoothing=0.9,
    )


# The quadratic and logistic regression multiply (R, dim) matrices with BLAS, whose kernels
# round differently for different numbers of rows (OpenBLAS dgemm uses other kernels for odd
# row counts and numpy switches to gemv for one row): a run's numbers depend on how many runs it
# is stacked with, in the last bits only. These cases therefore check agreement to 1e-9
# (which a wrong lr, optimizer state or minibatch would break by orders of magnitude) and the
# exact iteration of divergence.
MATMUL_CASES = {
    "quadratic": lambda: Quadratic(dim=20, curvature=10.0, condition=100.0, seed=4),
    "logreg": lambda: LogisticRegression(samples=400, features=6, seed=2),
    "logreg-minibatch": lambda: LogisticRegression(samples=400, features=6, batch_size=32, seed=2),
}


@pytest.mark.parametrize("case", sorted(MATMUL_CASES))
@pytest.mark.parametrize(("optimizer", "options"), OPTIMIZER_CASES)
def test_vectorized_matmul_objectives_match_single_runs(case, optimizer, options):
    make = MATMUL_CASES[case]
    if case == "quadratic":
        lrs = [1e-3, 0.05, 0.15, 0.19, 0.3, 1.0] if optimizer == "sgd" else [1e-3, 0.01, 0.5]
    else:
        lrs = [1e-3, 1e-2, 0.05, 0.5] if optimizer != "adam" else [1e-3, 0.1, 3.0]
    compare_vectorized_with_single_runs(
        make, optimizer, lrs, 150, exact=False, optimizer_options=options, seed=7
    )


def test_every_run_sees_the_same_minibatch_sequence():
    """The sequence of minibatches is drawn once and shared: independent of R, the lrs, and
    which runs have diverged."""

    class Recording(LogisticRegression):
        def __init__(self):
            super().__init__(samples=300, features=4, batch_size=16, seed=1)
            self.seen: list[tuple[int, tuple[int, ...]]] = []

        def evaluate(self, weights, batch=None):
            self.seen.append((weights.shape[0], tuple(batch)))
            return super().evaluate(weights, batch)

    many = Recording()
    collect(Simulation(many, "sgd", np.geomspace(1e-3, 30.0, 12), 60, seed=3))
    one = Recording()
    collect(Simulation(one, "sgd", [1e-3], 60, seed=3))
    assert [b for _, b in many.seen] == [b for _, b in one.seen]
    assert len({b for _, b in many.seen}) > 50  # really a different minibatch each time
    assert min(r for r, _ in many.seen) < 12  # some runs diverged on the way


# --- divergence -------------------------------------------------------------------------


def unit_quadratic() -> Quadratic:
    """f(w) = w²/2 in 1-D from w0 = ±1: GD multiplies w by (1 - lr) each step, exactly."""
    objective = Quadratic(dim=1, curvature=1.0, seed=0)
    assert abs(objective.initial_point()[0]) == 1.0
    return objective


def test_divergence_by_factor_is_marked_at_that_iteration_and_the_run_frozen():
    # lr 2.5: w_t = (-1.5)^t w0, loss 0.5 * 2.25^t: 0.5, 1.125, 2.53125 > 4 * 0.5 at t = 2.
    # lr 0.5: w_t = 0.5^t w0, never diverges, and must not notice its neighbour freezing.
    objective = unit_quadratic()
    w0 = objective.initial_point()[0]
    sim = Simulation(
        objective,
        "momentum",
        [2.5, 0.5],
        10,
        optimizer_options={"momentum": 0.0},
        record_weights=True,
    )
    loss, lr, _, weights = collect(sim, batch_iterations=4)
    assert sim.diverged_at.tolist() == [2, -1]
    assert loss[:3, 0].tolist() == [0.5, 1.125, 2.53125]
    assert np.isnan(loss[3:, 0]).all() and np.isnan(lr[3:, 0]).all()
    assert lr[:3, 0].tolist() == [2.5] * 3
    assert sim.weights[0, 0] == 2.25 * w0  # frozen where it diverged: no step taken
    assert weights[:3, 0, 0].tolist() == [w0, -1.5 * w0, 2.25 * w0]
    assert np.isnan(weights[3:, 0]).all()
    assert loss[:, 1].tolist() == [0.5 * 0.25**t for t in range(10)]
    assert sim.weights[1, 0] == 0.5**10 * w0


def test_divergence_factor_none_only_stops_non_finite_runs():
    objective = unit_quadratic()
    # lr 2.5 grows 2.25x per step but stays finite for 20 steps; lr 1e100 overflows at t = 2
    # (w1 = -1e100 w0, loss 5e199; w2 = 1e200 w0, loss inf)
    sim = Simulation(objective, "sgd", [2.5, 1e100], 20, divergence_factor=None)
    loss, _, _, _ = collect(sim)
    assert sim.diverged_at.tolist() == [-1, 2]
    np.testing.assert_allclose(loss[:, 0], 0.5 * 2.25 ** np.arange(20), rtol=1e-12)
    assert np.isfinite(loss[:2, 1]).all() and loss[2, 1] == np.inf
    assert np.isnan(loss[3:, 1]).all()


def test_divergence_factor_is_configurable():
    objective = unit_quadratic()
    # loss 0.5 * 2.25^t: exceeds 2x best at t = 1 (1.125 > 1), 10x best at t = 3 (5.7 > 5)
    assert Simulation(objective, "sgd", [2.5], 10, divergence_factor=2.0).done is False
    for factor, expected in ((2.0, 1), (10.0, 3)):
        sim = Simulation(objective, "sgd", [2.5], 10, divergence_factor=factor)
        collect(sim)
        assert sim.diverged_at.tolist() == [expected]


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "nesterov", "adam"])
@pytest.mark.parametrize("objective_name", ["rosenbrock", "quadratic", "logreg"])
@pytest.mark.parametrize("factor", [4.0, None])
def test_no_runtime_warning_escapes_even_at_absurd_learning_rates(
    optimizer, objective_name, factor
):
    objective = make_objective(objective_name, dim=5, samples=100, features=4, batch_size=10)
    lrs = [1e-3, 1e6, 1e300]
    with warnings.catch_warnings(), np.errstate(over="warn", invalid="warn", divide="warn"):
        warnings.simplefilter("error")
        sim = Simulation(objective, optimizer, lrs, 60, divergence_factor=factor)
        store = RunStore(lrs, 60, objective.has_accuracy)
        for b in sim.run(batch_iterations=7):
            store.append(b)
        json.dumps(store.summaries(), allow_nan=False)
    if factor is not None and objective_name == "rosenbrock":
        # from (-1.2, 1), one step of 1e6 * grad blows the loss up at once
        assert sim.diverged_at[1:].tolist() == [1, 1]
    if optimizer == "sgd" and objective_name != "logreg":
        assert (sim.diverged_at[1:] >= 0).all()


def test_rosenbrock_at_lr_1e6_hits_infinity_without_warnings():
    with warnings.catch_warnings(), np.errstate(over="warn", invalid="warn", divide="warn"):
        warnings.simplefilter("error")
        sim = Simulation(Rosenbrock(), "sgd", [1e6], 50, divergence_factor=None)
        loss, _, _, _ = collect(sim)
    t = sim.diverged_at[0]
    assert t > 0 and not np.isfinite(loss[t, 0]) and np.isfinite(loss[:t, 0]).all()
    assert np.isnan(loss[t + 1 :, 0]).all()


def reference_diverged_at(losses, factor, beta):
    """The divergence rule, written out: smoothed = debiased EMA of the raw losses (beta > 0);
    diverged at the first non-finite raw loss or smoothed > factor * best smoothed so far."""
    best, ema = math.inf, 0.0
    for t, x in enumerate(losses):
        if not math.isfinite(x):
            return t
        if beta > 0:
            ema = beta * ema + (1.0 - beta) * x
            smoothed = ema / (1.0 - beta ** (t + 1))
        else:
            smoothed = x
        if factor is not None and smoothed > factor * best:
            return t
        best = min(best, smoothed)
    return -1


class Scripted(Objective):
    """A loss that follows a script, one value per iteration (the 'minibatch' is the index)."""

    name = "scripted"
    dim = 1

    def __init__(self, losses):
        self.losses = np.asarray(losses, dtype=float)

    def initial_point(self):
        return np.zeros(1)

    def batches(self, rng):
        t = 0
        while True:
            yield t
            t += 1

    def evaluate(self, weights, batch=None):
        return Evaluation(
            loss=np.full(weights.shape[0], self.losses[batch]), grad=np.ones_like(weights)
        )


def test_smoothed_divergence_ignores_a_spike_but_not_a_sustained_rise():
    spike = [1.0, 1.0, 5.0, 1.0, 1.0, 1.0]
    rise = [1.0, 1.0, 5.0, 5.0, 5.0, 5.0]
    for script, raw, smoothed in ((spike, 2, -1), (rise, 2, 3)):
        for beta, expected in ((0.0, raw), (0.5, smoothed)):
            sim = Simulation(Scripted(script), "sgd", [0.1], len(script), divergence_smoothing=beta)
            collect(sim)
            assert sim.diverged_at[0] == expected == reference_diverged_at(script, 4.0, beta)


loss_values = st.one_of(
    st.floats(0.01, 100.0),
    st.sampled_from([math.inf, -math.inf, math.nan, 1e300]),
)


@settings(max_examples=60, deadline=None)
@given(
    script=st.lists(loss_values, min_size=1, max_size=40),
    factor=st.sampled_from([None, 1.5, 4.0]),
    beta=st.sampled_from([0.0, 0.3, 0.9]),
)
def test_divergence_rule_matches_its_definition(script, factor, beta):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sim = Simulation(
            Scripted(script),
            "adam",
            [0.1, 1.0],
            len(script),
            divergence_factor=factor,
            divergence_smoothing=beta,
        )
        loss, _, _, _ = collect(sim, batch_iterations=3)
    expected = reference_diverged_at(script, factor, beta)
    assert sim.diverged_at.tolist() == [expected, expected]
    last = expected if expected >= 0 else len(script) - 1
    np.testing.assert_array_equal(loss[: last + 1, 0], script[: last + 1])
    assert np.isnan(loss[last + 1 :]).all()


# --- theory: GD on a quadratic is stable exactly below 2/L -------------------------------


@settings(max_examples=25, deadline=None)
@given(
    curvature=st.floats(-1.0, 2.0).map(lambda e: 10.0**e),
    condition=st.floats(0.0, 2.0).map(lambda e: 10.0**e),
    dim=st.integers(1, 8),
    seed=st.integers(0, 10_000),
    below=st.floats(1e-3, 0.98),
    above=st.floats(1.02, 50.0),
)
def test_gradient_descent_converges_below_2_over_L_and_diverges_above(
    curvature, condition, dim, seed, below, above
):
    objective = Quadratic(dim=dim, curvature=curvature, condition=condition, seed=seed)
    limit = 2.0 / curvature
    sim = Simulation(objective, "sgd", [below * limit, above * limit], 1000)
    loss, _, _, _ = collect(sim)
    assert sim.diverged_at[0] == -1, "diverged below 2/L"
    assert loss[-1, 0] < loss[0, 0]
    assert sim.diverged_at[1] >= 0, "did not diverge above 2/L"


def test_theory_on_a_grid_across_curvatures_conditions_and_dims():
    for curvature, condition, dim in ((0.1, 1.0, 1), (10.0, 1.0, 2), (3.0, 50.0, 7), (80, 5, 30)):
        lrs = np.geomspace(1e-3, 100.0, 200) / curvature
        sim = Simulation(Quadratic(dim, curvature, condition, seed=dim), "sgd", lrs, 800)
        loss, _, _, _ = collect(sim)
        stable = lrs < 2.0 / curvature
        np.testing.assert_array_equal(sim.diverged_at < 0, stable)
        assert (loss[-1, stable] < loss[0, stable]).all()


# --- determinism, streaming, cancel and resume ---------------------------------------------


def minibatch_logreg_sim(seed: int, **kwargs) -> Simulation:
    objective = LogisticRegression(samples=300, features=5, batch_size=20, seed=0)
    lrs = np.geomspace(1e-3, 10.0, 8)
    return Simulation(objective, "adam", lrs, 120, seed=seed, record_weights=True, **kwargs)


def test_same_seed_gives_the_same_numbers_and_another_seed_differs():
    a = collect(minibatch_logreg_sim(seed=1))
    b = collect(minibatch_logreg_sim(seed=1))
    c = collect(minibatch_logreg_sim(seed=2))
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
    assert not np.allclose(a[0][1:], c[0][1:], equal_nan=True)
    np.testing.assert_array_equal(a[0][0], c[0][0])  # same start, same dataset


@pytest.mark.parametrize("interrupt_after", [1, 3, 7])
def test_cancel_and_resume_gives_the_uninterrupted_numbers(interrupt_after):
    reference = collect(minibatch_logreg_sim(seed=5))
    sim = minibatch_logreg_sim(seed=5)
    batches: list[Batch] = []
    generator = sim.run(batch_iterations=9, batch_seconds=1e9)
    for _ in range(interrupt_after):
        batches.append(next(generator))
    generator.close()  # cancel
    assert sim.iteration == 9 * interrupt_after
    for b in sim.run(batch_iterations=5, batch_seconds=1e9):  # resume, other batch size
        batches.append(b)
        if len(batches) == interrupt_after + 2:
            break  # cancel again by abandoning the loop
    batches.extend(sim.run(batch_iterations=13))
    resumed = np.concatenate([b.loss for b in batches])
    weights = np.concatenate([b.weights for b in batches])
    np.testing.assert_array_equal(resumed, reference[0])
    np.testing.assert_array_equal(weights, reference[3])
    assert [b.start for b in batches[1:]] == [b.stop for b in batches[:-1]]


@pytest.mark.parametrize(("iterations", "per_batch"), [(100, 7), (100, 25), (5, 10), (1, 1)])
def test_batches_honour_batch_iterations_are_contiguous_and_done_only_at_the_end(
    iterations, per_batch
):
    sim = Simulation(Rosenbrock(), "momentum", [1e-4, 2e-4, 5e-4], iterations, record_weights=True)
    batches = list(sim.run(batch_iterations=per_batch, batch_seconds=1e9))
    assert batches[0].start == 0 and batches[-1].stop == iterations
    for prev, nxt in itertools.pairwise(batches):
        assert nxt.start == prev.stop
    assert [b.loss.shape[0] for b in batches[:-1]] == [per_batch] * (len(batches) - 1)
    assert 1 <= batches[-1].loss.shape[0] <= per_batch
    assert [b.done for b in batches] == [False] * (len(batches) - 1) + [True]
    for b in batches:
        n = b.stop - b.start
        assert b.lr.shape == (n, 3) and b.weights.shape == (n, 3, 2) and b.accuracy is None
    assert sim.done and list(sim.run()) == []


def test_batch_seconds_cuts_batches_short():
    sim = Simulation(Rosenbrock(), "sgd", [1e-4], 30)
    batches = list(sim.run(batch_iterations=1000, batch_seconds=0.0))
    assert [b.loss.shape[0] for b in batches] == [1] * 30
    assert batches[-1].done


def test_last_batch_is_done_when_every_run_diverges_early():
    sim = Simulation(unit_quadratic(), "sgd", [5.0, 9.0], 1000)
    batches = list(sim.run(batch_iterations=100))
    assert len(batches) == 1 and batches[0].done and batches[0].stop < 1000
    assert (batches[0].diverged_at >= 0).all()


def test_bad_engine_arguments_are_refused():
    objective = Rosenbrock()
    for lrs in ([], [0.0], [-1.0], [math.nan], [math.inf], [[1e-3]]):
        with pytest.raises(ValueError):
            Simulation(objective, "sgd", lrs, 10)
    with pytest.raises(ValueError, match="iterations"):
        Simulation(objective, "sgd", [1e-3], 0)
    with pytest.raises(ValueError, match="divergence factor"):
        Simulation(objective, "sgd", [1e-3], 10, divergence_factor=1.0)
    with pytest.raises(ValueError, match="smoothing"):
        Simulation(objective, "sgd", [1e-3], 10, divergence_smoothing=1.0)
    with pytest.raises(ValueError, match="batch_iterations"):
        next(Simulation(objective, "sgd", [1e-3], 10).run(batch_iterations=0))


# --- the working arrays: diverged runs leave them at once ---------------------------------


def sweep(objective_name: str, optimizer: str, **engine) -> Simulation:
    """Learning rates from harmless to absurd: runs diverge at many different iterations."""
    objective = make_objective(objective_name, dim=6, condition=20.0, samples=200, batch_size=16)
    lrs = np.geomspace(1e-4, 50.0, 23)
    return Simulation(objective, optimizer, lrs, 120, seed=2, record_weights=True, **engine)


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
@pytest.mark.parametrize("objective_name", ["rosenbrock", "quadratic", "logreg"])
def test_results_do_not_depend_on_how_the_run_is_cut_into_batches(objective_name, optimizer):
    """Batches are cut by time as well as by count, so the batching must not change a bit:
    not even through BLAS, whose rounding depends on how many runs are stacked (an engine
    that dropped diverged runs at batch boundaries gave other numbers run to run)."""
    whole = sweep(objective_name, optimizer)
    reference = collect(whole, batch_iterations=10_000)
    assert 0 < np.sum(whole.diverged_at >= 0) < whole.runs
    for per_batch in (1, 7, 50):
        sim = sweep(objective_name, optimizer)
        got = collect(sim, batch_iterations=per_batch)
        np.testing.assert_array_equal(sim.diverged_at, whole.diverged_at)
        for x, y in zip(got, reference, strict=True):
            np.testing.assert_array_equal(x, y)
        np.testing.assert_array_equal(sim.weights, whole.weights)


def test_diverged_runs_are_not_evaluated_after_the_iteration_they_diverged_at():
    rows_seen = []

    class Counting(Quadratic):
        def evaluate(self, weights, batch=None):
            rows_seen.append(weights.shape[0])
            return super().evaluate(weights, batch)

        def evaluate_into(self, weights, batch, workspace):
            rows_seen.append(weights.shape[0])
            return super().evaluate_into(weights, batch, workspace)

    # unit curvature: lr 2.5 diverges at t = 2, lr 5 at t = 1, lr 0.5 never
    sim = Simulation(Counting(dim=1, curvature=1.0), "sgd", [2.5, 0.5, 5.0], 12)
    batches = list(sim.run(batch_iterations=4))
    assert sim.diverged_at.tolist() == [2, -1, 1]
    assert rows_seen == [3, 3, 2] + [1] * 9
    assert sim.live_count == 1
    for b in batches:
        assert b.loss.shape == (4, 3)
    assert np.isnan(batches[1].loss[:, [0, 2]]).all() and np.isfinite(batches[1].loss[:, 1]).all()


def test_a_huge_batch_request_is_cut_to_the_memory_budget(monkeypatch):
    """batch_iterations used to size the batch's arrays up front: 10**8 iterations of 1000
    runs asked for two 745 GiB arrays before the first step and raised MemoryError."""
    import lrviz.engine

    sim = Simulation(Rosenbrock(), "sgd", np.geomspace(1e-6, 1e-3, 1000), 10**8)
    batch = next(sim.run(batch_iterations=10**8, batch_seconds=0.05))
    assert batch.loss.nbytes <= lrviz.engine.BATCH_BYTES
    monkeypatch.setattr(lrviz.engine, "BATCH_BYTES", 3 * 8 * 2 * 1000)
    rows = [b.loss.shape[0] for b in itertools.islice(sim.run(batch_iterations=10), 4)]
    assert rows == [3, 3, 3, 3]


@pytest.mark.parametrize("objective_name", ["rosenbrock", "quadratic", "logreg", "mlp"])
def test_streamed_summaries_equal_the_run_store_of_the_same_batches(objective_name):
    """Final and best loss (and final accuracy) are kept while streaming, so the command line
    needs no (iterations, runs) history; they must be what a RunStore of the batches says."""
    objective = make_objective(objective_name, dim=5, samples=150, features=4, batch_size=10)
    lrs = [1e-3, 1e-2, 0.3, 3.0, 1e3, 1e300]
    for factor in (4.0, None):
        sim = Simulation(objective, "momentum", lrs, 90, divergence_factor=factor)
        store = RunStore(lrs, 90, objective.has_accuracy)
        for b in sim.run(batch_iterations=13):
            store.append(b)
            assert sim.summaries() == store.summaries()
        if factor is not None:
            assert (sim.diverged_at >= 0).any()
        json.dumps(sim.summaries(), allow_nan=False)


def test_summaries_before_any_iteration_have_no_numbers():
    sim = Simulation(LogisticRegression(samples=50, features=2), "sgd", [0.1, 1.0], 5)
    for s in sim.summaries():
        assert s["final_loss"] is s["best_loss"] is s["final_accuracy"] is None
        assert (s["diverged"], s["diverged_at"]) == (False, None)


# --- RunStore ----------------------------------------------------------------------------


def test_run_store_collects_batches_and_summarizes_runs():
    objective = unit_quadratic()
    lrs = [0.5, 2.5, 1e200]
    sim = Simulation(objective, "sgd", lrs, 12)
    store = RunStore(lrs, 12, objective.has_accuracy)
    versions = []
    # Batches by count only: the engine also cuts a batch after 30 ms, which a loaded
    # machine reached within 5 iterations (4 versions instead of 3 in a full suite run).
    for b in sim.run(batch_iterations=5, batch_seconds=math.inf):
        store.append(b)
        versions.append(store.version)
    assert versions == [1, 2, 3] and store.count == 12 and store.done
    summaries = store.summaries()
    assert [s["lr"] for s in summaries] == lrs
    ok, factor, overflow = summaries
    assert ok == {
        "lr": 0.5,
        "final_loss": 0.5 * 0.25**11,
        "best_loss": 0.5 * 0.25**11,
        "diverged": False,
        "diverged_at": None,
    }
    # diverged runs report the loss at which they were stopped; an infinite one as None
    assert factor["diverged"] and factor["diverged_at"] == 2
    assert factor["final_loss"] == 2.53125 and factor["best_loss"] == 0.5
    assert overflow["diverged"] and overflow["final_loss"] is None
    assert overflow["best_loss"] == 0.5
    assert "final_accuracy" not in ok


def test_run_store_reports_accuracy_for_classifiers_and_nothing_before_data():
    objective = LogisticRegression(samples=200, features=3, seed=0)
    store = RunStore([0.01, 0.3], 20, objective.has_accuracy)
    assert np.isnan(store.final_loss()).all() and store.final_accuracy() is None
    for b in Simulation(objective, "sgd", [0.01, 0.3], 20).run(batch_iterations=6):
        store.append(b)
    for s in store.summaries():
        assert 0.5 < s["final_accuracy"] <= 1.0
        assert s["final_loss"] < math.log(2)  # below the loss at w = 0

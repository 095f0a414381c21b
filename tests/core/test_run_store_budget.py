"""RunStore stays within its memory budget; its summaries stay exact."""

from __future__ import annotations

import os

import numpy as np
import pytest

from lrviz.run_store import RunStore
from lrviz.simulation_config import SimulationConfig


def run(store: RunStore, cfg: SimulationConfig, batch: int = 37) -> RunStore:
    for b in cfg.build().run(batch_iterations=batch):
        store.append(b)
    return store


def test_a_run_over_budget_keeps_every_kth_iteration_and_exact_summaries():
    cfg = SimulationConfig(
        objective="logreg",
        optimizer="adam",
        batch_size=16,
        lrs=np.geomspace(1e-4, 10, 16),
        iterations=800,
    )
    full = run(RunStore(cfg.lrs, cfg.iterations, True), cfg)
    small = run(RunStore(cfg.lrs, cfg.iterations, True, budget=20_000, envelopes=True), cfg)
    assert full.stride == 1 and small.stride > 1
    assert small.loss.nbytes + small.lr.nbytes + small.accuracy.nbytes <= 20_000 + 3 * 8 * 16
    assert small.summaries() == full.summaries()
    np.testing.assert_array_equal(small.loss[: small.rows], full.loss[:: small.stride])
    np.testing.assert_array_equal(small.history_x(), np.arange(0, 800, small.stride))
    assert small.loss_envelope.iterations == 800


def test_a_huge_run_does_not_allocate_its_whole_history():
    store = RunStore(np.geomspace(1e-3, 1, 4096), 10_000_000)  # 305 GiB in full
    assert store.history_bytes <= 256 * 2**20 + 2 * 8 * 4096
    assert store.capacity == 10_000_000


def _resident_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="reads Linux's /proc")
def test_a_store_writes_its_history_as_batches_arrive_not_up_front():
    """NaN-filling 200 MB of history when a run started touched every page of it at once:
    a 0.9 s stall of the window at the start of 256 runs x 100,000 iterations. The history
    is reserved, and each batch's rows are written as it arrives; what was recorded reads
    as before, NaN after a divergence included."""
    before = _resident_bytes()
    store = RunStore(np.geomspace(1e-4, 0.15, 256), 100_000)
    assert store.history_bytes >= 190 * 2**20
    assert _resident_bytes() - before < 20 * 2**20  # reserved, not touched
    assert store.loss.shape == (0, 256) and store.rows == 0
    config = SimulationConfig(objective="quadratic", lrs=np.array([0.01, 0.3]), iterations=500)
    small, reference = RunStore(config.lrs, 500), []
    for batch in config.build().run(batch_iterations=100):
        small.append(batch)
        reference.append(batch.loss)
        assert small.loss.shape == (small.rows, 2) and small.lr.shape == (small.rows, 2)
    np.testing.assert_array_equal(small.loss, np.concatenate(reference))
    assert small.diverged_at[1] >= 0 and np.isnan(small.loss[-1, 1])


# --- the history as batches write it ---------------------------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from lrviz.engine import Batch  # noqa: E402


@settings(max_examples=150, deadline=None)
@given(
    stride=st.integers(1, 4),
    cuts=st.lists(st.integers(1, 9), min_size=1, max_size=8),
    skips=st.lists(st.integers(0, 5), min_size=8, max_size=8),
    repeat=st.booleans(),
    has_accuracy=st.booleans(),
    batch_accuracy=st.lists(st.booleans(), min_size=8, max_size=8),
)
def test_the_history_holds_what_batches_wrote_and_nan_elsewhere(
    stride, cuts, skips, repeat, has_accuracy, batch_accuracy
):
    """Each batch writes its rows (every stride-th iteration); rows no batch wrote (a gap
    between batches, accuracy a batch did not bring) are NaN, as when the store NaN-filled
    every new row before writing it."""
    runs, iterations = 3, 200
    store = RunStore(np.array([0.1, 0.2, 0.3]), iterations, has_accuracy, budget=10**9)
    store.stride = stride  # as a store over its budget keeps every stride-th iteration
    rows = -(-iterations // stride)
    store._loss = np.full((rows, runs), -7.0)  # reserved memory holds anything
    store._lr = np.full((rows, runs), -7.0)
    store._accuracy = np.full((rows, runs), -7.0) if has_accuracy else None
    expected = {"loss": np.full((rows, runs), np.nan), "lr": np.full((rows, runs), np.nan)}
    expected["accuracy"] = np.full((rows, runs), np.nan)
    rng = np.random.default_rng(0)
    start = 0
    batches = []
    for k, n in enumerate(cuts):
        start += skips[k]  # iterations no batch brings (a gap)
        loss, lr, accuracy = rng.random((n, runs)), rng.random((n, runs)), rng.random((n, runs))
        with_accuracy = batch_accuracy[k]
        batch = Batch(
            start, loss, lr, accuracy if with_accuracy else None, np.full(runs, -1), None, False
        )
        batches.append(batch)
        if repeat and k:
            batches.append(batches[-2])  # a batch seen twice (a resume) changes nothing
        for i in range(start, start + n):
            if i % stride == 0:
                expected["loss"][i // stride] = loss[i - start]
                expected["lr"][i // stride] = lr[i - start]
                if with_accuracy:
                    expected["accuracy"][i // stride] = accuracy[i - start]
        start += n
    for batch in batches:
        store.append(batch)
    filled = store.loss.shape[0]
    kept = [b.stop for b in batches if -(-b.start // stride) * stride < b.stop]
    assert filled == (-(-max(kept) // stride) if kept else 0)
    np.testing.assert_array_equal(store.loss, expected["loss"][:filled])
    np.testing.assert_array_equal(store.lr, expected["lr"][:filled])
    if has_accuracy:
        np.testing.assert_array_equal(store.accuracy, expected["accuracy"][:filled])

"""RunStore stays within its memory budget; its summaries stay exact."""

from __future__ import annotations

import numpy as np

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
    assert store.loss.nbytes + store.lr.nbytes <= 256 * 2**20 + 2 * 8 * 4096
    assert store.capacity == 10_000_000

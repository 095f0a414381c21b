"""Issue 8's defects, each driven as a user hits it; every test failed before its fix."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt

from lrviz.simulation_config import SimulationConfig

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def test_run_stop_run_keeps_drawing_and_marking_divergence(qtbot, window):
    """Defect 1: the second run raised AttributeError ('GraphicsLayoutWidget' has no
    autoRangeEnabled) from set_store, then on every redraw; the × marks disappeared."""
    form, runner = window.simulate_form, window.runner
    long = SimulationConfig(
        objective="quadratic", lrs=np.geomspace(1e-3, 1.0, 8), iterations=2_000_000, dim=2
    )
    with qtbot.waitSignal(runner.progressed, timeout=10_000):
        window.start_simulation(long)
    with qtbot.waitSignal(runner.state_changed, check_params_cb=lambda s: s == "stopped"):
        qtbot.mouseClick(form.stop_button, Qt.MouseButton.LeftButton)
    short = SimulationConfig(
        objective="quadratic", lrs=np.geomspace(1e-3, 1.0, 8), iterations=300, dim=2
    )
    with qtbot.waitSignal(window.simulation_finished, timeout=30_000):
        window.start_simulation(short)
    window.redraw()
    diverged = int(np.count_nonzero(runner.store.diverged_at >= 0))
    assert diverged > 0
    assert window.loss_vs_iteration.diverged_marks.getData()[0].size == diverged
    assert window.lr_vs_iteration.diverged_marks.getData()[0].size == diverged


def test_a_job_is_released_only_once_its_thread_has_ended(qtbot):
    """Defect 7: log loading released its thread from the worker's own 'finished', while the
    QThread still ran ('QThread: Destroyed while thread is still running', exit 134)."""
    from ui import worker
    from ui.jobs import JobRunner

    runner = JobRunner("lrviz-test")
    seen = []

    def finished(completed):
        seen.append(
            (
                completed,
                [t.isRunning() for t in worker.LIVE_THREADS if t.objectName() == "lrviz-test"],
            )
        )

    for _ in range(5):
        runner.start(lambda: iter(range(3)), lambda _b: None, None, finished, exclusive=False)
    qtbot.waitUntil(lambda: len(seen) == 5, timeout=10_000)
    assert all(completed for completed, _ in seen)
    # each callback ran after its own thread ended (the others may still run)
    assert not runner.busy
    runner.shutdown()


def test_logs_report_idle_only_when_their_loader_threads_have_ended(qtbot, window):
    from ui import worker

    path = FIXTURES / "rangetest" / "torch_lr_finder.csv"
    running_when_idle = []

    def on_busy(busy):
        if not busy:
            running_when_idle.append(any(t.isRunning() for t in worker.LIVE_THREADS))

    window.library.busy.connect(on_busy)
    for _ in range(10):
        with qtbot.waitSignal(window.library.busy, check_params_cb=lambda b: not b):
            window.library.open_paths([path])
    assert running_when_idle and not any(running_when_idle)

"""A sweep's summary table (``lr,steps,final_val_loss``, one row per λ at the same step)
opens in the window as a sweep: every λ a run in Sources and a dot on loss vs λ. It opened
as one point before (the rows shared a step, and a repeated step keeps its last value)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

SWEEP = (
    Path(__file__).resolve().parents[1]
    / "fixtures"
    / "lr_truth"
    / "sweeps"
    / "d01_mlp32_iris_adagrad_sweep.csv"
)


def test_a_summary_table_opens_as_a_sweep_on_loss_vs_lr(qtbot, window):
    view = window.log_view
    with qtbot.waitSignal(view.drawn, timeout=30_000):
        with qtbot.waitSignal(
            window.library.busy, timeout=30_000, check_params_cb=lambda busy: not busy
        ):
            window.open_paths([str(SWEEP)])
    (log,) = window.library.logs
    assert len(log.runs) == 25
    assert len(window.sources.run_items()) == 25
    x, _y = view.sweep_points.getData()
    assert x.size == 25  # every λ is a dot (log λ on the axis)
    lrs = np.sort([r.run.params["lr"] for r in log.runs])
    np.testing.assert_allclose(np.sort(10**x), lrs, rtol=1e-9)
    assert log.sweep is not None and 1e-5 <= log.sweep["best_lr"] <= 10  # the status bar's

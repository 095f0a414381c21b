"""Issue 14 in the window: a study or tracking store opens like a log; failed trials are ×."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from log_waits import open_and_wait

STORES = Path(__file__).resolve().parents[1] / "fixtures" / "stores"


def test_an_mlflow_store_opens_as_a_sweep_with_its_failed_runs_marked(qtbot, window):
    open_and_wait(qtbot, window, STORES / "mlflow" / "mlflow.db")
    logs = window.library.logs
    assert len(logs) == 1 and logs[0].format == "mlflow" and logs[0].store_url
    assert len(logs[0].runs) >= 3
    view = window.log_view
    px, _ = view.sweep_points.getData()
    dx, _ = view.sweep_diverged.getData()
    runs = [r.run for r in logs[0].runs]
    lost = [r for r in runs if r.params.get("diverged")]
    assert px is not None and len(px) >= 2
    if lost:  # failed or killed runs with a λ: marked ×, not drawn as dots
        assert dx is not None and len(dx) >= 1


def test_an_optuna_study_opens_by_url_and_polls_live(qtbot, window):
    pytest.importorskip("optuna")
    url = f"sqlite:///{STORES / 'optuna' / 'study.db'}"
    open_and_wait(qtbot, window, url)
    log = window.library.logs[0]
    assert log.format == "optuna" and log.store_url == url
    states = {r.run.params.get("state") for r in log.runs}
    assert "pruned" in states or "fail" in states or "failed" in states
    # a watched store is polled on the worker, without a file to stat
    with qtbot.waitSignal(window.library.busy, timeout=30_000, check_params_cb=lambda b: not b):
        window.library.poll()
    assert window.library.logs[0] is log


def test_the_studies_of_one_database_are_not_joined_into_one_sweep(qtbot, window):
    """study.db holds three studies: loss vs λ's line joins each study's dots only (it ran
    from lr-init's trials through lr-sweep's and multi-objective's as one sweep), and the
    status bar names the study whose best λ it gives."""
    pytest.importorskip("optuna")
    from PySide6.QtGui import QImage, QPainter, QPainterPath

    open_and_wait(qtbot, window, STORES / "optuna" / "study.db")
    dots = window.log_view.sweep_points
    image = QImage(200, 200, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    dots.paint(painter, None)  # the line is built where it is painted
    painter.end()
    line = dots._line
    starts = [
        i
        for i in range(line.elementCount())
        if line.elementAt(i).type == QPainterPath.ElementType.MoveToElement
    ]
    groups = window.log_view.scene.sweep["group"]
    assert len(set(groups.tolist())) == 3
    assert len(starts) == 3  # one stretch of line per study
    # (the store's one-second poll may be saying "Loading logs…" a moment)
    qtbot.waitUntil(lambda: "best λ" in window.status_text.text(), timeout=10_000)
    status = window.status_text.text()
    assert "best λ across trials of lr-sweep" in status and "2 more studies" in status
    assert "multi-objective: best λ" in window.status_text.toolTip()
    # Trials' names are cut in the middle ("lr-sw…ial 3", not "lr-sweep/…" on every row), the
    # store's own row on the right (its file name first).
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QStyleOptionViewItem

    tree, model = window.sources.tree, window.sources.model
    store_row = model.index(1)
    modes = []
    for index in (store_row, model.index(3, 0, store_row)):
        option = QStyleOptionViewItem()
        tree.itemDelegate().initStyleOption(option, index)
        modes.append(option.textElideMode)
    assert modes == [Qt.TextElideMode.ElideRight, Qt.TextElideMode.ElideMiddle]
    # The only run of a log is its file name: its start tells more ("d09_bnmlp_b…").
    open_and_wait(qtbot, window, STORES.parent / "logs" / "keras" / "history.csv")
    log_row = model.index(2)
    assert model.rowCount(log_row) == 1
    option = QStyleOptionViewItem()
    tree.itemDelegate().initStyleOption(option, model.index(0, 0, log_row))
    assert option.textElideMode == Qt.TextElideMode.ElideRight


def test_a_sweep_trial_that_went_nan_is_a_cross_not_a_dot(qtbot, window):
    sweep = STORES.parent / "logs" / "sweep"
    open_and_wait(qtbot, window, sweep)
    dx, _ = window.log_view.sweep_diverged.getData()
    px, _ = window.log_view.sweep_points.getData()
    # train_fn_00003_lr=1.0 ends in nan
    assert dx is not None and np.isclose(10 ** np.asarray(dx), 1.0).any()
    assert not np.isclose(10 ** np.asarray(px), 1.0).any()


def test_a_huge_sweep_draws_at_most_max_curves_learning_curves(qtbot, window, tmp_path):
    from ui import log_view

    for i, lr in enumerate(np.geomspace(1e-4, 1.0, 12)):
        run = tmp_path / f"trial_{i}"
        run.mkdir()
        (run / "params.json").write_text(f'{{"lr": {lr}}}')
        (run / "metrics.csv").write_text(f"step,loss\n0,2.0\n1,{1.0 + i / 10}\n")
    old = log_view.MAX_CURVES
    log_view.MAX_CURVES = 5
    try:
        open_and_wait(qtbot, window, tmp_path)
        view = window.log_view
        assert len(view.loss_layer.items) == 5 and view.hidden_runs == 7
        px, _ = view.sweep_points.getData()
        assert len(px) == 12  # every trial keeps its point on loss vs λ
        kept = sorted(view.loss_layer.labels.values())
        assert all(label.startswith(f"trial_{i}") for i, label in enumerate(kept))
    finally:
        log_view.MAX_CURVES = old


def test_a_check_run_after_a_range_test_says_how_far_the_suggestion_was(qtbot, window, tmp_path):
    """Journey 8: export the check, run it, open its logs: the best λ and the distance."""
    curve = STORES.parent / "lr_truth" / "curves" / "d12_deep8_digits_sgd__fastai_end10_n300.csv"
    open_and_wait(qtbot, window, curve)
    suggested = window.range_tool.suggestion.suggested_lr
    for i, lr in enumerate(np.geomspace(suggested / 3, suggested * 3, 5)):
        run = tmp_path / f"lr_{i}"
        run.mkdir()
        (run / "params.json").write_text(f'{{"lr": {lr}}}')
        loss = 0.5 + (np.log10(lr / suggested) - 0.2) ** 2
        (run / "metrics.csv").write_text(f"step,loss,val_loss\n0,,2.3\n300,0.4,{loss}\n")
    window.library.clear()
    open_and_wait(qtbot, window, tmp_path)
    text = window.status_text.text()
    assert "best λ across trials" in text and "× the suggested" in text


def test_a_live_watchs_poll_of_a_study_says_nothing_in_the_status_bar(qtbot, window, monkeypatch):
    """Every one-second poll of an open study flashed "Loading logs…" and the busy bar in the
    status bar; a poll that reads new trials still counts them in the summary."""
    pytest.importorskip("optuna")
    url = f"sqlite:///{STORES / 'optuna' / 'study.db'}"
    open_and_wait(qtbot, window, url)
    status, progress = window.status_text, window.progress
    summary = status.text()
    assert "runs" in summary and not progress.isVisible()
    said, shown = [], []
    set_text, set_visible = status.setText, progress.setVisible
    monkeypatch.setattr(status, "setText", lambda text: (said.append(text), set_text(text)))
    monkeypatch.setattr(progress, "show", lambda: (shown.append(True), set_visible(True)))
    for _ in range(2):
        with qtbot.waitSignal(window.library.busy, timeout=30_000, check_params_cb=lambda b: not b):
            window.library.poll()
    assert said == [] and shown == [] and status.text() == summary
    # new trials found by a poll: the summary says how many runs there are now
    log = window.library.logs[0]
    runs = len(log.runs)
    log.runs = log.runs[:-1]
    window.library.data_updated.emit()
    assert f"{runs - 1:,} run" in status.text()
    # opening something is still said
    with qtbot.waitSignal(window.library.busy, timeout=30_000, check_params_cb=lambda b: not b):
        window.open_paths([str(STORES.parent / "logs" / "sweep")])
    assert "Loading logs…" in said

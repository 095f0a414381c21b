"""Issues 9 and 14: a big study or a long log is derived on a worker and drawn by few items;
the Sources list is a model, not a widget per run; zooming in draws full detail."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from lrviz.smoothing import debiased_ema
from ui import log_view as log_view_module
from ui.colors import lr_colors


def open_and_draw(qtbot, window, path):
    with qtbot.waitSignal(window.library.busy, timeout=30_000, check_params_cb=lambda b: not b):
        window.open_paths([str(path)])
    with qtbot.waitSignal(window.log_view.drawn, timeout=30_000):
        window.log_view.redraw()


def sweep_folder(root, trials: int):
    lrs = np.geomspace(1e-4, 1.0, trials)
    for i, lr in enumerate(lrs):
        run = root / f"trial_{i}"
        run.mkdir()
        (run / "params.json").write_text(f'{{"lr": {float(lr)!r}}}')
        final = 1.0 + (np.log10(lr) + 2) ** 2 / 10
        (run / "metrics.csv").write_text(f"step,loss\n0,3.0\n1,{2 + final}\n2,{final}\n")
    return lrs


def test_a_log_derived_on_the_worker_is_drawn_as_one_derived_in_place(
    qtbot, window, tmp_path, monkeypatch
):
    steps = np.arange(300)
    loss = 2.0 * np.exp(-steps / 80) + 0.05 * np.sin(steps)
    lr = 1e-5 * 1.05**steps
    path = tmp_path / "metrics.csv"
    rows = zip(steps.tolist(), lr.tolist(), loss.tolist(), strict=True)
    path.write_text("step,lr,train_loss\n" + "".join(f"{s},{a!r},{b!r}\n" for s, a, b in rows))
    window.inspect_form.set_smoothing(0.8)
    open_and_draw(qtbot, window, path)
    view = window.log_view
    inline = [c.getOriginalDataset() for pair in view.loss_layer.items.values() for c in pair]
    assert not view.derivations.running
    monkeypatch.setattr(log_view_module, "INLINE_RUNS", -1)
    with qtbot.waitSignal(view.drawn, timeout=30_000):
        view.redraw()
        assert view.derivations.running  # this time on the worker
    ((raw, smooth),) = view.loss_layer.items.values()
    worker = [raw.getOriginalDataset(), smooth.getOriginalDataset()]
    for (ax, ay), (bx, by) in zip(inline, worker, strict=True):
        np.testing.assert_array_equal(ax, bx)
        np.testing.assert_allclose(ay, by)
    np.testing.assert_allclose(worker[1][1], debiased_ema(loss, 0.8))
    (pairs,) = view.loss_lr_layer.items.values()
    x, _ = pairs[0].getOriginalDataset()
    np.testing.assert_allclose(x, lr, rtol=1e-12)


def test_a_sweep_of_hundreds_of_trials_opens_in_a_model_backed_list(
    qtbot, window, tmp_path, monkeypatch
):
    monkeypatch.setattr(log_view_module, "MAX_CURVES", 50)
    lrs = sweep_folder(tmp_path, 300)
    open_and_draw(qtbot, window, tmp_path)
    sources = window.sources
    rows = sources.run_items()
    assert len(rows) == 300
    assert all(r.checkState(0) == Qt.CheckState.Checked for r in rows[:5])
    top = sources.model.index(1)
    assert sources.model.rowCount(top) == 300 and not sources.tree.isExpanded(top)
    view = window.log_view
    assert len(view.loss_layer.items) == 50 and view.hidden_runs == 250
    px, _py = view.sweep_points.getData()
    assert px.size == 300  # every trial has its point
    np.testing.assert_allclose(np.sort(10**px), lrs, rtol=1e-9)
    # the curves are few items: one for all the learning curves of the panel
    assert view.loss_layer.paths.scene() is window.loss_vs_iteration.plot.scene()
    # colours: the λ colour map (shared levels beyond 256 runs, exact below)
    runs = window.library.logs[0].runs
    expected = lr_colors(np.array([r.lr for r in runs]))
    assert runs[0].color == expected[0] and runs[-1].color == expected[-1]

    # unticking a trial in the list hides it (and its point) once redrawn
    first = rows[0]
    with qtbot.waitSignal(view.drawn, timeout=30_000):
        first.setCheckState(0, Qt.CheckState.Unchecked)
    assert first.checkState(0) == Qt.CheckState.Unchecked
    assert not runs[0].visible
    assert view.sweep_points.getData()[0].size == 299
    # read again (the runs are new objects, made on the loader's worker): still unticked
    with qtbot.waitSignal(window.library.data_updated, timeout=30_000):
        window.library.reload(window.library.logs[0], full=True)
    runs = window.library.logs[0].runs
    assert [r.visible for r in runs].count(False) == 1 and not runs[0].visible
    assert all(r.log is window.library.logs[0] for r in runs)
    assert not sources.run_items()[0].checkState(0) == Qt.CheckState.Checked
    # an export of loss vs λ holds every trial's point (and loss vs iteration the curves)
    from ui.exports import panel_curves

    exported = {name: x for name, x, _y in panel_curves(window.loss_vs_lr)}
    assert exported["trials"].size == 299
    np.testing.assert_allclose(np.sort(exported["trials"]), lrs[1:], rtol=1e-9)


def test_final_or_best_loss_redraws_a_sweeps_points(qtbot, window, tmp_path):
    """Switching final/best loss on loss vs λ left a log sweep's points as they were."""
    sweep_folder(tmp_path, 12)
    for i in range(12):  # every trial ends at 1.5 after a best of 0.5
        (tmp_path / f"trial_{i}" / "metrics.csv").write_text("step,loss\n0,3.0\n1,0.5\n2,1.5\n")
    open_and_draw(qtbot, window, tmp_path)
    view = window.log_view
    _, final = view.sweep_points.getData()
    np.testing.assert_allclose(10**final, 1.5)
    window.loss_vs_lr.statistic.setCurrentIndex(1)  # best loss
    _, best = view.sweep_points.getData()
    np.testing.assert_allclose(10**best, 0.5)


def test_zooming_into_a_long_log_draws_full_detail_derived_on_a_worker(qtbot, window, tmp_path):
    n = 400_000
    steps = np.arange(n)
    loss = 1.0 + np.random.default_rng(3).random(n)
    path = tmp_path / "metrics.csv"
    np.savetxt(
        path,
        np.column_stack([steps, loss]),
        fmt=("%d", "%.6f"),
        delimiter=",",
        header="step,train_loss",
        comments="",
    )
    open_and_draw(qtbot, window, path)
    view = window.log_view
    ((raw, _),) = view.loss_layer.items.values()
    x, _ = raw.getData()
    assert x.size < 10_000  # the whole log at screen resolution
    box = window.loss_vs_iteration.plot.getViewBox()
    with qtbot.waitSignal(view._zoom_jobs["loss"].busy, check_params_cb=lambda b: not b):
        box.setXRange(100_000, 100_500, padding=0)
    qtbot.waitUntil(lambda: view.loss_layer.zoomed is not None, timeout=10_000)
    x, y = raw.getData()
    inside = (x >= 100_000) & (x <= 100_500)
    np.testing.assert_array_equal(x[inside], steps[100_000:100_501])
    np.testing.assert_allclose(y[inside], loss[100_000:100_501], atol=1e-6)
    box.setXRange(0, n, padding=0)  # zoomed out: the whole envelope again, at once
    assert view.loss_layer.zoomed is None
    assert raw.getData()[0].size < 10_000
    # an export holds the log, not the screen's envelope of it
    from ui.exports import panel_curves

    curves = {name.split(": ")[-1]: (x, y) for name, x, y in panel_curves(window.loss_vs_iteration)}
    x, y = curves["train_loss"]
    assert x.size == n and y[123_456] == pytest.approx(loss[123_456], abs=1e-6)
    assert curves["train_loss (smoothed)"][1].size == n


def test_a_log_derived_on_the_worker_shows_progress_then_its_summary(
    qtbot, window, tmp_path, monkeypatch
):
    path = tmp_path / "metrics.csv"
    path.write_text("step,train_loss\n0,2.0\n1,1.5\n2,1.0\n")
    with qtbot.waitSignal(window.library.busy, timeout=30_000, check_params_cb=lambda b: not b):
        window.open_paths([str(path)])
    qtbot.waitUntil(lambda: not window.log_view.derivations.running)
    monkeypatch.setattr(log_view_module, "INLINE_RUNS", -1)
    seen = []
    window.log_view.busy.connect(
        lambda busy: seen.append((busy, window.status_text.text(), window.progress.isVisible()))
    )
    with qtbot.waitSignal(window.log_view.drawn, timeout=30_000):
        window.log_view.redraw()
    qtbot.waitUntil(lambda: len(seen) == 2)
    assert seen[0] == (True, "Drawing logs…", True)
    assert not window.progress.isVisible()
    assert window.status_text.text().startswith("1 log open · 1 run")


def test_a_big_log_is_read_in_a_child_process_drawn_the_same_and_let_go(
    qtbot, window, tmp_path, monkeypatch
):
    from lrviz import watch_process

    steps = np.arange(2000)
    loss = 2.0 * np.exp(-steps / 300) + 0.01 * np.cos(steps)
    path = tmp_path / "metrics.csv"
    rows = zip(steps.tolist(), loss.tolist(), strict=True)
    path.write_text("step,train_loss\n" + "".join(f"{s},{b!r}\n" for s, b in rows))
    monkeypatch.setattr(watch_process, "CHILD_BYTES", path.stat().st_size)  # "big"
    open_and_draw(qtbot, window, path)
    (log,) = window.library.logs
    assert isinstance(log.watcher, watch_process.ChildWatcher) and log.watcher.alive
    ((raw, _smooth),) = window.log_view.loss_layer.items.values()
    x, y = raw.getOriginalDataset()
    np.testing.assert_array_equal(x, steps)
    np.testing.assert_array_equal(y, loss)
    # live: appended rows come through the child too, each once
    with open(path, "a") as f:
        f.write("2000,0.125\n")
    with qtbot.waitSignal(window.library.data_updated, timeout=30_000):
        window.library.poll()
    np.testing.assert_array_equal(log.runs[0].run.find("loss").x, np.arange(2001))
    process = log.watcher._process
    window.library.remove(log)
    process.join(5)
    assert not process.is_alive()  # removing the log ended its child


def test_a_log_read_in_a_child_says_how_it_comes_along_then_its_summary(
    qtbot, window, tmp_path, monkeypatch
):
    """A big log read in a child process: the status line says it is being read, then how
    much of it has been taken in (a percent on the bar), then that it is being drawn, and the
    summary once it is on the panels; the bar goes."""
    from lrviz import watch_process

    monkeypatch.setattr(log_view_module, "INLINE_RUNS", -1)  # derived on a worker
    steps = np.arange(20_000)
    path = tmp_path / "metrics.csv"
    rows = zip(steps.tolist(), (1.0 / (steps + 1)).tolist(), strict=True)
    path.write_text("step,train_loss\n" + "".join(f"{s},{b!r}\n" for s, b in rows))
    monkeypatch.setattr(watch_process, "CHILD_BYTES", path.stat().st_size)  # "big"
    said = []
    window.library.loading.connect(
        lambda words, percent: said.append(
            (words, percent, window.status_text.text(), window.progress.value())
        )
    )
    with qtbot.waitSignal(window.log_view.drawn, timeout=30_000):
        with qtbot.waitSignal(window.library.busy, timeout=30_000, check_params_cb=lambda b: not b):
            window.open_paths([str(path)])
    qtbot.waitUntil(lambda: not window.log_view.derivations.running)
    qtbot.waitUntil(lambda: not window.progress.isVisible())
    assert said[0][:2] == ("Reading metrics.csv…", -1)
    taking = [(words, percent) for words, percent, *_ in said[1:]]
    assert {words for words, _ in taking} == {"Taking in metrics.csv…"}
    percents = [percent for _, percent in taking]
    # its x and y arrive as two pieces (the child sends 1 MB a piece): 0, half, all
    assert percents == sorted(percents) and percents[0] == 0 and percents[-1] == 100
    assert any(0 < p < 100 for p in percents)
    assert window.status_text.text().startswith("1 log open · 1 run")


def test_a_log_loaded_while_its_curves_are_still_worked_out_says_it_is_drawing(
    qtbot, window, monkeypatch
):
    """The loader ends while the derivation it started still runs: the busy bar stays and
    says so (it went, with the summary, seconds before a 10M-point log was drawn)."""
    from types import SimpleNamespace

    actions = window.log_actions
    library = window.library
    real_jobs = library.jobs
    monkeypatch.setattr(library, "jobs", SimpleNamespace(busy=True))
    library.busy.emit(True)
    library.loading.emit("Taking in big.csv…", 100)
    actions.show_drawing(True)  # the derivation starts before the loader's thread ends
    assert window.status_text.text() == "Taking in big.csv… 100%"
    monkeypatch.setattr(library, "jobs", SimpleNamespace(busy=False))
    library.busy.emit(False)
    assert window.status_text.text() == "Drawing logs…"
    assert window.progress.isVisible() and window.progress.maximum() == 0
    actions.show_drawing(False)
    assert not window.progress.isVisible()
    assert window.status_text.text() != "Drawing logs…"
    monkeypatch.setattr(library, "jobs", real_jobs)


def test_a_scene_from_the_worker_is_painted_one_panel_at_a_time_in_ranges_already_fit(
    qtbot, window, tmp_path, monkeypatch
):
    """Issue 9: the three panels' first paints of a 10M-point log came in one go (~90 ms with
    the window frozen), and each panel was painted twice: its view fitted the new curves only
    inside the first paint, which laid the axes out again after they were drawn."""
    steps = np.arange(2000)
    loss = 5.0 * np.exp(-steps / 500) + 1.0
    path = tmp_path / "metrics.csv"
    rows = zip(steps.tolist(), (1e-4 * 1.002**steps).tolist(), loss.tolist(), strict=True)
    path.write_text("step,lr,loss\n" + "".join(f"{s},{a!r},{b!r}\n" for s, a, b in rows))
    monkeypatch.setattr(log_view_module, "INLINE_RUNS", -1)  # derived on the worker
    view = window.log_view
    panels = (window.loss_vs_iteration, window.lr_vs_iteration, window.loss_vs_lr)
    seen = []

    def on_scene(scene, staggered=False, apply=view._apply):
        apply(scene, staggered=staggered)
        # as the scene is handed over: only the first panel may be painted in this turn
        seen.append([p.graphics.updatesEnabled() for p in panels])
        vb = window.loss_vs_iteration.plot.getViewBox()
        seen.append(vb.viewRange()[0])

    monkeypatch.setattr(view, "_apply", on_scene)
    with qtbot.waitSignal(window.library.busy, timeout=30_000, check_params_cb=lambda b: not b):
        window.open_paths([str(path)])
    with qtbot.waitSignal(view.drawn, timeout=30_000):
        view.redraw()
    assert seen[-2] == [True, False, False]
    x0, x1 = seen[-1]  # fitted to the log's steps before any paint
    assert x0 <= 0 < 1999 <= x1 and x1 - x0 < 2 * 2000
    assert all(p.graphics.updatesEnabled() for p in panels)  # drawn: every panel shown

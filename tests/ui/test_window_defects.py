"""Issue 8's defects, each driven as a user hits it; every test failed before its fix."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from log_waits import open_and_wait
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
        # 30 s, not the default 5: with seven suites sharing two cores one load took longer
        with qtbot.waitSignal(window.library.busy, check_params_cb=lambda b: not b, timeout=30_000):
            window.library.open_paths([path])
    assert running_when_idle and not any(running_when_idle)


TRUTH = FIXTURES / "lr_truth" / "curves"


def test_a_lightning_curve_is_in_view_and_no_marker_label_is_cut_off(qtbot, window):
    """Defect 3: the y range topped out near 2 while the plateau was at 2.27; the
    'suggested …' and 'max' labels were clipped at the edge."""
    path = TRUTH / "e03_resnet3bn_digits16_nesterov_wd__lightning_exp_min1e-08_max1_n100.csv"
    open_and_wait(qtbot, window, path)
    tool = window.range_tool
    qtbot.waitUntil(lambda: tool.overlay.view.width() > 100)
    tool.overlay.fit_y(*tool._display_curves()[:2], log_y=True)
    (_x0, _x1), (y0, y1) = tool.overlay.view.viewRange()
    loss = tool._loss
    before_bottom = loss[: int(np.nanargmin(loss)) + 1]
    assert 10**y1 >= np.percentile(before_bottom, 90) and 10**y0 <= np.nanmin(loss)
    view = tool.overlay.view.sceneBoundingRect()
    for name, (x, _y, w, _h) in tool.overlay.label_rects().items():
        assert x >= view.left() - 1 and x + w <= view.right() + 1, name


def test_a_saved_finder_curve_is_not_smoothed_twice(qtbot, window):
    """Defect 4: the form's EMA went on top of a curve the library had already smoothed;
    its minimum landed at λ≈1.2 against the file's own 0.62."""
    from lrviz.suggest.sources import undo_smoothing

    for name in (
        "e03_resnet3bn_digits16_nesterov_wd__lightning_exp_min1e-08_max1_n100.csv",
        "e03_resnet3bn_digits16_nesterov_wd__fastai_end10_n100.csv",
        "e03_resnet3bn_digits16_nesterov_wd__tlf_exp_end10_n200.csv",
    ):
        window.library.clear()
        open_and_wait(qtbot, window, TRUTH / name)
        tool = window.range_tool
        source = tool.suggestion.source
        assert source != "raw"
        _lr, saved = tool.overlay.smoothed.getData()  # log10 on the log axes
        np.testing.assert_allclose(10**saved, tool._loss, rtol=1e-9)  # the file's own curve
        _lr, raw = tool.overlay.raw.getData()
        want = undo_smoothing(tool._loss, source)
        shown = want > 0  # a log axis drops the few un-smoothed losses at or below 0
        np.testing.assert_allclose(10 ** raw[shown], want[shown], rtol=1e-9)
        assert "as saved" in [label.text for _sample, label in tool.overlay.legend.items][1]


def test_log_axes_spanning_less_than_a_decade_label_at_least_three_ticks(qtbot, window):
    """Defect 5: one tick label ('2') on TensorBoard files, the Lightning file, val loss."""
    for lo, hi in ((2.1, 2.4), (1.5, 3.0), (0.21, 0.26), (2.0, 2.001)):
        for panel in (window.loss_vs_iteration, window.loss_vs_lr):
            axis = panel.plot.getAxis("left")
            panel.plot.setLogMode(y=True)
            panel.plot.setYRange(np.log10(lo), np.log10(hi), padding=0)
            qtbot.waitUntil(lambda axis=axis: axis.height() > 50)
            a, b = axis.range
            labels = [
                text
                for spacing, values in axis.tickValues(a, b, axis.height())
                for text in axis.tickStrings(values, 1.0, spacing or 1.0)
                if text
            ]
            assert len(labels) >= 3, (lo, hi, labels)
            assert len(set(labels)) == len(labels)


def test_losses_of_exactly_zero_stay_on_the_log_axes(qtbot, window):
    """Defect 6: losses of exactly 0 vanished from log axes and the axis ran to 1e-300."""
    from lrviz.engine import Batch
    from lrviz.run_store import RunStore

    lrs = np.array([0.01, 0.1, 0.19])
    store = RunStore(lrs, 50)
    loss = np.outer(np.geomspace(1.0, 1e-3, 50), [1.0, 1.0, 1.0])
    loss[30:, 2] = 0.0  # the best run reached the minimum exactly
    store.append(Batch(0, loss, np.tile(lrs, (50, 1)), None, np.full(3, -1), None, True))
    for panel in (window.loss_vs_iteration, window.loss_vs_lr):
        panel.set_store(store)
        panel.refresh()
    _x, y = window.loss_vs_iteration.curves[2].getData()  # log10 on a log axis
    assert np.all(np.isfinite(y)) and 10 ** y.min() == pytest.approx(loss[loss > 0].min())
    zx, zy = window.loss_vs_lr.zeros.getData()
    assert 10**zx == pytest.approx([0.19]) and 10 ** zy[0] == pytest.approx(loss[-1, 0])
    window.loss_vs_lr.plot.getViewBox().autoRange()
    (_a, _b), (y0, _y1) = window.loss_vs_lr.plot.getViewBox().viewRange()
    assert y0 > -10  # log10: nowhere near 1e-300


def test_exported_code_uses_the_optimizer_that_was_tested(qtbot, window):
    """Defect 9: after an Adam range test, 'PyTorch constant lr' emitted SGD(momentum=0.9)."""
    from lrviz.rangetest import RangeTestSpec

    tool = window.range_tool
    settings = RangeTestSpec(
        SimulationConfig(objective="mlp", optimizer="adam", batch_size=32, seed=0),
        min_lr=1e-6,
        max_lr=1.0,
        iterations=150,
        mode="exp",
        stop_factor=4.0,
        smoothing=0.98,
    )
    with qtbot.waitSignal(tool.test_finished, timeout=60_000):
        assert tool.run_test(settings)
    assert tool.chosen_range is not None
    assert "torch.optim.Adam(" in tool.code("pytorch_constant")
    assert "keras.optimizers.Adam(" in tool.code("keras")
    assert "SGD" not in tool.code("pytorch_constant")
    # the saved range says which test it came from (this raised AttributeError once)
    import json

    saved = json.loads(tool.code("json"))["range_test"]
    assert saved == {**settings.to_dict(), "optimizer": "adam"} and saved["iterations"] == 150


def test_paused_stays_in_the_status_bar(qtbot, window):
    """Defect 11: "paused" was overwritten by the next progress line."""
    runner = window.runner
    long = SimulationConfig(lrs=np.geomspace(1e-3, 0.1, 8), iterations=3_000_000, dim=2)
    with qtbot.waitSignal(runner.progressed, timeout=10_000):
        window.start_simulation(long)
    runner.pause()
    for _ in range(3):
        qtbot.wait(50)
        window.redraw()
    assert window.status_text.text().endswith("· paused")
    assert "it/s" not in window.status_text.text()
    runner.stop()


def test_only_logs_open_leaves_no_full_progress_bar(qtbot, window):
    """Defect 11: the progress bar read 100% when only logs were open."""
    open_and_wait(qtbot, window, FIXTURES / "rangetest" / "torch_lr_finder.csv")
    assert not window.progress.isVisible()
    assert "1 log open" in window.status_text.text()


def test_opening_logs_after_a_range_test_swaps_the_loss_vs_lr_layers(qtbot, window):
    tool = window.range_tool
    lr = np.geomspace(1e-6, 1.0, 200)
    loss = 2.0 - 1.5 / (1 + np.exp(-(np.log10(lr) + 3) * 3))
    tool.show_range_curve(
        lr, loss * (1 + 0.02 * np.sin(np.arange(200))), "finder.csv", source="raw"
    )
    assert tool.overlay.raw.isVisible()
    open_and_wait(qtbot, window, FIXTURES / "logs" / "sweep")
    assert window.log_view.sweep_points.isVisible()
    assert not tool.overlay.raw.isVisible() and not tool.show_layer.isChecked()


def test_the_range_test_toggle_shows_only_with_a_range_test(qtbot, window):
    tool = window.range_tool
    assert not tool.show_layer.isVisibleTo(window)
    lr = np.geomspace(1e-6, 1.0, 100)
    tool.show_range_curve(lr, 2.0 - 1.0 / (1 + np.exp(-(np.log10(lr) + 3) * 3)), "f.csv")
    assert tool.show_layer.isVisibleTo(window)
    tool.clear()
    assert not tool.show_layer.isVisibleTo(window)


def test_the_final_loss_choice_shows_only_where_it_applies(qtbot, window):
    """Defect 11: the "final loss / best loss" menu showed over a range-test curve and a
    single log, where no point per run is plotted."""
    statistic = window.loss_vs_lr.statistic
    assert not statistic.isVisibleTo(window)  # nothing plotted yet
    config = SimulationConfig(lrs=np.geomspace(1e-3, 0.1, 4), iterations=50, dim=2)
    with qtbot.waitSignal(window.simulation_finished, timeout=30_000):
        window.start_simulation(config)
    assert statistic.isVisibleTo(window)  # one point per simulated run
    lr = np.geomspace(1e-6, 1.0, 100)
    window.range_tool.show_range_curve(lr, 2.0 - 1.0 / (1 + np.exp(-(np.log10(lr) + 3))), "f.csv")
    assert not statistic.isVisibleTo(window)  # a range-test curve: no final or best loss
    window.range_tool.show_layer.setChecked(False)
    assert not statistic.isVisibleTo(window)  # nothing shown that has a point per run
    window.sources.simulation_item.setCheckState(0, Qt.CheckState.Unchecked)
    window.sources.simulation_item.setCheckState(0, Qt.CheckState.Checked)
    assert statistic.isVisibleTo(window)  # the simulation's points again
    open_and_wait(qtbot, window, FIXTURES / "logs" / "sweep")
    window.sources.simulation_item.setCheckState(0, Qt.CheckState.Unchecked)
    assert statistic.isVisibleTo(window)  # the sweep's points use it
    window.library.clear()
    window.log_view.redraw()
    assert not statistic.isVisibleTo(window)


def test_ray_tune_training_iteration_is_labelled_as_epochs(qtbot, window):
    """Defect 10: a Ray Tune trial's training_iteration (one report an epoch) read "step"."""
    open_and_wait(qtbot, window, FIXTURES / "logs" / "sweep")
    assert window.inspect_form.axis == "epoch"
    assert window.loss_vs_iteration.plot.getAxis("bottom").labelText == "epoch"
    # One redraw both chooses the axis the runs have and labels it (it used to label the
    # axis chosen before, and relabel only in the redraw after: the test raced it).
    form = window.inspect_form
    form.set_axes(["step", "epoch", "time"])
    form.x_axis.setCurrentIndex(form.x_axis.findData("step"))
    window.log_view.redraw()
    assert form.axis == "epoch"
    assert window.loss_vs_iteration.plot.getAxis("bottom").labelText == "epoch"
    # with a step column as well (Ray 2.x), steps stay x and epochs are one choice away
    open_and_wait(qtbot, window, FIXTURES / "stores" / "raytune")
    box = window.inspect_form.x_axis
    assert box.model().item(box.findData("epoch")).isEnabled()


def test_a_keras_step_schedule_drops_at_the_epoch_not_in_a_ramp(qtbot, window, tmp_path):
    """Defect 10: λ logged once an epoch by Keras with a step schedule (0.1 for 5 epochs,
    then 0.01) was drawn as a line sloping from epoch 4 to 5, a λ never used."""
    rows = "".join(f"{e},{0.1 if e < 5 else 0.01},{1 / (e + 1)}\n" for e in range(10))
    path = tmp_path / "training.log.csv"
    path.write_text("epoch,learning_rate,loss\n" + rows)
    open_and_wait(qtbot, window, path)
    ((raw, _),) = window.log_view.lr_layer.items.values()
    x, y = raw.getOriginalDataset()
    held = y[x == 5]
    assert sorted(held.tolist()) == pytest.approx([0.01, 0.1])  # 0.1 up to epoch 5, then 0.01
    assert y[-1] == pytest.approx(0.01) and x[-1] == 9


def test_the_smoothed_curve_of_a_million_rows_is_a_line_not_a_blob(qtbot, window, tmp_path):
    """Defect 10: at a million noisy rows the bold smoothed curve, downsampled to each
    pixel's min and max like the raw one, filled a solid band."""
    n = 1_000_000
    steps = np.arange(n)
    loss = np.exp(-steps / 3e5 + 0.3 * np.random.default_rng(0).standard_normal(n))
    path = tmp_path / "metrics.csv"
    np.savetxt(
        path,
        np.column_stack([steps, loss]),
        fmt=("%d", "%.5f"),
        delimiter=",",
        header="step,train_loss",
        comments="",
    )
    open_and_wait(qtbot, window, path)
    window.resize(1024, 700)
    qtbot.waitUntil(lambda: window.loss_vs_iteration.plot.getViewBox().width() > 100)
    ((raw, smooth),) = window.log_view.loss_layer.items.values()
    window.loss_vs_iteration.plot.getViewBox().autoRange()

    def wiggle(item) -> float:
        _, y = item.getData()  # what is drawn: downsampled to the view
        y = y[np.isfinite(y)]
        return float(np.abs(np.diff(y)).sum() / (y.max() - y.min()))

    # A falling line: 1 for a monotone curve, a little more for the noise left in each
    # pixel's mean; each pixel's min and max (the blob) gave 750.
    assert wiggle(smooth) < 15
    assert wiggle(raw) > 50  # the raw points stay a band: their spikes are kept


def test_sweep_runs_sort_as_numbers(qtbot, window, tmp_path):
    """Defect 10: sweep runs sorted as text (lr_1e-05 after lr_10)."""
    for lr in ("10", "1e-05", "0.001", "2"):
        run = tmp_path / f"lr_{lr}"
        run.mkdir()
        (run / "params.json").write_text(f'{{"lr": {float(lr)}}}')
        (run / "metrics.csv").write_text("step,loss\n0,2.0\n1,1.5\n")
    open_and_wait(qtbot, window, tmp_path)
    names = [r.run.name for r in window.library.logs[0].runs]
    assert names == ["lr_1e-05", "lr_0.001", "lr_2", "lr_10"]


def test_train_and_validation_loss_can_be_shown_together(qtbot, window):
    """Defect 10: train and val losses could not be shown together."""
    open_and_wait(qtbot, window, FIXTURES / "logs" / "lightning_logs")
    view = window.log_view
    combo = view.loss_series
    index = combo.findText("train + validation")
    assert index >= 0 and combo.isVisible()
    combo.setCurrentIndex(index)
    view.redraw()
    labels = sorted(view.loss_layer.labels.values())
    assert any("train_loss" in t for t in labels) and any("val_loss" in t for t in labels)
    from lrviz.log_views import validation_series

    runs = window.library.visible_runs()
    with_validation = sum(validation_series(r.run) is not None for r in runs)
    assert with_validation >= 1 and len(labels) == len(runs) + with_validation


def test_a_run_past_the_size_limits_is_refused_in_the_form(qtbot, window):
    """Issue 9: the form allowed 4096 runs x 10,000,000 iterations, a 305 GiB allocation."""
    started = []
    window.runner.started.connect(started.append)
    huge = SimulationConfig(lrs=np.geomspace(1e-4, 1, 4096), iterations=10_000_000, dim=100)
    window.start_simulation(huge)
    assert not started and window.simulate_form.message.text()
    assert window.runner.store is None


@pytest.mark.parametrize(
    "tab, main",
    [
        ("simulate_form", "loss_vs_iteration"),
        ("range test", "loss_vs_lr"),
        ("inspect_form", "loss_vs_iteration"),
    ],
)
def test_each_task_gives_its_main_plot_the_room_at_1024x700(qtbot, window, tab, main):
    """Defect 8: at 1024x700 the loss vs iteration plot was ~70 px wide and the range test's
    loss vs λ ~140 px, beside panels the task does not use."""
    window.resize(1024, 700)
    widget = window.range_tool.tab if tab == "range test" else getattr(window, tab)
    window.controls.setCurrentWidget(widget)
    dock = window.plot_docks[main]
    area = window.plot_area
    qtbot.waitUntil(lambda: dock.isVisible() and dock.width() >= 0.45 * area.width())
    assert dock.height() >= 0.5 * area.height()
    assert dock.width() >= 300

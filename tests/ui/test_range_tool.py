"""The range tools in the real window: range test in the worker thread, the region on the
loss vs λ plot (log-x: the region speaks log10), spin boxes, snapping, undo, export."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QGuiApplication, QMouseEvent
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QFileDialog,
    QPlainTextEdit,
    QSlider,
    QWidget,
)

from lrviz.export import format_lr
from lrviz.lr_range import SNAP_DECADES
from lrviz.simulation_config import SimulationConfig
from lrviz.smoothing import debiased_ema

TIMEOUT_MS = 30_000


def synthetic_finder_curve(n: int = 300, seed: int = 0):
    """An LR-finder curve: a plateau, a fall around 1e-3, a bottom, an explosion past 0.1."""
    lr = np.geomspace(1e-6, 1.0, n)
    x = np.log10(lr)
    loss = 2.0 - 1.5 / (1 + np.exp(-(x + 3) * 3)) + np.where(x > -1.2, (x + 1.2) ** 2 * 8, 0)
    noise = 1 + 0.02 * np.random.default_rng(seed).standard_normal(n)
    accuracy = np.clip(0.3 + 0.6 / (1 + np.exp(-(x + 3) * 3)) - np.where(x > -1, 0.5, 0), 0, 1)
    return lr, loss * noise, accuracy


@pytest.fixture
def tool(window):
    return window.range_tool


@pytest.fixture
def shown(qtbot, tool):
    """The synthetic curve shown as a recorded LR-finder log."""
    lr, loss, _ = synthetic_finder_curve()
    suggestion = tool.show_range_curve(lr, loss, "finder.csv")
    assert suggestion is not None and suggestion.suggested_lr is not None
    qtbot.waitUntil(lambda: tool.overlay.view.width() > 100)
    return suggestion


def region_log10(tool):
    return tuple(tool.overlay.region.getRegion())


def drag_finished(tool, lo_lr: float, hi_lr: float) -> None:
    """What a released drag does: the region's lines move, then sigRegionChangeFinished."""
    tool.overlay.region.setRegion((math.log10(lo_lr), math.log10(hi_lr)))


def far_from_markers(tool, start: float, step: float = 1.13) -> float:
    """A λ at least two snapping distances from every marker."""
    lr = start
    while any(abs(math.log10(lr / m)) < 2 * SNAP_DECADES for m in tool.overlay.marker_lrs()):
        lr *= step
    return lr


# --- running a test -----------------------------------------------------------------------
def test_run_from_the_form_streams_and_reads_the_curve(qtbot, window, tool):
    form = tool.form
    form.objective.setCurrentIndex(form.objective.findData("mlp"))
    form.optimizer.setCurrentIndex(form.optimizer.findData("adam"))
    form.iterations.setValue(300)
    progress = []
    tool.progressed.connect(lambda done, total: progress.append((done, total)))
    with qtbot.waitSignal(tool.test_finished, timeout=TIMEOUT_MS) as finished:
        qtbot.mouseClick(form.run_button, Qt.MouseButton.LeftButton)
        assert form.stop_button.isEnabled() and not form.run_button.isEnabled()
        assert not tool.readout.min_lr.isEnabled()  # nothing to choose on yet
    result = finished.args[0]
    assert window.controls.currentWidget() is tool.tab
    # streamed in several batches (50 iterations each), never one draw per batch
    assert len(progress) >= 2 and progress[-1][0] == result.lr.size
    assert result.lr.size == 300 and not result.stopped_early
    assert tool.redraw() is False  # nothing changed since the last draw

    x, y = (tool.overlay.raw.xData, tool.overlay.raw.yData)
    np.testing.assert_allclose(x, result.lr)
    np.testing.assert_allclose(y, result.loss)
    _, smooth = (tool.overlay.smoothed.xData, tool.overlay.smoothed.yData)
    np.testing.assert_allclose(smooth, debiased_ema(result.loss, form.smoothing_weight()))
    # the mlp is a classifier: accuracy on the right axis, which stays linear
    assert window.loss_vs_lr.plot.getAxis("right").isVisible()
    assert not tool.overlay.accuracy_axis.logMode
    ax, _ = tool.overlay.accuracy.getData()
    np.testing.assert_allclose(ax, np.log10(result.lr))

    suggestion = tool.suggestion
    assert suggestion is not None and suggestion.suggested_lr is not None
    lo, hi = suggestion.min_lr, suggestion.max_lr
    assert tool.chosen_range == (lo, hi)
    np.testing.assert_allclose(region_log10(tool), (math.log10(lo), math.log10(hi)))
    assert tool.readout.min_lr.value() == pytest.approx(lo)
    assert tool.readout.max_lr.value() == pytest.approx(hi)
    assert format_lr(suggestion.suggested_lr) in tool.readout.suggested.text()
    assert suggestion.confidence in tool.readout.suggested.text()
    assert format_lr(hi) in tool.status_range.text()
    drawn = {m.name for m in tool.overlay.markers}
    assert {"suggested", "start", "max"} <= drawn
    assert f"max_lr={format_lr(hi)}" in tool.readout.code.toPlainText()
    assert not form.stop_button.isEnabled() and form.run_button.isEnabled()
    assert tool.readout.min_lr.isEnabled() and tool.readout.max_lr.isEnabled()
    assert "Finished" in form.status.text()


def test_live_smoothing_redraws_the_bold_curve(qtbot, tool, shown):
    _, loss = (tool.overlay.raw.xData, tool.overlay.raw.yData)
    tool.form.set_smoothing_weight(0.5)
    _, smooth = (tool.overlay.smoothed.xData, tool.overlay.smoothed.yData)
    np.testing.assert_allclose(smooth, debiased_ema(loss, 0.5))
    assert "EMA 0.5" in tool.overlay.legend.items[1][1].text


def test_linear_ramp_and_an_early_stop(qtbot, tool):
    form = tool.form
    form.objective.setCurrentIndex(form.objective.findData("quadratic"))
    form.optimizer.setCurrentIndex(form.optimizer.findData("momentum"))
    form.mode.setCurrentIndex(form.mode.findData("linear"))
    form.min_lr.setValue(1e-4)
    form.max_lr.setValue(10.0)
    form.iterations.setValue(200)
    with qtbot.waitSignal(tool.test_finished, timeout=TIMEOUT_MS) as finished:
        form.run_button.click()
    result = finished.args[0]
    assert result.mode == "linear" and result.stopped_early
    np.testing.assert_allclose(np.diff(result.lr), np.diff(result.lr)[0], rtol=1e-9)
    assert "Stopped early" in form.status.text()
    assert not tool.overlay.accuracy_axis.isVisible()  # no accuracy on a quadratic


def test_stop_reads_the_curve_so_far(qtbot, tool):
    form = tool.form
    form.objective.setCurrentIndex(form.objective.findData("quadratic"))
    form.optimizer.setCurrentIndex(form.optimizer.findData("sgd"))
    form.min_lr.setValue(1e-7)
    form.max_lr.setValue(1e-4)
    # The longest ramp the form allows, stopped at its first progress: 300,000 steps could
    # all be done before the click came once smoothing got faster (a race, not a stop).
    iterations = form.iterations.maximum()
    form.iterations.setValue(iterations)
    form.stop_factor.setValue(form.stop_factor.minimum())  # "never"
    assert form.settings().stop_factor is None
    with qtbot.waitSignal(tool.progressed, timeout=TIMEOUT_MS):
        form.run_button.click()
    with qtbot.waitSignal(tool.test_finished, timeout=TIMEOUT_MS) as finished:
        qtbot.mouseClick(form.stop_button, Qt.MouseButton.LeftButton)
    result = finished.args[0]
    assert 0 < result.lr.size < iterations and not result.done
    assert "Stopped by hand" in form.status.text()
    assert tool.readout.confidence.text()  # a reading (or its warning) is shown


def test_closing_the_window_stops_a_running_test(qtbot, window, tool):
    tool.form.objective.setCurrentIndex(tool.form.objective.findData("quadratic"))
    tool.form.iterations.setValue(300_000)
    tool.form.max_lr.setValue(1e-4)
    with qtbot.waitSignal(tool.progressed, timeout=TIMEOUT_MS):
        tool.run_test()
    window.close()  # the autouse fixture fails the test if the engine thread survives


def test_bad_settings_are_shown_in_the_form(qtbot, tool):
    tool.form.min_lr.setValue(1.0)
    tool.form.max_lr.setValue(1e-3)
    tool.form.run_button.click()
    assert "above" in tool.form.message.text()
    assert not tool.jobs.running and not tool.form.stop_button.isEnabled()


def test_a_range_test_past_the_limits_is_refused_in_the_form(qtbot, tool):
    """The command line refused a ramp from 1e-300 to 1e300 (its λ overflow to inf); the
    window ran it. One spec, one check for both."""
    from lrviz.rangetest import RangeTestSpec

    assert not tool.run_test(RangeTestSpec(min_lr=1e-300, max_lr=1e300, iterations=50))
    assert "1e-300" in tool.form.message.text() and not tool.jobs.running


def test_the_form_describes_the_test_as_the_command_line_does(qtbot, tool):
    """The form's settings and `lrviz rangetest`'s flags make the same RangeTestSpec."""
    import argparse

    from lrviz.commands import rangetest

    form = tool.form
    form.objective.setCurrentIndex(form.objective.findData("mlp"))
    form.optimizer.setCurrentIndex(form.optimizer.findData("adam"))
    form.batch_size.setValue(16)
    form.seed.setValue(5)
    form.min_lr.setValue(1e-6)
    form.max_lr.setValue(0.5)
    form.iterations.setValue(300)
    form.mode.setCurrentIndex(form.mode.findData("linear"))
    form.stop_factor.setValue(5.0)
    form.set_smoothing_weight(0.9)
    parser = argparse.ArgumentParser()
    rangetest.add_parser(parser.add_subparsers())
    flags = "rangetest --objective mlp --optimizer adam --batch-size 16 --seed 5 "
    flags += "--min-lr 1e-6 --max-lr 0.5 --iterations 300 --mode linear --stop-factor 5 "
    flags += "--loss-smoothing 0.9"
    spec = rangetest.spec_from_args(parser.parse_args(flags.split()))
    assert form.settings().to_dict() == spec.to_dict()


# --- a recorded curve ---------------------------------------------------------------------
def test_show_range_curve_draws_a_recorded_test_like_a_simulated_one(qtbot, window, tool):
    lr, loss, accuracy = synthetic_finder_curve()
    with qtbot.waitSignal(tool.curve_read) as read:
        suggestion = tool.show_range_curve(lr, loss, "lr_find.csv", accuracy=accuracy)
    assert read.args[0] is suggestion
    # the curve falls around 1e-3 and explodes past ~0.06: the reading must say so
    assert 1e-3 < suggestion.suggested_lr < 0.06
    assert suggestion.max_lr < 0.2 and suggestion.min_lr < suggestion.suggested_lr
    x, y = (tool.overlay.raw.xData, tool.overlay.raw.yData)
    np.testing.assert_allclose(x, lr)
    np.testing.assert_allclose(y, loss)
    assert tool.chosen_range == (suggestion.min_lr, suggestion.max_lr)
    np.testing.assert_allclose(region_log10(tool), np.log10([suggestion.min_lr, suggestion.max_lr]))
    assert tool.overlay.region.isVisible()
    assert window.loss_vs_lr.plot.getAxis("right").isVisible()
    assert "lr_find.csv" in tool.overlay.legend.items[0][1].text
    assert window.controls.currentWidget() is tool.tab
    # x shows the tested range; its ticks read λ, not exponents
    (x0, x1), _ = tool.overlay.view.viewRange()
    assert x0 == pytest.approx(-6, abs=0.3) and x1 == pytest.approx(0, abs=0.3)


def test_markers_are_labelled_without_overlap(qtbot, tool, shown):
    names = {m.name for m in tool.overlay.markers}
    assert {"suggested", "start", "max", "steepest", "valley", "minimum", "slide"} <= names
    rects = tool.overlay.label_rects()
    assert set(rects) == names
    for (a, ra), (b, rb) in itertools.combinations(rects.items(), 2):
        ax, ay, aw, ah = ra
        bx, by, bw, bh = rb
        disjoint = ax + aw <= bx or bx + bw <= ax or ay + ah <= by or by + bh <= ay
        assert disjoint, f"labels {a} and {b} overlap"
    # zooming in re-lays them out on fewer rows
    rows_before = max(tool.overlay.label_rows().values())
    tool.overlay.view.setXRange(-4.5, -0.5, padding=0)
    assert max(tool.overlay.label_rows().values()) <= rows_before


def test_a_flat_curve_gives_a_warning_not_a_number(qtbot, tool):
    lr = np.geomspace(1e-6, 1.0, 200)
    loss = 1.0 + 1e-4 * np.random.default_rng(1).standard_normal(200)
    suggestion = tool.show_range_curve(lr, loss, "flat.csv")
    assert suggestion.suggested_lr is None
    assert tool.readout.suggested.text() == "none"
    assert "flat" in tool.readout.confidence.text()
    assert tool.chosen_range is None and not tool.overlay.region.isVisible()
    assert not tool.readout.copy_button.isEnabled()
    # a range typed by hand still works
    tool.readout.max_lr.setValue(1e-2)
    tool.readout.min_lr.setValue(1e-3)
    assert tool.chosen_range == pytest.approx((1e-3, 1e-2))
    assert tool.overlay.region.isVisible() and tool.readout.copy_button.isEnabled()


def test_unusable_arrays_are_an_error_in_the_form(qtbot, tool):
    assert tool.show_range_curve(np.ones(3), np.ones(4), "bad.csv") is None
    assert "bad.csv" in tool.form.message.text()


def test_non_positive_losses_switch_the_y_axis_to_linear(qtbot, window, tool):
    lr, loss, _ = synthetic_finder_curve()
    tool.show_range_curve(lr, loss - 1.0, "shifted.csv")  # goes negative
    assert not window.loss_vs_lr.plot.getAxis("left").logMode
    tool.show_range_curve(lr, loss, "positive.csv")
    assert window.loss_vs_lr.plot.getAxis("left").logMode


# --- the region, the spin boxes, snapping, undo -------------------------------------------
def test_region_edges_reach_the_spin_boxes_in_lr_not_log10(qtbot, tool, shown):
    lo = far_from_markers(tool, 3e-5)
    hi = far_from_markers(tool, 0.25)
    drag_finished(tool, lo, hi)
    assert tool.chosen_range == pytest.approx((lo, hi))
    assert tool.readout.min_lr.value() == pytest.approx(lo)
    assert tool.readout.max_lr.value() == pytest.approx(hi)
    assert tool.readout.ratio.text().startswith(f"{hi / lo:.3g}×")
    assert f"max_lr={format_lr(hi)}" in tool.readout.code.toPlainText()


def test_spin_box_edits_move_the_region(qtbot, tool, shown):
    lo = far_from_markers(tool, 2e-5)
    tool.readout.min_lr.setValue(lo)
    assert region_log10(tool)[0] == pytest.approx(math.log10(lo))
    hi = far_from_markers(tool, 0.3)
    tool.readout.max_lr.setValue(hi)
    assert region_log10(tool) == pytest.approx((math.log10(lo), math.log10(hi)))
    assert tool.selection.undo_stack.count() == 2  # one step per edit
    # a min above the max is refused, shown, and the boxes go back
    tool.readout.min_lr.setValue(hi * 2)
    assert tool.chosen_range == pytest.approx((lo, hi))
    assert tool.readout.min_lr.value() == pytest.approx(lo)
    assert "above" in tool.readout.message.text()


def test_released_edges_snap_to_a_nearby_marker(qtbot, tool, shown):
    lo, _ = tool.chosen_range
    target = shown.suggested_lr
    drag_finished(tool, lo, target * 10 ** (0.6 * SNAP_DECADES))
    assert tool.chosen_range == (lo, target)  # exactly the marker
    assert region_log10(tool)[1] == pytest.approx(math.log10(target))
    assert tool.readout.max_lr.value() == target
    # beyond the snapping distance the edge stays where it was released
    away = far_from_markers(tool, target * 10 ** (2.5 * SNAP_DECADES))
    drag_finished(tool, lo, away)
    assert tool.chosen_range[1] == pytest.approx(away)


def test_dragging_the_whole_band_keeps_its_width_and_snaps(qtbot, tool, shown):
    lo, hi = tool.chosen_range
    factor = shown.suggested_lr / hi * 10 ** (0.5 * SNAP_DECADES)  # top lands near "suggested"
    drag_finished(tool, lo * factor, hi * factor)
    new_lo, new_hi = tool.chosen_range
    assert new_hi == pytest.approx(shown.suggested_lr)
    assert new_hi / new_lo == pytest.approx(hi / lo)


def test_one_undo_step_per_drag_and_keyboard_undo_redo(qtbot, window, tool, shown):
    stack = tool.selection.undo_stack
    start = tool.chosen_range
    line = tool.overlay.region.lines[1]
    hi = far_from_markers(tool, 0.3)
    # a drag: many intermediate positions, one release
    for value in np.linspace(math.log10(start[1]), math.log10(hi), 25):
        line.setValue(value)
    assert stack.count() == 0  # nothing recorded mid-drag
    line.sigPositionChangeFinished.emit(line)
    assert stack.count() == 1 and tool.chosen_range[1] == pytest.approx(hi)
    lo = far_from_markers(tool, 2e-5)
    tool.readout.min_lr.setValue(lo)
    assert stack.count() == 2

    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert tool.chosen_range == pytest.approx((start[0], hi))
    assert tool.readout.min_lr.value() == pytest.approx(start[0])
    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert tool.chosen_range == start
    assert region_log10(tool) == pytest.approx(tuple(np.log10(start)))
    shift_ctrl = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    qtbot.keyClick(window, Qt.Key.Key_Z, shift_ctrl)
    assert tool.chosen_range == pytest.approx((start[0], hi))
    # a new curve starts a new history
    tool.show_range_curve(*synthetic_finder_curve(seed=2)[:2], "other.csv")
    assert stack.count() == 0


def test_mouse_drag_of_an_edge_on_the_plot(qtbot, window, tool, shown):
    # pyqtgraph drops mouse moves closer than 1/mouseRateLimit s apart; synthetic events
    # come faster than any hand, so lift the limit rather than sleep.
    old_limit = pg.getConfigOption("mouseRateLimit")
    pg.setConfigOptions(mouseRateLimit=-1)
    try:
        view = tool.overlay.view
        graphics = window.loss_vs_lr.graphics
        viewport = graphics.viewport()
        _, (y0, y1) = view.viewRange()
        _, hi_log = region_log10(tool)
        target = far_from_markers(tool, 10 ** (hi_log + 0.5))

        def at(x_log: float) -> QPoint:
            point = graphics.mapFromScene(view.mapViewToScene(QPointF(x_log, (y0 + y1) / 2)))
            return QPoint(point.x(), point.y())

        def send(kind, pos, button, buttons):
            event = QMouseEvent(
                kind,
                QPointF(pos),
                QPointF(viewport.mapToGlobal(pos)),
                button,
                buttons,
                Qt.KeyboardModifier.NoModifier,
            )
            QApplication.sendEvent(viewport, event)

        left, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton
        start, end = at(hi_log), at(math.log10(target))
        send(QEvent.Type.MouseMove, start, none, none)  # hover: the edge accepts the drag
        send(QEvent.Type.MouseButtonPress, start, left, left)
        for i in range(1, 21):
            p = start + (end - start) * (i / 20)
            send(QEvent.Type.MouseMove, p, none, left)
        send(QEvent.Type.MouseButtonRelease, end, left, none)
    finally:
        pg.setConfigOptions(mouseRateLimit=old_limit)
    assert tool.selection.undo_stack.count() == 1
    new_hi = tool.chosen_range[1]
    # within a pixel of where the mouse was released, in λ (converted from log10)
    pixel = (view.viewRange()[0][1] - view.viewRange()[0][0]) / view.width()
    assert abs(math.log10(new_hi / target)) < 2 * pixel
    assert tool.readout.max_lr.value() == pytest.approx(new_hi)


def test_rule_selector_sets_the_bottom_from_the_top(qtbot, tool, shown):
    combo = tool.readout.rule
    _, hi = tool.chosen_range
    for rule, divisor in (("third", 3.0), ("fourth", 4.0)):
        index = combo.findData(rule)
        combo.setCurrentIndex(index)
        combo.activated.emit(index)
        assert tool.chosen_range == pytest.approx((hi / divisor, hi))
        assert tool.suggestion.range_rule == rule
    assert tool.selection.undo_stack.count() == 2
    tool.selection.undo()
    assert tool.chosen_range == pytest.approx((hi / 3.0, hi))
    index = combo.findData("start")
    combo.setCurrentIndex(index)
    combo.activated.emit(index)
    assert tool.chosen_range == pytest.approx((shown.start_lr, hi))
    tool.readout.max_lr.setValue(far_from_markers(tool, 0.3))
    tool.readout.reset_button.click()
    assert tool.chosen_range == pytest.approx((tool.suggestion.min_lr, tool.suggestion.max_lr))


# --- export -------------------------------------------------------------------------------
def test_snippets_follow_the_chosen_range(qtbot, tool, shown):
    lo = far_from_markers(tool, 2e-4)
    hi = far_from_markers(tool, 0.05)
    drag_finished(tool, lo, hi)
    low, high = format_lr(lo), format_lr(hi)
    combo = tool.readout.target
    expected = {
        "pytorch_onecycle": ["OneCycleLR(", f"max_lr={high}"],
        "pytorch_cyclic": ["CyclicLR(", f"base_lr={low}", f"max_lr={high}"],
        "keras": [f"initial_learning_rate={low}", f"warmup_target={high}"],
        "fastai": [f"fit_one_cycle(EPOCHS, lr_max={high}"],
        "json": [f'"max_lr": {float(high)}'],
    }
    for key, parts in expected.items():
        combo.setCurrentIndex(combo.findData(key))
        text = tool.readout.code.toPlainText()
        for part in parts:
            assert part in text, (key, part, text)
    combo.setCurrentIndex(combo.findData("pytorch_cyclic"))
    copied = tool.copy_code()
    assert QGuiApplication.clipboard().text() == copied == tool.readout.code.toPlainText()
    # the code updates live with the next edit
    tool.readout.max_lr.setValue(far_from_markers(tool, 0.3))
    assert f"max_lr={format_lr(tool.chosen_range[1])}" in tool.readout.code.toPlainText()


def test_save_json_writes_valid_json_atomically(qtbot, tool, shown, tmp_path, monkeypatch):
    lo, hi = tool.chosen_range
    path = tool.save_json(tmp_path / "range.json")
    data = json.loads(path.read_text())
    assert data["min_lr"] == float(format_lr(lo)) and data["max_lr"] == float(format_lr(hi))
    assert data["suggested_lr"] == pytest.approx(shown.suggested_lr, rel=5e-3)
    assert data["source"] == "finder.csv"
    assert data["reading"]["confidence"] == shown.confidence
    assert [p.name for p in tmp_path.iterdir()] == ["range.json"]  # no temporary left

    asked = {}

    def fake_dialog(parent, caption, default, filters):
        asked["default"] = default
        return str(tmp_path / "chosen"), filters

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(fake_dialog))
    saved = tool.save_json_dialog()
    assert saved == tmp_path / "chosen.json" and json.loads(saved.read_text())["max_lr"]
    assert asked["default"].endswith("finder-csv-range.json")
    assert "Saved chosen.json" in tool.readout.message.text()
    # an unwritable place is a message, not a traceback
    monkeypatch.setattr(
        QFileDialog,
        "getSaveFileName",
        staticmethod(lambda *a: (str(tmp_path / "missing" / "x.json"), "")),
    )
    assert tool.save_json_dialog() is None
    assert "Could not save" in tool.readout.message.text()


def test_clear_removes_the_curve_and_the_range(qtbot, tool, shown):
    tool.clear()
    assert tool.chosen_range is None and tool.suggestion is None
    assert tool.overlay.raw.xData is None or tool.overlay.raw.xData.size == 0
    assert not tool.overlay.region.isVisible() and not tool.overlay.markers
    assert tool.readout.code.toPlainText() == "" or not tool.readout.code.isEnabled()
    assert tool.status_range.text() == ""


def test_a_simulation_after_a_range_test_swaps_the_layers_never_mixes_them(
    qtbot, window, tool, shown
):
    """Issue 8, defect 2: the range test's markers, bands, legend and the status bar's chosen
    λ stayed over a later simulation's points."""
    panel = window.loss_vs_lr
    assert not panel.points.isVisible()  # the range curve is the subject now
    assert tool.status_range.isVisible() and tool.caption.isVisible()
    config = SimulationConfig(
        objective="quadratic", optimizer="sgd", lrs=np.geomspace(1e-3, 0.1, 4), iterations=20
    )
    with qtbot.waitSignal(window.simulation_finished, timeout=TIMEOUT_MS):
        window.start_simulation(config)
    assert panel.points.isVisible() and panel.legend.isVisible()
    overlay = tool.overlay
    assert not overlay.raw.isVisible() and not overlay.legend.isVisible()
    assert not overlay.likely.isVisible() and not overlay.region.isVisible()
    assert not any(line.isVisible() for line in overlay._lines.values())
    assert not tool.show_layer.isChecked()
    assert not tool.status_range.isVisible() and not tool.caption.isVisible()
    # Ticking "range test" brings it back, alone.
    tool.show_layer.setChecked(True)
    assert overlay.raw.isVisible() and not panel.points.isVisible()


def test_every_control_of_the_tab_has_a_tooltip(qtbot, tool):
    kinds = (QAbstractButton, QComboBox, QAbstractSpinBox, QSlider, QPlainTextEdit)
    controls = [w for w in tool.tab.widget().findChildren(QWidget) if isinstance(w, kinds)]
    assert len(controls) >= 15
    missing = [
        type(w).__name__ + ":" + (getattr(w, "text", lambda: "")() or "")
        for w in controls
        if not w.toolTip()
    ]
    assert not missing
    assert tool.show_layer.toolTip() and tool.status_range.toolTip()

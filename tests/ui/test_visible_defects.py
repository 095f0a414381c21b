"""The visible defects a user met in the window (issue: desktop defects), each driven as a
user meets it; every test here failed before its fix."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from log_waits import open_and_wait
from PySide6.QtCore import Qt

from lrviz.simulation_config import SimulationConfig

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SHORT = SimulationConfig(objective="quadratic", lrs=np.geomspace(1e-3, 1.0, 4), iterations=50)


def test_logs_without_a_per_step_lr_say_so_instead_of_an_empty_plot(qtbot, window):
    """A sweep, a store or a loss-only log drew an empty λ vs iteration plot with ticks
    that meant nothing (λ 2 to 5 over steps 0.1 to 0.9): it says why in their place."""
    panel = window.lr_vs_iteration
    with qtbot.waitSignal(window.simulation_finished, timeout=30_000):
        window.start_simulation(SHORT)
    assert panel.empty_text() is None  # the simulation's schedules are plotted
    open_and_wait(qtbot, window, FIXTURES / "logs" / "sweep")
    text = panel.empty_text()
    assert text is not None and "no per-step λ" in text and "loss vs λ" in text
    assert panel.body.currentWidget() is panel.empty_state
    # Ticking the simulation back shows its schedules: the plot returns.
    window.sources.simulation_item.setCheckState(0, Qt.CheckState.Checked)
    assert panel.empty_text() is None
    window.sources.simulation_item.setCheckState(0, Qt.CheckState.Unchecked)
    assert "no per-step λ" in panel.empty_text()


def test_a_single_log_without_lr_gets_its_own_hint(qtbot, window):
    open_and_wait(qtbot, window, FIXTURES / "logs" / "tensorboard")
    text = window.lr_vs_iteration.empty_text()
    assert text.startswith("This log records no per-step λ")
    # what would show it, for this format: TensorBoard's CSV download holds one tag
    assert "download the learning-rate tag" in text


def test_a_log_with_lr_shows_its_schedule(qtbot, window):
    open_and_wait(qtbot, window, FIXTURES / "logs" / "sweep")
    assert window.lr_vs_iteration.empty_text() is not None
    open_and_wait(qtbot, window, FIXTURES / "logs" / "lightning_logs")
    # Some shown runs log λ: their schedules are drawn, no empty state.
    assert window.lr_vs_iteration.empty_text() is None
    assert window.lr_vs_iteration.body.currentWidget() is window.lr_vs_iteration.graphics


def belief_points_under_the_legend(view) -> int:
    """How many points of the lesson's belief curves the legend drawn in the plot hides."""
    legend = getattr(view, "belief_legend", None) or view.belief_plot.legend
    if legend is None or not legend.isVisible():
        return 0
    box = view.belief_plot.getViewBox()
    pixels = legend.mapRectToParent(legend.boundingRect())
    corner_a, corner_b = box.mapToView(pixels.topLeft()), box.mapToView(pixels.bottomRight())
    x0, x1 = sorted((corner_a.x(), corner_b.x()))
    y0, y1 = sorted((corner_a.y(), corner_b.y()))
    hidden = 0
    for pair in view.belief_curves:
        for curve in pair:
            x, y = curve.getData()
            hidden += int(np.count_nonzero((x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)))
    return hidden


@pytest.mark.parametrize("size", [(1024, 700), (1920, 1080)])
def test_the_lesson_legend_hides_none_of_its_curves(qtbot, window, size):
    """The belief plot's 3-column legend sat across the top of the plot at 1024x700 and
    covered the λ = 10 curve once the white dog had come (p(dog) of a white dog near 1)."""
    window.resize(*size)
    tool = window.lesson_tool
    window.controls.setCurrentWidget(tool.tab)
    view = window.lesson_view
    legend = getattr(view, "belief_legend", None) or view.belief_plot.legend
    for steps in (tool.learner.white_dog + 3, tool.learner.steps):
        while tool.learner.steps_taken < steps:
            tool.step()
        # the legend fits itself (font, rows, corner) on the next event-loop turn
        refit = getattr(legend, "_refit", None)
        qtbot.waitUntil(lambda: refit is None or not refit.isActive())  # noqa: B023
        assert belief_points_under_the_legend(view) == 0, steps


def test_a_theme_switch_recolours_the_sharpness_panel_and_keeps_its_zoom(qtbot, window):
    """After a theme switch the 2/λ labels' backing, their text, the curves and the empty
    plot's message take the new theme's colours, and the view the user zoomed into stays
    (the panel was rebuilt from its store, which reset the zoom and kept the message grey
    #5a5a5a, hard to read on the dark plot)."""
    from ui import theme

    panel = window.sharpness
    assert panel.message.color.name() == theme.role_color("hint")  # (light, at start)
    window.desktop.set_theme("dark")
    assert panel.message.color.name() == theme.DARK.roles["hint"]
    window.desktop.set_theme("light")
    config = SimulationConfig(
        objective="quadratic", lrs=np.array([0.01, 0.05]), iterations=40, sharpness_every=5
    )
    with qtbot.waitSignal(window.simulation_finished, timeout=30_000):
        window.start_simulation(config)
    window.redraw()
    assert len(panel.labels) == 2
    light_pens = [curve.opts["pen"].color().name() for curve in panel.curves]
    view = panel.plot.getViewBox()
    view.setXRange(10, 20, padding=0)  # the user zooms in
    window.desktop.set_theme("dark")
    for label in panel.labels:
        fill = label.fill.color()
        assert (fill.name(), fill.alpha()) == ("#202226", 0xE0)  # DARK.legend_fill
    assert panel.message.color.name() == theme.DARK.roles["hint"]
    # the runs take the dark colour map's colours, as the other panels do
    from ui.colors import run_colors

    dark_pens = [curve.opts["pen"].color().name() for curve in panel.curves]
    assert dark_pens == [c.name() for c in run_colors(window.runner.store)]
    assert [label.color.name() for label in panel.labels] != light_pens
    (x0, x1), _ = view.viewRange()
    assert (x0, x1) == pytest.approx((10, 20))
    window.desktop.set_theme("light")
    for label in panel.labels:
        assert label.fill.color().name() == "#ffffff"


def bottom_ticks(panel) -> list[float]:
    axis = panel.plot.getAxis("bottom")
    lo, hi = axis.range
    return [v for _spacing, values in axis.tickValues(lo, hi, axis.width()) for v in values]


def test_a_log_of_whole_epochs_is_ticked_at_whole_epochs(qtbot, window):
    """A 3-epoch Keras log read "epoch 0.2, 0.4, ... 1.8" at 1920x1080: epochs it never
    had. Whole-number steps and epochs get whole-number ticks; HF's fractional epochs not."""
    window.resize(1920, 1080)
    open_and_wait(qtbot, window, FIXTURES / "logs" / "keras" / "training.log.csv")
    assert window.inspect_form.axis == "epoch"
    for panel in (window.loss_vs_iteration, window.lr_vs_iteration):
        axis = panel.plot.getAxis("bottom")
        # laid out at the window's width and fitted to epochs 0 to 2
        qtbot.waitUntil(lambda a=axis: a.width() > 500 and a.range[1] > 1.9)
        ticks = bottom_ticks(panel)
        assert ticks and all(float(v).is_integer() for v in ticks), ticks


def test_fractional_epochs_keep_their_fine_ticks(qtbot, window):
    open_and_wait(qtbot, window, FIXTURES / "logs" / "hf" / "trainer_state.json")
    window.inspect_form.x_axis.setCurrentIndex(window.inspect_form.x_axis.findData("epoch"))
    with qtbot.waitSignal(window.log_view.drawn, timeout=30_000):
        window.log_view.redraw()
    assert window.inspect_form.axis == "epoch"
    assert not window.loss_vs_iteration.plot.getAxis("bottom").integer_ticks


def test_fine_log_labels_read_as_every_lr_does():
    """The λ axis of a 3e-5..5e-5 schedule read "5e-05 4.5e-05" beside decades written
    "1e-4", and "0.0009" beside "1e-3"."""
    import numpy as np

    from ui.panels.plot_panel import _even_labels

    assert _even_labels(np.array([3e-5, 3.5e-5, 4e-5, 4.5e-5, 5e-5])) == [
        "3e-5",
        "3.5e-5",
        "4e-5",
        "4.5e-5",
        "5e-5",
    ]
    assert _even_labels(np.array([5e-4, 7e-4, 9e-4])) == ["5e-4", "7e-4", "9e-4"]
    assert _even_labels(np.array([0.35, 0.4, 0.45])) == ["0.35", "0.4", "0.45"]


def test_a_fastai_log_says_where_its_lr_is(qtbot, window):
    open_and_wait(qtbot, window, FIXTURES / "logs" / "fastai" / "history.csv")
    text = window.lr_vs_iteration.empty_text()
    assert text.startswith("This log records no per-step λ") and "learn.recorder.lrs" in text


def test_an_unticked_box_in_a_dark_list_has_a_visible_frame(qtbot):
    """In the dark theme the Sources list's unticked "Simulation" box was invisible and a
    ticked run a bare ✓ (Fusion frames a box a shade darker than the window)."""
    from PySide6.QtGui import QColor
    from PySide6.QtWidgets import QTreeWidget, QTreeWidgetItem

    from ui import theme

    theme.apply_theme("dark")
    try:
        tree = QTreeWidget()
        qtbot.addWidget(tree)
        tree.setHeaderHidden(True)
        item = QTreeWidgetItem(["Simulation"])
        item.setCheckState(0, Qt.CheckState.Unchecked)
        tree.addTopLevelItem(item)
        tree.resize(200, 60)
        tree.show()
        qtbot.waitExposed(tree)
        image = tree.viewport().grab().toImage()
        rect = tree.visualItemRect(item)
        frame = QColor(theme.DARK.disabled_text)
        hits = 0
        for x in range(rect.left(), rect.left() + 30):
            for y in range(rect.top(), rect.bottom()):
                c = image.pixelColor(x, y)
                near = abs(c.red() - frame.red()) + abs(c.green() - frame.green())
                hits += near + abs(c.blue() - frame.blue()) < 30
        assert hits >= 20  # the box's four sides, drawn in a colour that reads on the list
    finally:
        theme.apply_theme("light")

"""Issue 12's defects at 1024x700 (the lab, the lesson, the sharpness, the comparison of
adaptive λ), each driven as a user sees it; every test failed before its fix."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QStyle, QStyleOptionTab, QToolButton
from rect_checks import inside


def small_window(qtbot, window):
    window.resize(1024, 700)
    qtbot.waitUntil(lambda: window.width() == 1024)
    window._initial_dock_sizes()
    qtbot.waitUntil(lambda: window.controls.width() <= 320)
    return window


def test_all_six_tool_tabs_are_in_sight_at_1024_pixels(qtbot, window):
    """Six tabs scrolled behind arrows ('Lesso' and Search cut off) in the 300-px dock."""
    small_window(qtbot, window)
    tabs = window.controls
    bar = tabs.tabBar()
    assert tabs.count() == 6
    arrows = [b for b in bar.findChildren(QToolButton) if b.isVisible()]
    assert not arrows
    for i in range(tabs.count()):
        rect = bar.tabRect(i)
        assert rect.left() >= 0 and rect.right() <= bar.width(), tabs.tabText(i)
        assert bar.mapTo(tabs, rect.topRight()).x() <= tabs.width()
        assert tabs.tabToolTip(i)
    assert bar.tabRect(tabs.count() - 1).right() <= tabs.width()
    # and each label whole in its tab (slimmer tabs once cut 'Simulate' to 'imulat')
    for i in range(tabs.count()):
        option = QStyleOptionTab()
        bar.initStyleOption(option, i)
        room = bar.style().subElementRect(QStyle.SubElement.SE_TabBarTabText, option, bar)
        assert room.width() >= bar.fontMetrics().horizontalAdvance(tabs.tabText(i))


def test_every_tool_is_one_key_away_and_sessions_keep_the_full_names(qtbot, window):
    from ui.tool_tabs import tool_name

    tabs = window.controls
    names = [tool_name(tabs, i) for i in range(tabs.count())]
    assert names == ["Simulate", "Inspect", "Range test", "Lab", "Lesson", "Search"]
    for i in reversed(range(tabs.count())):
        qtbot.keyClick(window, Qt.Key.Key_1 + i, Qt.KeyboardModifier.ControlModifier)
        assert tabs.currentIndex() == i
    tabs.setCurrentIndex(2)
    assert window.session.state().active_tool == "Range test"  # as older sessions say
    tabs.setCurrentIndex(0)
    window.session._set_active_tool("Range test")
    assert tabs.currentWidget() is window.range_tool.tab


def run_example(qtbot, window, key):
    form = window.simulate_form
    form.example.setCurrentIndex(form.example.findData(key))
    with qtbot.waitSignal(window.simulation_finished, timeout=180_000):
        qtbot.mouseClick(form.example_button, Qt.MouseButton.LeftButton)
    window.redraw()


def test_the_sharpness_key_and_every_2_over_lr_label_are_whole(qtbot, window):
    """At 1024x700 the key ('dots: sharpness · dashed: 2/λ') had no width at all, and the
    top label ('λ = 1: 2/λ = 2') stood above the plot, cut in half."""
    small_window(qtbot, window)
    run_example(qtbot, window, "edge-of-stability")
    panel = window.sharpness
    qtbot.waitUntil(lambda: panel.isVisible() and panel.key.width() > 0)
    assert panel.key.width() >= panel.key.sizeHint().width()
    view = panel.plot.getViewBox()
    qtbot.waitUntil(lambda: view.width() > 100)
    panel.graphics.grab()  # auto-range settles on paint
    frame = view.sceneBoundingRect()
    assert len(panel.labels) == 4
    for label in panel.labels:
        assert inside(label.sceneBoundingRect(), frame), label.toPlainText()
    # and readable where a curve crosses it ('λ = 2: 2/λ = 1' under the λ = 1 dots): on a
    # backing, above every curve
    top_curve = max(item.zValue() for item in (*panel.curves, *panel.limits))
    for label in panel.labels:
        assert label.fill.style() != Qt.BrushStyle.NoBrush and label.fill.color().alpha() >= 150
        assert label.zValue() > top_curve


def test_the_comparison_legend_fits_its_text(qtbot, window):
    """An HD/DoG comparison renamed loss vs λ's legend entry 'run (colour = optimizer)':
    a 183-px legend in a 149-px view, its text cut at 'optir'."""
    small_window(qtbot, window)
    run_example(qtbot, window, "compare-adaptive")
    legend = window.loss_vs_lr.legend
    window.loss_vs_lr.graphics.grab()
    box = legend.sceneBoundingRect()
    view = window.loss_vs_lr.plot.getViewBox().sceneBoundingRect()
    assert inside(box, view)  # the view clips what stands outside it
    for _sample, label in legend.items:
        if label.isVisible():
            assert inside(label.sceneBoundingRect(), box), label.text


def test_the_tool_tabs_take_the_dark_theme(qtbot, window):
    """A style sheet on the tab bar (to slim its tabs) kept them white in the dark theme."""
    from PySide6.QtGui import QColor

    window.desktop.set_theme("dark")
    try:
        bar = window.controls.tabBar()
        qtbot.waitUntil(
            lambda: bar.palette().color(bar.palette().ColorRole.Window).lightness() < 110
        )
        image = bar.grab().toImage()
        rect = bar.tabRect(1)  # a tab not in front
        color = QColor(image.pixel(rect.center().x(), rect.top() + 3))
        assert color.lightness() < 110, color.name()
    finally:
        window.desktop.set_theme("light")


def test_a_schedule_chosen_on_the_form_trains_and_shows_on_lr_vs_iteration(qtbot, window):
    """Issue 12: the schedules trained only from the command line; the form had no way to
    choose one (λ vs iteration stayed flat)."""
    import numpy as np

    form = window.simulate_form
    form.objective.setCurrentIndex(form.objective.findData("quadratic"))
    form.lr_min.setValue(0.01)
    form.lr_max.setValue(0.1)
    form.lr_count.setValue(3)
    form.iterations.setValue(300)
    form.schedule.setCurrentIndex(form.schedule.findData("triangular"))
    assert form._training_form.isRowVisible(form.schedule)
    with qtbot.waitSignal(window.simulation_finished, timeout=60_000):
        qtbot.mouseClick(form.run_button, Qt.MouseButton.LeftButton)
    window.redraw()
    assert window.runner.config.schedule["policy"] == "triangular"
    _x, lr = window.lr_vs_iteration.curves[2].getData()  # log10 on the log axis
    assert 10 ** np.nanmax(lr) == pytest.approx(0.1) and 10 ** np.nanmin(lr) < 0.011
    assert form.get_state()["schedule"] == "triangular"
    # HD and DoG pick their own λ: no schedule row, no schedule
    form.optimizer.setCurrentIndex(form.optimizer.findData("dog"))
    assert not form._training_form.isRowVisible(form.schedule)
    assert form.config().schedule is None
    # an example sets the form back to its own (constant) λ
    form.set_config(window.runner.config)
    assert form.schedule.currentData() == "triangular"


def test_a_typed_formula_scrolls_the_form_instead_of_growing_the_window(qtbot, window):
    """With 'Your formula…' the form's rows and preview made the window 781 px tall."""
    small_window(qtbot, window)
    form = window.simulate_form
    form.objective.setCurrentIndex(form.objective.findData("expr"))
    qtbot.waitUntil(lambda: form.formula.isVisible())
    assert window.height() == 700
    assert window.minimumSizeHint().height() <= 600  # an 800x600 screen still fits it


def test_the_lessons_models_take_the_themes_colours(qtbot, window):
    """Started in the dark theme, the lesson kept the light theme's dark purple for
    λ = 0.01 (its colours were picked before the theme was applied): unreadable."""
    from ui.colors import lr_colors

    tool = window.lesson_tool
    tool.step()
    window.desktop.set_theme("dark")
    try:
        want = lr_colors(tool.learner.lrs)
        for column, color in zip(window.lesson_view.columns, want, strict=True):
            assert column.color == color
        assert tool.learner.steps_taken == 1  # recoloured as it stands, not reset
    finally:
        window.desktop.set_theme("light")

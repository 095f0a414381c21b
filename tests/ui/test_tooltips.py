"""Every control of the window explains itself in one sentence, and the tooltip really shows.

The walk visits each tool's tab, the docks, the toolbar and every menu of the real window,
and fails on any input widget, button, action or tab without a tooltip, or whose tooltip is
not one sentence ending in a full stop. Showing is checked the way a user's hover does it:
a QHelpEvent sent to the widget (or to the open menu at the action), then QToolTip's text.
"""

from __future__ import annotations

import re

import pytest
from PySide6.QtCore import QEvent, QPoint
from PySide6.QtGui import QAction, QHelpEvent
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSlider,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QDockWidget,
    QHeaderView,
    QLineEdit,
    QMenu,
    QPlainTextEdit,
    QScrollBar,
    QTabBar,
    QTextEdit,
    QToolTip,
    QWidget,
)

#: what a user operates: typed into, clicked, chosen from, dragged
INPUTS = (
    QAbstractButton,
    QAbstractSpinBox,
    QComboBox,
    QLineEdit,
    QAbstractSlider,
    QPlainTextEdit,
    QTextEdit,
    QAbstractItemView,
)
# The offscreen platform cannot raise a tooltip's window or grab the keyboard for a menu.
pytestmark = pytest.mark.qt_log_ignore("This plugin does not support (raise|grabbing)")
TAG = re.compile(r"<[^>]+>")
MARKER = "(no tooltip was shown)"


def sentence_problem(tip: str) -> str | None:
    """Why ``tip`` is not one sentence ending in a full stop, or None."""
    text = TAG.sub("", tip).strip()
    if not text:
        return "no tooltip"
    if "\n" in text:
        return "more than one line"
    if not text.endswith("."):
        return "does not end in a full stop"
    if re.search(r"[.!?]\s+[A-Z]", text[:-1]):
        return "more than one sentence"
    return None


def _is_input(widget: QWidget) -> bool:
    if not isinstance(widget, INPUTS) or isinstance(widget, (QScrollBar, QHeaderView)):
        return False
    if isinstance(widget, QAbstractItemView) and isinstance(
        widget.parentWidget() and widget.parentWidget().parentWidget(), QComboBox
    ):
        return False  # a combo box's list: its items say what they are
    # the line edit inside a spin box or a combo box is part of it
    return not (
        isinstance(widget, QLineEdit)
        and isinstance(widget.parentWidget(), (QAbstractSpinBox, QComboBox))
    )


def _ours(widget: QWidget) -> bool:
    """Made by lrviz, not by Qt (Qt's buttons are checked once they are shown)."""
    name = widget.objectName()
    return not (name.startswith("qt_") or name in ("ScrollLeftButton", "ScrollRightButton"))


def _describe(widget: QWidget) -> str:
    text = widget.text() if isinstance(widget, QAbstractButton) else ""
    names = []
    node = widget
    while node is not None and len(names) < 4:
        names.append(type(node).__name__)
        node = node.parentWidget()
    return f"{'/'.join(reversed(names))} {text!r}"


def _hover(widget: QWidget, pos: QPoint | None = None) -> str:
    """What the tooltip says after hovering ``widget`` at ``pos`` (its centre): "" if it
    showed none (a marker tip shown first would still be there)."""
    pos = pos if pos is not None else widget.rect().center()
    QToolTip.showText(widget.mapToGlobal(pos), MARKER, widget)
    event = QHelpEvent(QEvent.Type.ToolTip, pos, widget.mapToGlobal(pos))
    QApplication.sendEvent(widget, event)
    text = QToolTip.text() if QToolTip.isVisible() else ""
    return "" if text == MARKER else text


def _tabs(window):
    return [window.controls.widget(i) for i in range(window.controls.count())]


def _all_actions(window) -> list[QAction]:
    """Every action of the window: its children, its menus (recursively), its toolbar."""
    seen: dict[int, QAction] = {}

    def add(action: QAction) -> None:
        if id(action) in seen or action.isSeparator() or not action.text():
            return
        seen[id(action)] = action
        if action.menu() is not None:
            for sub in action.menu().actions():
                add(sub)

    for action in window.findChildren(QAction):
        add(action)
    for action in window.menuBar().actions():
        add(action)
    for action in window.desktop.menus.toolbar.actions():
        add(action)
    return list(seen.values())


def test_every_control_of_every_tab_has_a_one_sentence_tooltip_that_shows(qtbot, window):
    window.resize(1400, 900)
    problems = []
    hovered = 0
    for tab in _tabs(window):
        window.controls.setCurrentWidget(tab)
        QApplication.processEvents()
        for widget in window.findChildren(QWidget):
            if not (_is_input(widget) and widget.isVisible()):
                continue
            problem = sentence_problem(widget.toolTip())
            if problem:
                problems.append(
                    f"{window.controls.tabText(window.controls.indexOf(tab))}: "
                    f"{_describe(widget)}: {problem}: {widget.toolTip()!r}"
                )
                continue
            shown = _hover(widget)
            if shown != widget.toolTip():
                problems.append(f"{_describe(widget)}: hovering showed {shown!r}")
            hovered += 1
    # and the controls no tab shows now (an optimizer's momentum, a formula's start point)
    for widget in window.findChildren(QWidget):
        if _is_input(widget) and _ours(widget) and not widget.isVisible():
            problem = sentence_problem(widget.toolTip())
            if problem:
                problems.append(f"(hidden) {_describe(widget)}: {problem}: {widget.toolTip()!r}")
    assert not problems, "\n".join(problems)
    assert hovered >= 60  # the walk really went through the tabs


def test_every_action_of_the_menus_toolbar_and_window_has_a_one_sentence_tooltip(window):
    window.log_actions.recent_menu.aboutToShow.emit()  # its entries are made when opened
    actions = _all_actions(window)
    problems = [
        f"{a.text()!r}: {problem}: {a.toolTip()!r}"
        for a in actions
        if (problem := sentence_problem(a.toolTip()))
    ]
    assert not problems, "\n".join(problems)
    assert len(actions) >= 50
    # Qt's own tooltip of an action is its text: none of ours is left at that
    assert not [a.text() for a in actions if a.toolTip() == a.text().replace("&", "")]


def test_a_menu_shows_its_actions_tooltips(qtbot, window):
    """An action's tooltip shows in a menu only if the menu lets it: every menu does."""
    checked = 0
    for top in window.menuBar().actions():
        menus = [top.menu()]
        while menus:
            menu: QMenu = menus.pop()
            menus += [a.menu() for a in menu.actions() if a.menu() is not None]
            assert menu.toolTipsVisible(), menu.title()
            menu.popup(window.mapToGlobal(QPoint(40, 40)))
            qtbot.waitUntil(menu.isVisible)
            for action in menu.actions():
                if action.isSeparator() or not action.isEnabled() or action.menu() is not None:
                    continue
                shown = _hover(menu, menu.actionGeometry(action).center())
                assert shown == action.toolTip(), action.text()
                checked += 1
            menu.hide()
    assert checked >= 30


def test_tool_tabs_and_stacked_dock_tabs_explain_what_they_hold(qtbot, window):
    bar = window.controls.tabBar()
    for index in range(bar.count()):
        tip = bar.tabToolTip(index)
        assert sentence_problem(tip) is None, (bar.tabText(index), tip)
        assert _hover(bar, bar.tabRect(index).center()) == tip
    # Qt names a stacked dock's tab after its title and resets its tooltip to the title
    # whenever it rebuilds the tabs: the tab shows the dock's sentence all the same.
    docks = window.plot_docks
    window.plot_area.tabifyDockWidget(docks["loss_vs_iteration"], docks["lr_vs_iteration"])
    QApplication.processEvents()
    bars = [b for b in window.plot_area.findChildren(QTabBar) if b.isVisible()]
    titles = {d.windowTitle(): d for d in window.plot_area.findChildren(QDockWidget)}
    tabs = 0
    for bar in bars:
        for index in range(bar.count()):
            dock = titles[bar.tabText(index)]
            assert _hover(bar, bar.tabRect(index).center()) == dock.whatsThis()
            assert sentence_problem(dock.whatsThis()) is None
            tabs += 1
    assert tabs >= 2


def test_each_dock_says_what_it_holds_over_its_title_bar_not_over_its_plot(qtbot, window):
    window.resize(1400, 900)
    QApplication.processEvents()
    docks = [d for d in window.findChildren(QDockWidget) if d.isVisible()]
    assert len(docks) >= 4
    for dock in docks:
        assert sentence_problem(dock.whatsThis()) is None, dock.windowTitle()
        title_bar = QPoint(dock.width() // 3, dock.widget().geometry().top() // 2)
        assert _hover(dock, title_bar) == dock.whatsThis(), dock.windowTitle()
    # the sentence is not the panel's tooltip: the plot under the mouse shows none of it
    viewport = window.loss_vs_lr.graphics.viewport()
    assert _hover(viewport) != window.plot_docks["loss_vs_lr"].whatsThis()


def test_qt_own_buttons_say_what_they_do(window):
    """A dock's float and close buttons are Qt's: they had no tooltip."""
    buttons = [
        b
        for dock in window.findChildren(QDockWidget)
        for b in dock.findChildren(QAbstractButton)
        if b.objectName().startswith("qt_dockwidget_")
    ]
    assert len(buttons) >= 10
    for button in buttons:
        assert sentence_problem(button.toolTip()) is None, button.objectName()


def test_the_dialogs_controls_explain_themselves_too(qtbot):
    from ui.dialogs.column_mapping import ColumnMappingDialog
    from ui.help import GuideWindow

    for dialog in (ColumnMappingDialog("run.csv", ["step", "lr", "loss"]), GuideWindow()):
        qtbot.addWidget(dialog)
        dialog.show()
        qtbot.waitExposed(dialog)
        controls = [w for w in dialog.findChildren(QWidget) if _is_input(w) and w.isVisible()]
        controls = [w for w in controls if not isinstance(w, QTextEdit)]  # the guide's page
        assert controls
        for widget in controls:
            assert sentence_problem(widget.toolTip()) is None, _describe(widget)
            assert _hover(widget) == widget.toolTip(), _describe(widget)
        dialog.close()


def test_the_store_url_box_explains_itself(qtbot, window, monkeypatch):
    from PySide6.QtWidgets import QDialog, QInputDialog

    monkeypatch.setattr(QInputDialog, "exec", lambda self: QDialog.DialogCode.Rejected)
    window.log_actions.open_store_dialog()
    boxes = window.log_actions.store_dialog.findChildren(QComboBox)
    assert boxes and all(sentence_problem(b.toolTip()) is None for b in boxes)
    assert "Optuna" in boxes[0].toolTip()


@pytest.mark.parametrize(
    ("tip", "problem"),
    [
        ("Save the session.", None),
        ("Save the session (Ctrl+S).", None),
        ("The region, e.g. -3:3 (blank: auto).", None),
        ("", "no tooltip"),
        ("Save the session", "does not end in a full stop"),
        ("Save it. Then quit.", "more than one sentence"),
        ("First line.\nSecond line.", "more than one line"),
    ],
)
def test_the_sentence_rule_itself(tip, problem):
    assert sentence_problem(tip) == problem


def test_an_action_tip_gets_its_keys_inside_the_sentence():
    from ui.tooltips import tip_with_keys

    assert tip_with_keys("Save the session.", "Ctrl+S") == "Save the session (Ctrl+S)."
    assert tip_with_keys("Save the session.", "") == "Save the session."

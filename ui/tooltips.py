"""Helpers for tooltips: the shortcut in a tip, and tips for what Qt and pyqtgraph build.

Every control of ours carries its one-sentence tooltip where it is made (no table of tips
here); :func:`tip_with_keys` puts an action's keys into its sentence. Qt makes a few buttons
that no code of ours creates (a dock's float and close buttons, a tab bar's scroll arrows,
the toolbar's and menu bar's "more" arrows): :func:`explain_qt_buttons` gives each its
sentence. A dock says what it holds in its ``whatsThis`` (one sentence, set where the dock is
made; not its tooltip, which every plot inside would inherit, popping up over the curves):
:class:`DockTips` shows it over the dock's title bar and over its tab when docks are stacked
(Qt names such a tab after the dock, resets its tooltip to the bare title whenever it
rebuilds the tabs, and shows it only when a title does not fit).
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import (
    QAbstractButton,
    QDockWidget,
    QMainWindow,
    QTabBar,
    QToolTip,
    QWidget,
)

#: Qt's own buttons, by the object name Qt gives them
QT_BUTTONS = {
    "qt_dockwidget_floatbutton": "Float this panel in a window of its own, or dock it back.",
    "qt_dockwidget_closebutton": "Close this panel (View ▸ Show brings it back).",
    "ScrollLeftButton": "Show the tabs further left.",
    "ScrollRightButton": "Show the tabs further right.",
    "qt_toolbar_ext_button": "Show the toolbar's buttons that do not fit.",
    "qt_menubar_ext_button": "Show the menus that do not fit.",
}


#: pyqtgraph's "Export..." in each plot's right-click menu
PLOT_EXPORT = "Export this plot as an image, SVG or its data, with pyqtgraph's exporter."


def tip_with_keys(tip: str, keys: str) -> str:
    """``tip`` (one sentence) with the shortcut ``keys`` before its full stop:
    "Save the session (Ctrl+S)."."""
    if not keys:
        return tip
    sentence, stop = (tip[:-1], ".") if tip.endswith(".") else (tip, "")
    return f"{sentence} ({keys}){stop}"


def explain_plot_export(view) -> None:
    """The tooltip of the Export... pyqtgraph puts in ``view``'s (a GraphicsView) menu."""
    for action in getattr(view.scene(), "contextMenu", []):
        action.setToolTip(PLOT_EXPORT)


def explain_qt_buttons(widget: QWidget) -> None:
    """Give every button Qt made under ``widget`` its sentence."""
    for button in widget.findChildren(QAbstractButton):
        tip = QT_BUTTONS.get(button.objectName())
        if tip is not None and not button.toolTip():
            button.setToolTip(tip)


class DockTips(QObject):
    """Docks of ``host`` say what they hold over their title bar and their tab."""

    def __init__(self, host: QMainWindow) -> None:
        super().__init__(host)
        self.host = host
        host.installEventFilter(self)
        for child in host.findChildren(QWidget):
            self._watch(child)

    def _watch(self, widget) -> None:
        ours = (isinstance(widget, QTabBar) and widget.parent() is self.host) or (
            isinstance(widget, QDockWidget) and widget.whatsThis()
        )
        if ours and not widget.property("lrviz_dock_tips"):
            widget.setProperty("lrviz_dock_tips", True)
            widget.installEventFilter(self)
            if isinstance(widget, QTabBar):
                self.describe(widget)

    def describe(self, bar: QTabBar) -> None:
        """Set each tab's tooltip to its dock's sentence (Qt resets them to the title)."""
        docks = {d.windowTitle(): d for d in self.host.findChildren(QDockWidget)}
        for index in range(bar.count()):
            dock = docks.get(bar.tabText(index))
            if dock is not None and dock.whatsThis():
                bar.setTabToolTip(index, dock.whatsThis())
        explain_qt_buttons(bar)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if watched is self.host:
            if kind == QEvent.Type.ChildPolished:
                # Polished: fully built (at ChildAdded a new tab bar is not a QTabBar yet).
                self._watch(event.child())
        elif isinstance(watched, QTabBar):
            if kind == QEvent.Type.Show:
                self.describe(watched)
            elif kind == QEvent.Type.ToolTip:
                # A dock tab bar shows a tooltip only when a title does not fit (Qt's
                # QMainWindowTabBar): show the dock's sentence here instead.
                self.describe(watched)
                index = watched.tabAt(event.pos())
                tip = watched.tabToolTip(index) if index >= 0 else ""
                if tip:
                    QToolTip.showText(event.globalPos(), tip, watched, watched.tabRect(index))
                    return True
        elif isinstance(watched, QDockWidget) and kind == QEvent.Type.ToolTip:
            content = watched.widget()
            if content is None or event.pos().y() < content.geometry().top():  # title bar
                QToolTip.showText(event.globalPos(), watched.whatsThis(), watched)
                return True
        return False

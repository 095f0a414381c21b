"""The tools' tabs of the Controls dock: all six in sight at 1024 pixels, each reachable
from the keyboard.

A tab's *name* ("Range test") is what sessions store and menus say; its *label* may be
shorter ("Range"), so that every tab fits the 300 pixels the Controls dock has in a
1024-pixel window instead of hiding behind scroll arrows. The tab bar never scrolls: it is
as wide as its tabs, so the dock cannot be made narrower than they are.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFrame,
    QProxyStyle,
    QScrollArea,
    QStyle,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

#: name -> shorter tab label
SHORT_LABELS = {"Range test": "Range"}


#: pixels either side of a tab's label (Fusion's own 12 let five tabs at most fit 300 px)
TAB_MARGIN = 4


class CompactTabStyle(QProxyStyle):
    """Fusion (the app's style, ui.theme) with tabs only :data:`TAB_MARGIN` wider than their
    labels each side. (A style sheet could pad them so too, but a tab bar with a style sheet
    ignores the dark palette: its tabs stayed white.)"""

    def __init__(self) -> None:
        super().__init__("Fusion")

    def pixelMetric(self, metric, option=None, widget=None) -> int:
        if metric in (QStyle.PixelMetric.PM_TabBarTabHSpace, QStyle.PixelMetric.PM_TabBarTabVSpace):
            return 2 * TAB_MARGIN  # and as slim in height (the window must fit 800x600)
        return super().pixelMetric(metric, option, widget)


def compact_tabs(tabs: QTabWidget) -> None:
    """Slim the tabs of ``tabs`` (see :class:`CompactTabStyle`)."""
    style = CompactTabStyle()
    style.setParent(tabs.tabBar())  # a widget does not own the style it is given
    tabs.tabBar().setStyle(style)


def tool_name(tabs: QTabWidget, index: int) -> str:
    """The name of the tool in tab ``index`` (its full name, whatever its label)."""
    name = tabs.tabBar().tabData(index)
    return name if isinstance(name, str) else tabs.tabText(index).replace("&", "")


def fit_tool_tabs(tabs: QTabWidget, shortcut=lambda index: "") -> None:
    """Give every tab its short label, name the key ``shortcut(index)`` that switches to it
    in its tooltip (the sentence its tool gave it), and keep the whole bar in sight."""
    bar = tabs.tabBar()
    for i in range(tabs.count()):
        name = tool_name(tabs, i)
        bar.setTabData(i, name)
        tabs.setTabText(i, SHORT_LABELS.get(name, name))
        tip = tabs.tabToolTip(i) or f"The {name} tool."
        keys = shortcut(i)
        if keys:  # before the full stop: "… explode (Ctrl+1)."
            tip = f"{tip[:-1]} ({keys})." if tip.endswith(".") else f"{tip} ({keys})"
        tabs.setTabToolTip(i, tip)
    bar.setUsesScrollButtons(False)
    bar.setElideMode(Qt.TextElideMode.ElideNone)
    bar.setExpanding(False)
    # An explicit minimum width overrides the bar's hint: raise it to the bar's width.
    tabs.setMinimumWidth(max(tabs.minimumWidth(), bar.sizeHint().width()))


def add_scrolling_tab(
    tabs: QTabWidget, name: str, tooltip: str, widgets: list[tuple[QWidget, int]]
) -> QScrollArea:
    """A tool's tab named ``name``: ``widgets`` (each with its stretch) stacked in a page
    that scrolls down, never sideways (the Controls dock is narrow and the forms fit it)."""
    content = QWidget()
    layout = QVBoxLayout(content)
    layout.setContentsMargins(4, 4, 4, 4)
    for widget, stretch in widgets:
        layout.addWidget(widget, stretch)
    tab = QScrollArea()
    tab.setWidgetResizable(True)
    tab.setFrameShape(QFrame.Shape.NoFrame)
    tab.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    tab.setWidget(content)
    tabs.setTabToolTip(tabs.addTab(tab, name), tooltip)
    return tab

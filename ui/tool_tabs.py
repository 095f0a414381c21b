"""The tools' tabs of the Controls dock: all six in sight at 1024 pixels, each reachable
from the keyboard.

A tab's *name* ("Range test") is what sessions store and menus say; its *label* may be
shorter ("Range"), so that every tab fits the 300 pixels the Controls dock has in a
1024-pixel window instead of hiding behind scroll arrows. The tab bar never scrolls: it is
as wide as its tabs, so the dock cannot be made narrower than they are.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QProxyStyle, QStyle, QTabWidget

#: name -> shorter tab label
SHORT_LABELS = {"Range test": "Range"}
#: name -> what the tool is for (the tab's tooltip)
PURPOSES = {
    "Simulate": "train many λ at once on a built-in or typed problem",
    "Inspect": "overlay, smooth and compare opened training logs",
    "Range test": "raise λ over one run and read off a good range",
    "Lab": "one-click experiments on 2-D loss surfaces",
    "Lesson": "the dog lesson: three λ learn what a dog is",
    "Search": "a coarse-to-fine search for the best λ",
}


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
    """Give every tab its short label and a tooltip (naming the key ``shortcut(index)``
    switches to it, if any), and keep the whole bar in sight."""
    bar = tabs.tabBar()
    for i in range(tabs.count()):
        name = tool_name(tabs, i)
        bar.setTabData(i, name)
        tabs.setTabText(i, SHORT_LABELS.get(name, name))
        keys = shortcut(i)
        tip = f"{name}: {PURPOSES[name]}" if name in PURPOSES else name
        tabs.setTabToolTip(i, f"{tip} ({keys})" if keys else tip)
    bar.setUsesScrollButtons(False)
    bar.setElideMode(Qt.TextElideMode.ElideNone)
    bar.setExpanding(False)
    # An explicit minimum width overrides the bar's hint: raise it to the bar's width.
    tabs.setMinimumWidth(max(tabs.minimumWidth(), bar.sizeHint().width()))

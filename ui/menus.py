"""The menu bar (File, Edit, View, Run, Help), the toolbar and their shortcuts.

:class:`DesktopMenus` is handed the main window (for its menu bar, toolbar and shortcuts:
plain Qt) and the tools' tab host. Menus are found by title or created in the standard order,
so whoever builds a menu first (the log actions build File and View), the bar reads File,
Edit, View, Run, Help. Every action is created here once with its shortcut: a second
binding of the same keys would make Qt ignore both as ambiguous.

Tools plug into the Run menu with :meth:`DesktopMenus.add_tool`: F5 runs the tool whose tab
is shown, Esc stops whatever runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QObject, QSize, Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu, QTabWidget, QToolBar, QWidget

from . import icons
from .tooltips import tip_with_keys

#: the menu bar's order
MENU_ORDER = ("&File", "&Edit", "&View", "&Run", "&Help")


@dataclass
class ToolRun:
    run: Callable[[], object]
    stop: Callable[[], object] | None
    name: str


class DesktopMenus(QObject):
    """Menus, toolbar and shortcuts of the main window.

    Public API
    ----------
    menu(title) -> QMenu                  File, Edit, View, Run, Help (created in order)
    action(menu, text, slot, shortcut=None, tip="", icon=None, ...) -> QAction
    add_tool(widget, run, stop=None, name=None)   the tab ``widget``'s Run and Stop
    run_current(), stop_all()             what F5 and Esc do
    refresh_icons()                       redraw icons in the theme's colours
    """

    def __init__(self, host: QMainWindow, tools: QTabWidget, parent: QObject | None = None):
        super().__init__(parent)
        self.host = host
        self.tools = tools
        self.toolbar = QToolBar("Toolbar", host)
        self.toolbar.setObjectName("toolbar")
        self.toolbar.setIconSize(QSize(20, 20))
        self.toolbar.setMovable(True)
        self.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        host.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.toolbar)
        self.actions: dict[str, QAction] = {}
        self._icons: dict[QAction, str] = {}
        self._tools: dict[QWidget, ToolRun] = {}

    # --- building -------------------------------------------------------------------------
    def menu(self, title: str, tip: str = "") -> QMenu:
        """The menu called ``title`` (``&File``), created in :data:`MENU_ORDER`'s place;
        ``tip`` says what it holds. Its actions show their tooltips."""
        bar = self.host.menuBar()
        plain = title.replace("&", "")
        for action in bar.actions():
            if action.menu() is not None and action.text().replace("&", "") == plain:
                action.menu().setToolTipsVisible(True)
                if tip:
                    action.setToolTip(tip)
                return action.menu()
        menu = QMenu(title, bar)
        menu.setToolTipsVisible(True)
        if tip:
            menu.menuAction().setToolTip(tip)
        before = None
        if title in MENU_ORDER:
            later = [t.replace("&", "") for t in MENU_ORDER[MENU_ORDER.index(title) + 1 :]]
            before = next((a for a in bar.actions() if a.text().replace("&", "") in later), None)
        if before is not None:
            bar.insertMenu(before, menu)
        else:
            bar.addMenu(menu)
        return menu

    def action(
        self,
        menu: QMenu | str | None,
        text: str,
        slot: Callable | None,
        shortcut=None,
        tip: str = "",
        icon: str | None = None,
        toolbar: bool = False,
        checkable: bool = False,
        key: str | None = None,
        before: QAction | None = None,
    ) -> QAction:
        """A window-wide action: in ``menu`` (a QMenu, a title, or None), on the toolbar if
        ``toolbar``, with ``shortcut`` (a key string, a StandardKey or a list) and ``tip``
        (tooltip and status tip). Registered as ``actions[key or text]``."""
        action = QAction(text, self.host)
        if shortcut is not None:
            shortcuts = shortcut if isinstance(shortcut, list) else [shortcut]
            action.setShortcuts([QKeySequence(s) for s in shortcuts])
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        if tip:
            keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            keys = keys or text.partition("\t")[2]  # keys a tool's own shortcut handles
            action.setToolTip(tip_with_keys(tip, keys))
            action.setStatusTip(tip)
        action.setCheckable(checkable)
        if slot is not None:
            (action.toggled if checkable else action.triggered).connect(
                slot if checkable else (lambda _checked=False: slot())
            )
        if icon is not None:
            action.setIcon(icons.icon(icon))
            self._icons[action] = icon
        if isinstance(menu, str):
            menu = self.menu(menu)
        if menu is not None:
            if before is not None:
                menu.insertAction(before, action)
            else:
                menu.addAction(action)
        else:
            self.host.addAction(action)  # its shortcut works without a menu entry
        if toolbar:
            self.toolbar.addAction(action)
        self.actions[key or text.replace("&", "").rstrip("…")] = action
        return action

    def adopt(
        self,
        menu: QMenu | str,
        action: QAction,
        icon: str | None = None,
        toolbar: bool = False,
        key: str | None = None,
    ) -> QAction:
        """Put an action made elsewhere (the range tool's Undo) in ``menu`` and maybe the
        toolbar, keeping its own shortcut."""
        if isinstance(menu, str):
            menu = self.menu(menu)
        menu.addAction(action)
        if icon is not None:
            action.setIcon(icons.icon(icon))
            self._icons[action] = icon
        if toolbar:
            self.toolbar.addAction(action)
        self.actions[key or action.text().replace("&", "")] = action
        return action

    def set_icon(self, action: QAction, name: str) -> None:
        action.setIcon(icons.icon(name))
        self._icons[action] = name

    def refresh_icons(self) -> None:
        for action, name in self._icons.items():
            action.setIcon(icons.icon(name))

    # --- Run ------------------------------------------------------------------------------
    def add_tool(
        self, widget: QWidget, run: Callable, stop: Callable | None = None, name: str | None = None
    ) -> None:
        """F5 on ``widget``'s tab calls ``run``; Esc calls every tool's ``stop``."""
        self._tools[widget] = ToolRun(run, stop, name or "")

    def run_current(self) -> bool:
        """Run the tool whose tab is shown. False when it has nothing to run."""
        tool = self._tools.get(self.tools.currentWidget())
        if tool is None:
            return False
        tool.run()
        return True

    def stop_all(self) -> None:
        for tool in self._tools.values():
            if tool.stop is not None:
                tool.stop()

    def exclusive_group(self, actions: list[QAction]) -> QActionGroup:
        group = QActionGroup(self.host)
        group.setExclusive(True)
        for action in actions:
            group.addAction(action)
        return group

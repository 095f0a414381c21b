"""Each task gets a plot layout that gives its main plot the room.

Three plots share the plot area. At 1024×700, side by side, each was ~250 px wide: the range
test's loss vs λ was ~140 px while two panels it does not use took the space. Now each task
(Simulate, Range test, Inspect) has its own arrangement: its main plot large, the others
tabbed behind it or small. A user's own rearrangement of a task is remembered for that task
(Qt's saveState/restoreState) and comes back when the task does.
"""

from __future__ import annotations

from PySide6.QtCore import QByteArray, Qt
from PySide6.QtWidgets import QDockWidget, QMainWindow

#: task -> (main plot, plot beside it or None, plots tabbed behind the main one,
#: plot under the main one or None). A plot a task leaves out is hidden when its
#: arrangement is made (the sharpness comes forward with a run that measures it).
ARRANGEMENTS = {
    # The loss surface (2-D problems only) sits behind the main plot; a 2-D run raises it.
    "simulate": ("loss_vs_iteration", "loss_vs_lr", ("loss_surface",), "lr_vs_iteration"),
    "lesson": ("lesson", None, (), None),
    "range test": ("loss_vs_lr", None, ("loss_vs_iteration", "lr_vs_iteration"), None),
    "inspect": ("loss_vs_iteration", None, ("loss_vs_lr",), "lr_vs_iteration"),
    "lab": ("loss_surface", None, ("loss_vs_lr", "lr_vs_iteration"), "loss_vs_iteration"),
    "search": ("loss_vs_lr", "loss_vs_iteration", ("lr_vs_iteration", "loss_surface"), None),
}


#: Plots that belong to one task only: hidden whenever another task is in front, also when
#: that task's remembered layout (saved before the plot was shown) does not mention them.
TASK_ONLY = {"lesson": "lesson"}


class TaskLayouts:
    """Switches the plot area between the tasks' arrangements, remembering edits."""

    def __init__(self, plot_area: QMainWindow, docks: dict[str, QDockWidget]) -> None:
        self.plot_area = plot_area
        self.docks = docks
        self.task: str | None = None
        #: plots shown only while something needs them (the window decides: the sharpness
        #: while the simulation measures it); False hides them in every arrangement
        self.on_demand: dict[str, bool] = {}
        self._saved: dict[str, QByteArray] = {}

    def apply(self, task: str) -> None:
        if task not in ARRANGEMENTS or task == self.task:
            return
        if self.task is not None:
            self._saved[self.task] = self.plot_area.saveState()
        self.task = task
        saved = self._saved.get(task)
        if saved is None or not self.plot_area.restoreState(saved):
            self._arrange(*ARRANGEMENTS[task])
        self._place_extras(task)

    def _place_extras(self, task: str) -> None:
        """The plots outside every arrangement: another task's (the lesson) and those shown
        on demand (the sharpness). They stay in the layout, hidden when not wanted: a plot
        out of the layout is put back, and shown, by Qt's restoreState of a layout that
        does not mention it, which sized the window up to fit it."""
        area = self.plot_area
        for name, owner in TASK_ONLY.items():
            if owner != task and name in self.docks:
                self._keep_hidden(self.docks[name])
        for name, wanted in self.on_demand.items():
            dock = self.docks[name]
            if not wanted:
                self._keep_hidden(dock)
            elif area.dockWidgetArea(dock) == Qt.DockWidgetArea.NoDockWidgetArea:
                under = ARRANGEMENTS.get(task, (None,) * 4)[3]
                if under is not None:
                    area.tabifyDockWidget(self.docks[under], dock)
                    dock.show()

    def _keep_hidden(self, dock: QDockWidget) -> None:
        if self.plot_area.dockWidgetArea(dock) == Qt.DockWidgetArea.NoDockWidgetArea:
            self.plot_area.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock)
        dock.hide()

    # --- kept between runs of the app (ui.desktop's preferences) ----------------------------
    def remember_current(self) -> None:
        """Keep the current task's arrangement as its own (the window is closing)."""
        if self.task is not None:
            self._saved[self.task] = self.plot_area.saveState()

    def saved_states(self) -> dict[str, QByteArray]:
        return dict(self._saved)

    def restore_state(self, task: str, state: QByteArray) -> None:
        """Use ``state`` (from :meth:`saved_states` of an earlier run) for ``task``."""
        if task in ARRANGEMENTS:
            self._saved[task] = QByteArray(state)

    def reset(self) -> None:
        """Forget every user arrangement; the current task gets its default one."""
        self._saved.clear()
        task, self.task = self.task, None
        if task is not None:
            self.task = task
            self._arrange(*ARRANGEMENTS[task])

    def _arrange(self, main: str, beside, behind, under) -> None:
        area = self.plot_area
        docks = self.docks
        for dock in docks.values():
            area.removeDockWidget(dock)
        area.addDockWidget(Qt.DockWidgetArea.TopDockWidgetArea, docks[main])
        docks[main].show()
        if beside is not None:
            area.splitDockWidget(docks[main], docks[beside], Qt.Orientation.Horizontal)
            docks[beside].show()
        if under is not None:
            area.splitDockWidget(docks[main], docks[under], Qt.Orientation.Vertical)
            docks[under].show()
            height = max(area.height(), 400)
            area.resizeDocks(
                [docks[main], docks[under]], [3 * height // 4, height // 4], Qt.Orientation.Vertical
            )
        for name in behind:
            area.tabifyDockWidget(docks[main], docks[name])
            docks[name].show()
        docks[main].raise_()
        if beside is not None:
            width = max(area.width(), 400)
            area.resizeDocks(
                [docks[main], docks[beside]],
                [3 * width // 5, 2 * width // 5],
                Qt.Orientation.Horizontal,
            )

"""The sources list: the simulation and every opened log, with their runs to show or hide."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QLabel,
    QMenu,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..log_library import LoadedLog, LoadedRun, LogLibrary
from ..theme import mark

_RUN = Qt.ItemDataRole.UserRole
_EMPTY_HINT = "Drop training logs or folders here, or use File ▸ Open (Ctrl+O)."
_FORMATS_TIP = (
    "Reads Lightning, Keras, fastai, Hugging Face, TensorBoard (CSV and event files), "
    "W&B exports, Ultralytics, detectron2, MMEngine/MMCV, LR-finder CSVs and any "
    "CSV/TSV."
)


def swatch(color: QColor, size: int = 12) -> QIcon:
    pixmap = QPixmap(size, size)
    pixmap.fill(color)
    return QIcon(pixmap)


class SourcesPanel(QWidget):
    """A tree: the simulation, then each log with its runs (checkbox, colour, name).

    Signals: ``simulation_toggled(bool)``, ``close_requested(object)`` (a LoadedLog),
    ``mapping_requested(str)`` (a path), ``watch_toggled(object, bool)``.
    """

    simulation_toggled = Signal(bool)
    close_requested = Signal(object)
    mapping_requested = Signal(str)
    watch_toggled = Signal(object, bool)

    def __init__(self, library: LogLibrary, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.library = library
        self.tree = QTreeWidget()
        self.tree.setHeaderHidden(True)
        self.tree.setRootIsDecorated(True)
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._context_menu)
        self.tree.itemChanged.connect(self._item_changed)
        self.tree.setToolTip(
            "Tick runs to show them on every plot; right-click a log to close, watch or remap it."
        )
        self.hint = QLabel(_EMPTY_HINT)
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        mark(self.hint, "hint")
        self.hint.setWordWrap(True)
        self.hint.setToolTip(_FORMATS_TIP)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.hint)
        self.simulation_item = QTreeWidgetItem(["Simulation"])
        self.simulation_item.setFlags(
            self.simulation_item.flags() | Qt.ItemFlag.ItemIsUserCheckable
        )
        self.simulation_item.setCheckState(0, Qt.CheckState.Checked)
        self.simulation_item.setToolTip(0, "The runs of the Simulate tab.")
        self.tree.addTopLevelItem(self.simulation_item)
        library.changed.connect(self.rebuild)
        library.data_updated.connect(self.rebuild)
        self.rebuild()

    def get_state(self) -> dict:
        """Whether the simulation is ticked (the logs' runs are the library's state)."""
        return {"simulation_visible": self.simulation_item.checkState(0) == Qt.CheckState.Checked}

    def set_state(self, state: dict) -> None:
        visible = state.get("simulation_visible")
        if isinstance(visible, bool):
            check = Qt.CheckState.Checked if visible else Qt.CheckState.Unchecked
            self.simulation_item.setCheckState(0, check)  # itemChanged tells the panels

    def run_items(self) -> list[QTreeWidgetItem]:
        out = []
        for i in range(1, self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(i)
            out.extend(top.child(j) for j in range(top.childCount()))
        return out

    def log_item(self, log: LoadedLog) -> QTreeWidgetItem | None:
        for i in range(1, self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            if item.data(0, _RUN) is log:
                return item
        return None

    def rebuild(self) -> None:
        self.tree.blockSignals(True)
        try:
            while self.tree.topLevelItemCount() > 1:
                self.tree.takeTopLevelItem(1)
            for log in self.library.logs:
                top = QTreeWidgetItem([f"{log.path.name}"])
                top.setData(0, _RUN, log)
                watching = " · watching for changes" if log.watch else ""
                tip = f"{log.path}\nformat: {log.format}{watching}"
                text = f"{log.path.name}  [{log.format}]"
                skipped = getattr(log.data, "skipped", [])
                if skipped:
                    # Files of the folder that were not read: say so where the log is.
                    n = len(skipped)
                    tip += f"\nskipped {n} file{'s' * (n != 1)} that could not be read:"
                    tip += "".join(f"\n  {line}" for line in skipped[:10])
                    tip += f"\n  and {n - 10} more" if n > 10 else ""
                    text = f"⚠ {text}"  # in front: a narrow Sources dock cuts the end off
                top.setToolTip(0, tip)
                top.setText(0, text)
                for run in log.runs:
                    child = QTreeWidgetItem([run.label])
                    child.setData(0, _RUN, run)
                    child.setFlags(child.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                    child.setCheckState(
                        0, Qt.CheckState.Checked if run.visible else Qt.CheckState.Unchecked
                    )
                    child.setIcon(0, swatch(run.color))
                    tip = run.label
                    if run.lr is not None:
                        tip += f"\nλ = {run.lr:g}"
                    child.setToolTip(0, tip)
                    top.addChild(child)
                self.tree.addTopLevelItem(top)
                top.setExpanded(len(log.runs) <= 20)
        finally:
            self.tree.blockSignals(False)
        self.hint.setVisible(not self.library.logs)

    def _item_changed(self, item: QTreeWidgetItem, _column: int) -> None:
        checked = item.checkState(0) == Qt.CheckState.Checked
        if item is self.simulation_item:
            self.simulation_toggled.emit(checked)
            return
        run = item.data(0, _RUN)
        if isinstance(run, LoadedRun):
            self.library.set_visible(run, checked)

    def _context_menu(self, pos) -> None:
        item = self.tree.itemAt(pos)
        if item is None:
            return
        target = item.data(0, _RUN)
        log = target.log if isinstance(target, LoadedRun) else target
        if not isinstance(log, LoadedLog):
            return
        menu = QMenu(self)
        menu.addAction("Map columns…", lambda: self.mapping_requested.emit(str(log.path)))
        watch = menu.addAction("Watch for changes")
        watch.setCheckable(True)
        watch.setChecked(log.watch)
        watch.toggled.connect(lambda on: self.watch_toggled.emit(log, on))
        menu.addAction("Reload", lambda: self.library.reload(log, full=True))
        menu.addSeparator()
        menu.addAction("Close", lambda: self.close_requested.emit(log))
        menu.exec(self.tree.viewport().mapToGlobal(pos))

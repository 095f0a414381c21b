"""The sources list: the simulation and every opened log, with their runs to show or hide.

A model over the library (:class:`SourcesModel`) and a view, not a widget per run: a
10,000-trial study made 10,000 tree items with an icon each on the GUI thread (~1 s, again
at every change). The model answers for the rows the view shows; a change of the library
resets it or, when only ticks and colours changed, repaints it.
"""

from __future__ import annotations

from PySide6.QtCore import QAbstractItemModel, QModelIndex, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QLabel,
    QMenu,
    QStyledItemDelegate,
    QTreeView,
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
#: A log with more runs than this starts collapsed.
EXPANDED_RUNS = 20
_CHECK = {True: Qt.CheckState.Checked, False: Qt.CheckState.Unchecked}
_NO_PARENT = QModelIndex()
_TOP = 0  # internal id of a top-level row (the simulation, a log); a run's is its log's row


def swatch(color: QColor, size: int = 12) -> QIcon:
    pixmap = QPixmap(size, size)
    pixmap.fill(color)
    return QIcon(pixmap)


class _RunNamesElidedInTheMiddle(QStyledItemDelegate):
    """A study's trials are "lr-sweep/trial 0", "lr-sweep/trial 1", ...: cut on the right,
    in a narrow dock every row read "lr-sweep/…"; the middle keeps what tells them apart.
    A log's own row, and the only run of a log (its file name), keep their start, cut on
    the right."""

    def initStyleOption(self, option, index) -> None:
        super().initStyleOption(option, index)
        parent = index.parent()
        siblings = parent.isValid() and index.model().rowCount(parent) > 1
        option.textElideMode = (
            Qt.TextElideMode.ElideMiddle if siblings else Qt.TextElideMode.ElideRight
        )


class SourcesModel(QAbstractItemModel):
    """Row 0: the simulation; row 1 + i: log i of the library, its runs as children."""

    simulation_toggled = Signal(bool)

    def __init__(self, library: LogLibrary, parent=None) -> None:
        super().__init__(parent)
        self.library = library
        self.simulation_checked = True
        self.simulation_text = "Simulation"
        self._icons: dict[int, QIcon] = {}  # rgb -> swatch: a study's runs share 256 colours

    # --- structure ------------------------------------------------------------------------
    def index(self, row: int, column: int = 0, parent: QModelIndex = _NO_PARENT):
        if column != 0 or row < 0:
            return QModelIndex()
        if not parent.isValid():
            if row > len(self.library.logs):
                return QModelIndex()
            return self.createIndex(row, 0, _TOP)
        if parent.internalId() != _TOP or parent.row() == 0:
            return QModelIndex()
        log = self._log(parent.row())
        if log is None or row >= len(log.runs):
            return QModelIndex()
        return self.createIndex(row, 0, parent.row())

    def parent(self, index: QModelIndex = _NO_PARENT):
        if not index.isValid() or index.internalId() == _TOP:
            return QModelIndex()
        return self.createIndex(int(index.internalId()), 0, _TOP)

    def rowCount(self, parent: QModelIndex = _NO_PARENT) -> int:
        if not parent.isValid():
            return 1 + len(self.library.logs)
        if parent.internalId() != _TOP or parent.row() == 0:
            return 0
        log = self._log(parent.row())
        return len(log.runs) if log is not None else 0

    def columnCount(self, parent: QModelIndex = _NO_PARENT) -> int:
        return 1

    def target(self, index: QModelIndex):
        """What a row stands for: None (the simulation), a LoadedLog or a LoadedRun."""
        if not index.isValid():
            return None
        if index.internalId() == _TOP:
            return None if index.row() == 0 else self._log(index.row())
        log = self._log(int(index.internalId()))
        if log is None or index.row() >= len(log.runs):
            return None
        return log.runs[index.row()]

    def _log(self, row: int) -> LoadedLog | None:
        logs = self.library.logs
        return logs[row - 1] if 1 <= row <= len(logs) else None

    # --- what a row shows -----------------------------------------------------------------
    def flags(self, index: QModelIndex):
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        target = self.target(index)
        if index.isValid() and (target is None or isinstance(target, LoadedRun)):
            flags |= Qt.ItemFlag.ItemIsUserCheckable
        return flags

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        target = self.target(index)
        if target is None:  # the simulation
            if role == Qt.ItemDataRole.DisplayRole:
                return self.simulation_text
            if role == Qt.ItemDataRole.CheckStateRole:
                return _CHECK[self.simulation_checked]
            if role == Qt.ItemDataRole.ToolTipRole:
                return "The runs of the Simulate tab."
            return None
        if role == _RUN:
            return target
        if isinstance(target, LoadedLog):
            if role == Qt.ItemDataRole.DisplayRole:
                return _log_text(target)
            if role == Qt.ItemDataRole.ToolTipRole:
                return _log_tip(target)
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return target.label
        if role == Qt.ItemDataRole.CheckStateRole:
            return _CHECK[bool(target.visible)]
        if role == Qt.ItemDataRole.DecorationRole:
            rgb = target.color.rgba()
            icon = self._icons.get(rgb)
            if icon is None:
                icon = self._icons[rgb] = swatch(target.color)
            return icon
        if role == Qt.ItemDataRole.ToolTipRole:
            tip = target.label
            if target.lr is not None:
                tip += f"\nλ = {target.lr:g}"
            return tip
        return None

    def setData(self, index: QModelIndex, value, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.CheckStateRole or not index.isValid():
            return False
        checked = _checked(value)
        target = self.target(index)
        if target is None:
            if self.simulation_checked != checked:
                self.simulation_checked = checked
                self.dataChanged.emit(index, index, [role])
                self.simulation_toggled.emit(checked)
            return True
        if isinstance(target, LoadedRun):
            self.library.set_visible(target, checked)  # its changed signal repaints the row
            self.dataChanged.emit(index, index, [role])
            return True
        return False

    def set_simulation_text(self, text: str) -> None:
        self.simulation_text = text
        index = self.index(0)
        self.dataChanged.emit(index, index, [Qt.ItemDataRole.DisplayRole])


class SourceRow:
    """One row of the list as a tree item answers (``checkState``, ``setCheckState``,
    ``text``, ``toolTip``, ``setText``): the window's and the tests' handle on a row."""

    def __init__(self, model: SourcesModel, row: int, log_row: int | None = None) -> None:
        # Rows, not a QModelIndex: an index dies with the model's next reset.
        self._model, self._row, self._log_row = model, row, log_row

    @property
    def _index(self) -> QModelIndex:
        model = self._model
        if self._log_row is None:
            return model.index(self._row)
        return model.index(self._row, 0, model.index(self._log_row))

    def checkState(self, _column: int = 0):
        return Qt.CheckState(self._model.data(self._index, Qt.ItemDataRole.CheckStateRole))

    def setCheckState(self, _column: int, state) -> None:
        self._model.setData(self._index, state, Qt.ItemDataRole.CheckStateRole)

    def text(self, _column: int = 0) -> str:
        return self._model.data(self._index, Qt.ItemDataRole.DisplayRole)

    def setText(self, _column: int, text: str) -> None:
        if self._model.target(self._index) is None:  # only the simulation's text is its own
            self._model.set_simulation_text(text)

    def toolTip(self, _column: int = 0) -> str:
        return self._model.data(self._index, Qt.ItemDataRole.ToolTipRole)


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
        self.model = SourcesModel(library, self)
        self.model.simulation_toggled.connect(self.simulation_toggled)
        self.tree = QTreeView()
        self.tree.setModel(self.model)
        self.tree.setHeaderHidden(True)
        self.tree.setRootIsDecorated(True)
        # Rows of one height: the view lays out 10,000 runs without asking each its size.
        self.tree.setUniformRowHeights(True)
        self.tree.setItemDelegate(_RunNamesElidedInTheMiddle(self.tree))
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._context_menu)
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
        self.simulation_item = SourceRow(self.model, 0)
        self._shape: tuple = ()
        self._seen: set[int] = set()  # logs shown before (their expansion is the user's)
        library.changed.connect(self.rebuild)
        library.data_updated.connect(self.rebuild)
        self.rebuild()

    def get_state(self) -> dict:
        """Whether the simulation is ticked (the logs' runs are the library's state)."""
        return {"simulation_visible": self.model.simulation_checked}

    def set_state(self, state: dict) -> None:
        visible = state.get("simulation_visible")
        if isinstance(visible, bool):
            self.simulation_item.setCheckState(0, _CHECK[visible])  # tells the panels

    def run_items(self) -> list[SourceRow]:
        out = []
        for row in range(1, self.model.rowCount()):
            top = self.model.index(row)
            out.extend(SourceRow(self.model, j, row) for j in range(self.model.rowCount(top)))
        return out

    def log_item(self, log: LoadedLog) -> SourceRow | None:
        for row, candidate in enumerate(self.library.logs, start=1):
            if candidate is log:
                return SourceRow(self.model, row)
        return None

    def rebuild(self) -> None:
        """Follow the library: a reset when logs or their runs changed (small logs shown
        expanded), a repaint when only ticks or colours did."""
        logs = self.library.logs
        shape = tuple((id(log), id(log.runs), len(log.runs), _log_text(log)) for log in logs)
        if shape == self._shape:
            rows = self.model.rowCount()
            if rows > 1:
                self.model.dataChanged.emit(self.model.index(1), self.model.index(rows - 1))
                # children repaint with their parents' rows in view
                self.tree.viewport().update()
        else:
            # What the user expanded stays expanded (a live study re-read every second).
            expanded = {
                id(log)
                for row, log in enumerate(logs, start=1)
                if id(log) in self._seen and self.tree.isExpanded(self.model.index(row))
            }
            self._shape = shape
            self.model.beginResetModel()
            self.model.endResetModel()
            for row, log in enumerate(logs, start=1):
                new = id(log) not in self._seen
                if id(log) in expanded or (new and len(log.runs) <= EXPANDED_RUNS):
                    self.tree.setExpanded(self.model.index(row), True)
            self._seen = {id(log) for log in logs}
        self.hint.setVisible(not self.library.logs)

    def _context_menu(self, pos) -> None:
        target = self.model.target(self.tree.indexAt(pos))
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


def _checked(value) -> bool:
    if isinstance(value, Qt.CheckState):
        return value == Qt.CheckState.Checked
    return int(value) == Qt.CheckState.Checked.value


def _log_text(log: LoadedLog) -> str:
    text = f"{log.path.name}  [{log.format}]"
    # Files of the folder that were not read: marked in front (a narrow dock cuts the end).
    return f"⚠ {text}" if getattr(log.data, "skipped", []) else text


def _log_tip(log: LoadedLog) -> str:
    watching = " · watching for changes" if log.watch else ""
    tip = f"{log.path}\nformat: {log.format}{watching}"
    skipped = getattr(log.data, "skipped", [])
    if skipped:
        n = len(skipped)
        tip += f"\nskipped {n} file{'s' * (n != 1)} that could not be read:"
        tip += "".join(f"\n  {line}" for line in skipped[:10])
        tip += f"\n  and {n - 10} more" if n > 10 else ""
    return tip

"""Menus and wiring for opening logs: File menu, recent files, sources, mapping, errors."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QInputDialog,
    QLabel,
    QMenu,
    QProgressBar,
    QWidget,
)

from lrviz.log_views import sweep_name
from lrviz.lr_format import format_lr
from lrviz.session import SUFFIX as SESSION_SUFFIX
from lrviz.suggest import Suggestion

from . import settings
from .dialogs.column_mapping import ColumnMappingDialog
from .forms.inspect_form import InspectForm
from .log_library import LogLibrary
from .panels.sources import SourcesPanel
from .tooltips import tip_with_keys

LOG_FILTER = (
    "Training logs and stores (*.csv *.tsv *.txt *.json *.log.json *tfevents* *.db);;All files (*)"
)


class LogActions(QObject):
    """Everything the window does about logs, outside the panels themselves: the File
    menu's open actions, recent paths, column mapping, errors and the status line.

    Handed what it drives (it never reaches into the window): the ``library``, the ``file_menu``
    it fills, the ``sources`` panel and ``form`` (Inspect) whose requests it answers, the
    ``status`` label and ``progress`` bar it writes, the ``host`` widget that parents its
    actions and dialogs, and ``shown_suggestion``, which says the range test's reading (a
    check run is compared with it).

    Signals
    -------
    logs_opened()              the first logs were opened: they are the subject of the window now
    session_requested(str)     File ▸ Open recent chose a session (``.lrviz``): the session
                               manager opens it, not the log library
    """

    logs_opened = Signal()
    session_requested = Signal(str)

    def __init__(
        self,
        library: LogLibrary,
        file_menu: QMenu,
        sources: SourcesPanel,
        form: InspectForm,
        status: QLabel,
        progress: QProgressBar,
        host: QWidget,
        shown_suggestion: Callable[[], Suggestion | None] = lambda: None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.library, self.sources, self.form = library, sources, form
        self.status, self.progress, self.host = status, progress, host
        self.shown_suggestion = shown_suggestion
        self.errors: list[str] = []
        self._build_menu(file_menu)
        sources.close_requested.connect(self.library.remove)
        sources.mapping_requested.connect(self.ask_mapping)
        sources.watch_toggled.connect(lambda log, on: setattr(log, "watch", on))
        form.open_requested.connect(self.open_dialog)
        form.open_folder_requested.connect(self.open_folder_dialog)
        self.library.failed.connect(self._on_failed)
        self.library.busy.connect(self._on_busy)
        self.library.loading.connect(self._on_loading)
        self.library.changed.connect(self._on_changed)
        # A poll that read new trials: the summary counts them (a silent poll's end does not
        # write it again, see _on_busy).
        self.library.data_updated.connect(self._refresh_summary)
        self.library.needs_mapping.connect(self._suggest_mapping)
        self._had_logs = False
        self._loading_bar = False  # the bar shows loading (busy, or a percent taken in)
        self._load_said = "Loading logs…"  # the status line a load wrote last
        self._drawing = False  # a derivation runs (LogView.busy)
        self._summary_said = ""  # the summary the status line showed last

    # --- menus ----------------------------------------------------------------------------
    def _build_menu(self, file_menu: QMenu) -> None:
        self.open_action = self._action(
            file_menu,
            "&Open logs…",
            QKeySequence.StandardKey.Open,
            self.open_dialog,
            "Open training logs: CSV, JSON, TensorBoard events, and more.",
        )
        self.open_folder_action = self._action(
            file_menu,
            "Open &folder…",
            "Ctrl+Shift+O",
            self.open_folder_dialog,
            "Open a folder of runs, such as a Lightning version_N or a sweep.",
        )
        self.open_store_action = self._action(
            file_menu,
            "Open &study or tracking store…",
            "Ctrl+Shift+S",
            self.open_store_dialog,
            "Open an Optuna study (sqlite:///study.db, postgresql://…) or an MLflow store.",
        )
        self.recent_menu = file_menu.addMenu("Open &recent")
        self.recent_menu.setToolTipsVisible(True)
        self.recent_menu.menuAction().setToolTip(
            "Open again a log, store or session opened before."
        )
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        file_menu.addSeparator()
        self._action(
            file_menu,
            "&Close all logs",
            "Ctrl+Shift+W",
            self.library.clear,
            "Remove every opened log from the window (the files stay as they are).",
        )

    def _action(self, menu, text, shortcut, slot, tip) -> QAction:
        action = QAction(text, self.host)
        action.setShortcut(QKeySequence(shortcut))
        keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        action.setToolTip(tip_with_keys(tip, keys))
        action.setStatusTip(tip)
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        recent = settings.recent_paths()
        if not recent:
            nothing = self.recent_menu.addAction("(none yet)")
            nothing.setToolTip("Logs, stores and sessions you open will be listed here.")
            nothing.setEnabled(False)
        for path in recent:
            if path.lower().endswith(SESSION_SUFFIX):
                action = self.recent_menu.addAction(
                    f"Session: {path}", lambda p=path: self.session_requested.emit(p)
                )
                action.setToolTip("Open this session again: its logs, runs, range and settings.")
            else:
                action = self.recent_menu.addAction(path, lambda p=path: self.open_paths([p]))
                action.setToolTip("Open these logs or this store again.")

    # --- opening --------------------------------------------------------------------------
    def open_dialog(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self.host, "Open training logs", "", LOG_FILTER)
        self.open_paths(paths)

    def open_store_dialog(self) -> None:
        """A URL box with the recent stores; a .db file or an mlruns/ folder works too."""
        from lrviz.stores import is_store

        recent = [p for p in settings.recent_paths() if is_store(p) and "://" in p]
        dialog = QInputDialog(self.host)
        dialog.setWindowTitle("Open a study or tracking store")
        dialog.setLabelText(
            "Optuna storage URL (sqlite:///study.db, postgresql://user@host/db),\n"
            "an MLflow mlflow.db or mlruns/ folder:"
        )
        dialog.setComboBoxItems(recent or ["sqlite:///study.db"])
        dialog.setComboBoxEditable(True)
        for box in dialog.findChildren(QComboBox):
            box.setToolTip(
                "Where the trials are: an Optuna storage URL (a study still running on a "
                "cluster keeps arriving live) or an MLflow store."
            )
        self.store_dialog = dialog  # tests reach it here
        ok = dialog.exec() == QDialog.DialogCode.Accepted
        url = dialog.textValue().strip()
        if ok and url:
            if not is_store(url):
                self._on_failed(f"{url}: not an Optuna storage or an MLflow store")
                return
            self.open_paths([url])

    def open_folder_dialog(self) -> None:
        path = QFileDialog.getExistingDirectory(self.host, "Open a folder of runs")
        if path:
            self.open_paths([path])

    def open_paths(self, paths, mapping=None) -> None:
        paths = [str(p) for p in paths if p]
        if not paths:
            return
        from lrviz.stores import is_store

        missing = [p for p in paths if not Path(p).exists() and not is_store(p)]
        for path in missing:
            self._on_failed(f"{path}: no such file or folder")
        present = [p for p in paths if p not in missing]
        if present:
            settings.remember_paths(present)
            self.library.open_paths(present, mapping=mapping)

    def ask_mapping(self, path: str) -> None:
        """Let the user say which columns are x, lr and loss, then reload with that."""
        from lrviz.errors import LrvizError
        from lrviz.loaders import ColumnMapping, list_columns

        try:
            columns = list_columns(path)
        except (LrvizError, OSError) as exc:
            self._on_failed(str(exc))
            return
        dialog = ColumnMappingDialog(path, columns, self.host)
        self.mapping_dialog = dialog  # tests reach it here
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        mapping = ColumnMapping(**dialog.choice())
        # The problem it reported is being fixed: its message goes.
        name = Path(path).name
        self.errors = [e for e in self.errors if path not in e and not e.startswith(name)]
        self.form.show_errors(self.errors)
        existing = next((log for log in self.library.logs if str(log.path) == path), None)
        if existing is not None:
            existing.mapping = mapping
            self.library.reload(existing, full=True)
        else:
            self.library.open_paths([path], mapping=mapping)

    # --- feedback -------------------------------------------------------------------------
    def _on_failed(self, message: str) -> None:
        self.errors.append(message)
        self.form.show_errors(self.errors)
        self.status.setText(f"Could not read: {message}")

    def _on_busy(self, busy: bool) -> None:
        progress = self.progress
        if busy and not self.library.announced:
            return  # a live watch's poll: nothing to say (see LogLibrary.announced)
        if busy:
            self.status.setText("Loading logs…")
            progress.setRange(0, 0)  # busy indicator
            progress.show()
            self._loading_bar = True
        elif self._loading_bar or progress.maximum() == 0:
            self._loading_bar = False
            loading = self.status.text() in ("Loading logs…", self._load_said)
            if self._drawing:
                # Loaded, and its curves are still being worked out: say so, not done.
                if loading:
                    self.status.setText("Drawing logs…")
                progress.setRange(0, 0)
                return
            # Loading is not a simulation: no "100%" left behind, just the summary.
            progress.setRange(0, 1)
            progress.setValue(0)
            progress.hide()
            if loading:
                self._show_summary()

    def _on_loading(self, words: str, percent: int) -> None:
        """A big log or store read in a child: what it is doing, and how far it has taken
        the data in (a percent, or -1 while the child reads)."""
        if not self.library.jobs.busy:
            return  # a late word of a load that has ended
        self._load_said = words if percent < 0 else f"{words} {percent}%"
        self.status.setText(self._load_said)
        progress = self.progress
        if percent < 0:
            progress.setRange(0, 0)
        else:
            progress.setRange(0, 100)
            progress.setValue(percent)
        progress.show()
        self._loading_bar = True

    def report_failure(self, message: str) -> None:
        """Something done with the logs failed elsewhere (a derivation on a worker)."""
        self._on_failed(message)

    def show_drawing(self, busy: bool) -> None:
        """A big log's curves are being worked out on a worker (LogView.busy): a busy bar
        and a word in the status bar, as while it loads; its summary once drawn."""
        progress = self.progress
        self._drawing = busy
        if busy:
            if not self.library.jobs.busy:
                self.status.setText("Drawing logs…")
            progress.setRange(0, 0)
            progress.show()
        elif progress.maximum() == 0 and not self.library.jobs.busy:
            progress.setRange(0, 1)
            progress.setValue(0)
            progress.hide()
            if self.status.text() == "Drawing logs…":
                self._show_summary()

    def _on_changed(self) -> None:
        logs = self.library.logs
        if logs and not self._had_logs:
            self.logs_opened.emit()  # the user's own logs: the subject of the window now
        self._had_logs = bool(logs)
        if logs:
            self._show_summary()

    def _refresh_summary(self) -> None:
        if self.status.text() == self._summary_said:
            self._show_summary()

    def _show_summary(self) -> None:
        logs = self.library.logs
        runs = sum(len(log.runs) for log in logs)
        text = f"{len(logs)} log{'s' * (len(logs) > 1)} open · {runs:,} run{'s' * (runs != 1)}"
        tip = ""
        skipped = sum(len(getattr(log.data, "skipped", [])) for log in logs)
        if skipped:
            text += f" · {skipped} file{'s' * (skipped != 1)} skipped (see Sources)"
        if len(logs) == 1:
            # A sweep (study, experiment, sweep folder, check run): its best λ, as inspect
            # says (read by the loader: 0.75 s of a 10,000-trial study's opening).
            sweep = logs[0].sweep
            if sweep is not None:
                a, b = sweep["bracket"]
                of = sweep_name(sweep) if "sweeps" in sweep else None
                text += (
                    f" · best λ across trials{f' of {of}' if of else ''} "
                    f"{format_lr(sweep['best_lr'])} (bracket {format_lr(a)}–{format_lr(b)})"
                )
                others = len(sweep.get("sweeps", ())) - 1
                if others > 0:
                    # A store of several studies: each is read on its own (inspect's lines).
                    if "experiment" in sweep:
                        kind = "experiments" if others > 1 else "experiment"
                    else:
                        kind = "studies" if others > 1 else "study"
                    text += f" · {others} more {kind}, each read on its own"
                    tip = "\n".join(
                        f"{sweep_name(r)}: best λ {format_lr(r['best_lr'])} — {r['why']}"
                        for r in sweep["sweeps"]
                    )
                # A check run after a range test (journey 8): how far the suggestion was.
                shown = self.shown_suggestion()
                if shown is not None and shown.suggested_lr:
                    ratio = sweep["best_lr"] / shown.suggested_lr
                    text += f", {ratio:.2g}× the suggested {format_lr(shown.suggested_lr)}"
        self._summary_said = text if logs else "Ready"
        self.status.setText(self._summary_said)
        self.status.setToolTip(tip)

    def _suggest_mapping(self, path: str) -> None:
        # No modal surprise while files open (or a screenshot is taken): say what to do.
        message = (
            f"{Path(path).name}: no column reads as loss or λ; right-click it in Sources "
            "and choose Map columns… to say which is which"
        )
        self.errors.append(message)
        self.form.show_errors(self.errors)
        self.status.setText(message)

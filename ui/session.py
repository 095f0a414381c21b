"""Save and open sessions: the window's parts hand in their state, and take it back.

The file format and its checks are :mod:`lrviz.session`; this module collects and applies.
A *contributor* is any object with ``get_state() -> dict`` and ``set_state(dict)`` (plain
JSON in, plain JSON out), registered under a section name with :meth:`SessionManager.add`.
It may also have ``check_state(dict)`` (raise ValueError: the session is refused before
anything changes) and a ``state_restored`` signal (emitted once work that ``set_state``
started, such as re-running a range test, has put everything back: that section counts as
unchanged from then on). Tools added later plug in with one ``add`` line.

Opening a session happens in two steps, so that nothing changes when it cannot be read: the
whole file is read and checked (:func:`lrviz.session.load`, then every contributor's
``check_state``); only then are the logs replaced, and once they have loaded, every section
is applied. A log that is missing is reported and the rest opens.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog, QMessageBox, QTabWidget, QWidget

from lrviz import session as sessions
from lrviz.errors import LrvizError
from lrviz.session import Session, SessionError, Source

from .tool_tabs import tool_name

SESSION_FILTER = "lrviz sessions (*.lrviz);;All files (*)"
#: Ask before closing a window with unsaved changes. Tests switch it off (tests/ui/conftest.py)
#: except where the question itself is tested.
PROMPT_ON_CLOSE = True


class SessionManager(QObject):
    """Collects the window's state into a :class:`lrviz.session.Session` and applies one.

    Handed what it uses: the log ``library`` (whose logs are the session's sources), the
    ``open_logs(paths, mapping)`` function of the window (which reports unreadable files),
    the ``tools`` tab host (the active tool is its current tab), a ``report(str)`` status
    sink and the ``host`` widget for dialogs.

    Signals
    -------
    opened(str)      a session file was opened (its path)
    saved(str)       the session was saved (its path)
    failed(str)      a session could not be opened or saved: one line
    modified(bool)   whether there are unsaved changes (checked when asked, see
                     :meth:`is_modified`; emitted after open, save and restore)
    """

    opened = Signal(str)
    saved = Signal(str)
    failed = Signal(str)
    modified = Signal(bool)

    def __init__(
        self,
        library,
        open_logs: Callable,
        tools: QTabWidget,
        report: Callable[[str], None],
        host: QWidget,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.library = library
        self.open_logs = open_logs
        self.tools = tools
        self.report = report
        self.host = host
        self.path: Path | None = None
        self.last_folder: Path | None = None
        self._parts: dict[str, object] = {}
        self._clean: dict[str, str] = {}
        self._pending: Session | None = None  # applied once its logs have loaded
        self._pending_problems: list[str] = []
        self._waiting_for_logs = False
        library.busy.connect(self._on_library_busy)

    # --- contributors ---------------------------------------------------------------------
    def add(self, name: str, part) -> None:
        """Register ``part`` (``get_state``/``set_state``) as section ``name``."""
        if name in self._parts:
            raise ValueError(f"a session section named {name!r} exists already")
        self._parts[name] = part
        restored = getattr(part, "state_restored", None)
        if restored is not None:
            restored.connect(lambda name=name: self._mark_clean_section(name))

    @property
    def sections(self) -> list[str]:
        return list(self._parts)

    # --- collecting -----------------------------------------------------------------------
    def state(self) -> Session:
        """The window as a session, now."""
        sections = {name: part.get_state() for name, part in self._parts.items()}
        return Session(
            sources=[Source(**s) for s in self.library.get_state()],
            sections=sections,
            active_tool=self._active_tool(),
        )

    def _active_tool(self) -> str | None:
        index = self.tools.currentIndex()
        return tool_name(self.tools, index) if index >= 0 else None

    def _snapshot(self) -> dict[str, str]:
        """Each section as text (sources and the active tool as sections of their own)."""
        import json

        session = self.state()
        out = {name: json.dumps(s, sort_keys=True) for name, s in session.sections.items()}
        out[" sources"] = json.dumps([s.to_dict() for s in session.sources], sort_keys=True)
        out[" active tool"] = json.dumps(session.active_tool)
        return out

    def is_modified(self) -> bool:
        """True when the window differs from the session last saved or opened (or from how
        it started, when there was none)."""
        return self._snapshot() != self._clean

    def mark_clean(self) -> None:
        """What the window shows now is saved (or is what it started with)."""
        self._clean = self._snapshot()
        self.modified.emit(False)

    def mark_clean_when_loaded(self) -> None:
        """Mark clean once the library has loaded what it is loading (the logs given on the
        command line are how the window started, not a change)."""
        if self.library.jobs.busy:
            self._waiting_for_logs = True
        else:
            self.mark_clean()

    def _mark_clean_section(self, name: str) -> None:
        if not self._clean:
            return
        import json

        self._clean[name] = json.dumps(self._parts[name].get_state(), sort_keys=True)
        self.modified.emit(self.is_modified())

    # --- saving ---------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write the session to ``path`` atomically. Raises SessionError or OSError."""
        path = Path(path)
        saved = sessions.save(path, self.state())
        self.path = saved
        self.last_folder = saved.parent
        self.mark_clean()
        self.report(f"Saved the session to {saved.name}")
        self.saved.emit(str(saved))
        return saved

    def save_dialog(self, ask: bool = False) -> Path | None:
        """Save to the current file (or ask where, when there is none or ``ask``)."""
        path = self.path
        if path is None or ask:
            folder = self.last_folder or Path.home()
            default = path if path is not None else folder / f"session{sessions.SUFFIX}"
            chosen, _filter = QFileDialog.getSaveFileName(
                self.host, "Save the session", str(default), SESSION_FILTER
            )
            if not chosen:
                return None
            path = Path(chosen)
            if path.suffix.lower() != sessions.SUFFIX:
                path = path.with_name(path.name + sessions.SUFFIX)
        try:
            return self.save(path)
        except (OSError, LrvizError) as exc:
            message = f"Could not save the session: {getattr(exc, 'strerror', None) or exc}"
            self.report(message)
            self.failed.emit(message)
            return None

    # --- opening --------------------------------------------------------------------------
    def open(self, path: str | Path) -> bool:
        """Open a session file. False (and ``failed`` with one line) when it cannot be
        read; then nothing in the window has changed."""
        path = Path(path)
        try:
            session = sessions.load(path)
            self._check(session, path)
        except SessionError as exc:
            message = f"Could not open the session: {exc}"
            self.report(message)
            self.failed.emit(message)
            return False
        self.path = path
        self.last_folder = path.parent
        missing = self._open_sources(session, path.parent)
        self._pending = session
        self._pending_problems = [f"{p}: no such file or folder" for p in missing]
        if not self.library.jobs.busy:
            self._apply_pending()
        self.opened.emit(str(path))
        return True

    def open_dialog(self) -> bool:
        folder = self.last_folder or Path.home()
        path, _filter = QFileDialog.getOpenFileName(
            self.host, "Open a session", str(folder), SESSION_FILTER
        )
        return self.open(path) if path else False

    def _check(self, session: Session, path: Path) -> None:
        """Every contributor's own check, before anything changes."""
        for name, section in session.sections.items():
            part = self._parts.get(name)
            check = getattr(part, "check_state", None)
            if check is None:
                continue
            try:
                check(section)
            except (TypeError, ValueError, LrvizError) as exc:
                raise SessionError(f"sections.{name}: {exc}", str(path)) from None

    def _open_sources(self, session: Session, folder: Path) -> list[str]:
        """Replace the logs with the session's; the paths that do not exist."""
        from lrviz.stores import is_store

        self.library.clear()
        missing, groups = [], {}
        for source in session.sources:
            path = _resolve(source.path, folder)
            if not is_store(path) and not Path(path).exists():
                missing.append(path)  # open_logs reports it where file errors go
            key = tuple(sorted((source.mapping or {}).items()))
            groups.setdefault(key, []).append(path)
        for key, paths in groups.items():
            mapping = _column_mapping(dict(key)) if key else None
            self.open_logs(paths, mapping)
        return missing

    def _on_library_busy(self, busy: bool) -> None:
        if busy:
            return
        if self._pending is not None:
            self._apply_pending()
        elif self._waiting_for_logs:
            self._waiting_for_logs = False
            self.mark_clean()

    def _apply_pending(self) -> None:
        session, self._pending = self._pending, None
        problems, self._pending_problems = self._pending_problems, []
        folder = self.path.parent if self.path is not None else Path.cwd()
        self.library.set_state(
            [{**s.to_dict(), "path": _resolve(s.path, folder)} for s in session.sources]
        )
        for name, part in self._parts.items():
            section = session.sections.get(name)
            if section is None:
                continue
            try:
                part.set_state(section)
            except (TypeError, ValueError, LrvizError) as exc:
                problems.append(f"{name}: {exc}")
        self._set_active_tool(session.active_tool)
        self.mark_clean()
        opened = len(session.sources) - sum("no such file" in p for p in problems)
        text = f"Opened {self.path.name if self.path else 'the session'}"
        if session.sources:
            text += f" · {opened} of {len(session.sources)} logs"
        if problems:
            text += " · " + "; ".join(problems)
        self.report(text)

    def _set_active_tool(self, name: str | None) -> None:
        if name is None:
            return
        for i in range(self.tools.count()):
            if tool_name(self.tools, i) == name:
                self.tools.setCurrentIndex(i)
                return

    # --- closing --------------------------------------------------------------------------
    def confirm_close(self) -> bool:
        """Whether the window may close: asks Save / Discard / Cancel when there are unsaved
        changes (and saves when asked to)."""
        if not PROMPT_ON_CLOSE or not self.is_modified():
            return True
        name = self.path.name if self.path is not None else "this session"
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Unsaved changes",
            f"Save the changes to {name} before closing?",
            QMessageBox.StandardButton.Save
            | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel,
            self.host,
        )
        box.setInformativeText(
            "A session keeps the opened logs, the simulation, the chosen range and the "
            "panels' settings."
        )
        box.setDefaultButton(QMessageBox.StandardButton.Save)
        self.close_question = box  # tests answer it here
        answer = box.exec()
        self.close_question = None
        if answer == QMessageBox.StandardButton.Save:
            return self.save_dialog() is not None
        return answer == QMessageBox.StandardButton.Discard


def _resolve(path: str, folder: Path) -> str:
    """A relative path in a session is relative to the session's folder; a URL stays."""
    if "://" in path or Path(path).is_absolute():
        return path
    return str(folder / path)


def _column_mapping(fields: dict):
    from lrviz.loaders import ColumnMapping

    return ColumnMapping(**fields)

"""The logs the user opened: loading off the GUI thread, visibility, colours, live reload.

The library owns :class:`LoadedLog` objects (a path, what :func:`lrviz.loaders.load` made of
it, one :class:`LoadedRun` per run). Views subscribe to ``changed`` (the set of logs or runs
shown changed) and ``data_updated`` (a watched file grew).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QColor

from lrviz.errors import LrvizError

from .colors import lr_colors, lr_palette, lr_positions
from .jobs import JobRunner

WATCH_INTERVAL_MS = 1000
#: Beyond this many runs with a λ, runs take one of this many levels of the colour map.
COLOR_LEVELS = 256
# Tableau 10: distinct hues for runs that have no learning rate to colour them by.
CATEGORICAL = [
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
]


@dataclass(eq=False)
class LoadedRun:
    log: LoadedLog  # None only while the loader's worker makes it
    run: object  # lrviz.loaders Run
    color: QColor
    visible: bool = True
    #: its learning rate (``params["lr"]``, positive and finite), read once by the loader
    lr: float | None = field(default=...)

    def __post_init__(self) -> None:
        if self.lr is ...:  # not read by the loader
            self.lr = run_lr(self.run)

    @property
    def label(self) -> str:
        name = getattr(self.run, "name", "") or self.log.path.name
        if len(self.log.runs) == 1 and name in ("", self.log.path.stem):
            return self.log.path.name
        return name


def run_lr(run) -> float | None:
    """A run's learning rate: ``params["lr"]`` when it is a positive finite number."""
    params = getattr(run, "params", None) or {}
    value = params.get("lr")
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if np.isfinite(value) and value > 0 else None


@dataclass(eq=False)
class LoadedLog:
    path: Path
    data: object  # lrviz.loaders LogData
    mapping: object | None = None
    runs: list[LoadedRun] = field(default_factory=list)
    stamp: tuple = ()
    watch: bool = True
    watcher: object | None = None  # lrviz.loaders.LogWatcher: reads only what was appended
    store_url: str | None = None  # an Optuna study or MLflow store (polled, not stat'ed)
    sweep: dict | None = None  # its best λ across trials (inspect's sweep_reading), or None

    @property
    def format(self) -> str:
        return getattr(self.data, "format", "?")


class StoreLogWatcher:
    """A store (:class:`lrviz.stores.StoreWatcher`) read on the loader's own thread, behind
    the LogWatcher interface the library polls (``poll() -> changed``, ``data``); stores
    are read in a child process instead (:mod:`lrviz.watch_process`) unless that is off."""

    def __init__(self, url: str) -> None:
        from lrviz.stores import StoreWatcher

        self._watcher = StoreWatcher(url)

    def poll(self) -> bool:
        return bool(self._watcher.poll())

    @property
    def data(self):
        return self._watcher.data


def file_stamp(path: Path) -> tuple:
    """What changes when a log is written to: size and modification time of its files."""
    try:
        if path.is_dir():
            parts = []
            for root, _dirs, files in os.walk(path):
                for name in files:
                    st = os.stat(os.path.join(root, name))
                    parts.append((name, st.st_size, st.st_mtime_ns))
            return tuple(sorted(parts))
        st = path.stat()
        return (st.st_size, st.st_mtime_ns)
    except OSError:
        return ()


class LogLibrary(QObject):
    """Opened logs. Loading runs in a worker thread; watched files reload when they change.

    Signals
    -------
    changed()            logs were added or removed, or a run was shown or hidden
    data_updated()       a watched log was re-read
    failed(str)          one line per file that could not be read
    busy(bool)           loading started / ended
    loading(str, int)    how a big log or store read in a child process is coming along:
                         a status line and the percent taken in (-1 while it is read)
    needs_mapping(str)   a log loaded, but none of its columns reads as loss or λ (path)
    """

    changed = Signal()
    data_updated = Signal()
    failed = Signal(str)
    busy = Signal(bool)
    loading = Signal(str, int)
    needs_mapping = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.logs: list[LoadedLog] = []
        self.jobs = JobRunner("lrviz-loader", self)
        self._store_urls: dict[Path, str] = {}
        self._reloading: set[Path] = set()
        #: loads the window says it is doing (opens, full re-reads), not a live watch's polls
        self.announced = 0
        self.watch_timer = QTimer(self)
        self.watch_timer.setInterval(WATCH_INTERVAL_MS)
        self.watch_timer.timeout.connect(self.poll)
        self.watch_timer.start()

    # --- opening --------------------------------------------------------------------------
    def open_paths(self, paths, mapping=None) -> None:
        """Load ``paths`` in the background; each becomes a log (or a ``failed`` message).
        A path may also be a store: an Optuna storage URL or ``.db``, an MLflow store."""
        from lrviz.stores import is_store

        keys = []
        for p in paths:
            text = str(p)
            key = Path(text)
            if is_store(text):
                self._store_urls[key] = text  # Path() would fold a URL's "///"
            keys.append(key)
        if not keys:
            return
        self._run_loader(keys, mapping, replace=False)

    def reload(self, log: LoadedLog, full: bool = False) -> None:
        """Re-read ``log``: only what was appended (a live log), or all of it (``full``)."""
        if log.path not in self._reloading:
            self._reloading.add(log.path)
            if full:
                log.watcher = None
            self._run_loader(
                [log.path], log.mapping, replace=True, watchers=[log.watcher], announce=full
            )

    def remove(self, log: LoadedLog) -> None:
        if log in self.logs:
            self.logs.remove(log)
            _close_watcher(log)
            self._recolor()
            self.changed.emit()

    def clear(self) -> None:
        for log in self.logs:
            _close_watcher(log)
        self.logs.clear()
        self.changed.emit()

    def shutdown(self) -> None:
        self.watch_timer.stop()
        self.jobs.shutdown()
        for log in self.logs:
            _close_watcher(log)

    # --- what views read ------------------------------------------------------------------
    def visible_runs(self) -> list[LoadedRun]:
        return [r for log in self.logs for r in log.runs if r.visible]

    def all_runs(self) -> list[LoadedRun]:
        return [r for log in self.logs for r in log.runs]

    def set_visible(self, run: LoadedRun, visible: bool) -> None:
        if run.visible != visible:
            run.visible = visible
            self.changed.emit()

    # --- session state --------------------------------------------------------------------
    def get_state(self) -> list[dict]:
        """Each opened log as a session source: where it is (a store by its URL), whether it
        is watched, its column mapping and the runs unticked in Sources."""
        out = []
        for log in self.logs:
            mapping = None
            if log.mapping is not None:
                m = log.mapping
                mapping = {"x": m.x, "lr": m.lr, "loss": m.loss, "x_axis": m.x_axis}
            out.append(
                {
                    "path": log.store_url or os.path.abspath(log.path),
                    "watch": bool(log.watch),
                    "mapping": mapping,
                    "hidden_runs": [r.label for r in log.runs if not r.visible],
                }
            )
        return out

    def set_state(self, sources: list[dict]) -> None:
        """Watch and hidden runs of the logs already opened from ``sources`` (the session
        opens them first: loading is asynchronous)."""
        by_path = {_source_key(s["path"]): s for s in sources}
        for log in self.logs:
            source = by_path.get(_source_key(log.store_url or log.path))
            if source is None:
                continue
            log.watch = bool(source.get("watch", True))
            hidden = set(source.get("hidden_runs", ()))
            for run in log.runs:
                run.visible = run.label not in hidden
        self.changed.emit()

    # --- live watch -----------------------------------------------------------------------
    def poll(self) -> None:
        """Reload every watched log whose files changed since they were read, or whose last
        line is held back until it ends or settles (a finished file without a final line
        end does not change again: its last row must still appear)."""
        for log in list(self.logs):
            if (
                log.watch
                and log.path not in self._reloading
                and (
                    log.store_url is not None
                    or file_stamp(log.path) != log.stamp
                    or getattr(log.watcher, "waiting", False)
                )
            ):
                self.reload(log)  # a store is polled on the worker: cheap when unchanged

    # --- internals ------------------------------------------------------------------------
    def _run_loader(
        self, paths: list[Path], mapping, replace: bool, watchers=None, announce: bool = True
    ) -> None:
        """Load ``paths`` on the loader's worker. ``announce``: the window says so (a live
        watch's poll of a study, every second, is silent: it flashed "Loading logs…")."""
        watchers = watchers or [None] * len(paths)
        announce = announce or not replace

        def batches() -> Iterator[tuple]:
            from lrviz.commands.inspect import sweep_reading
            from lrviz.loaders import LogWatcher
            from lrviz.watch_process import ChildWatcher, wants_child

            for path, watcher in zip(paths, watchers, strict=True):
                stamp = file_stamp(path)
                try:
                    if watcher is None:
                        url = self._store_urls.get(path)
                        if wants_child(_stamp_bytes(stamp), store=url is not None):
                            # Parsed in a child process: the parse holds the child's
                            # interpreter lock, not the one the GUI thread needs.
                            watcher = ChildWatcher(url or path, mapping, store=url is not None)
                        elif url:
                            watcher = StoreLogWatcher(url)
                        else:
                            watcher = LogWatcher(path, mapping)
                    if isinstance(watcher, ChildWatcher):
                        # A first read says how it goes; a live log's ticks say nothing.
                        watcher.progress = None if replace else self._teller(path)
                    changed = watcher.poll()
                    if watcher.data is None:
                        raise LrvizError("nothing readable yet", path=str(path))
                    # Unchanged data still reports its stamp, so polling stops asking.
                    loaded = None
                    if changed or not replace:
                        # Sorted and read here, not in the GUI thread: a 10,000-trial study
                        # took the window ~1 s for these two alone.
                        data = watcher.data
                        # The log's runs, made here: each is given its log in the GUI
                        # thread (10,000 of them took it ~20 ms to make).
                        ordered = [
                            LoadedRun(None, run, _NO_COLOR, True, run_lr(run))
                            for run in _natural_order(data.runs)
                        ]
                        loaded = (data, watcher, ordered, sweep_reading(data))
                    yield path, loaded, stamp, None
                except LrvizError as exc:
                    yield path, None, stamp, exc
                except OSError as exc:
                    yield path, None, stamp, LrvizError(exc.strerror or str(exc), path=str(path))

        self.announced += announce
        self.busy.emit(True)
        self.jobs.start(
            batches,
            lambda item: self._on_loaded(item, mapping, replace),
            self.failed.emit,
            lambda _completed: self._on_loader_done(paths, announce),
            exclusive=False,
        )

    def _teller(self, path: Path):
        """What a ChildWatcher tells as it reads ``path``, as ``loading`` (on the loader's
        thread; Qt hands it to the window's): each stage, then every 5% (each word repaints
        the status bar on the GUI thread)."""
        name = _source_name(self._store_urls.get(path) or path)
        last = [("", -1)]

        def tell(stage: str, fraction: float | None) -> None:
            if stage == "reading":
                said = (f"Reading {name}…", -1)
            else:
                said = (f"Taking in {name}…", int(100 * (fraction or 0.0)))
            words, percent = last[0]
            if said[0] != words or said[1] >= percent + 5 or (said[1] == 100 > percent):
                last[0] = said
                self.loading.emit(*said)

        return tell

    def _on_loaded(self, item: tuple, mapping, replace: bool) -> None:
        path, loaded, stamp, error = item
        data, watcher, ordered, sweep = loaded if loaded is not None else (None,) * 4
        existing = next((log for log in self.logs if log.path == path), None)
        if replace and existing is None:
            return  # a reload of a log removed meanwhile
        if error is None and loaded is None:
            if existing is not None:
                existing.stamp = stamp
            return
        if error is not None:
            if replace and existing is not None:
                # A file caught mid-rewrite: keep what we showed, try again next poll.
                existing.stamp = ()
                return
            self.failed.emit(str(error))
            return
        if existing is not None:
            hidden = {_name(r.run) for r in existing.runs if not r.visible}
            existing.data, existing.stamp, existing.watcher = data, stamp, watcher
            existing.sweep = sweep
            existing.mapping = mapping if mapping is not None else existing.mapping
            for run in ordered:
                run.log = existing
                if hidden and _name(run.run) in hidden:
                    run.visible = False  # unticked in Sources, it stays so
            existing.runs = ordered
            self._recolor()
            if replace:
                self.data_updated.emit()
            else:
                self.changed.emit()
            return
        log = LoadedLog(
            path=path,
            data=data,
            mapping=mapping,
            stamp=stamp,
            watcher=watcher,
            store_url=self._store_urls.get(path),
            sweep=sweep,
        )
        for run in ordered:
            run.log = log
        log.runs = ordered
        self.logs.append(log)
        self._recolor()
        self.changed.emit()
        if not any(r.run.find("loss") or r.run.find("lr") for r in ordered):
            self.needs_mapping.emit(str(path))

    def _on_loader_done(self, paths: list[Path], announced: bool = True) -> None:
        # Called once the loader's thread has really ended (the jobs runner releases it):
        # releasing it any earlier raced the thread's end and could abort the app on exit.
        self.announced -= announced
        for path in paths:
            self._reloading.discard(path)
        if not self.jobs.busy:
            self.busy.emit(False)

    def recolor(self) -> None:
        """Colour the runs again (the theme changed the colour map) and redraw them."""
        self._recolor()
        self.changed.emit()

    def _recolor(self) -> None:
        """Runs with a known λ take the λ colour map; the others take distinct hues."""
        runs = self.all_runs()
        with_lr = [r for r in runs if r.lr is not None]
        if len(with_lr) >= 2:
            lrs = np.array([r.lr for r in with_lr])
            if len(with_lr) > COLOR_LEVELS:
                # A big study: its trials share COLOR_LEVELS colours (10,000 QColors cost the
                # GUI thread ~0.1 s; neighbouring levels look the same).
                palette = [QColor(*c) for c in lr_palette(COLOR_LEVELS)]
                levels = np.rint(lr_positions(lrs) * (COLOR_LEVELS - 1)).astype(int)
                colors = [palette[k] for k in levels.tolist()]
            else:
                colors = lr_colors(lrs)
            for run, color in zip(with_lr, colors, strict=True):
                run.color = color
            others = [r for r in runs if r.lr is None]
        else:
            others = runs
        for i, run in enumerate(others):
            run.color = QColor(CATEGORICAL[i % len(CATEGORICAL)])


_NO_COLOR = QColor()  # until _recolor gives each run its own


def _close_watcher(log: LoadedLog) -> None:
    """A log read in a child process lets it go (its data stays)."""
    close = getattr(log.watcher, "close", None)
    if close is not None:
        close()


def _source_name(source) -> str:
    """A log's file name, or a store's URL with its password hidden."""
    from lrviz.stores.locate import hide_password

    text = str(source)
    if "://" not in text:
        return Path(text).name or text
    return hide_password(text)


def _stamp_bytes(stamp: tuple) -> int:
    """The bytes a :func:`file_stamp` counts: a file's size, or a folder's files' sizes."""
    if len(stamp) == 2 and isinstance(stamp[0], int):
        return stamp[0]
    return sum(part[1] for part in stamp)


def _source_key(path) -> str:
    text = str(path)
    return text if "://" in text else os.path.abspath(text)


_NUMBER = re.compile(r"(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def _natural_key(name: str) -> tuple:
    """Numbers compare as numbers (lr_1e-05 < lr_0.001 < lr_10; trial_2 < trial_10)."""
    parts: list = []
    at = 0
    for match in _NUMBER.finditer(name):
        parts.append((0, name[at : match.start()].lower(), 0.0))
        try:
            parts.append((1, "", float(match.group())))
        except ValueError:
            parts.append((0, match.group(), 0.0))
        at = match.end()
    parts.append((0, name[at:].lower(), 0.0))
    return tuple(parts)


def _natural_order(runs) -> list:
    """Runs in natural order of their names (sweep folders sorted as text put lr_1e-05 after
    lr_10)."""
    return sorted(runs, key=lambda run: _natural_key(_name(run)))


def _name(run) -> str:
    return getattr(run, "name", "")

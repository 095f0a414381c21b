"""Watching a log that is still being written (the UI polls; no threads, no Qt).

CSV and JSON-lines files are read incrementally: each :meth:`LogWatcher.poll` reads only the
bytes appended since the last one. Before taking them it checks that the file is still the one
read (same identity, not shorter, and the bytes already read unchanged: see
:class:`~lrviz.loaders.prefix.ReadPrefix`); a file truncated and rewritten by a restarted
training, or rewritten with a new header by Lightning >= 2.2 when a column appears, is read
again from its start. Other formats (and UTF-16 text, and old Mac files whose lines end in a
CR alone) are re-read whole when they change.

A row is shown only once its line has ended: a CSV line without its line end may be a number
cut short (``100193`` of ``1001939.0``). The one exception is the last line of a file nobody
has written to for :data:`SETTLED_SECONDS` (a finished file without a final newline, as W&B
exports are), which :func:`~lrviz.loaders.load` reads too. A JSON-lines record that parses is
whole (its closing brace is its last character) and is shown at once.

The first poll decides the format with the same :func:`~lrviz.loaders.detect.detect` as
:func:`~lrviz.loaders.load`, so the app (which opens every log through a watcher) and the
command line agree.
"""

from __future__ import annotations

import os
import time

import numpy as np

from lrviz.errors import LrvizError
from lrviz.loaders import detect
from lrviz.loaders.csvread import CsvReader, Dialect, sniff
from lrviz.loaders.fileio import (
    HEAD_BYTES,
    MAX_LINE_BYTES,
    Head,
    cannot_read,
    open_regular,
    read_all,
    read_head,
)
from lrviz.loaders.files import build_csv, build_json_lines, json_lines_store, load_file
from lrviz.loaders.jsonstream import iter_json_lines
from lrviz.loaders.model import ColumnMapping, LogData
from lrviz.loaders.prefix import ReadPrefix
from lrviz.loaders.records import RecordColumns, loads

#: A last line without a line end is shown once the file has not changed for this long.
SETTLED_SECONDS = 30.0


def _signature(path: str):
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def _first_line_ended(head: Head) -> bool:
    body = head.text.lstrip()
    return b"\n" in body or b"\r" in body


def _check_line_lengths(data: bytes, path: str, first_line: int) -> None:
    """Refuse a line longer than the readers take (as :func:`~lrviz.loaders.load` does)."""
    if len(data) <= MAX_LINE_BYTES or not _may_hold_a_long_line(data):
        return
    ends = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 10)
    bounds = np.concatenate(([-1], ends, [len(data)]))
    long = np.flatnonzero(np.diff(bounds) - 1 > MAX_LINE_BYTES)
    if long.size:
        line = first_line + int(long[0])
        raise LrvizError(f"line longer than {MAX_LINE_BYTES >> 20} MB: not a log", path, line)


def _may_hold_a_long_line(data: bytes) -> bool:
    """False when no line of ``data`` can be longer than :data:`MAX_LINE_BYTES`: every
    aligned block of half that size holds a line end (a longer line would hold a whole block
    without one). Each block's search stops at its first line end, so a log's 480 MB are
    looked at in microseconds; marking every line end, as the exact check does, took 1.7 s."""
    block = MAX_LINE_BYTES // 2
    starts = range(0, len(data) - block + 1, block)
    return any(data.find(b"\n", at, at + block) < 0 for at in starts)


class _FileWatcher:
    """Incremental reader of one file."""

    def __init__(self, path: str, mapping: ColumnMapping | None) -> None:
        self.path = path
        self.mapping = mapping
        self.data: LogData | None = None
        #: The last error of a poll (a folder watcher skips the file and says why).
        self.error: LrvizError | None = None
        self._sig = None
        self._prefix = ReadPrefix()
        self._reset()

    def _reset(self) -> None:
        self._kind: str | None = None
        self._waited = False  # the first line was held back (see waiting)
        self._format: str | None = None
        self._offset = 0
        self._line = 1
        self._tail = b""
        self._shown_tail = b""
        self._mtime = 0.0
        self._dialect: Dialect | None = None
        self._reader: CsvReader | None = None
        self._records: RecordColumns | None = None
        self._prefix.reset()

    @property
    def waiting(self) -> bool:
        """True while a line that has not ended is held back (a first line being written, or
        a last line without its line end): polling again shows it once it has settled,
        even if the file does not change any more."""
        if self._kind == "delimited":
            return bool(self._tail.strip()) and not self._shown_tail
        return self._kind is None and self._sig is None and self._waited

    def poll(self) -> bool:
        try:
            changed = self._poll()
        except LrvizError as exc:
            self.error = exc  # kept until the file changes and reads
            raise
        except OSError as exc:  # a read that failed half-way (I/O error, file gone)
            self.error = cannot_read(exc, self.path)
            raise self.error from None
        if changed:
            self.error = None
        return changed

    def _poll(self) -> bool:
        sig = _signature(self.path)
        if sig is None:
            return False
        if sig == self._sig:
            return self._tail_settled()
        self._sig = sig
        try:
            with open_regular(self.path) as f:
                st = os.fstat(f.fileno())
                if self._kind is None:
                    return self._start(f, st)
                if self._kind == "whole":
                    return self._reload_whole()
                if not self._prefix.same_file(st):
                    had = self.data is not None
                    self._reset()
                    return self._start(f, st) or had  # replaced, or cut below what was read
                return self._append(f, st)
        except LrvizError:
            if self._kind in ("delimited", "json-lines") and (
                self._reader is None and self._records is None
            ):
                self._reset()  # a start that failed half-way: from scratch when it changes
            raise

    # -- start / whole-file ------------------------------------------------------------

    def _start(self, f, st: os.stat_result) -> bool:
        f.seek(0)
        head = read_head(f, self.path)
        if not head.text.strip():
            changed = self.data is not None
            self.data = None
            return changed
        kind = detect.sniff_kind(head, os.path.basename(self.path))
        # A first line without its line end is still being written, unless nobody has
        # written for a while (then it is read as load() reads it, errors included).
        writing = not (_first_line_ended(head) or head.line_cut or kind == "events")
        writing = writing and time.time() - st.st_mtime < SETTLED_SECONDS
        old_mac = b"\n" not in head.text and b"\r" in head.text  # lines end in CR alone
        if kind in ("events", "json-document") or head.encoding != "utf-8" or old_mac:
            self._kind = "whole"
            if not writing:
                return self._reload_whole()
            try:  # a minified document is one line: whole once it parses
                return self._reload_whole()
            except LrvizError:
                self._reset()
                return self._wait()
        if writing:
            if b"\x00" in head.text[:65536]:
                raise LrvizError("binary file, not a text log", self.path)  # not being typed
            return self._wait()
        self._format = detect.detect(self.path, head)  # what load() decides, and its errors
        self._kind = kind
        if kind == "delimited":
            dialect = sniff(head.raw, self.path)
            self._dialect = dialect
            self._reader = CsvReader(dialect, self.path)
            self._offset = dialect.body_offset
            self._line = dialect.header_line + 1 if dialect.header_line else 1
            f.seek(0)
            self._prefix.extend(f.read(dialect.body_offset), st)
        else:
            self._records = json_lines_store()
            self._prefix.extend(b"", st)
        self._append(f, st, fresh=True)
        return True

    def _wait(self) -> bool:
        """The first line is not complete yet: nothing to show; look again next time."""
        self._sig = None
        self._waited = True
        changed = self.data is not None
        self.data = None  # (after a rewrite: the old rows are gone)
        return changed

    def _reload_whole(self) -> bool:
        try:
            self.data = load_file(self.path, self.mapping)
        except LrvizError:
            if self.data is None:
                raise
            self._sig = None  # probably caught mid-write: keep what we had, retry
            return False
        return True

    # -- appended bytes ------------------------------------------------------------------

    def _append(self, f, st: os.stat_result, fresh: bool = False) -> bool:
        f.seek(self._offset)
        new = read_all(f, self.path)
        if not fresh and not self._prefix.still_holds(f):
            # Rewritten in place (a restarted training, Lightning's new header): the bytes
            # read before are gone; read the file again from its start.
            self._reset()
            self._start(f, st)
            return True
        cut = new.rfind(b"\n") + 1
        complete, tail = new[:cut], new[cut:]
        _check_line_lengths(new, self.path, self._line)
        if complete:
            if self._kind == "delimited":
                before = self._reader.line
                self._reader.feed(complete)
                self._line += self._reader.line - before  # the lines it counted (once)
            else:
                self._add_records(complete)
                if self._offset < HEAD_BYTES:
                    self._detect_again(f)
                self._line += complete.count(b"\n")
            self._offset += len(complete)
            self._prefix.extend(complete, st)
        self._tail = tail
        self._mtime = st.st_mtime
        shown = self._showable_tail()
        changed = bool(complete) or shown != self._shown_tail
        self._shown_tail = shown
        if changed or self.data is None:
            self._rebuild()
        return changed

    def _detect_again(self, f) -> None:
        """A JSON-lines format is told from the records of the first 64 KB (detectron2's
        ``iteration`` may first appear in the third line): decide again, as load() would, until
        those have all been read."""
        f.seek(0)
        try:
            self._format = detect.detect(self.path, read_head(f, self.path))
        except LrvizError:
            pass  # the records so far do not tell yet: keep the first decision

    def _showable_tail(self) -> bytes:
        """The unterminated last line, when it may be shown (see the module docstring)."""
        if not self._tail.strip():
            return b""
        if self._kind == "json-lines":
            return self._tail  # shown when it parses: see _rebuild
        settled = time.time() - self._mtime >= SETTLED_SECONDS
        return self._tail if settled else b""

    def _tail_settled(self) -> bool:
        """Nothing changed on disk; True when the waiting last line has now settled."""
        if self._kind != "delimited" or self._shown_tail or not self._tail.strip():
            return False
        shown = self._showable_tail()
        if not shown:
            return False
        self._shown_tail = shown
        self._rebuild()
        return True

    def _add_records(self, data: bytes) -> None:
        # All or nothing: a bad line raises before any record of ``data`` is kept, so that
        # reading the same bytes again (once the file changes) cannot add a record twice.
        records = [
            record
            for _, record in iter_json_lines(
                [data], self.path, first_line=self._line, last_may_be_cut=False
            )
        ]
        for record in records:
            self._records.add(record)

    def _rebuild(self) -> None:
        if self._kind == "delimited":
            table = self._reader.table(self._shown_tail)
            self.data = build_csv(self._format, table, self.path, self.mapping)
            return
        store = self._records
        mark = store.mark()
        if self._shown_tail.strip():
            try:
                obj = loads(self._shown_tail.decode("utf-8", "replace").strip())
            except LrvizError:
                obj = None  # cut off mid-line
            if isinstance(obj, dict):
                store.add(obj)
        try:
            if not store.nrows:
                self.data = None
                return
            self.data = build_json_lines(self._format, store, self.path, self.mapping)
        finally:
            store.rollback(mark)


class LogWatcher:
    """Follow a log file or folder that is still growing.

    Parameters
    ----------
    path : str or PathLike
        A log file or a folder (as accepted by :func:`lrviz.loaders.load`).
    mapping : ColumnMapping, optional

    Examples
    --------
    >>> w = LogWatcher("lightning_logs/version_0/metrics.csv")   # doctest: +SKIP
    >>> if w.poll():                                               # doctest: +SKIP
    ...     redraw(w.data)

    Notes
    -----
    Call :meth:`poll` from a timer (e.g. once a second). It stats the file(s) and reads only
    new bytes; it raises :class:`~lrviz.errors.LrvizError` when new content is malformed. In a
    folder, a file that cannot be read is left out (listed in ``data.skipped``) while the
    others are followed; the error is raised only when no file can be read.
    """

    def __init__(self, path: str | os.PathLike, mapping: ColumnMapping | None = None) -> None:
        self.path = os.fspath(path)
        self.mapping = mapping
        self._files: dict[str, _FileWatcher] = {}
        self._data: LogData | None = None
        self._plan_key = None
        self._events: dict = {}
        self._plugins: dict = {}

    @property
    def data(self) -> LogData | None:
        """What has been read so far (None before the first successful :meth:`poll`)."""
        return self._data

    @property
    def waiting(self) -> bool:
        """True while a line that has not ended is held back: keep polling, even while the
        file(s) do not change, and it is shown once it has settled (:data:`SETTLED_SECONDS`)."""
        return any(w.waiting for w in self._files.values())

    def poll(self) -> bool:
        """Read what changed since the last call.

        Returns
        -------
        bool
            True when :attr:`data` changed (the first successful call always returns True).
        """
        if os.path.isdir(self.path):
            return self._poll_folder()
        w = self._files.get(self.path)
        if w is None:
            w = self._files[self.path] = _FileWatcher(self.path, self.mapping)
        changed = w.poll()
        if changed:
            self._data = w.data
        return changed

    def _poll_folder(self) -> bool:
        from lrviz.loaders.folder import assemble, discover, nothing_found

        plan = discover(self.path, allow_empty=True)
        if not plan.items and not plan.single_files:
            if plan.skipped:
                raise nothing_found(plan.root, plan.skipped)  # a pipe stays a pipe
            return False  # nothing written yet
        files = [f for item in plan.items for f in item.files] + list(plan.single_files)
        key = (plan.format, tuple(files), tuple(item.name for item in plan.items))
        changed = key != self._plan_key
        self._plan_key = key
        if plan.format == "tensorboard-dir":
            return self._poll_events(plan, changed)
        for f in files:
            w = self._files.get(f)
            if w is None:
                w = self._files[f] = _FileWatcher(f, self.mapping)
            try:
                changed = w.poll() or changed
            except LrvizError:
                changed = True  # kept in w.error: the folder lists it as skipped
        for f in list(self._files):
            if f not in files:
                del self._files[f]
        if not (changed or self._data is None):
            return False
        pending: set[str] = set()

        def read(p: str) -> LogData:
            w = self._files[p]
            if w.error is not None:
                raise w.error
            if w.data is None:
                pending.add(p)  # nothing readable yet (empty, first line still being written)
                return LogData("csv", [], p)
            return w.data

        data = assemble(plan, read)
        if not data.runs and pending:
            return False
        self._data = data
        return True

    def _poll_events(self, plan, changed: bool) -> bool:
        from lrviz.loaders import tfevents

        skipped = list(plan.skipped)
        runs = []
        first_error = None
        for item in plan.items:
            plugins = self._plugins.setdefault(item.name, {})
            files = []
            for f in tfevents.sort_files(item.files):
                tail = self._events.get(f)
                if tail is None:
                    tail = self._events[f] = tfevents.EventTail(f, plugins)
                try:
                    changed = tail.poll() or changed
                except OSError as exc:
                    skipped.append(str(cannot_read(exc, f)))
                    first_error = first_error or cannot_read(exc, f)
                    continue
                except LrvizError as exc:
                    skipped.append(str(exc))
                    first_error = first_error or exc
                    continue
                files.append(tail.events)
            if files:
                runs.append(
                    tfevents.run_from_event_files(files, item.name, os.path.dirname(item.files[0]))
                )
        if not runs and first_error is not None:
            raise first_error
        if changed or self._data is None:
            self._data = LogData(plan.format, runs, plan.root, skipped)
            return True
        return False

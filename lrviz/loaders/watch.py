"""Watching a log that is still being written (the UI polls; no threads, no Qt).

CSV and JSON-lines files are read incrementally: each :meth:`LogWatcher.poll` reads only the
bytes appended since the last one, keeps a partial last line for next time, and starts over when
the file shrank, was replaced, or its header changed (Lightning >= 2.2 rewrites ``metrics.csv``
with a new header when a column appears). Other formats are re-read whole when they change.
"""

from __future__ import annotations

import os

import numpy as np

from lrviz.errors import LrvizError
from lrviz.loaders import csvread, detect
from lrviz.loaders.csvread import CsvReader, Dialect, Table, sniff
from lrviz.loaders.files import build_csv, build_json_lines, load_file
from lrviz.loaders.model import ColumnMapping, LogData
from lrviz.loaders.records import loads
from lrviz.loaders.text import decode


def _signature(path: str):
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def _whole_json(head: bytes) -> bool:
    """True when ``head`` is one complete JSON document (a minified file without newline)."""
    if len(head) >= detect.HEAD_BYTES or head.lstrip()[:1] not in (b"{", b"["):
        return False
    try:
        loads(head.decode("utf-8", "replace"))
    except LrvizError:
        return False
    return True


def concat_tables(a: Table, b: Table) -> Table:
    """Rows of ``a`` followed by rows of ``b`` (same column names)."""
    if b.nrows == 0:
        return a
    out = Table(names=list(a.names), nrows=a.nrows + b.nrows, segments=list(a.segments))
    out.segments += [a.nrows + s for s in b.segments]
    for name in a.names:
        if name not in a.values and name not in b.values:
            continue
        va, pa = _column_or_missing(a, name)
        vb, pb = _column_or_missing(b, name)
        out.values[name] = np.concatenate([va, vb])
        out.present[name] = (
            None
            if pa is None and pb is None
            else np.concatenate(
                [
                    np.ones(a.nrows, bool) if pa is None else pa,
                    np.ones(b.nrows, bool) if pb is None else pb,
                ]
            )
        )
    return out


def _column_or_missing(t: Table, name: str):
    if name in t.values:
        return t.values[name], t.present[name]
    return np.full(t.nrows, np.nan), np.zeros(t.nrows, dtype=bool)


class _FileWatcher:
    """Incremental reader of one file."""

    def __init__(self, path: str, mapping: ColumnMapping | None) -> None:
        self.path = path
        self.mapping = mapping
        self.data: LogData | None = None
        self._sig = None
        self._reset()

    def _reset(self) -> None:
        self._kind = None
        self._format = None
        self._offset = 0
        self._line = 1
        self._tail = b""
        self._header = b""
        self._dialect: Dialect | None = None
        self._reader: CsvReader | None = None
        self._base: Table | None = None  # a large first read done by pandas
        self._records: list[dict] = []

    def poll(self) -> bool:
        sig = _signature(self.path)
        if sig is None or sig == self._sig:
            return False
        old_sig = self._sig
        self._sig = sig
        size = sig[1]
        if self._kind is None or old_sig is None or sig[0] != old_sig[0] or size < self._offset:
            self._reset()
            return self._start()
        if self._kind == "delimited":
            with open(self.path, "rb") as f:
                if f.read(len(self._header)) != self._header:
                    self._reset()
                    return self._start()
        if self._kind in ("delimited", "json-lines"):
            return self._append()
        return self._reload_whole()

    # -- start / whole-file ------------------------------------------------------------

    def _start(self) -> bool:
        with open(self.path, "rb") as f:
            head = f.read(detect.HEAD_BYTES)
        if not head.strip():
            changed = self.data is not None
            self.data = None
            return changed
        kind = detect.sniff_kind(head, os.path.basename(self.path))
        if kind != "events" and b"\n" not in head and not _whole_json(head):
            self._sig = None  # first line not complete yet: look again next time
            return False
        if kind == "delimited":
            dialect = sniff(head, self.path)
            self._kind = kind
            self._format = detect.csv_format(dialect)
            self._dialect = dialect
            self._header = head[: dialect.body_offset]
            self._reader = CsvReader(dialect, self.path)
            self._offset = dialect.body_offset
            self._line = dialect.header_line + 1 if dialect.header_line else 1
            self._first_read_with_pandas(dialect)
            self._append()
            return True
        if kind == "json-lines":
            self._kind = kind
            self._offset = 0
            self._line = 1
            self._append()
            return True
        self._kind = "whole"
        return self._reload_whole()

    def _reload_whole(self) -> bool:
        try:
            self.data = load_file(self.path, self.mapping)
        except LrvizError:
            if self.data is None:
                raise
            self._sig = None  # probably caught mid-write: keep what we had, retry
            return False
        return True

    def _first_read_with_pandas(self, dialect: Dialect) -> None:
        """Read a large log's complete lines with the pandas fast path; later appends go
        through the incremental reader and are joined to it."""
        if os.path.getsize(self.path) < csvread.PANDAS_MIN_BYTES:
            return
        with open(self.path, "rb") as f:
            data = f.read()
        cut = data.rfind(b"\n") + 1
        if cut <= dialect.body_offset:
            return
        base = csvread.read_complete_with_pandas(self.path, dialect, data[:cut])
        if base is not None:
            self._base = base
            self._line += data.count(b"\n", dialect.body_offset, cut)
            self._offset = cut

    # -- appended bytes ------------------------------------------------------------------

    def _append(self) -> bool:
        with open(self.path, "rb") as f:
            f.seek(self._offset)
            new = f.read()
        cut = new.rfind(b"\n") + 1
        complete, tail = new[:cut], new[cut:]
        changed = bool(complete) or tail != self._tail
        if complete:
            if self._kind == "delimited":
                self._reader.feed(complete)
            else:
                self._add_records(complete)
            self._offset += len(complete)
            self._line += complete.count(b"\n")
        self._tail = tail
        if changed or self.data is None:
            self._rebuild()
        return changed

    def _add_records(self, data: bytes) -> None:
        for i, line in enumerate(decode(data, self.path).split("\n")):
            s = line.strip()
            if s:
                obj = loads(s, self.path, self._line + i)
                if isinstance(obj, dict):
                    self._records.append(obj)

    def _rebuild(self) -> None:
        if self._kind == "delimited":
            table = self._reader.table()
            if self._base is not None:
                table = concat_tables(self._base, table) if table.nrows else self._base
            if self._tail.strip():
                extra = CsvReader(self._dialect, self.path, line=self._line)
                extra.feed_final(self._tail)
                table = concat_tables(table, extra.table())
            self.data = build_csv(self._format, table, self.path, self.mapping)
            return
        records = list(self._records)
        if self._tail.strip():
            try:
                obj = loads(self._tail.decode("utf-8", "replace").strip(), self.path, self._line)
            except LrvizError:
                obj = None  # cut off mid-line
            if isinstance(obj, dict):
                records.append(obj)
        if not records:
            self.data = None
            return
        if self._format is None:
            self._format = detect.json_lines_format(records, self.path)
        self.data = build_json_lines(self._format, records, self.path, self.mapping)


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
    new bytes; it raises :class:`~lrviz.errors.LrvizError` when new content is malformed.
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
        from lrviz.loaders import tfevents
        from lrviz.loaders.folder import assemble, discover

        plan = discover(self.path, allow_empty=True)
        if not plan.items and not plan.single_files:
            return False  # nothing written yet
        files = [f for item in plan.items for f in item.files] + list(plan.single_files)
        key = (plan.format, tuple(files), tuple(item.name for item in plan.items))
        changed = key != self._plan_key
        self._plan_key = key
        if plan.format == "tensorboard-dir":
            for item in plan.items:
                plugins = self._plugins.setdefault(item.name, {})
                for f in item.files:
                    tail = self._events.get(f)
                    if tail is None:
                        tail = self._events[f] = tfevents.EventTail(f, plugins)
                    changed = tail.poll() or changed
            if changed or self._data is None:
                runs = [
                    tfevents.run_from_event_files(
                        [self._events[f].events for f in tfevents.sort_files(item.files)],
                        item.name,
                        os.path.dirname(item.files[0]),
                    )
                    for item in plan.items
                ]
                self._data = LogData(plan.format, runs, plan.root)
                return True
            return False
        for f in files:
            w = self._files.get(f)
            if w is None:
                w = self._files[f] = _FileWatcher(f, self.mapping)
            changed = w.poll() or changed
        for f in list(self._files):
            if f not in files:
                del self._files[f]
        if changed or self._data is None:

            def read(p: str) -> LogData:
                data = self._files[p].data
                return data if data is not None else LogData("csv", [], p)

            self._data = assemble(plan, read)
            return True
        return False

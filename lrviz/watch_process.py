"""A big log or a store read and followed in a child process, its data handed back in pieces.

Reading a 10,000,000-row CSV on a thread of the app froze the window for up to 300 ms at a
time: pandas' parser, the joining of its chunks and the loaders' byte counts are C calls that
hold the interpreter lock the GUI thread needs (docs/benchmarks.md, "Window responsiveness").
In a child process they hold the child's own lock. The parent's thread only waits on a pipe
(which holds no lock) and takes the result in pieces that each hold the lock for about a
millisecond: the runs a few hundred at a time, each big array in 1 MB pieces written into
memory the array then uses as it is (pickle protocol 5's out-of-band buffers, no copy).

:class:`ChildWatcher` answers what the app asks of a :class:`~lrviz.loaders.LogWatcher`
(``poll() -> changed``, ``data``, ``waiting``); the watcher itself (a ``LogWatcher``, or a
:class:`~lrviz.stores.StoreWatcher` for a store) lives in the child, with all its state, so a
live log is still read incrementally there and its guarantees (no row lost or shown twice)
are the watcher's own. The child starts on the first poll and ends with :meth:`close`, when
the watcher is garbage-collected, or with the app; a child that died is started again by the
next poll, which then reads everything afresh.
"""

from __future__ import annotations

import dataclasses
import io
import multiprocessing
import os
import pickle
import threading
import weakref

import numpy as np

from .errors import LrvizError
from .loaders.model import Run, Series

#: Files at least this big are read in a child (a child costs ~0.5 s to start and import
#: the loaders; smaller files parse in less than that).
CHILD_BYTES = 32 << 20
#: Bytes of an array sent in one message.
PIECE_BYTES = 1 << 20
#: Arrays at least this big travel out of band, in pieces; smaller ones inside the pickle.
OUT_OF_BAND_BYTES = 64 << 10
#: A live log's new rows are sent alone (not the whole log again) once its series hold at
#: least this many bytes: a 10M-point log sent 240 MB on every change.
APPEND_BYTES = 1 << 20
#: Runs unpickled in one piece (a few ms of interpreter lock each).
RUNS_PER_MESSAGE = 200
#: How much lower the child's priority is than the app's: on a busy machine the window's
#: thread, which needs a core for a moment every few ms, is served before the parse (on
#: Linux, nice only orders the processes of one session, the app and its child).
CHILD_NICENESS = 10
#: Seconds to wait for a killed child to be reaped.
REAP_SECONDS = 2.0


def wants_child(size_bytes: int, store: bool) -> bool:
    """Read in a child: every store (Optuna's and SQLAlchemy's decoding of 10,000 trials
    held the lock for tens of ms at a time), and files of :data:`CHILD_BYTES` or more."""
    return store or size_bytes >= CHILD_BYTES


class ChildWatcher:
    """A :class:`~lrviz.loaders.LogWatcher` (``store=False``: ``target`` is a path, with
    ``mapping``) or :class:`~lrviz.stores.StoreWatcher` (``store=True``: a URL or path) that
    runs in a child process. Poll it from one thread at a time (a lock makes others wait)."""

    def __init__(self, target: str | os.PathLike, mapping=None, store: bool = False) -> None:
        self.target = os.fspath(target)
        self.mapping = mapping
        self.store = store
        self.data = None  # what the child read (a LogData / StoreData), None before
        self.waiting = False  # a line held back until it ends or settles (LogWatcher's)
        self._conn = None
        self._process = None
        self._lock = threading.Lock()
        self._finalizer = None
        #: which of the child's sends :attr:`data` is (the child's pid and its count), so
        #: that the child sends only what was appended to it (see _serve)
        self._holding = None
        #: Told how a poll goes, on the polling thread: ``progress(stage, fraction)``, stage
        #: ``"reading"`` (the child reads; fraction None) then ``"taking in"`` (its data
        #: arrives; the fraction received, 0 to 1). None: not told.
        self.progress = None

    def poll(self) -> bool:
        """Ask the child to poll its watcher; True when :attr:`data` changed. Raises
        :class:`~lrviz.errors.LrvizError` as the watcher does (and when the child died)."""
        with self._lock:
            if self._process is None or not self._process.is_alive():
                self._start()
            try:
                self._tell("reading", None)
                self._conn.send(("poll", self._holding))
                reply = self._conn.recv()
                if reply[0] == "error":
                    raise LrvizError(*reply[1:])
                _, changed, self.waiting, has_data, sent, appended = reply
                if changed:
                    self._holding = None
                    told = lambda done: self._tell("taking in", done)  # noqa: E731
                    if not has_data:
                        self.data = None
                    elif appended:
                        self.data = receive_appended(self._conn, self.data, told)
                    else:
                        self.data = receive_data(self._conn, told)
                    self._holding = sent
                return changed
            except (EOFError, OSError) as exc:
                code = self._process.exitcode if self._process is not None else None
                self._stop()
                raise LrvizError(
                    f"the process reading it ended unexpectedly (exit code {code}); "
                    "it is read again on the next poll",
                    self.target,
                ) from exc

    def close(self) -> None:
        """End the child (what it read stays in :attr:`data`). Never waits for a poll in
        progress: that poll ends with an error instead."""
        if self._lock.acquire(blocking=False):
            try:
                self._stop()
            finally:
                self._lock.release()
        else:
            process = self._process
            if process is not None and process.is_alive():
                process.kill()  # the polling thread sees the pipe close, and reaps it

    def _tell(self, stage: str, fraction: float | None) -> None:
        if self.progress is not None:
            self.progress(stage, fraction)

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.is_alive()

    def _start(self) -> None:
        self._stop()
        # spawn, not fork: the parent is a GUI with threads (see lrviz.engine_process).
        context = multiprocessing.get_context("spawn")
        self._conn, child_end = context.Pipe()
        self._process = context.Process(
            target=_serve,
            args=(child_end, self.target, self.mapping, self.store),
            name="lrviz-reader",
            daemon=True,
        )
        self._process.start()
        child_end.close()
        self._finalizer = weakref.finalize(self, _end, self._process, self._conn)

    def _stop(self) -> None:
        if self._finalizer is not None:
            self._finalizer()  # kills and reaps the child, once
            self._finalizer = None
        self._process = self._conn = None


def _end(process, conn) -> None:
    if process.is_alive():
        process.kill()
    process.join(REAP_SECONDS)
    conn.close()


def _serve(conn, target: str, mapping, store: bool) -> None:
    """The child: a watcher, polled each time the parent asks."""
    try:
        # A session of its own: Linux's scheduler shares the cores between sessions first,
        # so the parse no longer spends the app's share, which the window's thread needs.
        os.setsid()
    except (AttributeError, OSError):  # not on this system: as it is
        pass
    try:
        os.nice(CHILD_NICENESS)
    except (AttributeError, OSError):  # no os.nice (Windows), or not allowed: as it is
        pass
    if not store:
        # pandas (~0.5 s to import) is imported while the file's bytes are being read: the
        # read waits on the disk without the interpreter lock, and the parse needs it next.
        threading.Thread(target=_import_the_parser, name="lrviz-import", daemon=True).start()
    if store:
        from lrviz.stores import StoreWatcher

        watcher = StoreWatcher(target)

        def poll() -> bool:
            return bool(watcher.poll())

    else:
        from lrviz.loaders import LogWatcher

        watcher = LogWatcher(target, mapping)
        poll = watcher.poll
    sent = None  # the data last sent, and its number (a live log's next send is its tail)
    count = 0
    try:
        while True:
            request = conn.recv()
            if not (isinstance(request, tuple) and request[0] == "poll"):
                return
            try:
                changed = poll()
            except LrvizError as exc:
                conn.send(("error", exc.message, exc.path, exc.line, exc.column))
                continue
            except OSError as exc:
                conn.send(("error", exc.strerror or str(exc), target, None, None))
                continue
            except Exception as exc:  # shown as the log's error, in one line
                conn.send(("error", f"{type(exc).__name__}: {exc}", target, None, None))
                continue
            data = watcher.data
            waiting = bool(getattr(watcher, "waiting", False))
            starts = None
            if changed and data is not None and sent is not None and request[1] == sent[1]:
                starts = appended_from(sent[0], data)  # the parent holds what was sent last
            if changed:
                count += 1
                sent = (_as_sent(data), (os.getpid(), count)) if data is not None else None
            token = sent[1] if sent is not None else None
            conn.send(("polled", changed, waiting, data is not None, token, starts is not None))
            if changed and data is not None:
                if starts is None:
                    send_data(conn, data)
                else:
                    send_appended(conn, data, starts)
    except (EOFError, BrokenPipeError, KeyboardInterrupt):
        return  # the parent has gone, or closed the pipe


def _import_the_parser() -> None:
    try:
        import pandas  # noqa: F401
    except ImportError:  # the loaders say so when they need it
        pass


def send_data(conn, data) -> None:
    """Send a LogData (or StoreData) as :func:`receive_data` takes it: the log without its
    runs, then its runs :data:`RUNS_PER_MESSAGE` at a time, each group's big arrays in
    pieces of :data:`PIECE_BYTES`."""
    runs = list(data.runs)
    shell = dataclasses.replace(data, runs=[])
    groups = range(0, len(runs), RUNS_PER_MESSAGE)
    conn.send_bytes(pickle.dumps((shell, len(groups), _array_bytes(runs)), protocol=5))
    for start in groups:
        buffers: list[pickle.PickleBuffer] = []
        out = io.BytesIO()
        _RunsPickler(
            out, protocol=5, buffer_callback=lambda b, into=buffers: _in_band(b, into)
        ).dump(runs[start : start + RUNS_PER_MESSAGE])
        payload = out.getvalue()
        raws = [b.raw() for b in buffers]
        conn.send((payload, [r.nbytes for r in raws]))
        for raw in raws:
            for at in range(0, raw.nbytes, PIECE_BYTES):
                conn.send_bytes(raw[at : at + PIECE_BYTES])


class _RunsPickler(pickle.Pickler):
    """Protocol 5, with the arrays below :data:`OUT_OF_BAND_BYTES` as their bytes: numpy's
    own in-band pickle unpickles each onto a memoryview of a bytearray, two more objects the
    cycle collector tracks (78,000 of a 10,000-trial study's 137,000: the first collections
    after it arrived walked them all, 30-45 ms each on the GUI thread)."""

    def reducer_override(self, obj):
        if type(obj) is np.ndarray and obj.nbytes < OUT_OF_BAND_BYTES:
            return _owned_array, (obj.tobytes(), obj.dtype.str, obj.shape)
        if type(obj) is Series and vars(obj).keys() == _SERIES_FIELDS:
            # Made by its constructor: unpickled the usual way, each series' and run's
            # attributes became a dict of its own (another 19,500 tracked objects).
            return Series, (obj.name, obj.role, obj.x_axis, obj.x, obj.y)
        if type(obj) is Run and vars(obj).keys() == _RUN_FIELDS:
            return Run, (obj.name, obj.params, obj.series, obj.source, obj.main)
        return NotImplemented


_SERIES_FIELDS = {f.name for f in dataclasses.fields(Series)}
_RUN_FIELDS = {f.name for f in dataclasses.fields(Run)}


def _owned_array(data: bytes, dtype: str, shape: tuple) -> np.ndarray:
    """An array of its own memory (no base object) holding ``data``, with numpy's own dtype
    instance (see :func:`lrviz.log_scene._float64`)."""
    return np.frombuffer(data, dtype=np.dtype(dtype)).reshape(shape).copy()


def _in_band(buffer: pickle.PickleBuffer, out_of_band: list) -> bool:
    """Small buffers go in the pickle (True); big ones are kept for the pieces."""
    if buffer.raw().nbytes < OUT_OF_BAND_BYTES:
        return True
    out_of_band.append(buffer)
    return False


def _as_sent(data):
    """What was sent, as it was: a watcher may reuse a run or series object and give it new
    arrays or parameters later, so the comparison of the next poll is with copies of the
    runs' and series' fields (the arrays themselves are never written to)."""
    return dataclasses.replace(
        data,
        runs=[
            Run(
                r.name,
                dict(r.params),
                [Series(s.name, s.role, s.x_axis, s.x, s.y) for s in r.series],
                r.source,
                dict(r.main),
            )
            for r in data.runs
        ],
    )


def appended_from(old, new) -> list[list[int]] | None:
    """Where each series of ``new`` stops being ``old``'s, when ``new`` is ``old`` with rows
    appended (a live log's poll): per run, per series, the index from which it is sent. The
    last row of ``old`` may have changed (a last line shown before it ended). None: send all
    of ``new`` (other runs or series, another log, or too little to be worth it)."""
    if old is None or type(old) is not type(new) or len(old.runs) != len(new.runs):
        return None
    if _array_bytes(old.runs) < APPEND_BYTES:
        return None
    starts = []
    for a, b in zip(old.runs, new.runs, strict=True):
        if (a.name, a.params, a.source, a.main) != (b.name, b.params, b.source, b.main):
            return None
        if [(s.name, s.role, s.x_axis) for s in a.series] != [
            (s.name, s.role, s.x_axis) for s in b.series
        ]:
            return None
        run_starts = []
        for sa, sb in zip(a.series, b.series, strict=True):
            n = len(sa)
            for k in (n, n - 1):
                if 0 <= k <= len(sb) and _same(sa, sb, k):
                    run_starts.append(k)
                    break
            else:
                return None
        starts.append(run_starts)
    return starts


def _same(a: Series, b: Series, k: int) -> bool:
    """The first ``k`` points of the two series are the same (NaN where NaN)."""
    return np.array_equal(a.x[:k], b.x[:k]) and np.array_equal(a.y[:k], b.y[:k], equal_nan=True)


def send_appended(conn, data, starts: list[list[int]]) -> None:
    """Send ``data`` as :func:`receive_appended` rebuilds it from what the parent holds: the
    log without its runs, then each series' points from ``starts`` on (in pieces)."""
    shell = dataclasses.replace(data, runs=[])
    tails = [
        [(k, len(s)) for s, k in zip(run.series, run_starts, strict=True)]
        for run, run_starts in zip(data.runs, starts, strict=True)
    ]
    conn.send_bytes(pickle.dumps((shell, tails), protocol=5))
    for run, run_starts in zip(data.runs, starts, strict=True):
        for s, k in zip(run.series, run_starts, strict=True):
            for values in (s.x, s.y):
                raw = memoryview(np.ascontiguousarray(values[k:])).cast("B")
                for at in range(0, raw.nbytes, PIECE_BYTES):
                    conn.send_bytes(raw[at : at + PIECE_BYTES])


def receive_appended(conn, previous, progress=None):
    """The LogData :func:`send_appended` sent: ``previous`` (what the parent holds, the data
    the child sent before) with each series' new points. Every series is a new array (the
    old one may still be drawn, or derived on a worker), copied a piece at a time."""
    shell, tails = pickle.loads(conn.recv_bytes())
    total = sum(8 * 2 * (n - k) for run in tails for k, n in run) or 1
    received = 0
    per_piece = PIECE_BYTES // 8
    runs = []
    for old, run_tails in zip(previous.runs, tails, strict=True):
        series = []
        for s, (k, n) in zip(old.series, run_tails, strict=True):
            arrays = []
            for values in (s.x, s.y):
                new = _grown(values, k, n)
                if new is None:
                    # A buffer with room to grow: the next appends write their rows after
                    # these, with no copy (copying 240 MB cost what sending it did).
                    buffer = np.empty(n + max(n // GROW_FRACTION, 1024), dtype=np.float64)
                    _growable[id(buffer)] = buffer
                    new = buffer[:n]
                    for at in range(0, k, per_piece):  # each piece a short hold of the lock
                        stop = min(k, at + per_piece)
                        new[at:stop] = values[at:stop]
                view = memoryview(new).cast("B")[8 * k :]
                at = 0
                while at < view.nbytes:
                    got = conn.recv_bytes_into(view[at:])
                    at += got
                    received += got
                    if progress is not None:
                        progress(min(1.0, received / total))
                arrays.append(new)
            series.append(Series(s.name, s.role, s.x_axis, *arrays))
        runs.append(Run(old.name, dict(old.params), series, old.source, dict(old.main)))
    if progress is not None:
        progress(1.0)
    shell.runs = runs
    return shell


#: Buffers :func:`receive_appended` made, by id: the series it rebuilds are the first rows
#: of one, and only it writes past them (a series' arrays are never written to).
_growable: weakref.WeakValueDictionary = weakref.WeakValueDictionary()
#: A buffer for a live log's series has room for 1/GROW_FRACTION more rows than it holds.
GROW_FRACTION = 8


def _grown(values: np.ndarray, k: int, n: int) -> np.ndarray | None:
    """``values`` (the first rows of a buffer made here) as the first ``n`` rows of that
    buffer, when the rows from ``k`` on can be written there without touching ``values``
    (which may still be drawn, or derived on a worker): None when they cannot."""
    base = values.base
    if base is None or _growable.get(id(base)) is not base:
        return None
    if k != values.size or n > base.size or values.ctypes.data != base.ctypes.data:
        return None
    return base[:n]


def _array_bytes(runs) -> int:
    """The bytes of the runs' series: about what the pieces carry (to say how far along)."""
    return sum(s.x.nbytes + s.y.nbytes for run in runs for s in getattr(run, "series", ()))


def receive_data(conn, progress=None):
    """The LogData :func:`send_data` sent, rebuilt in pieces that each hold the interpreter
    lock about a millisecond; ``progress(fraction)`` is told after each group of runs and
    each piece of a big array (fraction of the series' bytes received, at most 1)."""
    shell, groups, total = pickle.loads(conn.recv_bytes())
    runs = []
    received = 0  # bytes of the pieces, and of the groups' series once unpickled
    unpickled = 0

    def tell() -> None:
        if progress is not None:
            progress(min(1.0, received / total) if total else 1.0)

    tell()
    for _ in range(groups):
        payload, sizes = conn.recv()
        buffers = []
        for size in sizes:
            # np.empty, not bytearray: zero-filling 80 MB would hold the lock for ~20 ms.
            buffer = np.empty(size, dtype=np.uint8)
            view = memoryview(buffer)
            at = 0
            while at < size:
                got = conn.recv_bytes_into(view[at:])
                at += got
                received += got
                tell()
            buffers.append(buffer)
        group = pickle.loads(payload, buffers=buffers)
        unpickled += _array_bytes(group)
        received = max(received, unpickled)
        runs.extend(group)
        tell()
    shell.runs = runs
    return shell

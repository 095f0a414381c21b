"""TensorBoard event files (``events.out.tfevents.*``): scalars only, no TensorFlow needed.

A minimal protobuf reader walks ``Event`` (wall_time = 1, step = 2, summary = 5) ->
``Summary.Value`` (tag = 1, simple_value = 2, tensor = 8, metadata = 9). Scalars come as
``simple_value`` (PyTorch SummaryWriter, Lightning) or as a rank-0 ``TensorProto`` of a tag whose
plugin is ``scalars`` (TF2 ``tf.summary``, Keras); the plugin is only written with a tag's first
value. Several files of one run (restarts) are read in time order and a repeated step keeps the
last value.

Every field is read only with the wire type its schema gives it (a ``float_val`` sent as a
varint is skipped, as protobuf skips unknown fields); bytes that cannot be framed at all raise
LrvizError naming the file and the record's byte offset.
"""

from __future__ import annotations

import os
import re
import struct
from array import array

import numpy as np

from lrviz.errors import LrvizError
from lrviz.loaders.fileio import open_regular, read_all
from lrviz.loaders.model import LogData, Run, infer_role, make_series
from lrviz.loaders.prefix import ReadPrefix
from lrviz.loaders.registry import FileFormat
from lrviz.loaders.tfrecord import record_spans

FORMAT = "tensorboard-events"
_PREFIX = "events.out.tfevents"
_NOT_SCALAR_PLUGINS = {
    "images",
    "histograms",
    "distributions",
    "text",
    "audio",
    "pr_curves",
    "hparams",
    "graph",
    "graphs",
    "mesh",
    "projector",
    "custom_scalars",
}
_DTYPES = {
    1: "<f4",
    2: "<f8",
    3: "<i4",
    4: "u1",
    5: "<i2",
    6: "i1",
    9: "<i8",
    17: "<u2",
    19: "<f2",
    22: "<u4",
    23: "<u8",
}
_DT_BFLOAT16 = 14
_BATCH = 4096
_DT_HALF = 19


class _Bad(Exception):
    """Malformed protobuf bytes."""


def _varint(buf: bytes, pos: int, end: int) -> tuple[int, int]:
    result = 0
    shift = 0
    while True:
        if pos >= end or shift > 63:
            raise _Bad
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7


def _fields(buf: bytes, pos: int, end: int):
    """Yield (field number, wire type, value, start, stop) for a message in buf[pos:end].

    Varints and fixed values come as ints in ``value``; length-delimited fields as their
    byte range ``start:stop``.
    """
    while pos < end:
        key, pos = _varint(buf, pos, end)
        num, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(buf, pos, end)
            yield num, wire, value, 0, 0
        elif wire == 1:
            if pos + 8 > end:
                raise _Bad
            yield num, wire, buf[pos : pos + 8], 0, 0
            pos += 8
        elif wire == 2:
            length, pos = _varint(buf, pos, end)
            if pos + length > end:
                raise _Bad
            yield num, wire, None, pos, pos + length
            pos += length
        elif wire == 5:
            if pos + 4 > end:
                raise _Bad
            yield num, wire, buf[pos : pos + 4], 0, 0
            pos += 4
        else:
            raise _Bad


def _packed(buf: bytes, start: int, stop: int, wire_kind: str) -> list:
    if wire_kind == "f4":
        return list(struct.unpack_from(f"<{(stop - start) // 4}f", buf, start))
    if wire_kind == "f8":
        return list(struct.unpack_from(f"<{(stop - start) // 8}d", buf, start))
    out = []
    pos = start
    while pos < stop:
        v, pos = _varint(buf, pos, stop)
        out.append(v)
    return out


def _tensor_scalar(buf: bytes, start: int, stop: int) -> float | None:
    """The value of a TensorProto holding exactly one number, else None."""
    dtype = 0
    size = 1
    content = None
    values: list = []
    for num, wire, value, s, e in _fields(buf, start, stop):
        if num == 1 and wire == 0:
            dtype = value
        elif num == 2 and wire == 2:
            for dnum, dwire, _, ds, de in _fields(buf, s, e):
                if dnum == 2 and dwire == 2:
                    for snum, swire, sval, _, _ in _fields(buf, ds, de):
                        if snum == 1 and swire == 0:
                            size *= sval
        elif num == 4 and wire == 2:
            content = buf[s:e]
        elif num == 5 and wire in (2, 5):
            values = _packed(buf, s, e, "f4") if wire == 2 else [struct.unpack("<f", value)[0]]
        elif num == 6 and wire in (1, 2):
            values = _packed(buf, s, e, "f8") if wire == 2 else [struct.unpack("<d", value)[0]]
        elif num in (7, 10, 13, 16, 17) and wire in (0, 2):
            raw = _packed(buf, s, e, "varint") if wire == 2 else [value]
            if num == 13 or (num == 7 and dtype in (_DT_HALF, _DT_BFLOAT16)):
                values = [_half_bits(v & 0xFFFF, dtype) for v in raw]
            elif num in (7, 10):
                values = [v - (1 << 64) if v >= 1 << 63 else v for v in raw]
            else:
                values = raw
    if size != 1:
        return None
    if content is not None:
        if dtype == _DT_BFLOAT16 and len(content) == 2:
            return _half_bits(int.from_bytes(content, "little"), dtype)
        fmt = _DTYPES.get(dtype)
        if fmt is None or len(content) != np.dtype(fmt).itemsize:
            return None
        return float(np.frombuffer(content, dtype=fmt)[0])
    if len(values) == 1 and dtype not in (7, 10):
        return float(values[0])
    return None


def _half_bits(bits: int, dtype: int) -> float:
    if dtype == _DT_BFLOAT16:
        return float(np.array([bits << 16], dtype="<u4").view("<f4")[0])
    return float(np.array([bits], dtype="<u2").view("<f2")[0])


def _plugin(buf: bytes, start: int, stop: int) -> tuple[str | None, int]:
    name = None
    data_class = 0
    for num, wire, value, s, e in _fields(buf, start, stop):
        if num == 1 and wire == 2:
            for pnum, pwire, _, ps, pe in _fields(buf, s, e):
                if pnum == 1 and pwire == 2:
                    name = buf[ps:pe].decode("utf-8", "replace")
        elif num == 4 and wire == 0:
            data_class = value
    return name, data_class


class EventFile:
    """Scalars of one event file: ``tags[tag] = (steps, wall_times, values)``, as arrays of
    float64 (``array("d")``: 24 bytes a scalar, where lists of Python numbers took 100)."""

    def __init__(self) -> None:
        self.tags: dict[str, tuple[array, array, array]] = {}
        self.plugins: dict[str, str] = {}

    def add(self, tag: str, step: int, wall: float, value: float) -> None:
        entry = self.tags.get(tag)
        if entry is None:
            entry = self.tags[tag] = (array("d"), array("d"), array("d"))
        steps, walls, values = entry
        steps.append(float(step))
        walls.append(wall)
        values.append(value)


def read_events(data: bytes, out: EventFile, path: str | None, base: int = 0) -> int | None:
    """Add the scalars of every complete record in ``data`` to ``out``; the end of the last
    complete record in ``data`` (None when there is none).

    ``base`` is the byte offset of ``data`` in the file (for error messages).

    Raises
    ------
    LrvizError
        On corrupt records or protobuf that cannot be framed, naming the record's offset.
    """
    starts, lengths = record_spans(data, path)
    for i in range(0, starts.size, _BATCH):  # Python ints a batch at a time, not all at once
        batch = zip(starts[i : i + _BATCH].tolist(), lengths[i : i + _BATCH].tolist(), strict=True)
        for start, length in batch:
            try:
                _read_event(data, start, start + length, out)
            except (_Bad, struct.error):
                raise LrvizError(f"malformed event at byte {base + start - 12}", path) from None
    if not starts.size:
        return None
    return int(starts[-1] + lengths[-1] + 4)


def read_event_file(
    path: str, data: bytes | None = None, plugins: dict | None = None, f=None
) -> EventFile:
    """Read the scalars of one event file.

    Parameters
    ----------
    path : str
    data : bytes, optional
        The file's bytes, when already read.
    plugins : dict, optional
        Tag -> plugin name seen in earlier files of the same run (TF2 writes a tag's plugin
        only with its first value); updated in place.
    f : binary file, optional
        The file, already open.

    Raises
    ------
    LrvizError
        On corrupt records or malformed protobuf, special files and files past the size cap.
    """
    if data is None:
        if f is None:
            with open_regular(path) as opened:
                data = read_all(opened, path)
        else:
            f.seek(0)
            data = read_all(f, path)
    out = EventFile()
    if plugins is not None:
        out.plugins = plugins
    read_events(data, out, path)
    return out


def _read_event(buf: bytes, start: int, stop: int, out: EventFile) -> None:
    wall = 0.0
    step = 0
    summary = None
    for num, wire, value, s, e in _fields(buf, start, stop):
        if num == 1 and wire == 1:
            wall = struct.unpack("<d", value)[0]
        elif num == 2 and wire == 0:
            step = value - (1 << 64) if value >= 1 << 63 else value
        elif num == 5 and wire == 2:
            summary = (s, e)
    if summary is None:
        return
    for num, wire, _, s, e in _fields(buf, *summary):
        if num != 1 or wire != 2:
            continue
        tag = None
        simple = None
        tensor = None
        meta = None
        for vnum, vwire, value, vs, ve in _fields(buf, s, e):
            if vnum == 1 and vwire == 2:
                tag = buf[vs:ve].decode("utf-8", "replace")
            elif vnum == 2 and vwire == 5:
                simple = struct.unpack("<f", value)[0]
            elif vnum == 8 and vwire == 2:
                tensor = (vs, ve)
            elif vnum == 9 and vwire == 2:
                meta = (vs, ve)
        if tag is None:
            continue
        if meta is not None:
            name, data_class = _plugin(buf, *meta)
            if name:
                out.plugins[tag] = name
            elif data_class == 1:
                out.plugins[tag] = "scalars"
        if simple is not None:
            out.add(tag, step, wall, float(simple))
        elif tensor is not None:
            plugin = out.plugins.get(tag)
            if plugin is not None and plugin in _NOT_SCALAR_PLUGINS:
                continue
            v = _tensor_scalar(buf, *tensor)
            if v is not None:
                out.add(tag, step, wall, v)


def _file_time(name: str) -> tuple:
    m = re.match(re.escape(_PREFIX) + r"\.(\d+)", name)
    return (int(m.group(1)) if m else 0, name)


def is_event_file(name: str) -> bool:
    return os.path.basename(name).startswith(_PREFIX)


def sort_files(paths: list[str]) -> list[str]:
    """Event files in the order they were written (time in the name, then name)."""
    return sorted(paths, key=lambda q: _file_time(os.path.basename(q)))


def run_from_event_files(files: list[EventFile], name: str, source: str | None = None) -> Run:
    """One run from already-read event files, oldest first (a repeated step keeps the last)."""
    merged: dict[str, tuple[list, list]] = {}
    for ev in files:
        for tag, (steps, _walls, values) in ev.tags.items():
            s, v = merged.setdefault(tag, ([], []))
            s.append(steps)
            v.append(values)
    run = Run(name=name, source=source)
    for tag, (steps, values) in merged.items():
        # Copies, never views: a live file's arrays grow later, which a view would forbid.
        x = np.concatenate([np.frombuffer(a, dtype=np.float64) for a in steps])
        y = np.concatenate([np.frombuffer(a, dtype=np.float64) for a in values])
        x_axis = "epoch" if tag.startswith("epoch_") else "step"
        run.series.append(make_series(tag, x, y, x_axis, infer_role(tag)))
    return run


class EventTail:
    """Incremental reader of one growing event file (used by the live watcher).

    Parameters
    ----------
    path : str
    plugins : dict
        Tag -> plugin, shared by the files of one run.
    """

    def __init__(self, path: str, plugins: dict) -> None:
        self.path = path
        self._plugins = plugins
        self._prefix = ReadPrefix()
        self._start_over()

    def _start_over(self) -> None:
        self._offset = 0
        self._prefix.reset()
        self.events = EventFile()
        self.events.plugins = self._plugins

    def poll(self) -> bool:
        """Read the complete records appended since last time; True when what was read
        changed (new records, or the file was rewritten and read again from its start)."""
        try:
            f = open_regular(self.path)
        except (OSError, LrvizError):
            if not os.path.lexists(self.path):
                return False  # gone (a run folder being cleaned): nothing new
            raise
        with f:
            st = os.fstat(f.fileno())
            restarted = False
            if not self._prefix.same_file(st):
                self._start_over()  # replaced, or truncated below what was read
                restarted = True
            if st.st_size == self._offset and not restarted:
                return False
            f.seek(self._offset)
            data = read_all(f, self.path)
            if not restarted and not self._prefix.still_holds(f):
                self._start_over()  # rewritten in place: read it again from the start
                return self.poll() or True
            used = read_events(data, self.events, self.path, self._offset)
            if used is None:
                return restarted
            self._prefix.extend(data[:used], st)
            self._offset += used
            return True


def build(path: str, f=None) -> LogData:
    """A single event file as a log with one run (named after its folder)."""
    folder = os.path.basename(os.path.dirname(os.path.abspath(path))) or os.path.basename(path)
    ev = read_event_file(path, f=f)
    source = os.path.dirname(os.path.abspath(path))
    return LogData(FORMAT, [run_from_event_files([ev], folder, source)], path)


#: This format, for the registry (lrviz.loaders.registry).
FILE_FORMAT = FileFormat(FORMAT, "events", build)

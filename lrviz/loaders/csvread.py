"""Reading delimited text (CSV, TSV, ``;``) into numeric columns.

Well-formed blocks of a file (same number of cells on every line, no quotes) go through the
vectorised :class:`~lrviz.loaders.numparse.FieldParser`; any block that is not (quotes, short
rows, blank lines) is read line by line with the forgiving :func:`~lrviz.loaders.text.parse_cell`.
Either way the result is the same :class:`Table`. :class:`CsvReader` is incremental so the live
watcher can feed it appended bytes.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass, field

import numpy as np

from lrviz.errors import LrvizError
from lrviz.loaders import numparse
from lrviz.loaders.fileio import (
    MAX_LINE_BYTES,
    open_regular,
    read_all,
    read_head,
    size_cap,
    too_big,
)
from lrviz.loaders.text import (
    MISSING,
    TEXT,
    clean_name,
    decode,
    iter_lines,
    parse_cell,
    quotes_balanced,
    sniff_delimiter,
    split_lines,
    split_row,
)

#: Bytes read per block: measured best on 2 cores (smaller: per-call overhead and GIL
#: hand-offs dominate; larger: the work arrays fall out of cache).
BLOCK_BYTES = 512 * 1024
#: Threads for large files (None: 2 when the machine has several cores); the benchmark sets it.
DEFAULT_WORKERS: int | None = None
#: The most columns a table may have: each becomes a series (10,001 take 0.5 s; a million took
#: 35 s and 1.4 GB before failing).
MAX_COLUMNS = 100_000


@dataclass
class Table:
    """Columns of one delimited file.

    Parameters
    ----------
    names : list of str
        All column names, as in the header (padding removed, duplicates suffixed ``.1``).
    values : dict of str to ndarray of float64
        Numeric columns only; NaN where a cell is missing (see ``present``) or not finite.
    present : dict of str to ndarray of bool or None
        Which cells hold a value (None: all of them).
    nrows : int
        Data rows read (repeated headers and blank lines excluded).
    segments : list of int
        Row indices where a repeated header line started a new segment (fastai ``append``).
    """

    names: list[str]
    values: dict = field(default_factory=dict)
    present: dict = field(default_factory=dict)
    nrows: int = 0
    segments: list = field(default_factory=list)

    def column(self, name: str) -> tuple[np.ndarray, np.ndarray | None]:
        """(values, present) of a numeric column."""
        return self.values[name], self.present[name]


@dataclass
class Dialect:
    """How a delimited file is written, learnt from its first lines."""

    sep: str
    names: list[str]
    header_line: int  # 1-based; 0 when the file has no header
    body_offset: int  # byte offset of the first data line (after a BOM, if any)
    decimal_comma: bool = False
    quoted: bool = False
    unnamed_first: bool = False  # the first header cell is empty (a pandas index)

    @property
    def ncols(self) -> int:
        return len(self.names)


def _unique_names(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for i, name in enumerate(names):
        base = name or f"column {i + 1}"
        if base in seen:
            seen[base] += 1
            out.append(f"{base}.{seen[base]}")
        else:
            seen[base] = 0
            out.append(base)
    return out


def sniff(head: bytes, path: str | None = None) -> Dialect:
    """Learn the dialect from the first bytes of a file (which must hold the header line).

    Raises
    ------
    LrvizError
        For empty or binary files.
    """
    offset = 3 if head.startswith(b"\xef\xbb\xbf") else 0
    text = decode(head, path)
    for lineno, line in enumerate(iter_lines(text), start=1):
        if not line.strip():
            offset = _line_end_offset(head, offset)
            continue
        sep = sniff_delimiter(line)
        # Counted before split: refusing a million columns must not build a million cells.
        too_many = line.count(sep) >= MAX_COLUMNS and '"' not in line
        cells = [] if too_many else split_row(line, sep, MAX_COLUMNS)
        if too_many or len(cells) > MAX_COLUMNS:
            raise LrvizError(f"more than the {MAX_COLUMNS:,} columns lrviz reads", path, lineno)
        quoted = line.lstrip().startswith('"')
        values = [parse_cell(c) for c in cells]
        if all(v is not MISSING and v is not TEXT for v in values):
            # No header: the first line is data.
            names = [f"column {i + 1}" for i in range(len(cells))]
            return Dialect(sep, names, 0, offset, sep == ";", quoted)
        raw = [clean_name(c) for c in cells]
        body = _line_end_offset(head, offset)
        return Dialect(
            sep, _unique_names(raw), lineno, body, sep == ";", quoted, unnamed_first=raw[0] == ""
        )
    raise LrvizError("empty file", path)


def _line_end_offset(data: bytes, offset: int) -> int:
    nl = data.find(b"\n", offset)
    return len(data) if nl < 0 else nl + 1


@dataclass
class _Block:
    """Parsed columns of one block of lines."""

    values: list  # per column, float64
    present: list  # per column, bool array or None (all present)
    text: np.ndarray  # per column, count of text cells
    counts: np.ndarray  # per column, count of cells holding a value
    nrows: int
    header_rows: list  # kept-row index where a repeated header line was dropped
    lines: int = 0  # lines the block held (rows and dropped header lines)


class BlockParser:
    """Parses whole well-formed blocks with the vectorised field parser (one per thread)."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self._parser = numparse.FieldParser()
        self._buf = np.zeros(0, dtype=np.uint8)
        self._mask = np.zeros(0, dtype=bool)
        self._mask2 = np.zeros(0, dtype=bool)
        sep = dialect.sep.encode("utf-8")
        self._sep_code = sep[0] if len(sep) == 1 else None
        self._header_bytes = [name.encode("utf-8") for name in dialect.names]

    def _buffers(self, n: int) -> None:
        need = n + 2 * numparse.PAD + 64
        if self._buf.size < need:
            size = max(need, 2 * self._buf.size)
            self._buf = np.zeros(size, dtype=np.uint8)
            self._mask = np.zeros(size, dtype=bool)
            self._mask2 = np.zeros(size, dtype=bool)

    def parse(self, data: bytes) -> _Block | None:
        """Columns of ``data`` (whole lines), or None when the block is not well formed."""
        nc = self.dialect.ncols
        if self._sep_code is None or not numparse.ENABLED or b'"' in data:
            return None
        n = len(data)
        self._buffers(n)
        pad = numparse.PAD
        buf = self._buf
        buf[:pad] = 0
        buf[pad : pad + n] = np.frombuffer(data, dtype=np.uint8)
        buf[pad + n : pad + n + 64] = 0
        a = buf[pad : pad + n]
        m = np.equal(a, self._sep_code, out=self._mask[:n])
        np.logical_or(m, np.equal(a, 10, out=self._mask2[:n]), out=m)
        pos = np.flatnonzero(m)
        if pos.size == 0 or pos.size % nc:
            return None
        pos += pad
        nrows = pos.size // nc
        is_nl = buf[pos] == 10
        if not bool(is_nl[nc - 1 :: nc].all()) or int(np.count_nonzero(is_nl)) != nrows:
            return None
        start = np.empty_like(pos)
        start[0] = pad
        start[1:] = pos[:-1] + 1
        end = pos
        last_end = end[nc - 1 :: nc]
        last_start = start[nc - 1 :: nc]
        for _ in range(2):  # CRLF, and CRCRLF from Keras on Windows
            cr = (buf[last_end - 1] == 13) & (last_end > last_start)
            if not cr.any():
                break
            last_end -= cr
        lines = nrows
        values, status = self._parser.parse(buf, start, end)
        values = values.reshape(nrows, nc)
        status = status.reshape(nrows, nc)
        slow = np.flatnonzero(status == numparse.SLOW)
        if nc == 1 and (slow.size or bool((status == numparse.EMPTY).any())):
            return None  # one column: an empty cell may be a blank line, which is skipped
        keep = None
        text = np.zeros(nc, dtype=np.int64)
        header_rows: list[int] = []
        if slow.size:
            values = values.copy()
            status = status.copy()
            keep, text, header_rows = self._resolve_slow(buf, start, end, slow, values, status)
        present = status == numparse.OK
        if keep is not None:
            values = values[keep]
            present = present[keep]
            nrows = int(values.shape[0])
        counts = present.sum(axis=0)
        cols = []
        pres = []
        for j in range(nc):
            col = values[:, j].copy()  # values may be a view of the parser's buffer
            if counts[j] == nrows:
                pres.append(None)
            else:
                p = np.ascontiguousarray(present[:, j])
                np.copyto(col, np.nan, where=~p)
                pres.append(p)
            cols.append(col)
        return _Block(cols, pres, text, counts, nrows, header_rows, lines)

    def _resolve_slow(self, buf, start, end, slow, values, status):
        """Parse the cells the fast path left one by one; drop repeated header lines.

        Text cells get status SLOW (not present) and are counted per column.
        """
        nc = self.dialect.ncols
        nrows = values.shape[0]
        text = np.zeros(nc, dtype=np.int64)
        header_rows = set()
        for r in np.unique(slow // nc).tolist():
            cells = [bytes(buf[start[r * nc + j] : end[r * nc + j]]).strip() for j in range(nc)]
            if [c.strip(b'"').strip() for c in cells] == self._header_bytes:
                header_rows.add(r)
        flat_v = values.reshape(-1)
        flat_s = status.reshape(-1)
        dc = self.dialect.decimal_comma
        for i in slow.tolist():
            if i // nc in header_rows:
                continue
            cell = bytes(buf[start[i] : end[i]]).decode("utf-8", "replace")
            v = parse_cell(cell, dc)
            if v is MISSING:
                flat_s[i] = numparse.EMPTY
            elif v is TEXT:
                text[i % nc] += 1
            else:
                flat_v[i] = v
                flat_s[i] = numparse.OK
        if not header_rows:
            return None, text, []
        keep = np.ones(nrows, dtype=bool)
        drop = sorted(header_rows)
        keep[drop] = False
        kept_before = np.cumsum(keep)
        return keep, text, [int(kept_before[r]) for r in drop]


class CsvReader:
    """Incremental reader of the body of a delimited file.

    Parameters
    ----------
    dialect : Dialect
    path : str, optional
        For error messages.
    """

    def __init__(self, dialect: Dialect, path: str | None = None, line: int | None = None) -> None:
        self.dialect = dialect
        self.path = path
        #: 1-based number of the next line to be fed (for error messages).
        self.line = line if line is not None else dialect.header_line + 1
        n = dialect.ncols
        self._vals: list[list[np.ndarray]] = [[] for _ in range(n)]
        self._pres: list[list[np.ndarray | None]] = [[] for _ in range(n)]
        self._numeric = np.zeros(n, dtype=np.int64)
        self._text = np.zeros(n, dtype=np.int64)
        self._rows = 0
        self._segments: list[int] = []
        self._block_parser: BlockParser | None = None

    @property
    def rows(self) -> int:
        return self._rows

    def prepare(self, data: bytes) -> bytes:
        """``data`` as the block parser wants it (decimal commas turned into points)."""
        return data.replace(b",", b".") if self.dialect.decimal_comma else data

    def feed(self, data: bytes) -> None:
        """Read complete lines (``data`` ends with ``\\n``)."""
        if not data:
            return
        data = self.prepare(data)
        if self._block_parser is None:
            self._block_parser = BlockParser(self.dialect)
        self.feed_parsed(data, self._block_parser.parse(data))

    def feed_parsed(self, data: bytes, block: _Block | None) -> None:
        """Add lines already run through :meth:`prepare` and :meth:`BlockParser.parse`.

        ``block`` None means the block parser declined; the lines are then read one by one.
        """
        if block is None:
            self._feed_slow(data, final=False)
            self.line += data.count(b"\n")
        else:
            self._add_block(block)
            self.line += block.lines

    def feed_final(self, data: bytes) -> None:
        """Read the last line(s) of a file that does not end in a newline.

        A last line with fewer cells than the header, or inside an open quote, was cut off
        while being written and is ignored.
        """
        if data.strip():
            self._feed_slow(self.prepare(data), final=True)

    def _add_block(self, b: _Block) -> None:
        for r in b.header_rows:
            self._segments.append(self._rows + r)
        self._text += b.text
        self._numeric += b.counts
        if b.nrows:
            for j in range(len(b.values)):
                self._vals[j].append(b.values[j])
                self._pres[j].append(b.present[j])
        self._rows += b.nrows

    # -- slow path -----------------------------------------------------------------------

    def _feed_slow(self, data: bytes, final: bool) -> None:
        self._add_block(self._parse_slow(data, final))

    def _parse_slow(self, data: bytes, final: bool) -> _Block:
        line0 = self.line
        d = self.dialect
        nc = d.ncols
        lines = split_lines(decode(data, self.path))
        rows_v: list[list[float]] = []
        rows_p: list[list[bool]] = []
        text = np.zeros(nc, dtype=np.int64)
        header_rows = []
        last = len(lines) - 1
        for k, line in enumerate(lines):
            if not line.strip():
                continue
            if final and k == last and not quotes_balanced(line):
                continue
            # At most nc + 1 cells: a line of millions of separators costs no more than one
            # of the header's width.
            cells = split_row(line, d.sep, nc)
            if d.header_line and [clean_name(c) for c in cells] == d.names:
                header_rows.append(len(rows_v))
                continue
            if len(cells) < nc:
                if final and k == last:
                    continue  # cut off while being written
                cells = cells + [""] * (nc - len(cells))
            elif len(cells) > nc:
                rest = cells[nc]
                if rest.replace(d.sep, "").replace('"', "").strip():
                    column = len(line) - len(rest) + 1
                    count = (
                        f"{nc + 1 + rest.count(d.sep)}" if '"' not in rest else f"more than {nc}"
                    )
                    raise LrvizError(
                        f"row has {count} cells but the header names {nc} columns",
                        self.path,
                        line0 + k,
                        column,
                    )
                cells = cells[:nc]
            vals = []
            pres = []
            for j, c in enumerate(cells):
                v = parse_cell(c, d.decimal_comma)
                if v is MISSING or v is TEXT:
                    if v is TEXT:
                        text[j] += 1
                    vals.append(np.nan)
                    pres.append(False)
                else:
                    vals.append(v)
                    pres.append(True)
            rows_v.append(vals)
            rows_p.append(pres)
        values = np.array(rows_v, dtype=np.float64).reshape(-1, nc)
        present = np.array(rows_p, dtype=bool).reshape(-1, nc)
        nrows = values.shape[0]
        counts = present.sum(axis=0)
        cols = [np.ascontiguousarray(values[:, j]) for j in range(nc)]
        pres = [
            None if counts[j] == nrows else np.ascontiguousarray(present[:, j]) for j in range(nc)
        ]
        return _Block(cols, pres, text, counts, nrows, header_rows)

    # -- output --------------------------------------------------------------------------

    def table(self, unfinished: bytes = b"") -> Table:
        """The columns read so far.

        ``unfinished``: a last line without its line end, read as :meth:`feed_final` reads it
        but not kept (the live watcher shows it once the file has settled). It counts with the
        rest when deciding whether a column is text, as it does when the file is read whole.
        """
        extra = None
        if unfinished.strip():
            extra = self._parse_slow(self.prepare(unfinished), final=True)
        names = self.dialect.names
        segments = list(self._segments)
        nrows = self._rows
        if extra is not None:
            segments += [self._rows + r for r in extra.header_rows]
            nrows += extra.nrows
        t = Table(names=list(names), nrows=nrows, segments=segments)
        for j, name in enumerate(names):
            numeric = int(self._numeric[j]) + (int(extra.counts[j]) if extra else 0)
            text = int(self._text[j]) + (int(extra.text[j]) if extra else 0)
            if numeric == 0 or numeric < text:
                continue  # a text column, or one that never holds a value
            vals, pres = self._column(j)
            if extra is not None and extra.nrows:
                more, more_pres = extra.values[j], extra.present[j]
                if pres is not None or more_pres is not None:
                    pres = np.concatenate(
                        [
                            np.ones(vals.size, dtype=bool) if pres is None else pres,
                            np.ones(more.size, dtype=bool) if more_pres is None else more_pres,
                        ]
                    )
                vals = np.concatenate([vals, more])
            t.values[name] = vals
            t.present[name] = pres
        return t

    def _column(self, j: int) -> tuple[np.ndarray, np.ndarray | None]:
        """Column ``j`` of the rows read, its chunks joined into one (kept so)."""
        chunks = self._vals[j]
        if not chunks:
            return np.zeros(0), None
        # Concatenate column by column and keep only the result, so that peak memory is the
        # columns once plus one column, not twice the columns.
        vals = chunks[0] if len(chunks) == 1 else np.concatenate(chunks)
        pres_chunks = self._pres[j]
        if all(p is None for p in pres_chunks):
            pres = None
        else:
            pres = np.concatenate(
                [
                    np.ones(v.size, dtype=bool) if p is None else p
                    for v, p in zip(chunks, pres_chunks, strict=True)
                ]
            )
        self._vals[j] = [vals]
        self._pres[j] = [pres]
        return vals, pres


def read_csv(path: str, raw: bytes | None = None, workers: int | None = None, f=None) -> Table:
    """Read a delimited file into a :class:`Table`.

    Parameters
    ----------
    path : str
        The file (also used in error messages).
    raw : bytes, optional
        The file's content, when already in memory.
    workers : int, optional
        Threads parsing blocks in parallel (numpy releases the GIL). Default: 2 on machines with
        several cores for files above 8 MB, else 1.
    f : binary file, optional
        The file, already open (read from its start).

    Raises
    ------
    LrvizError
        Empty or binary file, a row with more cells than the header, a line longer than
        16 MB, more than :data:`MAX_COLUMNS` columns, a file past the size cap or not a
        regular file.
    """
    if raw is not None:
        return _read_open(io.BytesIO(raw), path, workers)
    if f is None:
        with open_regular(path) as opened:
            return _read_open(opened, path, workers)
    return _read_open(f, path, workers)


def _read_open(f, path: str, workers: int | None, whole: bool = False) -> Table:
    """Read the open file ``f`` (``whole``: its lines' ends are settled already)."""
    f.seek(0)
    found = read_head(f, path)
    head = found.raw
    if found.line_cut:
        raise LrvizError(f"line longer than {MAX_LINE_BYTES >> 20} MB: not a table", path, 1)
    if b"\n" not in head and b"\r" in head and not whole:
        # Old Mac line ends: small files only; read it all, as lines ending in LF.
        raw = head + read_all(f, path)
        if b"\n" not in raw:
            raw = raw.replace(b"\r", b"\n")
        return _read_open(io.BytesIO(raw), path, workers, whole=True)
    dialect = sniff(head, path)
    size = f.seek(0, os.SEEK_END)
    if size >= PANDAS_MIN_BYTES:
        table = _read_with_pandas(path, dialect, f)
        if table is not None:
            return table
    reader = CsvReader(dialect, path)
    f.seek(dialect.body_offset)
    if workers is None:
        workers = DEFAULT_WORKERS
    if workers is None:
        workers = min(2, os.cpu_count() or 1) if size > 16 * BLOCK_BYTES else 1
    blocks = _BlockSource(f, path, first_line=reader.line)
    if workers <= 1:
        for block in blocks:
            reader.feed(block)
    else:
        _feed_parallel(reader, blocks, workers)
    reader.feed_final(blocks.carry)
    return reader.table()


#: Files at least this large try pandas' C parser first (pandas costs ~0.4 s to import, and is
#: 4-5x faster than the numpy reader: docs/benchmarks.md).
PANDAS_MIN_BYTES = 8 * 1024 * 1024


def read_complete_with_pandas(path: str, dialect: Dialect, data: bytes) -> Table | None:
    """The pandas fast path over ``data``, the whole file's bytes up to a line end (a live
    log's first read). None when the numpy reader must read it."""
    import io

    return _read_with_pandas(path, dialect, io.BytesIO(data))


def _read_with_pandas(path: str, dialect: Dialect, f) -> Table | None:
    """The fast path for large, plain numeric tables; None when the file needs the numpy
    reader (quirks, text, non-finite values, a last line still being written, no pandas).

    ``f`` is the open file, which pandas reads from its start (never the path again: it may
    have been swapped for a pipe since it was opened)."""
    if dialect.quoted or dialect.decimal_comma or dialect.header_line < 1:
        return None
    if dialect.sep not in (",", "\t", ";") or dialect.unnamed_first:
        return None
    f.seek(-1, os.SEEK_END)
    if f.read(1) != b"\n":
        return None  # a row may be cut mid-number; the numpy reader handles it
    try:
        import pandas as pd
    except ImportError:
        return None
    f.seek(0)
    try:
        frame = pd.read_csv(
            _same_file(f),
            sep=dialect.sep,
            header=0,
            skiprows=dialect.header_line - 1,
            encoding="utf-8-sig",
            engine="c",
            keep_default_na=False,
            na_values=[""],
            # Floats straight away, no integer inference. With pandas' own NA words off, a
            # cell that is not a number (`nan`, `NA`, `None`, text) raises ValueError and the
            # numpy reader takes over; so every NaN here is an empty cell, which lrviz drops,
            # while a logged `nan` (a diverged loss) stays a point, as the numpy reader has it.
            dtype=np.float64,
        )
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError):
        return None
    if len(frame.columns) != dialect.ncols:
        return None
    if not all(dtype.kind in "fiub" for dtype in frame.dtypes):
        return None  # text cells, repeated headers, padding: the numpy reader's job
    table = Table(names=list(dialect.names), nrows=len(frame))
    for name, column in zip(dialect.names, frame.columns, strict=True):
        values = frame[column].to_numpy(dtype=np.float64, copy=False)
        missing = np.isnan(values)
        if not missing.any():
            table.values[name], table.present[name] = values, None
            continue
        if not missing.all():  # a column that never holds a value is left out
            table.values[name], table.present[name] = values, ~missing
    return table


def _same_file(f):
    """What pandas should read for the open file ``f``: on Linux ``/proc/self/fd/N``, a path
    to this very open file even if its name now points elsewhere (pandas reads a path twice as
    fast as a Python file object: 0.046 s against 0.085 s for 47 MB); the file itself
    elsewhere (and for in-memory bytes)."""
    try:
        fd = f.fileno()
    except (AttributeError, OSError, ValueError):
        return f
    link = f"/proc/self/fd/{fd}"
    return link if os.path.exists(link) else f


class _BlockSource:
    """Iterate over whole lines of a file, in blocks; ``carry`` is what is left at the end.

    Reading stops with an error past the size cap (a regular file can grow without end) and
    at a line longer than :data:`~lrviz.loaders.fileio.MAX_LINE_BYTES`.
    """

    def __init__(self, f, path: str | None = None, first_line: int = 1) -> None:
        self._f = f
        self._path = path
        self._line = first_line
        self._cap = size_cap()
        self._total = f.tell()
        self.carry = b""

    def __iter__(self):
        while True:
            chunk = self._f.read(BLOCK_BYTES)
            if not chunk:
                return
            self._total += len(chunk)
            if self._total > self._cap:
                raise too_big(self._path, None, self._cap)
            data = self.carry + chunk if self.carry else chunk
            cut = data.rfind(b"\n") + 1
            if cut == 0:
                if len(data) > MAX_LINE_BYTES:
                    raise LrvizError(
                        f"line longer than {MAX_LINE_BYTES >> 20} MB: not a table",
                        self._path,
                        self._line,
                    )
                self.carry = data
                continue
            block = data[:cut] if cut < len(data) else data
            self.carry = data[cut:]
            self._line += block.count(b"\n")
            yield block


def _feed_parallel(reader: CsvReader, blocks: _BlockSource, workers: int) -> None:
    import threading
    from collections import deque
    from concurrent.futures import ThreadPoolExecutor

    local = threading.local()

    def work(data: bytes):
        parser = getattr(local, "parser", None)
        if parser is None:
            parser = local.parser = BlockParser(reader.dialect)
        return parser.parse(data)

    pending: deque = deque()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for block in blocks:
            data = reader.prepare(block)
            pending.append((pool.submit(work, data), data))
            while len(pending) > 2 * workers:
                future, d = pending.popleft()
                reader.feed_parsed(d, future.result())
        while pending:
            future, d = pending.popleft()
            reader.feed_parsed(d, future.result())


__all__ = ["BlockParser", "CsvReader", "Dialect", "Table", "read_csv", "sniff"]

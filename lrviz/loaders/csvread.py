"""Reading delimited text (CSV, TSV, ``;``) into numeric columns: one engine, pandas' C parser.

Every complete line, whether of a whole file or of the bytes a live log appended, goes through
:func:`pandas.read_csv` (measured 2.5-3.7x faster than lrviz's former numpy parser:
docs/benchmarks.md "One CSV engine"). What pandas cannot tell is kept here, small:

- a logged ``nan`` (a diverged loss: a point) against an empty cell (no value): pandas reads
  ``nan`` as missing, so that its column stays numbers, and the few missing cells are then
  told apart from their rows' bytes; when they are many (or the file is quoted) pandas reads
  the file again with ``nan`` as text. Cells pandas leaves as text are read one distinct
  string at a time with :func:`~lrviz.loaders.text.parse_cell` (``nan``, durations, text,
  repeated header lines);
- a last line still being written (fewer cells than the header, or inside an open quote) is
  left out, and :class:`CsvReader` takes appended lines for the live watcher; a few lines (a
  tail, a last line, a log of at most :data:`LINES_BYTES`) are read line by line with the
  same rules, because a pandas call costs milliseconds whatever its size;
- a row with more cells than the header is refused with its file, line and column.
"""

from __future__ import annotations

import io
import os
import re
import warnings
from dataclasses import dataclass, field

import numpy as np

from lrviz.errors import LrvizError
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


#: Cells pandas reads as missing besides empty ones: the usual spellings of parse_cell's
#: missing words (other spellings, padded or quoted, reach parse_cell, which agrees).
_NA_WORDS = ["", "NA", "N/A", "n/a", "na", "None", "none", "NONE", "null", "NULL", "Null"]
_NA_WORDS += ["nil", "undefined"]
#: Spellings of a logged nan that pandas first reads as missing (parse_cell reads the others).
_NAN_WORDS = ["nan", "NaN", "NAN", "Nan", "-nan", "-NaN", "+nan"]
#: The most missing cells told apart from logged nans one by one, by reading their rows.
_MAX_TOLD = 100_000
#: Inputs up to this size are parsed by pandas in one piece.
_ONE_PIECE_BYTES = 1 << 20
#: Lines of at most this many bytes in all (a live log's appended tail, a small log) are read
#: line by line: pandas costs 2-8 ms a call whatever the size, a line costs microseconds (a
#: folder of 2,500 small trial logs read 2.7x slower through pandas alone).
LINES_BYTES = 16 * 1024
_TOO_MANY = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")
#: Widenings tried when rows end in empty cells past the header's width (``1,2,,``).
_WIDENINGS = 6


class _UnclosedQuote(Exception):
    """pandas found a quote that no later line closes."""


@dataclass
class _Block:
    """Parsed columns of some lines."""

    values: list  # per column, float64
    present: list  # per column, bool array or None (all present)
    text: np.ndarray  # per column, count of text cells
    counts: np.ndarray  # per column, count of cells holding a value
    nrows: int
    header_rows: list  # kept-row index where a repeated header line was dropped


class _Lines:
    """Where pandas reads some complete lines from, and how its line numbers map to the file's.

    ``source`` is a path or a binary file; pandas' line ``k`` (1-based, skipped rows and blank
    lines counted) is the file's line ``first_line + k - 1 - skiprows``.
    """

    def __init__(
        self, source, first_line: int, skiprows: int = 0, file=None, body_offset: int = 0
    ) -> None:
        self.source = source
        self.first_line = first_line
        self.skiprows = skiprows
        #: Where the first row's line starts in ``file`` (after the ``skiprows`` lines).
        self.body_offset = body_offset
        #: The same bytes as a binary file, to find a line an error is about.
        self.file = file if file is not None else source

    @property
    def size(self) -> int:
        """Bytes of ``file`` (what pandas reads, give or take a last line)."""
        f = self.file
        here = f.tell()
        end = f.seek(0, os.SEEK_END)
        f.seek(here)
        return end

    def file_line(self, k: int) -> int:
        return self.first_line + k - 1 - self.skiprows

    def text_of(self, k: int) -> str:
        """The text of pandas' line ``k`` (for error messages: reads up to it)."""
        self.file.seek(0)
        for i, raw in enumerate(self.file, start=1):
            if i == k:
                return raw.decode("utf-8", "replace").rstrip("\r\n")
        return ""

    def row_line(self, row: int) -> int:
        """pandas' line number of data row ``row`` (0-based; blank lines are no rows)."""
        self.file.seek(0)
        seen = -1
        for k, raw in enumerate(self.file, start=1):
            if k <= self.skiprows or not raw.strip():
                continue
            seen += 1
            if seen == row:
                return k
        return 0


def _parse(lines: _Lines, dialect: Dialect, path: str | None) -> _Block:
    """The rows of ``lines`` through pandas' C parser (see the module docstring).

    pandas reads a logged ``nan`` as missing first, so that its column stays numbers; the few
    missing cells are then told apart from the file's bytes. When they are many (or the file
    is quoted), pandas reads the file again with ``nan`` as text, which parse_cell reads.
    """
    columns = _columns(_frame(lines, dialect, path, _NA_WORDS + _NAN_WORDS), dialect)
    nans = _logged_nans(lines, columns, dialect)
    if nans is None:
        columns = _columns(_frame(lines, dialect, path, _NA_WORDS), dialect)
        nans = {}
    return _block_of(columns, dialect, nans)


def _columns(frame, dialect: Dialect) -> list:
    """The frame's columns of the header's width, each looked up once (a lookup costs about
    0.1 ms: a folder of 2,500 small logs looks up 25,000)."""
    return [frame[j] for j in range(dialect.ncols)]


def _frame(lines: _Lines, dialect: Dialect, path: str | None, missing: list[str]):
    """pandas' frame of ``lines``, ``missing`` read as missing; rows ending in empty cells
    past the header's width are read wider, any other wider row refused."""
    import pandas as pd

    nc = dialect.ncols
    width = nc
    for _ in range(_WIDENINGS):
        if not isinstance(lines.source, str):
            lines.source.seek(0)
        long_row = None  # (pandas' line, cells) of a row wider than the frame
        try:
            with warnings.catch_warnings(record=True) as caught:
                # Columns typed differently in two chunks of a large file (numbers, then a
                # `nan`): their cells are all resolved below, whatever pandas made of them.
                warnings.simplefilter("always")
                frame = pd.read_csv(
                    lines.source,
                    sep=dialect.sep,
                    header=None,
                    names=list(range(width)),
                    index_col=False,
                    skiprows=lines.skiprows,
                    keep_default_na=False,
                    na_values=missing,
                    decimal="," if dialect.decimal_comma else ".",
                    encoding="utf-8-sig",
                    encoding_errors="replace",
                    engine="c",
                    # Small inputs in one piece (a third faster for a log of 100 rows: a
                    # folder of 2,500 trials); large ones in pandas' chunks (less memory).
                    low_memory=lines.size > _ONE_PIECE_BYTES,
                )
            if any("does not match length of data" in str(w.message) for w in caught):
                # The first row is wider: pandas dropped its extra cells with this warning.
                k = lines.row_line(0)
                long_row = k, len(split_row(lines.text_of(k), dialect.sep, 4 * width + 64))
        except pd.errors.ParserError as exc:
            found = _TOO_MANY.search(str(exc))
            if found is None:
                # "EOF inside string starting at row R" (R counts from 0) or "... in line L".
                found = re.search(r"row (\d+)|line (\d+)", str(exc))
                where = None
                if found:
                    k = int(found.group(1)) + 1 if found.group(1) else int(found.group(2))
                    where = lines.file_line(k)
                if "EOF inside string" in str(exc):
                    raise _UnclosedQuote from None  # read line by line, as before pandas
                raise LrvizError("not a table: " + _reason(exc), path, where) from None
            long_row = int(found.group(2)), int(found.group(3))
        except (OSError, MemoryError, UnicodeError) as exc:
            raise LrvizError(f"cannot read: {exc}", path) from None
        if long_row is None:
            break
        k, saw = long_row
        _check_extra_cells(lines.text_of(k), dialect, path, lines.file_line(k))
        if saw > max(2 * width, width + 64):
            # Thousands of empty cells past the header: refused rather than read as that
            # many columns.
            raise LrvizError(
                f"row has {saw} cells but the header names {nc} columns", path, lines.file_line(k)
            )
        width = saw  # the extra cells are empty (`1,2,,`): read them and check the rest
    else:
        raise LrvizError(f"rows have more cells than the header's {nc} columns", path)
    for j in range(nc, width):
        extra = frame[j]
        if extra.dtype.kind in "fiub":
            held = extra.notna().to_numpy()
        else:
            held = extra.notna().to_numpy() & (extra.str.strip().str.strip('"') != "").to_numpy()
        if held.any():
            k = lines.row_line(int(np.argmax(held)))
            _check_extra_cells(lines.text_of(k), dialect, path, lines.file_line(k))
    return frame


def _logged_nans(lines: _Lines, columns: list, dialect: Dialect) -> dict | None:
    """Which cells pandas read as missing are logged nans: {column: row mask}; None when
    they are too many to tell one by one, or the rows cannot be found from the line ends
    (quotes, lines of only spaces), and the caller reads them as text instead."""
    missing = {j: _missing(column.to_numpy()) for j, column in enumerate(columns)}
    missing = {j: m for j, m in missing.items() if m.any()}
    if not missing:
        return {}
    return _tell(lines.file, lines.body_offset, missing, len(columns[0]), dialect)


def _missing(values: np.ndarray) -> np.ndarray:
    """Which cells of a column pandas read as missing (NaN, or None in a text column)."""
    if values.dtype.kind == "f":
        return np.isnan(values)
    import pandas as pd

    return pd.isna(values)


def _tell(f, at: int, missing: dict, nrows: int, dialect: Dialect) -> dict | None:
    """:func:`_logged_nans` from the bytes of the open file ``f``, its rows from ``at`` on."""
    if not _body_holds(f, at, (b"a", b"A")):
        return {}  # every spelling of nan has an `a`: all are empty cells or missing words
    if sum(int(m.sum()) for m in missing.values()) > _MAX_TOLD:
        return None
    wanted = np.unique(np.concatenate([np.flatnonzero(m) for m in missing.values()]))
    spans = _row_spans(f, at, nrows, wanted)
    if spans is None:
        return None
    starts, ends = spans
    sep = dialect.sep.encode("utf-8")
    out = {}
    for j, m in missing.items():
        logged = np.zeros(m.size, dtype=bool)
        rows = np.flatnonzero(m)
        for r, i in zip(rows.tolist(), np.searchsorted(wanted, rows).tolist(), strict=True):
            f.seek(int(starts[i]))
            cells = f.read(int(ends[i] - starts[i])).rstrip(b"\r").split(sep)
            cell = cells[j].decode("utf-8", "replace") if j < len(cells) else ""
            value = parse_cell(cell, dialect.decimal_comma)
            if value is MISSING:
                continue
            if value is TEXT or not np.isnan(value):
                return None  # not the row pandas read: let pandas read the nans as text
            logged[r] = True
        if logged.any():
            out[j] = logged
    return out


#: Bytes read at a time when looking through a body (one buffer, reused).
_SCAN_BYTES = 1 << 22


def _pieces(f, offset: int):
    """(offset, buffer, length) of successive pieces of ``f`` from ``offset`` on, read into
    one reused buffer (no copy of the file is kept)."""
    size = f.seek(0, os.SEEK_END) - offset
    buf = bytearray(max(1, min(_SCAN_BYTES, size)))  # (a small log's is small)
    f.seek(offset)
    pos = offset
    while n := f.readinto(buf):
        yield pos, buf, n
        pos += n


def _body_holds(f, offset: int, needles: tuple) -> bool:
    """Whether one of the one-byte ``needles`` occurs from ``offset`` on (memchr speed)."""
    return any(buf.find(x, 0, n) >= 0 for _, buf, n in _pieces(f, offset) for x in needles)


def _row_spans(f, offset: int, nrows: int, wanted: np.ndarray):
    """(start, end) byte offsets of the lines of rows ``wanted`` (sorted row numbers; blank
    lines, also ``\\r`` and ``\\r\\r`` ones, are no rows), reading from ``offset`` on.

    None when the file does not have ``nrows`` rows, or when its lines cannot be its rows one
    to one: a quote (a quoted cell may hold line ends), a line starting with a space or tab
    (pandas skips a line of only spaces). Work arrays are one piece's, whatever the file."""
    starts = np.zeros(wanted.size, dtype=np.int64)
    ends = np.zeros(wanted.size, dtype=np.int64)
    seen = 0  # rows in the pieces before
    line_start = offset  # where the line running into the piece started
    prev = np.full(2, 10, dtype=np.uint8)  # the two bytes before the piece
    for pos, buf, n in _pieces(f, offset):
        if buf.find(b'"', 0, n) >= 0:
            return None
        ext = np.concatenate([prev, np.frombuffer(buf, dtype=np.uint8, count=n)])
        local = np.flatnonzero(ext[2:] == 10)
        if buf.find(b" ", 0, n) >= 0 or buf.find(b"\t", 0, n) >= 0:  # (at memchr speed)
            first = local + 1  # where the piece's lines start
            first = first[first < n]
            if prev[-1] == 10:
                first = np.concatenate(([0], first))
            lead = ext[first + 2]
            if bool(((lead == 32) | (lead == 9)).any()):
                return None
        prev = ext[-2:].copy()
        if not local.size:
            continue
        end = local + pos
        start = np.concatenate(([line_start], end[:-1] + 1))
        line_start = int(end[-1]) + 1
        length = end - start
        cr1 = ext[local + 1] == 13  # the byte before the line end
        cr2 = ext[local] == 13  # the one before that
        blank = (length == 0) | ((length == 1) & cr1) | ((length == 2) & cr1 & cr2)
        rows = np.flatnonzero(~blank)
        lo, hi = np.searchsorted(wanted, [seen, seen + rows.size])
        if hi > lo:
            lines = rows[wanted[lo:hi] - seen]
            starts[lo:hi], ends[lo:hi] = start[lines], end[lines]
        seen += rows.size
    return (starts, ends) if seen == nrows else None


def _reason(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text.replace("Error tokenizing data. C error: ", "")


def _check_extra_cells(line: str, dialect: Dialect, path: str | None, lineno: int) -> None:
    """Refuse a row whose cells past the header's width hold something (file, line, column)."""
    nc = dialect.ncols
    cells = split_row(line, dialect.sep, nc)
    if len(cells) <= nc:
        return
    rest = cells[nc]
    if rest.replace(dialect.sep, "").replace('"', "").strip():
        column = len(line) - len(rest) + 1
        count = f"{nc + 1 + rest.count(dialect.sep)}" if '"' not in rest else f"more than {nc}"
        raise LrvizError(
            f"row has {count} cells but the header names {nc} columns", path, lineno, column
        )


def _block_of(columns: list, dialect: Dialect, nans: dict) -> _Block:
    """The columns of pandas' frame: numbers as float64, and which cells hold a value
    (``nans``: {column: rows} of cells pandas read as missing that are logged nans)."""
    nc = dialect.ncols
    nrows = len(columns[0]) if columns else 0
    values, present, texts, heads = [], [], [], []
    for j in range(nc):
        v, p, text, head = _column_of(columns[j], dialect.names[j], dialect.decimal_comma)
        if j in nans and p is not None:
            p = p | nans[j]  # logged nans: points, not gaps
        values.append(v)
        present.append(p)
        texts.append(text)
        heads.append(head)
    header_rows: list[int] = []
    keep = None
    if dialect.header_line and nrows and all(h is not None for h in heads):
        is_header = np.logical_and.reduce(heads)
        if is_header.any():
            keep = ~is_header
            kept_before = np.cumsum(keep)
            header_rows = [int(kept_before[r]) for r in np.flatnonzero(is_header)]
    if keep is not None:
        nrows = int(keep.sum())
    text_counts = np.zeros(nc, dtype=np.int64)
    counts = np.zeros(nc, dtype=np.int64)
    for j in range(nc):
        v, p, t = values[j], present[j], texts[j]
        if keep is not None:
            v = v[keep]
            p = None if p is None else p[keep]
            t = None if t is None else t[keep]
        if p is not None and p.all():
            p = None
        text_counts[j] = 0 if t is None else int(np.count_nonzero(t))
        counts[j] = v.size if p is None else int(np.count_nonzero(p))
        values[j], present[j] = v, p
    return _Block(values, present, text_counts, counts, nrows, header_rows)


def _column_of(series, name: str, decimal_comma: bool):
    """(values, present or None, text cells or None, cells spelling ``name`` or None) of one
    column as pandas read it."""
    import pandas as pd

    kind = series.dtype.kind
    n = len(series)
    if kind in "fiu":
        v = series.to_numpy(dtype=np.float64, copy=False)
        missing = np.isnan(v)
        head = _numeric_name(v, name)
        return v, (~missing if missing.any() else None), None, head
    if kind == "b":  # True / False: text to lrviz
        held = series.notna().to_numpy()
        return np.full(n, np.nan), np.zeros(n, dtype=bool), held, None
    # Text left by pandas: numbers it did not type (a chunk with a `nan`), then one
    # parse_cell per distinct remaining string.
    held = series.notna().to_numpy()
    try:
        v = np.array(pd.to_numeric(series, errors="coerce"), dtype=np.float64)
    except (OverflowError, TypeError, ValueError):  # integers past float64: parse_cell's
        v = np.full(n, np.nan)
    present = ~np.isnan(v)
    undecided = np.flatnonzero(np.isnan(v) & held)
    text = np.zeros(n, dtype=bool)
    head = np.zeros(n, dtype=bool)
    if undecided.size:
        cells = series.to_numpy(dtype=object)[undecided]
        codes, uniques = pd.factorize(cells)
        parsed = [parse_cell(str(u), decimal_comma) for u in uniques]
        is_value = np.array([p is not MISSING and p is not TEXT for p in parsed])
        is_text = np.array([p is TEXT for p in parsed])
        number = np.array([p if is_value[i] else np.nan for i, p in enumerate(parsed)])
        spells = np.array([clean_name(str(u)) == name for u in uniques])
        v[undecided] = number[codes]
        present[undecided] = is_value[codes]
        text[undecided] = is_text[codes]
        head[undecided] = spells[codes]
    return v, (None if present.all() else present), text, head


def _numeric_name(v: np.ndarray, name: str) -> np.ndarray | None:
    """Cells of a numeric column that spell its header name (a name like ``0``)."""
    value = parse_cell(name)
    if value is MISSING or value is TEXT:
        return None
    return v == value


class CsvReader:
    """Incremental reader of the body of a delimited file (the live watcher feeds it the
    lines appended since the last poll).

    Parameters
    ----------
    dialect : Dialect
    path : str, optional
        For error messages.
    line : int, optional
        1-based number of the first line it will be fed.
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

    @property
    def rows(self) -> int:
        return self._rows

    def feed(self, data: bytes) -> None:
        """Read complete lines (``data`` ends with ``\\n``)."""
        if not data:
            return
        if len(data) <= LINES_BYTES:
            self._add_block(self._parse_lines(data, final=False))
            self.line += data.count(b"\n")
            return
        self.feed_lines(_Lines(io.BytesIO(data), self.line), data.count(b"\n"))

    def feed_lines(self, lines: _Lines, count: int) -> None:
        """Read ``count`` complete lines from ``lines`` (a whole file's body, by path)."""
        try:
            block = _parse(lines, self.dialect, self.path)
        except _UnclosedQuote:
            # A stray quote: pandas would read on to the end of the file inside it; line by
            # line, it ends with its line (what lrviz always did), and the rest is read.
            f = lines.file
            f.seek(lines.body_offset)
            data = f.read()
            block = self._parse_lines(data[: data.rfind(b"\n") + 1], final=False)
        self._add_block(block)
        self.line += count

    def feed_final(self, data: bytes) -> None:
        """Read the last line of a file that does not end in a newline.

        A last line with fewer cells than the header, or inside an open quote, was cut off
        while being written and is ignored.
        """
        block = self._final(data)
        if block is not None:
            self._add_block(block)

    def _final(self, data: bytes) -> _Block | None:
        if not data.strip():
            return None
        return self._parse_lines(data, final=True)

    def _parse_lines(self, data: bytes, final: bool) -> _Block:
        """A few lines, one at a time, with the same rules as the pandas path: cells by
        :func:`~lrviz.loaders.text.parse_cell`, blank lines skipped, short rows padded, a row
        wider than the header refused unless its extra cells are empty. ``final``: the last
        line has no line end yet; cut off while being written (fewer cells than the header,
        inside an open quote), it is left out."""
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
                continue  # cut off inside a quote while being written
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
                _check_extra_cells(line, d, self.path, self.line + k)
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

    # -- output --------------------------------------------------------------------------

    def table(self, unfinished: bytes = b"") -> Table:
        """The columns read so far.

        ``unfinished``: a last line without its line end, read as :meth:`feed_final` reads it
        but not kept (the live watcher shows it once the file has settled). It counts with the
        rest when deciding whether a column is text, as it does when the file is read whole.
        """
        extra = self._final(unfinished)
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


def read_csv(path: str, raw: bytes | None = None, f=None) -> Table:
    """Read a delimited file into a :class:`Table`.

    Parameters
    ----------
    path : str
        The file (also used in error messages).
    raw : bytes, optional
        The file's content, when already in memory.
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
        return _read_open(io.BytesIO(raw), path)
    if f is None:
        with open_regular(path) as opened:
            return _read_open(opened, path)
    return _read_open(f, path)


def _read_open(f, path: str, whole: bool = False) -> Table:
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
        return _read_open(io.BytesIO(raw), path, whole=True)
    dialect = sniff(head, path)
    size = f.seek(0, os.SEEK_END)
    cap = size_cap()
    if size > cap:
        raise too_big(path, size, cap)
    _check_long_lines(f, size, dialect.body_offset, path)
    cut = _last_line_start(f, size, dialect.body_offset)
    reader = CsvReader(dialect, path)
    first = reader.line
    if 0 < cut - dialect.body_offset <= LINES_BYTES:
        f.seek(dialect.body_offset)
        reader.feed(f.read(cut - dialect.body_offset))  # a small log: line by line
    elif cut > dialect.body_offset:
        if cut == size:
            # Every line ended: pandas reads the file itself, its header skipped.
            source, skip = _same_file(f), dialect.header_line
        else:
            f.seek(0)
            source, skip = io.BytesIO(f.read(cut)), dialect.header_line
        lines = _Lines(source, first, skip, file=f, body_offset=dialect.body_offset)
        reader.feed_lines(lines, 0)
    if cut < size:
        f.seek(cut)
        reader.line = first + _count_lines(f, dialect.body_offset, cut)
        f.seek(cut)
        reader.feed_final(f.read())
    return reader.table()


def _last_line_start(f, size: int, floor: int) -> int:
    """Offset just after the file's last line end (``size`` when it ends in one; ``floor``
    when no line end follows it)."""
    pos = size
    step = 1 << 16
    while pos > floor:
        start = max(floor, pos - step)
        f.seek(start)
        piece = f.read(pos - start)
        nl = piece.rfind(b"\n")
        if nl >= 0:
            return start + nl + 1
        pos = start
    return floor


def _count_lines(f, start: int, end: int) -> int:
    f.seek(start)
    n = 0
    left = end - start
    while left > 0:
        piece = f.read(min(left, 1 << 24))
        if not piece:
            break
        n += piece.count(b"\n")
        left -= len(piece)
    return n


def _check_long_lines(f, size: int, start: int, path: str) -> None:
    """Refuse a line longer than :data:`~lrviz.loaders.fileio.MAX_LINE_BYTES` (pandas would
    split it into millions of cells first). Such a line holds a whole aligned block of half
    that size without a line end; in any other file the first 64 KB of each block has one, so
    this reads about 1/128 of the file."""
    block = MAX_LINE_BYTES // 2
    first = -(-start // block) * block
    for at in range(first, size - block + 1, block):
        f.seek(at)
        read = 0
        while read < block:
            piece = f.read(min(1 << 16, block - read))
            if not piece or b"\n" in piece:
                break
            read += len(piece)
        else:
            _refuse_long_line(f, at, size, path)


def _refuse_long_line(f, at: int, size: int, path: str) -> None:
    """The line around offset ``at`` holds no line end for a whole block: if it is longer
    than the limit, say which line it is."""
    begin = _last_line_start(f, at, 0)
    end = at
    f.seek(at)
    while end < size:
        piece = f.read(1 << 20)
        nl = piece.find(b"\n")
        if nl >= 0:
            end += nl
            break
        end += len(piece)
    if end - begin > MAX_LINE_BYTES:
        line = 1 + _count_lines(f, 0, begin)
        raise LrvizError(f"line longer than {MAX_LINE_BYTES >> 20} MB: not a table", path, line)


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


__all__ = ["CsvReader", "Dialect", "Table", "read_csv", "sniff"]

"""JSON records -> columns: strict-enough parsing, and a compact column store.

:class:`RecordColumns` takes records one at a time and keeps only numbers, in arrays (16
bytes a number): a large JSON log then costs about its own size in memory, where a list of the
parsed dicts cost seven times it (a 177 MB trainer_state.json took 1.26 GB).
"""

from __future__ import annotations

import json
import math
import re
import sys
from array import array

import numpy as np

from lrviz.errors import LrvizError
from lrviz.loaders.csvread import Table
from lrviz.loaders.text import MISSING, TEXT, parse_cell

# Strings, and numbers outside them: an integer token has no point and no exponent (floats have
# no digit limit). Each alternative matches a character one way only: linear.
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?')


def _int_digits_limit() -> int:
    get = getattr(sys, "get_int_max_str_digits", None)
    return get() if get is not None else 0


def huge_integer_at(text: str, start: int = 0) -> tuple[int, int] | None:
    """(index, digits) of the first integer in ``text[start:]`` too long for Python to convert
    (more than ``sys.get_int_max_str_digits()``, 4,300 by default), or None."""
    limit = _int_digits_limit()
    if limit <= 0:
        return None
    for m in _TOKEN.finditer(text, start):
        token = m.group()
        digits = len(token) - (token[0] == "-")
        if token[0] != '"' and token.lstrip("-").isdigit() and digits > limit:
            return m.start(), digits
    return None


def _huge_integer(text: str, path: str | None, line: int | None) -> LrvizError:
    """The error for an integer Python refuses to convert (CVE-2020-10735's digit limit)."""
    found = huge_integer_at(text)
    if found is None:
        return LrvizError("invalid JSON: a number too long to read", path, line)
    at, digits = found
    before = text[:at]
    lineno = before.count("\n") + 1 + (line - 1 if line is not None else 0)
    column = at - before.rfind("\n")
    return LrvizError(
        f"invalid JSON: an integer of {digits} digits (at most {_int_digits_limit()} are read)",
        path,
        lineno,
        column,
    )


def loads(text: str, path: str | None = None, line: int | None = None):
    """``json.loads`` that accepts bare NaN/Infinity and reports errors as LrvizError.

    Parameters
    ----------
    text : str
    path : str, optional
    line : int, optional
        Line number of ``text`` in its file (for JSON lines); errors then point there.
    """
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        lineno = exc.lineno if line is None else line + exc.lineno - 1
        raise LrvizError(f"invalid JSON: {exc.msg}", path, lineno, exc.colno) from None
    except RecursionError:
        raise LrvizError("invalid JSON: nested too deeply", path, line) from None
    except ValueError:
        # Python refuses to convert integers of more than 4,300 digits (CVE-2020-10735).
        raise _huge_integer(text, path, line) from None


def _number(value):
    """A float for numbers and numeric strings, MISSING for None, TEXT otherwise."""
    if isinstance(value, bool):
        return TEXT
    if isinstance(value, int):
        return float(value) if abs(value) < 2**1023 else TEXT
    if isinstance(value, float):
        return value
    if value is None:
        return MISSING
    if isinstance(value, str):
        return parse_cell(value)
    return TEXT


def flatten(record: dict, prefix: str = "") -> dict:
    """Nested dicts as ``outer/inner`` keys (MMCV logs ``lr`` per parameter group as a dict)."""
    out = {}
    for key, value in record.items():
        k = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, k + "/"))
        else:
            out[k] = value
    return out


class _Column:
    """One key's cells: rows holding a number (and the numbers), rows holding text or null.

    While the numbers come from consecutive rows (the usual case: a key every record has),
    their rows are not stored, only the first (``start``): 8 bytes a number instead of 16.
    """

    __slots__ = ("_rows", "none", "start", "string_rows", "strings", "text", "values")

    def __init__(self) -> None:
        self.start = -1
        self._rows: array | None = None  # None: rows start, start + 1, ... (one per value)
        self.values = array("d")
        self.text = array("q")
        self.none = array("q")
        self.string_rows = array("q")
        self.strings: list[str] = []

    def add_number(self, row: int, value: float) -> None:
        if self._rows is None:
            if self.start < 0:
                self.start = row
            elif row != self.start + len(self.values):
                self._rows = array("q", range(self.start, self.start + len(self.values)))
        if self._rows is not None:
            self._rows.append(row)
        self.values.append(value)

    def number_rows(self) -> np.ndarray:
        """The rows holding a number, in order."""
        if self._rows is None:
            return np.arange(self.start, self.start + len(self.values), dtype=np.int64)
        return _ints(self._rows)

    def drop_numbers_from(self, nrows: int) -> None:
        """Forget the numbers of rows ``nrows`` and later."""
        if self._rows is None:
            keep = max(0, min(len(self.values), nrows - self.start))
        else:
            keep = len(self._rows)
            while keep and self._rows[keep - 1] >= nrows:
                keep -= 1
            del self._rows[keep:]
        del self.values[keep:]
        if not self.values and self._rows is None:
            self.start = -1


def _ints(a: array) -> np.ndarray:
    # A copy, not a view: an array exporting its buffer could not grow (the live watcher adds
    # records to the same store after building a table).
    return np.frombuffer(a, dtype=np.int64).copy() if len(a) else np.zeros(0, dtype=np.int64)


class RecordColumns:
    """Records (dicts) added one at a time, stored as columns of numbers.

    Parameters
    ----------
    keep_strings : tuple of str
        Keys whose string values are kept too (MMCV's ``mode``: ``train`` or ``val``).
    keep_records : int
        How many of the first records to keep as they were parsed (:attr:`head`), for format
        detection and run metadata (MMCV's first line of ``env_info`` and ``config``).
    """

    def __init__(self, keep_strings: tuple = (), keep_records: int = 200) -> None:
        self.names: list[str] = []
        self.nrows = 0
        self.head: list[dict] = []
        self._keep_records = keep_records
        self._keep_strings = frozenset(keep_strings)
        self._cols: dict[str, _Column] = {}
        self._interned: dict[str, str] = {}

    def __len__(self) -> int:
        return self.nrows

    def add(self, record: dict) -> None:
        """Add one record as the next row (nested dicts flattened, see :func:`flatten`)."""
        if len(self.head) < self._keep_records:
            self.head.append(record)
        row = self.nrows
        self.nrows += 1
        for key, value in flatten(record).items():
            key = str(key)
            col = self._cols.get(key)
            if col is None:
                col = self._cols[key] = _Column()
                self.names.append(key)
            v = _number(value)
            if v is TEXT:
                col.text.append(row)
                if key in self._keep_strings and isinstance(value, str):
                    col.string_rows.append(row)
                    # One object per distinct value: "train" a million times costs 8 bytes each.
                    col.strings.append(self._interned.setdefault(value, value))
            elif v is MISSING:
                col.none.append(row)
            else:
                col.add_number(row, v)

    def mark(self) -> tuple[int, int]:
        """Where the store is now, for :meth:`rollback`."""
        return self.nrows, len(self.names)

    def rollback(self, mark: tuple[int, int]) -> None:
        """Forget the records added since :meth:`mark` (the live watcher shows a last record
        that has no line end yet, then takes it back)."""
        nrows, nnames = mark
        for key in self.names[nnames:]:
            del self._cols[key]
        del self.names[nnames:]
        for col in self._cols.values():
            col.drop_numbers_from(nrows)
            for rows, values in (
                (col.text, None),
                (col.none, None),
                (col.string_rows, col.strings),
            ):
                keep = len(rows)
                while keep and rows[keep - 1] >= nrows:
                    keep -= 1
                del rows[keep:]
                if values is not None:
                    del values[keep:]
        del self.head[nrows:]
        self.nrows = nrows

    def has_key(self, key: str) -> np.ndarray:
        """Per row: True where the record holds ``key`` (with any value)."""
        out = np.zeros(self.nrows, dtype=bool)
        col = self._cols.get(key)
        if col is not None:
            out[col.number_rows()] = True
            for a in (col.text, col.none):
                out[_ints(a)] = True
        return out

    def strings(self, key: str) -> list:
        """Per row: the value of a ``keep_strings`` key where it is text (not a number, not
        empty), else None."""
        out: list = [None] * self.nrows
        col = self._cols.get(key)
        if col is not None:
            for row, value in zip(col.string_rows, col.strings, strict=True):
                out[row] = value
        return out

    def table(self, rows: np.ndarray | None = None) -> Table:
        """The columns of all records, or of those where ``rows`` (bool per row) is True.

        Keys missing from a record are missing cells; values that are not numbers (strings,
        lists, booleans) are not cells of a numeric column. A column whose values are mostly
        text is dropped. Names are in the order the records first hold them.
        """
        if rows is None:
            n = self.nrows
            remap = None
        else:
            picked = np.flatnonzero(rows)
            n = int(picked.size)
            remap = np.full(self.nrows, -1, dtype=np.int64)
            remap[picked] = np.arange(n, dtype=np.int64)
        firsts = []
        for key in self.names:
            col = self._cols[key]
            idx = col.number_rows()
            vals = np.frombuffer(col.values, dtype=np.float64).copy() if idx.size else np.zeros(0)
            text = _ints(col.text)
            none = _ints(col.none)
            if rows is not None:
                keep = rows[idx]
                idx, vals = idx[keep], vals[keep]
                text = text[rows[text]]
                none = none[rows[none]]
            seen = [int(a[0]) for a in (idx, text, none) if a.size]  # rows are in order
            if not seen:
                continue  # not a key of these records
            if remap is not None:
                idx = remap[idx]
            firsts.append((min(seen), key, idx, vals, int(text.size)))
        firsts.sort(key=lambda f: f[0])  # stable: keys first seen in one record keep order
        table = Table(names=[f[1] for f in firsts], nrows=n)
        for _first, key, idx, vals, ntext in firsts:
            if not idx.size or idx.size < ntext:
                continue
            if idx.size == n:
                values = vals  # every row holds a number: already in row order, and a copy
            else:
                values = np.full(n, math.nan)
                values[idx] = vals
            if idx.size == n:
                present = None
            else:
                present = np.zeros(n, dtype=bool)
                present[idx] = True
            table.values[key] = values
            table.present[key] = present
        return table

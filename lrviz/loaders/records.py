"""JSON documents and JSON lines: strict-enough parsing and records -> columns."""

from __future__ import annotations

import json
import math

import numpy as np

from lrviz.errors import LrvizError
from lrviz.loaders.csvread import Table
from lrviz.loaders.text import MISSING, TEXT, decode, parse_cell


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
        raise LrvizError(f"invalid JSON: {exc.msg}", path, lineno, exc.colno) from exc
    except RecursionError as exc:
        raise LrvizError("invalid JSON: nested too deeply", path, line) from exc


def read_json_lines(raw: bytes, path: str | None = None) -> list[tuple[int, dict]]:
    """Parse a JSON-lines file into (line number, object) pairs.

    Blank lines are skipped. A final line that does not parse (cut off while being written)
    is ignored; a bad line anywhere else raises LrvizError with its line and column.
    Lines holding something other than an object are skipped.
    """
    lines = decode(raw, path).split("\n")
    out = []
    last = len(lines) - 1
    while last >= 0 and not lines[last].strip():
        last -= 1
    for i, line in enumerate(lines[: last + 1]):
        s = line.strip()
        if not s:
            continue
        try:
            obj = loads(s, path, i + 1)
        except LrvizError as exc:
            if i == last:
                break
            if exc.column is not None:  # point into the line as written, not as stripped
                exc.column += len(line) - len(line.lstrip())
                exc.args = (str(exc),)
            raise
        if isinstance(obj, dict):
            out.append((i + 1, obj))
    return out


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


def records_table(records: list[dict]) -> Table:
    """Columns from a list of flat records: one row per record, one column per key.

    Keys missing from a record are missing cells; values that are not numbers (strings,
    lists, booleans) are not cells of a numeric column. A column whose values are mostly
    text is dropped.
    """
    names: list[str] = []
    cols: dict[str, tuple[list, list]] = {}
    text_counts: dict[str, int] = {}
    for row, record in enumerate(records):
        for key, value in record.items():
            key = str(key)
            v = _number(value)
            if key not in cols:
                names.append(key)
                cols[key] = ([], [])
                text_counts[key] = 0
            if v is TEXT:
                text_counts[key] += 1
            elif v is not MISSING:
                cols[key][0].append(row)
                cols[key][1].append(v)
    n = len(records)
    table = Table(names=names, nrows=n)
    for key in names:
        rows, vals = cols[key]
        if not rows or len(rows) < text_counts[key]:
            continue
        values = np.full(n, math.nan)
        idx = np.asarray(rows, dtype=np.int64)
        values[idx] = np.asarray(vals, dtype=np.float64)
        if len(rows) == n:
            present = None
        else:
            present = np.zeros(n, dtype=bool)
            present[idx] = True
        table.values[key] = values
        table.present[key] = present
    return table


def load_document(raw: bytes, path: str | None = None):
    """Parse a whole JSON document (bare NaN and Infinity allowed)."""
    return loads(decode(raw, path), path)

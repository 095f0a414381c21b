"""Issue 10, parsing: linear time on hostile cells and lines, and the same answers as before on
everything else (the old implementations are kept here as references).

Linear time is not timed here: the inputs are sized so that the old super-linear code would run
for many minutes, and pytest-timeout (120 s) fails such a test.
"""

from __future__ import annotations

import json
import math
import re

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from lrviz.loaders.hparams import find_lr, parse_yaml
from lrviz.loaders.jsonstream import iter_json_lines, read_trainer_state
from lrviz.loaders.records import RecordColumns, _number, flatten, loads
from lrviz.loaders.text import MISSING, TEXT, iter_lines, parse_cell, split_lines, split_row

PROPERTY = settings(max_examples=300, deadline=None)

# --- references: the implementations before issue 10 -------------------------------------------

_OLD_DURATION = re.compile(r"^(?:(\d+):)?(\d{1,2}):(\d{2}(?:\.\d*)?)$")
_OLD_NUMBER = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$")


def old_number_or_duration(s: str):
    if _OLD_NUMBER.match(s):
        return float(s)
    m = _OLD_DURATION.match(s)
    if m:
        return int(m.group(1) or 0) * 3600.0 + int(m.group(2)) * 60.0 + float(m.group(3))
    return TEXT


def old_split_row(line: str, sep: str) -> list[str]:
    if '"' not in line:
        return line.split(sep)
    cells, cur, in_quote, i, n = [], [], False, 0, len(line)
    while i < n:
        ch = line[i]
        if in_quote:
            if ch == '"':
                if i + 1 < n and line[i + 1] == '"':
                    cur.append('"')
                    i += 1
                else:
                    in_quote = False
            else:
                cur.append(ch)
        elif ch == '"':
            in_quote = True
        elif ch == sep:
            cells.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
        i += 1
    cells.append("".join(cur))
    return cells


_OLD_KEY_LINE = re.compile(r"^(\s*)([^:#][^:]*?)\s*:(?:\s+(.*))?\s*$")


def old_key_lines(text: str):
    """(indent, key, value) of every line the old regular expression read as a key line."""
    out = []
    for raw_line in text.splitlines():
        line = raw_line.split(" #", 1)[0].rstrip()
        if not line.strip() or line.lstrip().startswith(("#", "-", "---", "...")):
            continue
        m = _OLD_KEY_LINE.match(line)
        if m:
            value = m.group(3)
            value = value.strip() if value is not None and value.strip() else None
            out.append((len(m.group(1)), m.group(2).strip().strip("\"'"), value))
    return out


def old_records_table(records: list[dict]):
    """The column table of a list of records, as the list-based code built it."""
    names, cols, text_counts = [], {}, {}
    for row, record in enumerate(records):
        for key, value in record.items():
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
    out = {}
    for key in names:
        rows, vals = cols[key]
        if not rows or len(rows) < text_counts[key]:
            continue
        values = np.full(len(records), math.nan)
        values[rows] = vals
        out[key] = (values, rows)
    return names, out


# --- linear time ------------------------------------------------------------------------------


def test_a_cell_of_200000_digits_and_a_letter_is_text_at_once():
    # The old pattern split a run of digits every possible way: 12.6 s at 20,000 digits,
    # quadratic, so about 20 minutes here.
    assert parse_cell("1" * 200_000 + "x") is TEXT
    assert parse_cell("." + "1" * 200_000 + "e") is TEXT
    assert parse_cell("1" * 200_000) == float("1" * 200_000)


def test_a_yaml_line_of_50000_spaces_reads_at_once():
    # The old key pattern took 129 s at 4,000 spaces (cubic-like), hours here.
    text = " " * 50_000 + "x\nlr: 0.1\n" + " " * 50_000 + "y: 2\n"
    assert find_lr(parse_yaml(text)) == 0.1


def test_a_row_of_a_million_separators_splits_at_once():
    line = '"a",' + '"",' * 1_000_000 + "b"
    cells = split_row(line, ",")
    assert len(cells) == 1_000_002 and cells[0] == "a" and cells[-1] == "b"
    assert split_row(line, ",", 2)[:2] == ["a", ""]


# --- same answers as before -------------------------------------------------------------------

CELL_CHARS = st.sampled_from(list("0123456789.eE+-: x"))


@PROPERTY
@given(text=st.text(CELL_CHARS, max_size=14))
def test_parse_cell_reads_numbers_and_durations_as_before(text):
    hours = text.strip().split(":")[0]
    assume(not (text.count(":") == 2 and len(hours) > 9))  # by design: not a duration now
    new = parse_cell(text)
    s = text.strip()
    old = old_number_or_duration(s) if s.lower() not in ("", "nan", "inf") else new
    if old is TEXT or new is TEXT or new is MISSING:
        assert new is old or (old is not TEXT and new is not TEXT and new == old)
    else:
        assert new == old


@PROPERTY
@given(line=st.text(st.sampled_from(list('ab,;" \t')), max_size=30), sep=st.sampled_from(",;"))
def test_split_row_splits_as_before(line, sep):
    assert split_row(line, sep) == old_split_row(line, sep)


@PROPERTY
@given(
    line=st.text(st.sampled_from(list('ab,"')), max_size=30),
    limit=st.integers(1, 6),
)
def test_split_row_with_a_limit_keeps_the_first_cells_and_the_rest_as_written(line, limit):
    full = old_split_row(line, ",")
    got = split_row(line, ",", limit)
    if len(full) <= limit:
        assert got == full
    else:
        assert got[:limit] == full[:limit]
        assert len(got) == limit + 1
        assert line.endswith(got[limit])
        assert old_split_row(got[limit], ",") == full[limit:] or '"' in line


@PROPERTY
@given(text=st.text(st.sampled_from(list("ab\r\n")), max_size=20))
def test_lines_one_at_a_time_are_the_lines(text):
    assert list(iter_lines(text)) == split_lines(text)


YAML_CHARS = st.sampled_from(list(" ab1.:#-'\"\t"))


@PROPERTY
@given(lines=st.lists(st.text(YAML_CHARS, max_size=12), max_size=6))
def test_yaml_key_lines_read_as_before(lines):
    from lrviz.loaders.hparams import _key_line

    text = "\n".join(lines)
    old = old_key_lines(text)
    assume(all(key for _, key, _ in old))  # the old pattern took " " for a key
    new = []
    for raw_line in text.splitlines():
        line = raw_line.split(" #", 1)[0].rstrip()
        if not line.strip() or line.lstrip().startswith(("#", "-", "---", "...")):
            continue
        parsed = _key_line(line)
        if parsed is not None:
            new.append(parsed)
    assert new == old


def test_a_tagged_block_does_not_override_top_level_keys():
    text = (
        "lr: 0.001\n"
        "args: !!python/object:argparse.Namespace\n"
        "  lr: 0.01\n"
        "  max_epochs: 10\n"
        "betas: !!python/tuple\n"
        "- 0.9\n"
    )
    params = parse_yaml(text)
    assert params["lr"] == 0.001
    assert params["args.lr"] == 0.01 and params["args.max_epochs"] == 10
    assert find_lr(params) == 0.001


# --- the JSON readers -------------------------------------------------------------------------

JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=False),
    st.text(max_size=6),
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=8,
)


def chunked(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)] or [b""]


@PROPERTY
@given(
    top=st.dictionaries(st.text(max_size=5), JSON_VALUES, max_size=3),
    history=st.lists(JSON_VALUES, max_size=5),
    indent=st.sampled_from([None, 2]),
    size=st.integers(1, 9),
)
def test_a_trainer_state_read_piece_by_piece_equals_json_loads(top, history, indent, size):
    doc = dict(top)
    doc["log_history"] = history
    data = json.dumps(doc, indent=indent).encode()
    entries = []
    got = read_trainer_state(chunked(data, size), "s.json", entries.append)
    want = json.loads(data)
    assert entries == [e for e in want["log_history"] if isinstance(e, dict)]
    assert got == {**want, "log_history": []}


@PROPERTY
@given(
    doc=st.dictionaries(st.text(max_size=4), JSON_VALUES, min_size=1, max_size=3),
    cut=st.integers(0, 10**6),
    junk=st.sampled_from(["", "}", ",", "x", '"', "]", "\n,"]),
    size=st.integers(1, 9),
)
def test_a_broken_state_is_an_error_where_json_loads_says(doc, cut, junk, size):
    text = json.dumps({"log_history": [doc, doc]}, indent=2)
    cut %= len(text)
    broken = text[:cut] + junk + text[cut:]
    try:
        json.loads(broken)
    except json.JSONDecodeError as exc:
        want = (exc.lineno, exc.colno)
    else:
        return
    try:
        read_trainer_state(chunked(broken.encode(), size), "s.json", lambda e: None)
    except Exception as exc:  # the property: only LrvizError, where json says
        assert type(exc).__name__ == "LrvizError"
        assert (exc.line, exc.column) == want
    else:
        raise AssertionError("a broken document was read")


@PROPERTY
@given(
    records=st.lists(st.dictionaries(st.sampled_from("abc"), JSON_SCALARS, max_size=3), max_size=6),
    blank=st.lists(st.booleans(), max_size=6),
    size=st.integers(1, 9),
)
def test_json_lines_piece_by_piece_equal_line_by_line(records, blank, size):
    lines = []
    for i, r in enumerate(records):
        lines.append(json.dumps(r))
        if i < len(blank) and blank[i]:
            lines.append("  ")
    data = ("\n".join(lines) + "\n").encode()
    got = list(iter_json_lines(chunked(data, size), "m.json"))
    want = [
        (i + 1, json.loads(line))
        for i, line in enumerate(data.decode().split("\n"))
        if line.strip()
    ]
    assert got == want


@PROPERTY
@given(
    records=st.lists(
        st.dictionaries(
            st.sampled_from(["a", "b", "c", "mode"]),
            st.one_of(JSON_SCALARS, st.dictionaries(st.sampled_from("xy"), JSON_SCALARS)),
            max_size=4,
        ),
        max_size=8,
    ),
    mask=st.lists(st.booleans(), min_size=8, max_size=8),
)
def test_the_column_store_equals_the_list_of_records(records, mask):
    store = RecordColumns(keep_strings=("mode",))
    for r in records:
        store.add(r)
    rows = np.array(mask[: len(records)], dtype=bool)
    for picked in (None, rows):
        subset = [
            flatten(r) for r, keep in zip(records, mask, strict=False) if keep or picked is None
        ]
        names, cols = old_records_table(subset)
        table = store.table(picked)
        assert table.names == names or sorted(table.names) == sorted(names)
        assert sorted(table.values) == sorted(cols)
        for key, (values, present_rows) in cols.items():
            np.testing.assert_array_equal(table.values[key], values)
            present = table.present[key]
            got_rows = (
                list(range(len(subset))) if present is None else np.flatnonzero(present).tolist()
            )
            assert got_rows == present_rows
    assert store.strings("mode") == [
        m if isinstance(m, str) and parse_cell(m) is TEXT else None
        for m in (r.get("mode") for r in records)
    ]


@PROPERTY
@given(
    first=st.lists(st.dictionaries(st.sampled_from("abc"), JSON_SCALARS, max_size=3), max_size=4),
    more=st.lists(st.dictionaries(st.sampled_from("cde"), JSON_SCALARS, max_size=3), max_size=4),
)
def test_records_taken_back_leave_the_store_as_it_was(first, more):
    store = RecordColumns()
    for r in first:
        store.add(r)
    before = store.table()
    mark = store.mark()
    for r in more:
        store.add(r)
    store.rollback(mark)
    after = store.table()
    assert after.names == before.names and after.nrows == before.nrows
    for key in before.values:
        np.testing.assert_array_equal(after.values[key], before.values[key])
    for r in more:  # and it grows again as if they had never been added
        store.add(r)
    assert store.nrows == len(first) + len(more)


def test_loads_reports_a_huge_integer_where_it_is():
    text = '{"a": "11111", "b": [1,\n ' + "7" * 5000 + "]}"
    try:
        loads(text, "x.json", line=10)
    except Exception as exc:
        assert type(exc).__name__ == "LrvizError"
        assert (exc.line, exc.column) == (11, 2)
    else:
        raise AssertionError("read")

"""Delimited text: the vectorised fast path agrees with float(); every quirk is read."""

from __future__ import annotations

import math
import struct
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lrviz.loaders import load, numparse
from lrviz.loaders.csvread import read_csv
from lrviz.loaders.text import MISSING, TEXT, parse_cell, split_lines

LOGS = Path(__file__).resolve().parents[1] / "fixtures" / "logs"


def parse_tokens(tokens: list[bytes]):
    data = b"".join(t + b"," for t in tokens)
    buf = np.zeros(numparse.PAD + len(data) + 64, dtype=np.uint8)
    buf[numparse.PAD : numparse.PAD + len(data)] = np.frombuffer(data, dtype=np.uint8)
    lens = np.array([len(t) for t in tokens], dtype=np.int64)
    end = numparse.PAD + np.cumsum(lens + 1) - 1
    values, status = numparse.FieldParser().parse(buf, end - lens, end)
    return values.copy(), status.copy()


def python_float(token: bytes):
    try:
        return float(token)
    except ValueError:
        return None


def check_against_float(tokens: list[bytes]) -> int:
    """Every field the fast path accepts equals float(); returns how many it accepted."""
    values, status = parse_tokens(tokens)
    accepted = 0
    for tok, v, s in zip(tokens, values, status, strict=True):
        if s == numparse.OK:
            ref = python_float(tok)
            assert ref is not None, tok
            assert v == ref and math.copysign(1, v) == math.copysign(1, ref), (tok, v, ref)
            accepted += 1
        elif s == numparse.EMPTY:
            assert tok == b""
    return accepted


finite_floats = st.floats(allow_nan=False, allow_infinity=False)


@settings(max_examples=150, deadline=None)
@given(st.lists(finite_floats, min_size=1, max_size=60))
def test_fast_parser_matches_float_on_reprs(xs):
    tokens = [repr(x).encode() for x in xs]
    check_against_float(tokens)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.floats(width=32, allow_nan=False, allow_infinity=False), min_size=1, max_size=60)
)
def test_fast_parser_matches_float_on_printf_formats(xs):
    tokens = []
    for x in xs:
        tokens += [
            f"{x:.6g}".encode(),
            f"{x:.8e}".encode(),
            f"{x:.5f}".encode(),
            f"{x:.17g}".encode(),
        ]
    check_against_float(tokens)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.binary(max_size=26), min_size=1, max_size=40))
def test_fast_parser_never_accepts_what_float_rejects(tokens):
    tokens = [t.replace(b",", b"") for t in tokens]
    check_against_float(tokens)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(alphabet="0123456789.-+eE", max_size=24), min_size=1, max_size=40))
def test_fast_parser_on_numeric_looking_junk(tokens):
    check_against_float([t.encode() for t in tokens])


def test_fast_parser_accepts_the_common_shapes():
    tokens = [
        b"0",
        b"-12",
        b"0.5",
        b"2.2897543907165527",
        b"1.0000018420699561e-07",
        b"0.0010000000474974513",
        b"-0",
        b"+3.5",
        b"5.",
        b".25",
        b"1E+05",
        b"12345678901234567890",
    ]
    assert check_against_float(tokens) == len(tokens)


def test_fast_parser_long_integer_parts_with_zero_fractions():
    # float(s) rounds below I * 10**(k+1) here: the integer-part estimate needs its fix-up.
    tokens = [b"26461985373.0000000", b"523762152712501.0", b"094230879859.0000000"]
    assert check_against_float(tokens) == 3


def test_fast_parser_hands_rounding_midpoints_to_the_slow_path():
    # 2**53 + 1 lies exactly between two doubles: extended precision cannot decide alone.
    _, status = parse_tokens([b"9007199254740993"])
    assert status[0] == numparse.SLOW


def test_fast_parser_marks_junk_slow_and_empty_empty():
    _, status = parse_tokens([b"", b"nan", b" 1", b"1.2.3", b"1/2", b"--1", b"1e5x"])
    assert status.tolist() == [numparse.EMPTY] + [numparse.SLOW] * 6


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("", MISSING),
        ('""', MISSING),
        ("NA", MISSING),
        ("None", MISSING),
        ("null", MISSING),
        ("  4.5  ", 4.5),
        ('"NaN"', math.nan),
        ("nan", math.nan),
        ("Infinity", math.inf),
        ("-inf", -math.inf),
        ("00:12", 12.0),
        ("1:02:05", 3725.0),
        ("hello", TEXT),
        ("True", TEXT),
    ],
)
def test_parse_cell_spellings(cell, expected):
    got = parse_cell(cell)
    if isinstance(expected, float) and math.isnan(expected):
        assert isinstance(got, float) and math.isnan(got)
    else:
        assert got is expected or got == expected


def test_parse_cell_decimal_comma():
    assert parse_cell("0,25", decimal_comma=True) == 0.25
    assert parse_cell("0,25") is TEXT


def test_split_lines_handles_all_line_ends():
    assert split_lines("a\r\nb\r\r\nc") == ["a", "b", "c"]
    assert split_lines("a\rb\r") == ["a", "b"]
    assert split_lines("a\nb\n") == ["a", "b"]


def test_bom_padded_cells_trailing_commas_and_no_final_newline():
    run = load(LOGS / "plain/quirks.csv").runs[0]
    loss = run.get("loss")
    assert loss.x.tolist() == [1, 2, 3, 4, 5]
    assert loss.y[0] == 2.5 and math.isnan(loss.y[1])
    assert loss.y[2] == math.inf and loss.y[3] == -math.inf and loss.y[4] == 1.0
    assert run.get("lr").x.tolist() == [1, 2, 3, 5]
    assert [s.name for s in run.series] == ["loss", "lr"]  # the trailing empty column is gone


def test_partial_last_line_is_ignored():
    loss = load(LOGS / "plain/partial.csv").runs[0].get("loss")
    assert loss.x.tolist() == [1, 2, 3]


def test_missing_spellings_are_gaps_and_nonfinite_spellings_are_points():
    run = load(LOGS / "plain/missing_spellings.csv").runs[0]
    assert run.get("a").x.tolist() == [4]
    b = run.get("b")
    assert b.x.tolist() == [3, 4]
    assert math.isnan(b.y[0]) and b.y[1] == -math.inf


def _big_csv(path: Path, rows: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    lines = ["epoch,lr-SGD,step,train_loss,val_loss"]
    for i in range(rows):
        if i % 97 == 0:
            lines.append(f",{rng.random() * 0.1!r},{i},,")
        elif i % 31 == 0:
            lines.append(f"{i // 50},,{i},,{rng.random()!r}")
        elif i % 401 == 0:
            lines.append(f"{i // 50},,{i},nan,")
        else:
            lines.append(f"{i // 50},,{i},{rng.random() * 3!r},")
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode())


@pytest.mark.parametrize("workers", [1, 2])
def test_fast_block_path_equals_line_by_line_path(tmp_path, monkeypatch, workers):
    p = tmp_path / "metrics.csv"
    _big_csv(p, 30000)
    monkeypatch.setattr("lrviz.loaders.csvread.BLOCK_BYTES", 16384)
    fast = read_csv(str(p), workers=workers)
    monkeypatch.setattr("lrviz.loaders.csvread.BlockParser.parse", lambda self, data: None)
    slow = read_csv(str(p), workers=1)
    assert fast.nrows == slow.nrows == 30000
    for name in slow.names:
        np.testing.assert_array_equal(fast.values[name], slow.values[name])
        fp, sp = fast.present[name], slow.present[name]
        assert (fp is None and sp is None) or np.array_equal(fp, sp)


def test_repeated_header_inside_a_fast_block_is_dropped(tmp_path):
    p = tmp_path / "log.csv"
    p.write_bytes(b"epoch,loss\n0,1.5\n1,1.2\nepoch,loss\n0,1.1\n1,0.9\n")
    t = read_csv(str(p))
    assert t.nrows == 4 and t.segments == [2]
    assert t.values["loss"].tolist() == [1.5, 1.2, 1.1, 0.9]


def test_float32_values_survive_exactly(tmp_path):
    xs = np.frombuffer(struct.pack("<4f", 0.1, 1e-7, 3.4e38, 2.5), dtype="<f4").astype(float)
    p = tmp_path / "lr.csv"
    p.write_text("lr,loss\n" + "".join(f"{x!r},{x!r}\n" for x in xs.tolist()))
    run = load(p).runs[0]
    assert run.find("lr").y.tolist() == xs.tolist()


cell_tokens = st.one_of(
    finite_floats.map(lambda x: repr(x)),
    st.integers(-(10**6), 10**6).map(str),
    st.sampled_from(
        ["", "nan", "NA", "None", "inf", "-inf", "abc", " 1.5", "1.5 ", "00:12", "1e5", "-0"]
    ),
)


@settings(max_examples=100, deadline=None)
@given(
    ncols=st.integers(1, 4),
    rows=st.lists(st.lists(cell_tokens, min_size=4, max_size=4), min_size=1, max_size=40),
    crlf=st.booleans(),
)
def test_fast_and_slow_paths_agree_on_random_tables(tmp_path_factory, ncols, rows, crlf):
    from lrviz.loaders.csvread import BlockParser, CsvReader, sniff

    eol = "\r\n" if crlf else "\n"
    header = ",".join(f"c{j}" for j in range(ncols))
    text = header + eol + "".join(",".join(r[:ncols]) + eol for r in rows)
    data = text.encode()
    dialect = sniff(data)
    fast = CsvReader(dialect)
    body = data[dialect.body_offset :]
    block = BlockParser(dialect).parse(body)
    fast.feed_parsed(body, block)
    slow = CsvReader(dialect)
    slow.feed_parsed(body, None)
    ft, sl = fast.table(), slow.table()
    assert ft.nrows == sl.nrows
    assert sorted(ft.values) == sorted(sl.values)
    for name in sl.values:
        np.testing.assert_array_equal(ft.values[name], sl.values[name])
        fp = ft.present[name] if ft.present[name] is not None else np.ones(ft.nrows, bool)
        sp = sl.present[name] if sl.present[name] is not None else np.ones(sl.nrows, bool)
        np.testing.assert_array_equal(fp, sp)


@pytest.mark.parametrize("eol", [b"\n", b"\r\n", b"\r\r\n"])
def test_clean_blocks_never_fall_back_to_cell_by_cell(monkeypatch, eol):
    from lrviz.loaders.csvread import BlockParser, sniff

    def refuse(*args, **kwargs):
        raise AssertionError("slow path used")

    dialect = sniff(b"step,lr,loss" + eol)
    monkeypatch.setattr("lrviz.loaders.csvread.parse_cell", refuse)
    body = eol.join([b"1,,0.5", b"2,0.1,1e-07", b"3,-2,"]) + eol
    block = BlockParser(dialect).parse(body)
    assert block is not None
    assert block.values[2][:2].tolist() == [0.5, 1e-07]
    assert block.present[1].tolist() == [False, True, True]

"""Delimited text: numbers read exactly as float() reads them, each cell as parse_cell has it,
every quirk read."""

from __future__ import annotations

import math
import struct
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lrviz.loaders import load
from lrviz.loaders.csvread import read_csv
from lrviz.loaders.text import MISSING, TEXT, parse_cell, split_lines

LOGS = Path(__file__).resolve().parents[1] / "fixtures" / "logs"


def oracle(text: str, sep: str = ","):
    """What a delimited text holds, cell by cell with parse_cell (no quotes in ``text``):
    {column: (values, present)} for the numeric columns, and the row count."""
    lines = [line.rstrip("\r") for line in text.split("\n")]
    names = lines[0].split(sep)
    rows = [line.split(sep) for line in lines[1:] if line.strip()]
    out = {}
    for j, name in enumerate(names):
        cells = [parse_cell(r[j]) if j < len(r) else MISSING for r in rows]
        present = np.array([c is not MISSING and c is not TEXT for c in cells], dtype=bool)
        texts = sum(c is TEXT for c in cells)
        if present.sum() == 0 or present.sum() < texts:
            continue
        values = np.array([c if p else np.nan for c, p in zip(cells, present, strict=True)])
        out[name] = (values, present)
    return out, len(rows)


def assert_reads_as_oracle(path: Path, text: str) -> None:
    """Read both ways: by pandas (any size) and line by line (a small log, a tail)."""
    for lines_bytes in (0, 1 << 30):
        with pytest.MonkeyPatch.context() as monkeypatch:
            monkeypatch.setattr("lrviz.loaders.csvread.LINES_BYTES", lines_bytes)
            _assert_table_is_oracle(read_csv(str(path)), text)


def _assert_table_is_oracle(table, text: str) -> None:
    want, nrows = oracle(text)
    assert table.nrows == nrows
    assert sorted(table.values) == sorted(want)
    for name, (values, present) in want.items():
        got_present = table.present[name]
        got_present = np.ones(nrows, bool) if got_present is None else got_present
        np.testing.assert_array_equal(got_present, present, err_msg=name)
        np.testing.assert_array_equal(table.values[name][present], values[present], err_msg=name)


finite_floats = st.floats(allow_nan=False, allow_infinity=False)


def read_one_column(tmp_path_factory, tokens: list[str]) -> np.ndarray:
    path = tmp_path_factory.mktemp("c") / "c.csv"
    path.write_text("step,x\n" + "".join(f"{i},{t}\n" for i, t in enumerate(tokens)))
    return read_csv(str(path)).values["x"]


@settings(max_examples=150, deadline=None)
@given(st.lists(finite_floats, min_size=1, max_size=60))
def test_numbers_read_exactly_as_float_reads_their_reprs(tmp_path_factory, xs):
    got = read_one_column(tmp_path_factory, [repr(x) for x in xs])
    assert got.tolist() == [float(repr(x)) for x in xs]


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.floats(width=32, allow_nan=False, allow_infinity=False), min_size=1, max_size=60)
)
def test_numbers_read_exactly_in_printf_formats(tmp_path_factory, xs):
    tokens = []
    for x in xs:
        tokens += [f"{x:.6g}", f"{x:.8e}", f"{x:.5f}", f"{x:.17g}"]
    got = read_one_column(tmp_path_factory, tokens)
    assert got.tolist() == [float(t) for t in tokens]


def test_the_common_shapes_and_rounding_edge_cases_read_exactly(tmp_path_factory):
    tokens = [
        "0",
        "-12",
        "0.5",
        "2.2897543907165527",
        "1.0000018420699561e-07",
        "0.0010000000474974513",
        "+3.5",
        "5.",
        ".25",
        "1E+05",
        "12345678901234567890",
        "26461985373.0000000",
        "523762152712501.0",
        "9007199254740993",  # 2**53 + 1: a rounding midpoint
        "1e-320",  # subnormal
    ]
    got = read_one_column(tmp_path_factory, tokens)
    assert got.tolist() == [float(t) for t in tokens]


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


def _big_csv(rows: int, seed: int = 0) -> str:
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
    return "\r\n".join(lines) + "\r\n"


def test_a_sparse_log_with_logged_nans_reads_cell_by_cell_alike(tmp_path):
    p = tmp_path / "metrics.csv"
    text = _big_csv(30000)
    p.write_bytes(text.encode())
    assert_reads_as_oracle(p, text)
    loss = read_csv(str(p)).column("train_loss")
    assert np.isnan(loss[0][401]) and loss[1][401]  # a logged nan is a value
    assert not loss[1][97]  # an empty cell is not


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
def test_random_tables_read_as_parse_cell_reads_each_cell(tmp_path_factory, ncols, rows, crlf):
    eol = "\r\n" if crlf else "\n"
    header = ",".join(f"c{j}" for j in range(ncols))
    text = header + eol + "".join(",".join(r[:ncols]) + eol for r in rows)
    if ncols == 1:
        text = text.replace(eol + eol, eol)  # one column: an empty cell is a blank line
    path = tmp_path_factory.mktemp("t") / "t.csv"
    path.write_bytes(text.encode())
    assert_reads_as_oracle(path, text)
    with pytest.MonkeyPatch.context() as monkeypatch:
        # Missing cells told from logged nans by reading their rows, or pandas reading the
        # nans as text: the same table.
        monkeypatch.setattr("lrviz.loaders.csvread._MAX_TOLD", 0)
        assert_reads_as_oracle(path, text)


@pytest.mark.parametrize("piece", [7, 1 << 22])  # lines across the pieces read, or not
@pytest.mark.parametrize("told", [0, 100_000])
@pytest.mark.parametrize(
    "text",
    [
        "step,loss\n\n0,nan\n\r\n1,\n\r\r\n2,0.5\n",  # blank lines between the rows
        "step,loss\n0,nan\n   \n1,\n2,0.5\n",  # a line of spaces
        "step,loss\r\n0,NA\r\n1,nan\r\n2,-NaN\r\n3,\r\n",
    ],
)
def test_logged_nans_are_told_from_gaps_around_blank_lines(
    tmp_path, monkeypatch, told, text, piece
):
    monkeypatch.setattr("lrviz.loaders.csvread._MAX_TOLD", told)
    monkeypatch.setattr("lrviz.loaders.csvread._SCAN_BYTES", piece)
    p = tmp_path / "log.csv"
    p.write_bytes(text.encode())
    assert_reads_as_oracle(p, text.replace("\r", ""))


@pytest.mark.parametrize("eol", [b"\n", b"\r\n", b"\r\r\n"])
def test_plain_numeric_columns_never_go_cell_by_cell(tmp_path, monkeypatch, eol):
    from lrviz.loaders import csvread

    real = csvread.parse_cell

    def refuse(cell, *args):
        assert cell in ("step", "lr", "loss"), f"cell {cell!r} read cell by cell"
        return real(cell, *args)  # the header's names are read so

    p = tmp_path / "log.csv"
    p.write_bytes(eol.join([b"step,lr,loss", b"1,,0.5", b"2,0.1,1e-07", b"3,-2,"]) + eol)
    monkeypatch.setattr("lrviz.loaders.csvread.parse_cell", refuse)
    monkeypatch.setattr("lrviz.loaders.csvread.LINES_BYTES", 0)  # pandas, however small
    t = read_csv(str(p))
    assert t.values["loss"][:2].tolist() == [0.5, 1e-07]
    assert t.present["lr"].tolist() == [False, True, True]

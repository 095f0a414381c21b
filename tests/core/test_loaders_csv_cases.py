"""The one CSV engine (pandas' C parser, lrviz's rules for what it cannot tell): a logged
``nan`` is a point and an empty cell a gap, whichever way pandas typed the column; quotes,
decimal commas, repeated headers and a last line being written; a live log read in pieces
equals the file read whole."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lrviz.errors import LrvizError
from lrviz.loaders import csvread

NAN = math.nan


def _read(tmp_path, body: str):
    """The table pandas reads, after checking that the line-by-line reader (small logs, a
    live log's tail) reads the same or refuses the same."""
    path = tmp_path / "log.csv"
    path.write_text(body, newline="")
    got = []
    for lines_bytes in (1 << 30, 0):
        with pytest.MonkeyPatch.context() as monkeypatch:
            monkeypatch.setattr(csvread, "LINES_BYTES", lines_bytes)
            try:
                got.append(csvread.read_csv(str(path)))
            except LrvizError as exc:
                got.append(exc)
    by_lines, by_pandas = got
    if isinstance(by_pandas, LrvizError):
        assert isinstance(by_lines, LrvizError) and str(by_lines) == str(by_pandas)
        raise by_pandas
    _same_table(by_lines, by_pandas)
    return by_pandas


def _same_table(a, b) -> None:
    assert a.names == b.names and a.nrows == b.nrows and a.segments == b.segments
    assert sorted(a.values) == sorted(b.values)
    for name in a.values:
        np.testing.assert_array_equal(a.values[name], b.values[name])
        pa, pb = a.present[name], b.present[name]
        assert (pa is None) == (pb is None), name
        if pa is not None:
            np.testing.assert_array_equal(pa, pb)


def _column(table, name):
    values, present = table.column(name)
    present = np.ones(values.size, bool) if present is None else present
    return [v if p else None for v, p in zip(values.tolist(), present.tolist(), strict=True)]


def _same(got, want):
    assert len(got) == len(want), (got, want)
    for g, w in zip(got, want, strict=True):
        if w is None or g is None:
            assert g is w, (got, want)
        elif math.isnan(w):
            assert math.isnan(g), (got, want)
        else:
            assert g == w, (got, want)


@pytest.mark.parametrize(
    "body, loss",
    [
        ("step,loss\n0,1.0\n1,nan\n2,0.5\n", [1.0, NAN, 0.5]),  # a logged nan is a point
        ("step,loss\n0,nan\n1,nan\n", [NAN, NAN]),  # a column of nans is not an empty column
        ("step,loss\n0,1.0\n1,-nan\n2,\n", [1.0, NAN, None]),
        ("step,loss\n0,1.0\n1,NaN\n2,\n", [1.0, NAN, None]),
        ("step,loss\n0,1.0\n1,None\n", [1.0, None]),
        ("step,loss\n0,1.0\n1,NA\n", [1.0, None]),
        ("step,loss\n0,1.0\n1, null \n", [1.0, None]),
        ("step,loss\n0,1.0\n1,inf\n2,-Infinity\n", [1.0, math.inf, -math.inf]),
        ("step,loss\n0,1.0\nstep,loss\n1,0.5\n", [1.0, 0.5]),  # repeated header
        ("step,loss\n0,1.0\n1,0.5", [1.0, 0.5]),  # no final line end
        ("step,loss\n0,1.0\n1", [1.0]),  # last line still being written
        ('step,loss\n0,1.0\n1,"0.', [1.0]),  # ... inside an open quote
        ('"step","loss"\n"0","1.0"\n1,""\n', [1.0, None]),
        ("step;loss\n0;1,5\n1;0,25\n", [1.5, 0.25]),  # decimal comma
        ("step,loss\n0,1.0\n1, 0.5\n2,0.25 \n", [1.0, 0.5, 0.25]),
        ("step,loss\n0,00:12\n1,1:02:05\n", [12.0, 3725.0]),  # durations
        ("step,loss\n0,1.0,,\n1,0.5,\n", [1.0, 0.5]),  # trailing empty cells
    ],
)
def test_each_quirk_reads_as_lrviz_reads_a_cell(tmp_path, body, loss):
    table = _read(tmp_path, body)
    _same(_column(table, "loss"), loss)


def test_a_repeated_header_starts_a_segment(tmp_path):
    table = _read(tmp_path, "epoch,loss\n0,1.5\n1,1.2\nepoch,loss\n0,1.1\n1,0.9\n")
    assert table.nrows == 4 and table.segments == [2]
    assert table.values["epoch"].tolist() == [0, 1, 0, 1]


def test_a_text_column_is_left_out_and_a_mostly_numeric_one_kept(tmp_path):
    table = _read(tmp_path, "step,name,loss\n0,a,1.0\n1,b,oops\n2,c,0.5\n")
    assert "name" not in table.values
    _same(_column(table, "loss"), [1.0, None, 0.5])


def test_a_nan_far_into_a_large_file_keeps_every_number_exact(tmp_path):
    # pandas reads large files in chunks and types each: numbers in the first ones, text in
    # the chunk with the `nan`. Every cell must still read as float() reads it.
    rng = np.random.default_rng(3)
    xs = rng.random(300_000)
    lines = [f"{i},{x!r}" for i, x in enumerate(xs.tolist())]
    lines[-2] = f"{len(lines) - 2},nan"
    lines[-5] = f"{len(lines) - 5},"
    table = _read(tmp_path, "step,loss\n" + "\n".join(lines) + "\n")
    values, present = table.column("loss")
    want = xs.copy()
    want[-2] = np.nan
    assert present is not None and not present[-5] and present.sum() == xs.size - 1
    np.testing.assert_array_equal(values[present], want[present])


@pytest.mark.parametrize(
    "body, line, column",
    [
        ("step,loss\n0,1.0\n1,0.5,7\n", 3, 7),
        ("step,loss\n0,1.0,7\n1,0.5\n", 2, 7),  # the first row (pandas only warns)
        ("step,loss\n0,1.0,,\n1,0.5,,9\n", 3, 7),  # after rows with empty extra cells
    ],
)
def test_a_row_wider_than_the_header_is_refused_with_its_line_and_column(
    tmp_path, body, line, column
):
    from lrviz.errors import LrvizError

    with pytest.raises(LrvizError, match="cells but the header names 2 columns") as caught:
        _read(tmp_path, body)
    assert (caught.value.line, caught.value.column) == (line, column)


def test_a_stray_quote_ends_with_its_line_and_the_rest_is_read(tmp_path):
    # pandas alone read on inside the quote to the end of the file and refused it.
    table = _read(tmp_path, 'step,loss\n0,1.0\n\n1,"0.5\n2,0.25\n')
    _same(_column(table, "loss"), [1.0, 0.5, 0.25])


def test_an_integer_past_float64_reads_as_infinite(tmp_path):
    table = _read(tmp_path, "step,loss\n0," + "1" * 400 + "\n1,0.5\n")
    assert table.values["loss"].tolist() == [math.inf, 0.5]


def _lightning_like(rows: int, seed: int) -> str:
    rng = np.random.default_rng(seed)
    lines = ["epoch,lr-SGD,step,train_loss,val_loss"]
    for step in range(rows):
        loss = "nan" if step == rows - 300 else f"{float(rng.random() * 3)!r}"
        lr = f"{0.1 * 0.999**step!r}" if step % 7 == 0 else ""
        val = f"{rng.random()!r}" if step % 11 == 0 else ""
        lines.append(f"{step // 50},{lr},{step},{loss},{val}")
    return "\r\n".join(lines) + "\r\n"


def test_a_live_log_followed_in_pieces_equals_the_file_read_whole(tmp_path):
    from lrviz.loaders import LogWatcher, load

    path = tmp_path / "metrics.csv"
    lines = _lightning_like(4000, 1).split("\r\n")
    path.write_text("\r\n".join(lines[:3000]) + "\r\n", newline="")
    watcher = LogWatcher(path)
    assert watcher.poll()
    with path.open("a", newline="") as f:
        f.write("\r\n".join(lines[3000:3500]) + "\r\n" + lines[3500][:7])  # a cut-off row
    assert watcher.poll()
    with path.open("a", newline="") as f:
        f.write(lines[3500][7:] + "\r\n" + "\r\n".join(lines[3501:]))
    assert watcher.poll()
    expected = load(path)
    got = watcher.data
    assert [s.name for s in got.runs[0].series] == [s.name for s in expected.runs[0].series]
    for a, b in zip(got.runs[0].series, expected.runs[0].series, strict=True):
        np.testing.assert_array_equal(a.x, b.x)
        np.testing.assert_array_equal(a.y, b.y)
    loss = expected.runs[0].get("train_loss")
    assert np.isnan(loss.y).sum() == 1  # the logged nan, a point


@pytest.mark.parametrize(
    "body, reads",
    [
        ("step,loss\n0,1.0\n1,\n2,0.5\n", 1),  # gaps only
        ("step,loss\n0,1.0\n\n1,nan\n2,\n", 1),  # a logged nan, told apart by its row
        ('step,loss\n0,1.0\n1,nan\n2,"0.5"\n', 2),  # quoted: pandas reads the nan as text
    ],
)
def test_a_logged_nan_costs_a_second_read_only_when_its_row_cannot_be_found(
    tmp_path, monkeypatch, body, reads
):
    real = csvread._frame
    path = tmp_path / "log.csv"
    path.write_text(body, newline="")
    calls = []
    monkeypatch.setattr(csvread, "_frame", lambda *a: calls.append(1) or real(*a))
    monkeypatch.setattr(csvread, "LINES_BYTES", 0)  # pandas, however small
    table = csvread.read_csv(str(path))
    assert len(calls) == reads
    assert (_column(table, "loss")[1] is not None) == ("nan" in body)  # a point, or a gap

"""Large plain numeric CSVs go through pandas' C parser; the result must equal the numpy
reader's exactly, and anything pandas cannot tell apart must go to the numpy reader."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lrviz.loaders import csvread

pytest.importorskip("pandas")


def _both(path, monkeypatch):
    taken = []
    real = csvread._read_with_pandas

    def spy(*args):
        table = real(*args)
        taken.append(table is not None)
        return table

    monkeypatch.setattr(csvread, "_read_with_pandas", spy)
    monkeypatch.setattr(csvread, "PANDAS_MIN_BYTES", 0)
    fast = csvread.read_csv(str(path))
    monkeypatch.setattr(csvread, "PANDAS_MIN_BYTES", 1 << 62)
    slow = csvread.read_csv(str(path))
    return fast, slow, taken == [True]


def _assert_same(a, b):
    assert a.names == b.names and a.nrows == b.nrows
    assert sorted(a.values) == sorted(b.values)
    for name in a.values:
        np.testing.assert_array_equal(a.values[name], b.values[name])
        pa, pb = a.present[name], b.present[name]
        assert (pa is None) == (pb is None), name
        if pa is not None:
            np.testing.assert_array_equal(pa, pb)


def _lightning_like(rows: int, seed: int) -> str:
    rng = np.random.default_rng(seed)
    lines = ["epoch,lr-SGD,step,train_loss,val_loss"]
    for step in range(rows):
        loss = rng.random() * 3
        lr = f"{0.1 * 0.999**step!r}" if step % 7 == 0 else ""
        val = f"{rng.random()!r}" if step % 11 == 0 else ""
        lines.append(f"{step // 50},{lr},{step},{float(loss)!r},{val}")
    return "\r\n".join(lines) + "\r\n"


def test_sparse_lightning_table_takes_the_pandas_path_and_matches(tmp_path, monkeypatch):
    path = tmp_path / "metrics.csv"
    path.write_text(_lightning_like(3000, 0), newline="")
    fast, slow, took_pandas = _both(path, monkeypatch)
    assert took_pandas
    _assert_same(fast, slow)
    assert fast.present["val_loss"] is not None and fast.present["step"] is None


@pytest.mark.parametrize(
    "body",
    [
        "step,loss\n0,1.0\n1,nan\n2,0.5\n",  # a logged nan is a point, not a gap
        "step,loss\n0,nan\n1,nan\n",  # a column of logged nans is not an empty column
        "step,loss\n0,1.0\n1,-nan\n2,\n",
        "step,loss\n0,1.0\n1,NaN\n2,\n",
        "step,loss\n0,1.0\n1,None\n",
        "step,loss\n0,1.0\n1,NA\n",
        "step,loss\n0,1.0\nstep,loss\n1,0.5\n",  # repeated header
        "step,loss\n0,1.0\n1,0.5",  # last line still being written
        '"step","loss"\n"0","1.0"\n',
        "step;loss\n0;1,5\n",  # decimal comma
    ],
)
def test_what_pandas_cannot_tell_apart_goes_to_the_numpy_reader(tmp_path, monkeypatch, body):
    path = tmp_path / "log.csv"
    path.write_text(body, newline="")
    fast, slow, took_pandas = _both(path, monkeypatch)
    assert not took_pandas
    _assert_same(fast, slow)


@pytest.mark.parametrize(
    "body", ["step,loss\n0,1.0\n1, 0.5\n2,0.25 \n", 'step,loss\n0,1.0\n1,""\n2,0.5\n']
)
def test_padded_and_quoted_empty_cells_read_alike(tmp_path, monkeypatch, body):
    path = tmp_path / "log.csv"
    path.write_text(body)
    fast, slow, _ = _both(path, monkeypatch)
    _assert_same(fast, slow)


def test_infinite_values_are_kept_by_both_paths(tmp_path, monkeypatch):
    path = tmp_path / "log.csv"
    path.write_text("step,loss\n0,1.0\n1,inf\n2,-inf\n")
    fast, slow, took_pandas = _both(path, monkeypatch)
    assert took_pandas
    _assert_same(fast, slow)
    assert np.isinf(fast.values["loss"][1:]).all()


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False, width=64)),
            st.one_of(st.none(), st.integers(-(10**12), 10**12)),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_random_numeric_tables_agree(tmp_path_factory, rows):
    path = tmp_path_factory.mktemp("t") / "t.csv"
    lines = ["a,b"] + [f"{'' if x is None else repr(x)},{'' if y is None else y}" for x, y in rows]
    path.write_text("\n".join(lines) + "\n")
    with pytest.MonkeyPatch.context() as monkeypatch:
        fast, slow, _ = _both(path, monkeypatch)
    _assert_same(fast, slow)


def test_a_live_log_first_read_by_pandas_then_followed_row_by_row(tmp_path, monkeypatch):
    from lrviz.loaders import LogWatcher, load

    path = tmp_path / "metrics.csv"
    text = _lightning_like(4000, 1)
    lines = text.split("\r\n")
    path.write_text("\r\n".join(lines[:3000]) + "\r\n", newline="")
    used = []
    real = csvread.read_complete_with_pandas
    monkeypatch.setattr(csvread, "read_complete_with_pandas", lambda *a: used.append(1) or real(*a))
    monkeypatch.setattr(csvread, "PANDAS_MIN_BYTES", 0)
    watcher = LogWatcher(path)
    assert watcher.poll()
    assert used, "the first read did not take the pandas path"
    with path.open("a", newline="") as f:
        f.write("\r\n".join(lines[3000:3500]) + "\r\n" + lines[3500][:7])  # a cut-off row
    assert watcher.poll()
    with path.open("a", newline="") as f:
        f.write(lines[3500][7:] + "\r\n")
    assert watcher.poll()
    monkeypatch.setattr(csvread, "PANDAS_MIN_BYTES", 1 << 62)
    expected = load(path)
    got = watcher.data
    for a, b in zip(got.runs[0].series, expected.runs[0].series, strict=True):
        assert a.name == b.name
        np.testing.assert_array_equal(a.x, b.x)
        np.testing.assert_array_equal(a.y, b.y)

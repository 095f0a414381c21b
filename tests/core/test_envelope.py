"""The screen-resolution envelope: the same extremes as the full curve, at bounded size."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lrviz.envelope import Envelope, EnvelopeView, window


def brute_force(values: np.ndarray, bucket: int) -> tuple[np.ndarray, np.ndarray]:
    n = values.shape[0] // bucket * bucket
    block = values[:n].T.reshape(values.shape[1], -1, bucket)
    return np.fmin.reduce(block, axis=2), np.fmax.reduce(block, axis=2)


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 3),
    st.lists(st.integers(1, 300), min_size=1, max_size=12),
    st.sampled_from([4, 8, 16]),
    st.integers(0, 2**32 - 1),
)
def test_extremes_equal_a_brute_force_reduction_whatever_the_batches(runs, sizes, capacity, seed):
    rng = np.random.default_rng(seed)
    values = rng.standard_normal((sum(sizes), runs))
    values[rng.random(values.shape) < 0.05] = np.nan
    env = Envelope(runs, capacity=capacity)
    at = 0
    for size in sizes:
        env.add(values[at : at + size])
        at += size
    assert env.iterations == values.shape[0]
    assert env.count <= capacity
    lo, hi = brute_force(values, env.bucket)
    np.testing.assert_array_equal(env.lo[:, : env.count], lo[:, : env.count])
    np.testing.assert_array_equal(env.hi[:, : env.count], hi[:, : env.count])
    # every value is inside the envelope of its bucket, and the extremes are reached
    for run in range(runs):
        x, y = env.curve(run)
        assert np.all(np.diff(x) >= 0)
        finite = values[:, run][np.isfinite(values[:, run])]
        if finite.size:
            assert np.nanmax(y) == finite.max() and np.nanmin(y) == finite.min()


def test_a_long_run_stays_at_screen_resolution():
    env = Envelope(2, capacity=1024)
    for _ in range(100):
        env.add(np.random.default_rng(0).standard_normal((1000, 2)))
    assert env.iterations == 100_000 and env.count <= 1024 and env.bucket == 128
    x, y = env.curve(0)
    assert x.size == y.size <= 2 * 1024 + 128


def test_one_bucket_per_iteration_draws_each_point_once():
    env = Envelope(1, capacity=8)
    env.add(np.arange(5.0)[:, None])
    x, y = env.curve(0)
    np.testing.assert_array_equal(x, np.arange(5.0))
    np.testing.assert_array_equal(y, np.arange(5.0))
    assert env.last()[0] == 4.0


def test_bad_input():
    with pytest.raises(ValueError):
        Envelope(2, capacity=7)
    with pytest.raises(ValueError):
        Envelope(2).add(np.zeros((3, 3)))


def test_window_of_a_zoomed_in_view():
    values = np.arange(100.0)[:, None] * np.array([1.0, -1.0])
    x, y = window(values, 500, 10)
    assert y.shape == (2, x.size) and x[0] == 500
    assert y[0].max() == 99.0 and y[1].min() == -99.0
    x, y = window(values[:5], 0, 10)  # fewer points than columns: as they are
    np.testing.assert_array_equal(y[0], np.arange(5.0))


def test_min_positive_sees_full_buckets_and_the_pending_part():
    env = Envelope(2, capacity=4)
    assert env.min_positive() is None
    env.add(np.array([[3.0, 0.0], [2.0, 5.0], [0.5, np.nan]]))
    assert env.min_positive() == 0.5  # 0.5 still pending, zeros are not positive


def test_curves_of_several_runs_at_once_equal_each_run_s_curve():
    env = Envelope(3, capacity=4)
    rng = np.random.default_rng(1)
    for n in (3, 5, 1, 9):  # through merges, with a pending part
        env.add(rng.random((n, 3)))
        x, ys = env.curves([2, 0])
        for row, run in zip(ys, (2, 0), strict=True):
            cx, cy = env.curve(run)
            np.testing.assert_array_equal(x, cx)
            np.testing.assert_array_equal(row, cy)


def _mapped(values: np.ndarray, log: bool) -> np.ndarray:
    """What the panels draw of envelope values: log10, non-positive as -inf, NaN kept."""
    if not log:
        return values
    out = np.full(values.shape, -np.inf)
    np.log10(values, out=out, where=values > 0)
    out[np.isnan(values)] = np.nan
    return out


def _summary(mapped: np.ndarray):
    finite = np.where(np.isfinite(mapped), mapped, np.nan)
    lo = np.array([np.min(r[~np.isnan(r)]) if (~np.isnan(r)).any() else np.nan for r in finite])
    hi = np.array([np.max(r[~np.isnan(r)]) if (~np.isnan(r)).any() else np.nan for r in finite])
    return lo, hi, (mapped == -np.inf).any(axis=1)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.integers(0, 23), min_size=1, max_size=25),
    st.booleans(),
    st.integers(0, 2**32 - 1),
    st.lists(st.sampled_from([0.0, -1.0, np.nan, np.inf]), max_size=8),
)
def test_an_envelope_view_is_the_envelope_mapped_whatever_the_batches(sizes, log, seed, odd):
    """Updated batch by batch, merges included, the view holds exactly what mapping the
    whole envelope gives (bitwise), and the same per-run summary; its frozen columns never
    change between merges (the stroking thread draws them meanwhile)."""
    rng = np.random.default_rng(seed)
    runs = 3
    envelope = Envelope(runs, capacity=8)
    view = EnvelopeView(envelope, log)
    for size in sizes:
        values = rng.lognormal(0.0, 3.0, (size, runs))
        for k, value in enumerate(odd if size else ()):  # zeros, negatives, NaN, inf
            values[rng.integers(size), k % runs] = value
        frozen = view.y[:, : view.frozen].copy()
        generation = view.generation
        envelope.add(values)
        view.update()
        if view.generation == generation:
            np.testing.assert_array_equal(view.y[:, : frozen.shape[1]], frozen)
        x, y = envelope.curves(np.arange(runs))
        np.testing.assert_array_equal(view.x[: view.width], x)
        expected = _mapped(y, log)
        np.testing.assert_array_equal(view.y[:, : view.width], expected)
        for got, want in zip(view.summary(), _summary(expected), strict=True):
            np.testing.assert_array_equal(got, want)


@settings(max_examples=300, deadline=None)
@given(
    rows=st.integers(1, 6),
    columns=st.integers(0, 9),
    values=st.lists(
        st.sampled_from([np.nan, np.inf, -np.inf, 1.0, -2.0, 0.5, 3.0, 0.0]),
        min_size=54,
        max_size=54,
    ),
)
def test_a_summary_is_the_finite_min_and_max_and_any_minus_infinity(rows, columns, values):
    """The per-run summary an envelope view keeps (bounds of the curves drawn), against
    the definition: min and max of the finite values (NaN where none), and whether a
    -inf (a non-positive value on a log axis) is among them."""
    from lrviz.envelope import _summary

    part = np.array(values[: rows * columns]).reshape(rows, columns)
    lo, hi, nonpositive = _summary(part)
    for k in range(rows):
        finite = part[k][np.isfinite(part[k])]
        np.testing.assert_array_equal(lo[k], finite.min() if finite.size else np.nan)
        np.testing.assert_array_equal(hi[k], finite.max() if finite.size else np.nan)
        assert nonpositive[k] == bool((part[k] == -np.inf).any())

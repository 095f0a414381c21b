"""debiased_ema against the plain TensorBoard recursion."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lrviz.smoothing import debiased_ema


def reference(values, weight):
    """TensorBoard's smoothing loop: non-finite points are skipped (NaN out, no update)."""
    out, last, count = [], 0.0, 0
    for v in values:
        if not math.isfinite(v):
            out.append(math.nan)
            continue
        last = last * weight + (1.0 - weight) * v
        count += 1
        out.append(last / (1.0 - weight**count))
    return np.array(out, dtype=float)


def assert_matches_reference(values, weight):
    with warnings.catch_warnings(), np.errstate(over="warn", invalid="warn", divide="warn"):
        warnings.simplefilter("error")
        got = debiased_ema(np.array(values, dtype=float), weight)
    expected = reference(values, weight)
    assert got.shape == expected.shape and got.dtype == np.float64
    np.testing.assert_array_equal(np.isnan(got), np.isnan(expected))
    finite = np.isfinite(expected)
    # The vectorized form rounds differently from the loop. Both errors scale with the values
    # recently averaged, not with the (possibly cancelling) result: compare against the same
    # EMA of |values|.
    magnitude = reference(np.abs(np.asarray(values, dtype=float)), weight)
    error = np.abs(got[finite] - expected[finite])
    assert np.all(error <= 1e-9 * magnitude[finite] + 1e-300), (error, magnitude[finite])


ordinary = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)
anything = st.one_of(
    ordinary,
    st.floats(allow_nan=True, allow_infinity=True),  # includes ±1e308 and subnormals
    st.sampled_from([math.nan, math.inf, -math.inf, 1e300, -1e300, 1e160, 0.0]),
)
weights = st.one_of(
    st.sampled_from([0.0, 0.5, 0.6, 0.9, 0.99, 0.999]),
    st.floats(0.0, 0.9999),
)


@settings(max_examples=150, deadline=None)
@given(values=st.lists(ordinary, max_size=300), weight=weights)
def test_matches_the_recursion_on_ordinary_values(values, weight):
    assert_matches_reference(values, weight)


@settings(max_examples=150, deadline=None)
@given(values=st.lists(anything, max_size=200), weight=weights)
def test_matches_the_recursion_with_nan_inf_and_huge_values(values, weight):
    assert_matches_reference(values, weight)


@settings(max_examples=20, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(100, 8000),
    weight=st.sampled_from([0.01, 0.5, 0.9]),  # blocks of 75, 498 and 3278 points
    log_scale=st.floats(-10.0, 200.0),
    holes=st.floats(0.0, 0.3),
)
def test_long_series_span_several_blocks(seed, n, weight, log_scale, holes):
    rng = np.random.default_rng(seed)
    values = rng.lognormal(sigma=2.0, size=n) * 10.0**log_scale
    values[rng.random(n) < holes] = np.nan
    assert_matches_reference(values.tolist(), weight)


def test_known_values():
    # weight 0.5 on [2, 4]: raw ema 1, then 0.5 + 2 = 2.5; debiased 1/0.5 = 2, 2.5/0.75
    np.testing.assert_allclose(debiased_ema([2.0, 4.0], 0.5), [2.0, 2.5 / 0.75])
    # a constant series stays constant (the point of debiasing)
    np.testing.assert_allclose(debiased_ema(np.full(1000, 3.0), 0.99), 3.0, rtol=1e-12)
    out = debiased_ema([1.0, math.nan, math.inf, 3.0], 0.5)
    assert np.isnan(out[1:3]).all()
    np.testing.assert_allclose(out[[0, 3]], [1.0, (0.25 + 1.5) / 0.75])


def test_weight_zero_returns_the_input_with_nan_for_non_finite():
    out = debiased_ema([1.0, -math.inf, 2.5], 0.0)
    assert out[0] == 1.0 and math.isnan(out[1]) and out[2] == 2.5


def test_all_non_finite_or_empty():
    assert np.isnan(debiased_ema([math.nan, math.inf], 0.9)).all()
    assert debiased_ema([], 0.9).shape == (0,)


@pytest.mark.parametrize("weight", [-0.1, 1.0, 1.5, math.nan])
def test_rejects_weights_outside_0_1(weight):
    with pytest.raises(ValueError, match="smoothing weight"):
        debiased_ema([1.0, 2.0], weight)


@settings(max_examples=20, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 3000),
    weight=st.sampled_from([0.01, 0.5, 0.6]),
    piece=st.integers(1, 700),
    huge=st.booleans(),
)
def test_a_series_scanned_in_many_pieces_matches_the_recursion(seed, n, weight, piece, huge):
    """A long log is scanned a piece of blocks at a time (each numpy call short): the pieces,
    the last partial block and a block that overflows join up as the recursion does."""
    from unittest import mock

    from lrviz import smoothing

    rng = np.random.default_rng(seed)
    values = rng.lognormal(sigma=1.0, size=n)
    if huge:
        values[rng.integers(n)] = 1e300  # that block's scaled sum overflows: redone by loop
    before = values.copy()
    with mock.patch.object(smoothing, "PIECE_VALUES", piece):
        assert_matches_reference(values.tolist(), weight)
        got = debiased_ema(values, weight)
    np.testing.assert_array_equal(values, before)  # the input is left as it was
    assert got is not values

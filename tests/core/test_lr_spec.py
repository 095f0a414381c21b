"""parse_lrs: the learning-rate lists users type."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lrviz.lr_spec import parse_lrs


def test_log_spaced_range():
    lrs = parse_lrs("1e-4:10:64")
    assert lrs.shape == (64,) and lrs.dtype == np.float64
    assert lrs[0] == 1e-4 and lrs[-1] == 10.0
    ratios = lrs[1:] / lrs[:-1]
    np.testing.assert_allclose(ratios, 10.0 ** (5 / 63), rtol=1e-12)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0.001:1:4", [0.001, 0.01, 0.1, 1.0]),
        ("  1e-3 : 1e-1 : 3 ", [1e-3, 1e-2, 1e-1]),
        ("0.5:8:1", [0.5]),
        ("1:0.01:3", [1.0, 0.1, 0.01]),  # descending is allowed
        ("0.1", [0.1]),
        ("0.1,0.2,3e-4", [0.1, 0.2, 3e-4]),
        (" 1 , 2 ,", [1.0, 2.0]),  # stray separators are forgiven
    ],
)
def test_good_inputs(text, expected):
    np.testing.assert_allclose(parse_lrs(text), expected, rtol=1e-12)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty learning-rate list"),
        ("   ", "empty learning-rate list"),
        (",", "no values"),
        ("1:2", "expected A:B:N"),
        ("1:2:3:4", "expected A:B:N"),
        ("1:2:x", "N must be a whole number"),
        ("1:2:2.5", "N must be a whole number"),
        ("1:2:0", "N must be at least 1"),
        ("1:2:-3", "N must be at least 1"),
        ("1:2:100001", "at most 100000 runs"),
        ("0:1:5", "'0' must be positive and finite"),
        ("-1:1:5", "'-1' must be positive and finite"),
        ("1e-4:inf:5", "'inf' must be positive and finite"),
        ("abc:1:5", "'abc' is not a number"),
        ("0.1,nan", "'nan' must be positive and finite"),
        ("0.1,-0.2", "'-0.2' must be positive and finite"),
        ("0.1;0.2", "'0.1;0.2' is not a number"),
    ],
)
def test_bad_inputs_say_what_is_wrong(text, message):
    with pytest.raises(ValueError) as info:
        parse_lrs(text)
    assert message in str(info.value)
    assert "\n" not in str(info.value)
    if text.strip():
        assert repr(text.strip()) in str(info.value)  # names the input


@settings(max_examples=100, deadline=None)
@given(
    low=st.floats(1e-12, 1e3),
    factor=st.floats(1.0, 1e6),
    count=st.integers(1, 500),
)
def test_ranges_round_trip(low, factor, count):
    high = low * factor
    lrs = parse_lrs(f"{low!r}:{high!r}:{count}")
    assert lrs.shape == (count,)
    assert lrs[0] == pytest.approx(low, rel=1e-12)
    if count > 1:
        assert lrs[-1] == pytest.approx(high, rel=1e-12)
        assert np.all(lrs[1:] >= lrs[:-1] * (1 - 1e-12))  # ascending (to rounding)
    assert np.all(np.isfinite(lrs) & (lrs > 0))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(1e-300, 1e300), min_size=1, max_size=20))
def test_comma_lists_round_trip(values):
    np.testing.assert_array_equal(parse_lrs(",".join(repr(v) for v in values)), values)

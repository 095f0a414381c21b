"""Property tests: whatever the curve, suggest() answers with sane numbers or a warning."""

from __future__ import annotations

import json

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from lrviz.suggest import METHODS, suggest

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
JUNK_SETTINGS = settings(SETTINGS, max_examples=120)

any_float = st.floats(allow_nan=True, allow_infinity=True, width=64)


def check(s, lr=None) -> None:
    """The invariants of every Suggestion."""
    named = {
        "suggested_lr": s.suggested_lr,
        "min_lr": s.min_lr,
        "max_lr": s.max_lr,
        "start_lr": s.start_lr,
        "stops_improving_lr": s.stops_improving_lr,
        "lr_at_min_loss": s.lr_at_min_loss,
        **s.methods,
    }
    for name, value in named.items():
        assert value is None or (isinstance(value, float) and np.isfinite(value) and value > 0), (
            name,
            value,
        )
    if any(v is not None for v in named.values()):
        assert s.tested_range is not None
        lo, hi = s.tested_range
        for name, value in named.items():
            assert value is None or lo <= value <= hi, (name, value, lo, hi)
    if s.suggested_lr is not None:
        assert s.min_lr is not None and s.max_lr is not None
        assert s.min_lr <= s.suggested_lr <= s.max_lr
        a, b = s.likely_best
        assert 0 < a < s.suggested_lr < b and np.isfinite(b)
        assert s.why and s.source == "raw"
    else:
        assert s.warnings and s.confidence == "low"
    assert s.min_lr is None or s.min_lr <= s.max_lr
    assert s.diverged_lr is None or (np.isfinite(s.diverged_lr) and s.diverged_lr > 0)
    assert s.confidence in ("high", "medium", "low") and set(s.methods) == set(METHODS)
    assert all(isinstance(w, str) and w for w in s.warnings)
    assert np.all(np.isfinite(s.curve_loss)) and np.all(s.curve_lr > 0)
    for marker in s.markers():
        assert np.isfinite(marker.loss) and marker.lr > 0
    json.dumps(s.to_dict(), allow_nan=False)


def lrviz_reading(s) -> dict:
    """Everything but the libraries' own rules, which read the points in the order given and
    (fastai's slide) with absolute thresholds, as the libraries do."""
    data = s.to_dict()
    data.pop("library_rules")
    return data


@st.composite
def junk_curves(draw):
    n = draw(st.integers(0, 120))
    lr = draw(arrays(np.float64, n, elements=any_float))
    loss = draw(arrays(np.float64, n, elements=any_float))
    return lr, loss


@JUNK_SETTINGS
@given(junk_curves())
def test_junk_never_raises_and_never_returns_nonsense(curve):
    check(suggest(*curve))


@st.composite
def range_tests(draw):
    """Curves like real range tests: plateau, descent, maybe a blow-up, noise, NaN tail,
    junk first points, exponential or linear ramps, any loss scale and offset."""
    n = draw(st.integers(8, 400))
    lo = 10 ** draw(st.floats(-8, -3))
    hi = lo * 10 ** draw(st.floats(0.5, 9))
    mode = draw(st.sampled_from(["exp", "linear"]))
    lr = np.geomspace(lo, hi, n) if mode == "exp" else np.linspace(lo, hi, n)
    x = np.log10(lr)
    center = draw(st.floats(x[0] - 1, x[-1] + 1))
    width = draw(st.floats(0.05, 1.5))
    scale = 10 ** draw(st.floats(-6, 6))
    offset = draw(st.floats(-1e3, 1e3)) * scale
    drop = draw(st.floats(0, 1))
    loss = offset + scale * (1 - drop / (1 + np.exp(-(x - center) / width)))
    if draw(st.booleans()):
        loss = loss + scale * np.exp(np.minimum((x - center - draw(st.floats(0, 4))) / 0.3, 700))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    loss = loss + scale * draw(st.floats(0, 0.5)) * rng.standard_normal(n)
    if draw(st.booleans()):
        loss[draw(st.integers(0, n - 1)) :] = draw(st.sampled_from([np.nan, np.inf, 1e300]))
    if draw(st.booleans()):
        loss[: draw(st.integers(1, 3))] = draw(st.floats(-1e6, 1e6))
    return lr, loss


@SETTINGS
@given(range_tests(), st.sampled_from(["start", "third", "fourth"]))
def test_range_test_like_curves_give_consistent_suggestions(curve, rule):
    check(suggest(*curve, range_rule=rule))


@SETTINGS
@given(range_tests(), st.randoms(use_true_random=False))
def test_point_order_does_not_matter(curve, random):
    lr, loss = curve
    order = list(range(lr.size))
    random.shuffle(order)
    assert lrviz_reading(suggest(lr[order], loss[order])) == lrviz_reading(suggest(lr, loss))


@SETTINGS
@given(range_tests(), st.integers(-20, 20))
def test_scaling_the_loss_by_a_power_of_two_changes_nothing(curve, power):
    lr, loss = curve
    scaled = suggest(lr, np.ldexp(loss, power))
    plain = suggest(lr, loss)
    if np.all(np.isfinite(np.ldexp(loss[np.isfinite(loss)], power))):
        assert lrviz_reading(scaled) == lrviz_reading(plain)

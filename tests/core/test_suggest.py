"""Suggestions from range-test curves: model curves with known features, then the ugly ones.

The suggestion itself is calibrated on real curves (tests/core/test_suggest_truth.py); here
the model curves pin down what the reading measures and every invariant it keeps.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from lrviz.smoothing import debiased_ema
from lrviz.suggest import DEFAULT, METHODS, Suggestion, prepare, suggest, undo_ema
from lrviz.suggest.best_lr import place

CENTER = 1e-3  # steepest point of the model curve's descent
WIDTH = 0.3  # decades: width of the descent's sigmoid
TURN = 2.0  # decades after CENTER where the explosion term reaches 1
JUMP = 5e-3  # the minibatch noise grows sharply above this lr


def model_loss(lr, start=2.3, floor=0.3, center=CENTER, blowup=True, noise=0.0, seed=0):
    """A range-test curve with known features: a sigmoid descent in log lr from ``start`` to
    ``floor`` centred on ``center``, then an exponential explosion; with ``noise``, a
    log-normal minibatch noise of that size that grows sharply above :data:`JUMP`."""
    lr = np.asarray(lr, dtype=np.float64)
    x = np.log10(lr) - np.log10(center)
    loss = start - (start - floor) / (1.0 + np.exp(-x / WIDTH))
    if blowup:
        loss = loss + np.exp((x - TURN) / 0.25)
    if noise:
        sigma = np.minimum(noise * (1.0 + (lr / JUMP) ** 4), 0.5)
        loss = loss * np.exp(sigma * np.random.default_rng(seed).standard_normal(lr.size))
    return loss


def truth(center=CENTER):
    """Minimum and 10% bottom band of the noiseless model curve, from a dense evaluation."""
    lr = np.geomspace(center * 1e-4, center * 1e4, 200_001)
    loss = model_loss(lr, center=center)
    low = int(np.argmin(loss))
    band = loss <= loss[low] + 0.1 * (loss[0] - loss[low])
    enter = low
    while band[enter - 1]:
        enter -= 1
    leave = low
    while band[leave + 1]:
        leave += 1
    return {"min": lr[low], "enter": lr[enter], "leave": lr[leave]}


def decades(a: float, b: float) -> float:
    return abs(float(np.log10(a) - np.log10(b)))


def exp_ramp(n=100, lo=1e-7, hi=10.0):
    return np.geomspace(lo, hi, n)


def same_reading(a: Suggestion, b: Suggestion) -> None:
    """Everything lrviz reads agrees (the libraries' own rules read the points as given)."""
    da, db = a.to_dict(), b.to_dict()
    da.pop("library_rules"), db.pop("library_rules")
    assert da == db


@pytest.fixture(scope="module")
def clean() -> Suggestion:
    """A deterministic curve: no noise, so no jumps to read."""
    lr = exp_ramp()
    return suggest(lr, model_loss(lr))


@pytest.fixture(scope="module")
def noisy() -> Suggestion:
    lr = exp_ramp()
    return suggest(lr, model_loss(lr, noise=0.02, seed=2))


def assert_sane(s: Suggestion) -> None:
    """Invariants every suggestion keeps, whatever the input."""
    values = [s.suggested_lr, s.min_lr, s.max_lr, s.start_lr, s.stops_improving_lr, s.jumpy_lr]
    values += [s.lr_at_min_loss, s.diverged_lr, *s.methods.values()]
    for v in values:
        assert v is None or (isinstance(v, float) and np.isfinite(v) and v > 0)
    if s.tested_range is not None:
        lo, hi = s.tested_range
        for v in values[:-5] + list(s.methods.values()) + [s.lr_at_min_loss]:
            assert v is None or lo <= v <= hi
    if s.suggested_lr is not None:
        assert s.min_lr <= s.suggested_lr <= s.max_lr
        a, b = s.likely_best
        assert a < s.suggested_lr < b
        assert s.why
    else:
        assert s.warnings and s.confidence == "low" and s.likely_best is None
    assert s.confidence in ("high", "medium", "low")
    assert set(s.methods) == set(METHODS)
    json.dumps(s.to_dict(), allow_nan=False)


# --- what the reading measures ---------------------------------------------------------------


def test_the_features_of_a_clean_curve(clean):
    t = truth()
    assert decades(clean.methods["steepest"], CENTER) < 0.05
    assert decades(clean.lr_at_min_loss, t["min"]) < 0.1
    assert decades(clean.stops_improving_lr, t["enter"]) < 0.1
    assert clean.start_lr < clean.methods["steepest"] < clean.stops_improving_lr
    assert clean.methods["minimum"] == pytest.approx(clean.lr_at_min_loss / 10)
    assert_sane(clean)


def test_a_curve_without_noise_suggests_where_the_loss_stops_improving(clean):
    assert clean.jumpy_lr is None
    assert clean.suggested_lr == pytest.approx(clean.stops_improving_lr)
    assert clean.confidence == "low"
    assert any("never starts to jump" in w for w in clean.warnings)


def test_a_noisy_curve_is_read_at_the_first_jump(noisy):
    assert noisy.jumpy_lr is not None
    # half a decade above the first jump, never above the bottom of the curve
    expected = min(noisy.jumpy_lr * 10**DEFAULT.offset, noisy.lr_at_min_loss)
    assert noisy.suggested_lr == pytest.approx(expected, rel=1e-9)
    assert noisy.start_lr / 3 < noisy.jumpy_lr < noisy.lr_at_min_loss
    assert_sane(noisy)


def test_the_suggestion_is_place_applied_to_the_features():
    lr = exp_ramp()
    p = prepare(lr, model_loss(lr, noise=0.02, seed=2))
    assert suggest(lr, model_loss(lr, noise=0.02, seed=2)).suggested_lr == pytest.approx(
        10 ** place(p.features)
    )


def test_the_range_the_band_and_the_why(noisy):
    s = noisy
    assert s.min_lr < s.suggested_lr < s.max_lr
    assert s.max_lr <= max(s.lr_at_min_loss, s.suggested_lr * 10**0.1) * (1 + 1e-9)
    assert s.max_lr <= s.suggested_lr * 10**DEFAULT.max_above * (1 + 1e-9)
    a, b = s.likely_best
    assert math.log10(a / s.suggested_lr) == pytest.approx(DEFAULT.band_below)
    assert math.log10(b / s.suggested_lr) == pytest.approx(DEFAULT.band_above)
    from lrviz.export import format_lr

    assert format_lr(s.jumpy_lr) in s.why and "jump" in s.why
    assert format_lr(s.lr_at_min_loss) in s.why


def test_start_lr_is_where_the_steepest_tangent_leaves_the_plateau(clean):
    # Sigmoid: the tangent at the centre has slope -(start - floor) / (4 WIDTH) per decade
    # and meets the plateau half the drop earlier: 2 WIDTH decades before the centre.
    assert decades(clean.start_lr, CENTER * 10 ** (-2 * WIDTH)) < 0.08


@pytest.mark.parametrize(("rule", "factor"), [("third", 3.0), ("fourth", 4.0)])
def test_range_rules(rule, factor, noisy):
    lr = exp_ramp()
    s = suggest(lr, model_loss(lr, noise=0.02, seed=2), range_rule=rule)
    assert s.max_lr == noisy.max_lr and s.range_rule == rule
    assert s.min_lr == pytest.approx(min(noisy.max_lr / factor, noisy.suggested_lr / 2))


def test_the_loss_scale_does_not_matter(noisy):
    lr = exp_ramp()
    for scale in (1e4, 1e-6, 2.0**-7):
        s = suggest(lr, model_loss(lr, noise=0.02, seed=2) * scale)
        for a, b in zip(
            (s.suggested_lr, s.max_lr, s.jumpy_lr, s.start_lr, *s.methods.values()),
            (
                noisy.suggested_lr,
                noisy.max_lr,
                noisy.jumpy_lr,
                noisy.start_lr,
                *noisy.methods.values(),
            ),
            strict=True,
        ):
            assert a == pytest.approx(b, rel=1e-6)


def test_negative_losses_work():
    lr = exp_ramp()
    s = suggest(lr, model_loss(lr) - 5.0)  # e.g. a negative log-likelihood offset
    assert s.suggested_lr is not None
    assert decades(s.methods["steepest"], CENTER) < 0.05
    assert_sane(s)


# --- input quirks --------------------------------------------------------------------------


def test_order_and_duplicates_do_not_matter(noisy):
    lr = exp_ramp()
    loss = model_loss(lr, noise=0.02, seed=2)
    rng = np.random.default_rng(1)
    order = rng.permutation(np.concatenate([np.arange(lr.size), np.arange(0, lr.size, 7)]))
    same_reading(suggest(lr[order], loss[order]), noisy)


def test_non_positive_and_non_finite_lrs_are_ignored(noisy):
    lr = exp_ramp()
    junk_lr = np.concatenate([lr, [0.0, -1e-3, np.nan, np.inf]])
    junk_loss = np.concatenate([model_loss(lr, noise=0.02, seed=2), [1.0, 2.0, 3.0, 4.0]])
    same_reading(suggest(junk_lr, junk_loss), noisy)


def test_a_nan_or_inf_tail_marks_divergence():
    lr = exp_ramp(120, 1e-7, 100.0)
    loss = model_loss(lr, noise=0.02, seed=4)
    stop = np.searchsorted(lr, 0.15)  # before the loss climbs back above its start
    loss[stop:] = np.nan
    loss[stop + 1] = np.inf
    s = suggest(lr, loss)
    assert s.diverged_lr == pytest.approx(lr[stop])
    assert s.tested_range == (pytest.approx(lr[0]), pytest.approx(lr[stop - 1]))
    reference = suggest(lr[:stop], loss[:stop])
    assert s.suggested_lr == pytest.approx(reference.suggested_lr)
    assert s.max_lr < s.diverged_lr


def test_an_early_divergence_still_reads_the_part_before_it():
    lr = exp_ramp(100, 1e-7, 10.0)
    loss = model_loss(lr, center=1e-5)  # turns up around 1e-3 ...
    loss[lr > 3e-3] = np.nan  # ... and the test blew up soon after
    s = suggest(lr, loss)
    assert s.start_lr < s.suggested_lr <= s.lr_at_min_loss < 3e-3
    assert s.diverged_lr is not None and s.diverged_lr < 4e-3
    assert s.max_lr < s.diverged_lr


def test_a_blow_up_to_huge_values_does_not_swamp_the_reading(noisy):
    lr = exp_ramp()
    loss = model_loss(lr, noise=0.02, seed=2)
    loss[-8:] = np.geomspace(1e10, 1e300, 8)
    s = suggest(lr, loss)
    assert decades(s.suggested_lr, noisy.suggested_lr) < 0.05
    assert s.diverged_lr is not None
    assert_sane(s)


@pytest.mark.parametrize("junk", [50.0, 0.0, -3.0])
def test_junk_first_points_are_ignored(junk, clean):
    lr = exp_ramp()
    loss = model_loss(lr)
    loss[:3] = junk
    s = suggest(lr, loss)
    assert decades(s.suggested_lr, clean.suggested_lr) < 0.05
    assert decades(s.start_lr, clean.start_lr) < 0.05


def test_a_linear_ramp_reads_like_an_exponential_one():
    center = 0.01
    t = truth(center)
    linear = np.linspace(1e-5, 1.0, 1000)  # 1e-5, then steps of 1e-3: nothing below 1e-3
    s = suggest(linear, model_loss(linear, center=center))
    assert decades(s.methods["steepest"], center) < 0.1
    assert decades(s.suggested_lr, t["enter"]) < 0.1
    # An index-spaced gradient (torch-lr-finder's steepest rule) reads the same curve wrong:
    # the dense top of a linear ramp dominates it.
    index_steepest = linear[np.argmin(np.gradient(model_loss(linear, center=center)))]
    assert decades(index_steepest, center) > 0.5


def test_a_linear_ramp_that_jumps_over_the_descent_gives_no_number():
    linear = np.linspace(1e-7, 1.0, 100)  # steps of 0.01: the descent at 1e-3 falls between
    s = suggest(linear, model_loss(linear))
    assert s.suggested_lr is None and s.confidence == "low"
    assert any("jumped over the descent" in w and "exponential ramp" in w for w in s.warnings)
    assert_sane(s)


def test_twenty_points_are_enough(clean):
    lr = exp_ramp(20)
    s = suggest(lr, model_loss(lr))
    assert s.suggested_lr is not None
    assert decades(s.suggested_lr, clean.suggested_lr) < 0.3
    assert decades(s.methods["steepest"], CENTER) < 0.3


def test_fewer_than_twenty_points_lower_the_confidence():
    lr = exp_ramp(12)
    s = suggest(lr, model_loss(lr, noise=0.02))
    assert s.confidence == "low"
    assert any("only 12 points" in w for w in s.warnings)
    assert_sane(s)


# --- noise ---------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(12))
def test_noisy_curves_give_a_sane_reading_between_the_start_and_the_bottom(seed):
    lr = exp_ramp(100)
    s = suggest(lr, model_loss(lr, noise=0.03, seed=seed))
    assert_sane(s)
    assert s.suggested_lr is not None
    assert s.start_lr / 3 < s.suggested_lr <= s.lr_at_min_loss
    assert decades(s.methods["steepest"], CENTER) < 0.3


def test_isolated_spikes_do_not_move_the_suggestion(noisy):
    lr = exp_ramp()
    loss = model_loss(lr, noise=0.02, seed=2)
    loss[[30, 55, 62]] = [40.0, 25.0, 0.01]
    s = suggest(lr, loss)
    assert decades(s.suggested_lr, noisy.suggested_lr) < 0.1


# --- smoothed input ------------------------------------------------------------------------


def test_undo_ema_inverts_the_debiased_ema():
    rng = np.random.default_rng(0)
    raw = 2.0 + rng.standard_normal(300)
    for weight in (0.5, 0.95, 0.98):
        np.testing.assert_allclose(undo_ema(debiased_ema(raw, weight), weight), raw, atol=1e-9)


def test_undo_ema_stops_at_the_first_non_finite_value():
    smoothed = np.array([1.0, 1.0, np.nan, 5.0])
    out = undo_ema(smoothed, 0.9)
    np.testing.assert_allclose(out[:2], [1.0, 1.0])
    assert np.isnan(out[2]) and out[3] == 5.0


def test_an_lr_finders_smoothing_is_undone_before_reading():
    lr = exp_ramp(100)
    raw = model_loss(lr, noise=0.02, seed=3)
    saved = debiased_ema(raw, 0.98)  # what fastai saves
    as_raw = suggest(lr, raw)
    for undone in (suggest(lr, saved, input_smoothing=0.98), suggest(lr, saved, source="fastai")):
        assert undone.suggested_lr == pytest.approx(as_raw.suggested_lr, rel=1e-6)
        assert undone.jumpy_lr == pytest.approx(as_raw.jumpy_lr, rel=1e-6)
    assert suggest(lr, saved, source="fastai").source == "fastai"
    # Read as raw, the smoothed curve has no scatter left to read.
    assert suggest(lr, saved).jumpy_lr != pytest.approx(as_raw.jumpy_lr, rel=1e-3)


# --- curves that say little ----------------------------------------------------------------


@pytest.mark.parametrize("seed", range(5))
def test_a_flat_curve_gives_a_warning_not_a_number(seed):
    rng = np.random.default_rng(seed)
    lr = exp_ramp()
    s = suggest(lr, 2.3 + 0.01 * rng.standard_normal(lr.size))
    assert s.suggested_lr is None and s.max_lr is None and s.min_lr is None
    assert any(w.startswith("flat curve") for w in s.warnings)
    assert s.confidence == "low"
    assert s.curve_lr.size > 0  # the UI can still draw the smoothed curve
    assert_sane(s)


def test_a_nearly_flat_curve_is_read_with_low_confidence():
    lr = exp_ramp()
    loss = model_loss(lr, start=2.3, floor=2.27, noise=0.002, seed=0)  # falls by 1.1%
    s = suggest(lr, loss)
    assert s.suggested_lr is not None and s.confidence == "low"
    assert any(w.startswith("nearly flat curve") for w in s.warnings)
    assert_sane(s)


def test_a_curve_that_never_turned_up_is_unfinished():
    lr = exp_ramp(100, 1e-7, 1e-3)  # stops at the descent's centre
    s = suggest(lr, model_loss(lr, noise=0.02))
    assert s.suggested_lr is not None
    assert s.confidence == "low"
    assert any(w.startswith("unfinished curve") for w in s.warnings)
    assert s.max_lr <= lr[-1]


def test_a_curve_that_only_rises_never_improved():
    lr = exp_ramp()
    s = suggest(lr, np.linspace(1.0, 5.0, lr.size))
    assert s.suggested_lr is None
    assert any("never improved" in w for w in s.warnings)
    assert_sane(s)


def test_a_curve_already_falling_at_the_start_says_so():
    lr = exp_ramp(100, 3e-4, 10.0)
    s = suggest(lr, model_loss(lr, noise=0.01))
    assert any("already falling" in w for w in s.warnings)
    assert s.confidence != "high"


@pytest.mark.parametrize(
    ("lr", "loss"),
    [
        ([], []),
        ([1e-3], [1.0]),
        (np.geomspace(1e-5, 1, 5), [3.0, 2.0, 1.0, 2.0, 3.0]),
        (np.full(50, 1e-3), np.linspace(3, 1, 50)),  # one lr only
        (np.geomspace(1e-5, 1, 50), np.full(50, np.nan)),
        (np.geomspace(1e-5, 1, 50), np.zeros(50)),
    ],
)
def test_too_little_to_read_gives_a_warning(lr, loss):
    s = suggest(lr, loss)
    assert s.suggested_lr is None and s.warnings
    assert_sane(s)


def test_bad_arguments_raise_value_error():
    with pytest.raises(ValueError, match="differ in length"):
        suggest([1e-3, 1e-2], [1.0])
    with pytest.raises(ValueError, match="range rule"):
        suggest([1e-3], [1.0], range_rule="half")
    with pytest.raises(ValueError, match="smoothing"):
        suggest([1e-3], [1.0], smoothing=-1.0)
    with pytest.raises(ValueError, match="input smoothing"):
        suggest([1e-3], [1.0], input_smoothing=1.0)
    with pytest.raises(ValueError, match="source"):
        suggest([1e-3], [1.0], source="keras")
    with pytest.raises(ValueError, match="not both"):
        suggest([1e-3], [1.0], source="fastai", input_smoothing=0.98)


# --- output for the UI and JSON ------------------------------------------------------------


def test_json_dict_has_the_documented_keys(noisy):
    data = noisy.to_dict()
    keys = {"suggested_lr", "min_lr", "max_lr", "methods", "warnings", "confidence"}
    assert keys | {"source", "why", "likely_best"} <= set(data)
    assert set(data["methods"]) == {"steepest", "valley", "minimum", "slide"}
    assert data["source"] == "raw" and len(data["likely_best"]) == 2
    text = json.dumps(data, allow_nan=False)
    assert json.loads(text) == data


def test_markers_sit_on_the_smoothed_curve(noisy):
    markers = {m.name: m for m in noisy.markers()}
    assert {"suggested", "start", "jumpy", "stops_improving", "max", *METHODS} <= set(markers)
    for m in markers.values():
        assert m.label
        assert m.loss == pytest.approx(noisy.loss_at(m.lr))
    assert markers["suggested"].lr == noisy.suggested_lr
    assert noisy.loss_at(1e-12) is None and noisy.loss_at(None) is None


def test_the_smoothed_curve_does_not_lag(clean):
    # A symmetric kernel keeps the steepest point of a symmetric descent where it is.
    grid = np.log10(clean.curve_lr)
    slope = np.gradient(clean.curve_loss, grid)
    assert decades(10 ** grid[np.argmin(slope)], CENTER) < 0.05
    lr = exp_ramp()
    lagged = debiased_ema(model_loss(lr), 0.98)
    assert decades(lr[np.argmin(np.gradient(lagged, np.log10(lr)))], CENTER) > 0.5


def test_fastai_valley_and_slide_match_their_definitions_on_a_clean_curve(clean):
    # valley: int(L/3) + int(L/6) steps into the longest decreasing run, which starts at the
    # plateau's first point and ends at the minimum here; slide: inside the descent.
    grid = np.log10(clean.curve_lr)
    low = int(np.argmin(clean.curve_loss))
    length = low + 1
    expected = 10 ** grid[max(low - length, 0) + int(length / 3) + int(length / 3 / 2)]
    assert clean.methods["valley"] == pytest.approx(expected, rel=0.2)
    assert clean.start_lr / 10 < clean.methods["slide"] < clean.lr_at_min_loss

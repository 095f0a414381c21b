"""Suggestions from range-test curves: synthetic curves with known answers, then the ugly ones."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lrviz.smoothing import debiased_ema
from lrviz.suggest import CONFIDENCES, METHODS, Suggestion, suggest, undo_ema

CENTER = 1e-3  # steepest point of the model curve's descent
WIDTH = 0.3  # decades: width of the descent's sigmoid
TURN = 2.0  # decades after CENTER where the explosion term reaches 1


def model_loss(lr, start=2.3, floor=0.3, center=CENTER, blowup=True):
    """A range-test curve with known features: a sigmoid descent in log lr from ``start`` to
    ``floor`` centred on ``center``, then an exponential explosion."""
    x = np.log10(lr) - np.log10(center)
    loss = start - (start - floor) / (1.0 + np.exp(-x / WIDTH))
    if blowup:
        loss = loss + np.exp((x - TURN) / 0.25)
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


@pytest.fixture(scope="module")
def clean() -> Suggestion:
    lr = exp_ramp()
    return suggest(lr, model_loss(lr))


def assert_sane(s: Suggestion, lr=None) -> None:
    """Invariants every suggestion keeps, whatever the input."""
    values = [s.suggested_lr, s.min_lr, s.max_lr, s.start_lr, s.stops_improving_lr]
    values += [s.lr_at_min_loss, s.diverged_lr, *s.methods.values()]
    for v in values:
        assert v is None or (isinstance(v, float) and np.isfinite(v) and v > 0)
    if s.tested_range is not None:
        lo, hi = s.tested_range
        for v in values[:-5] + list(s.methods.values()) + [s.lr_at_min_loss]:
            assert v is None or lo <= v <= hi
    if s.min_lr is not None:
        assert s.max_lr is not None and s.min_lr <= s.max_lr
    assert s.confidence in CONFIDENCES
    assert set(s.methods) == set(METHODS)
    json.dumps(s.to_dict(), allow_nan=False)


# --- known answers -------------------------------------------------------------------------


def test_reads_the_known_features_of_a_clean_curve(clean):
    t = truth()
    assert clean.warnings == [] and clean.confidence == "high"
    assert decades(clean.methods["steepest"], CENTER) < 0.05
    assert decades(clean.lr_at_min_loss, t["min"]) < 0.1
    assert decades(clean.stops_improving_lr, t["enter"]) < 0.1
    assert decades(clean.max_lr, t["leave"]) < 0.1
    # The suggestion is the middle of the bottom, in log lr.
    middle = np.sqrt(t["enter"] * t["leave"])
    assert decades(clean.suggested_lr, middle) < 0.1
    assert clean.start_lr < clean.methods["steepest"] < clean.stops_improving_lr
    assert clean.stops_improving_lr <= clean.suggested_lr <= clean.max_lr
    assert clean.methods["minimum"] == pytest.approx(clean.lr_at_min_loss / 10)
    assert clean.min_lr == clean.start_lr  # the default range rule


def test_start_lr_is_where_the_steepest_tangent_leaves_the_plateau(clean):
    # Sigmoid: the tangent at the centre has slope -(start - floor) / (4 WIDTH) per decade
    # and meets the plateau half the drop earlier: 2 WIDTH decades before the centre.
    assert decades(clean.start_lr, CENTER * 10 ** (-2 * WIDTH)) < 0.08


@pytest.mark.parametrize(("rule", "factor"), [("third", 3.0), ("fourth", 4.0)])
def test_range_rules(rule, factor, clean):
    lr = exp_ramp()
    s = suggest(lr, model_loss(lr), range_rule=rule)
    assert s.max_lr == clean.max_lr
    assert s.min_lr == pytest.approx(clean.max_lr / factor)
    assert s.range_rule == rule


def test_the_loss_scale_and_offset_do_not_matter(clean):
    lr = exp_ramp()
    for loss in (model_loss(lr) * 1e4, model_loss(lr) * 1e-6, model_loss(lr) + 7.0):
        s = suggest(lr, loss)
        for a, b in zip(
            (s.suggested_lr, s.max_lr, s.start_lr, *s.methods.values()),
            (clean.suggested_lr, clean.max_lr, clean.start_lr, *clean.methods.values()),
            strict=True,
        ):
            assert a == pytest.approx(b, rel=1e-6)


def test_negative_losses_work():
    lr = exp_ramp()
    s = suggest(lr, model_loss(lr) - 5.0)  # e.g. a negative log-likelihood offset
    assert s.suggested_lr is not None
    assert decades(s.methods["steepest"], CENTER) < 0.05


# --- input quirks --------------------------------------------------------------------------


def test_order_and_duplicates_do_not_matter(clean):
    lr = exp_ramp()
    loss = model_loss(lr)
    rng = np.random.default_rng(1)
    order = rng.permutation(np.concatenate([np.arange(lr.size), np.arange(0, lr.size, 7)]))
    s = suggest(lr[order], loss[order])
    assert s.to_dict() == clean.to_dict()


def test_non_positive_and_non_finite_lrs_are_ignored(clean):
    lr = exp_ramp()
    junk_lr = np.concatenate([lr, [0.0, -1e-3, np.nan, np.inf]])
    junk_loss = np.concatenate([model_loss(lr), [1.0, 2.0, 3.0, 4.0]])
    assert suggest(junk_lr, junk_loss).to_dict() == clean.to_dict()


def test_a_nan_or_inf_tail_marks_divergence():
    lr = exp_ramp(120, 1e-7, 100.0)
    loss = model_loss(lr)
    stop = np.searchsorted(lr, 0.15)  # before the loss climbs back above its start
    loss[stop:] = np.nan
    loss[stop + 1] = np.inf
    s = suggest(lr, loss)
    assert s.diverged_lr == pytest.approx(lr[stop])
    assert s.tested_range == (pytest.approx(lr[0]), pytest.approx(lr[stop - 1]))
    reference = suggest(lr[:stop], loss[:stop])
    assert s.suggested_lr == pytest.approx(reference.suggested_lr)


def test_an_early_divergence_still_reads_the_part_before_it():
    lr = exp_ramp(100, 1e-7, 10.0)
    loss = model_loss(lr, center=1e-5)  # turns up around 1e-3 ...
    loss[lr > 3e-3] = np.nan  # ... and the test blew up soon after
    s = suggest(lr, loss)
    t = truth(center=1e-5)
    assert decades(s.suggested_lr, np.sqrt(t["enter"] * t["leave"])) < 0.15
    assert s.diverged_lr is not None and s.diverged_lr < 4e-3


def test_a_blow_up_to_huge_values_does_not_swamp_the_reading(clean):
    lr = exp_ramp()
    loss = model_loss(lr)
    loss[-8:] = np.geomspace(1e10, 1e300, 8)
    s = suggest(lr, loss)
    assert decades(s.suggested_lr, clean.suggested_lr) < 0.05
    assert decades(s.methods["steepest"], CENTER) < 0.05
    assert s.diverged_lr is not None


@pytest.mark.parametrize("junk", [50.0, 0.0, -3.0])
def test_junk_first_points_are_ignored(junk, clean):
    lr = exp_ramp()
    loss = model_loss(lr)
    loss[:3] = junk
    s = suggest(lr, loss)
    assert s.confidence == "high"
    assert decades(s.suggested_lr, clean.suggested_lr) < 0.05
    assert decades(s.start_lr, clean.start_lr) < 0.05


def test_a_linear_ramp_reads_like_an_exponential_one():
    center = 0.01
    t = truth(center)
    linear = np.linspace(1e-5, 1.0, 1000)  # 1e-5, then steps of 1e-3: nothing below 1e-3
    s = suggest(linear, model_loss(linear, center=center))
    assert decades(s.methods["steepest"], center) < 0.1
    assert decades(s.suggested_lr, np.sqrt(t["enter"] * t["leave"])) < 0.1
    # An index-spaced gradient (torch-lr-finder's steepest rule) reads the same curve wrong:
    # the dense top of a linear ramp dominates it.
    index_steepest = linear[np.argmin(np.gradient(model_loss(linear, center=center)))]
    assert decades(index_steepest, center) > 0.5


def test_twenty_points_are_enough(clean):
    lr = exp_ramp(20)
    s = suggest(lr, model_loss(lr))
    assert s.suggested_lr is not None and s.confidence != "low"
    assert decades(s.suggested_lr, clean.suggested_lr) < 0.3
    assert decades(s.methods["steepest"], CENTER) < 0.3


def test_fewer_than_twenty_points_lower_the_confidence():
    lr = exp_ramp(12)
    s = suggest(lr, model_loss(lr))
    assert s.confidence == "low"
    assert any("only 12 points" in w for w in s.warnings)
    assert_sane(s)


# --- noise ---------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(12))
def test_noisy_curves_stay_near_the_clean_answer(seed, clean):
    rng = np.random.default_rng(seed)
    lr = exp_ramp(100)
    loss = model_loss(lr) + 0.15 * rng.standard_normal(lr.size)  # ~8% of the drop
    s = suggest(lr, loss)
    assert_sane(s)
    assert decades(s.suggested_lr, clean.suggested_lr) < 0.3
    assert decades(s.methods["steepest"], CENTER) < 0.3


def test_isolated_spikes_do_not_move_the_suggestion(clean):
    lr = exp_ramp()
    loss = model_loss(lr)
    loss[[30, 55, 62]] = [40.0, 25.0, -10.0]
    s = suggest(lr, loss)
    assert decades(s.suggested_lr, clean.suggested_lr) < 0.05


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


def test_an_lr_finders_smoothing_lags_and_input_smoothing_removes_the_lag():
    rng = np.random.default_rng(3)
    lr = exp_ramp(100)
    raw = model_loss(lr) + 0.1 * rng.standard_normal(lr.size)
    saved = debiased_ema(raw, 0.98)  # what fastai and Lightning save
    as_raw = suggest(lr, raw)
    lagged = suggest(lr, saved)
    undone = suggest(lr, saved, input_smoothing=0.98)
    assert lagged.suggested_lr > 2 * as_raw.suggested_lr
    assert undone.suggested_lr == pytest.approx(as_raw.suggested_lr, rel=1e-6)


# --- curves that say little ----------------------------------------------------------------


def test_a_flat_curve_gives_a_warning_not_a_number():
    rng = np.random.default_rng(0)
    lr = exp_ramp()
    s = suggest(lr, 2.3 + 0.05 * rng.standard_normal(lr.size))
    assert s.suggested_lr is None and s.max_lr is None and s.min_lr is None
    assert any(w.startswith("flat curve") for w in s.warnings)
    assert s.confidence == "low"
    assert s.curve_lr.size > 0  # the UI can still draw the smoothed curve
    assert_sane(s)


def test_a_curve_that_never_turned_up_is_unfinished():
    lr = exp_ramp(100, 1e-7, 1e-3)  # stops at the descent's centre
    s = suggest(lr, model_loss(lr))
    assert s.suggested_lr is not None
    assert s.confidence == "low"
    assert any(w.startswith("unfinished curve") for w in s.warnings)
    assert s.max_lr == pytest.approx(lr[-1])


def test_a_curve_that_only_rises_never_improved():
    lr = exp_ramp()
    s = suggest(lr, np.linspace(1.0, 5.0, lr.size))
    assert s.suggested_lr is None
    assert any("never improved" in w for w in s.warnings)
    assert_sane(s)


def test_a_curve_already_falling_at_the_start_says_so():
    lr = exp_ramp(100, 3e-4, 10.0)
    s = suggest(lr, model_loss(lr))
    assert s.suggested_lr is not None
    assert any("already falling" in w for w in s.warnings)
    assert s.confidence == "medium"


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


# --- output for the UI and JSON ------------------------------------------------------------


def test_json_dict_has_the_documented_keys(clean):
    data = clean.to_dict()
    assert {"suggested_lr", "min_lr", "max_lr", "methods", "warnings"} <= set(data)
    assert set(data["methods"]) == {"steepest", "valley", "minimum", "slide"}
    assert data["confidence"] == "high"
    text = json.dumps(data, allow_nan=False)
    assert json.loads(text) == data


def test_markers_sit_on_the_smoothed_curve(clean):
    markers = {m.name: m for m in clean.markers()}
    assert {"suggested", "start", "stops_improving", "max", *METHODS} <= set(markers)
    for m in markers.values():
        assert m.label
        i = np.argmin(np.abs(np.log10(clean.curve_lr) - np.log10(m.lr)))
        assert m.loss == pytest.approx(clean.curve_loss[i], abs=0.05)
    assert markers["suggested"].lr == clean.suggested_lr
    assert clean.loss_at(1e-12) is None and clean.loss_at(None) is None


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
    assert clean.start_lr / 10 < clean.methods["slide"] < clean.max_lr

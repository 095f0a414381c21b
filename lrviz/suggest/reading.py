"""Read a range-test curve: :func:`suggest` turns (lr, loss) points into a :class:`Suggestion`.

Steps: undo the library's saved smoothing (:mod:`~lrviz.suggest.sources`), clean and smooth
the curve without lag (:mod:`~lrviz.suggest.clean`), read its features (where the loss starts
to improve, where it starts to jump, its bottom), place the suggestion
(:mod:`~lrviz.suggest.best_lr`), and assemble the range, the likely band, the confidence, the
warnings and the one-sentence why. The libraries' own rules (:mod:`~lrviz.suggest.anchors`)
come along for comparison.

:func:`prepare` does everything that does not depend on the fitted constants, so the advice
benchmark can cross-validate them cheaply; :func:`suggest` is ``assemble(prepare(...))``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from lrviz.export import format_lr
from lrviz.suggest import anchors
from lrviz.suggest.best_lr import DEFAULT, Constants, Features, jump_onset, place, sharp
from lrviz.suggest.clean import (
    Curve,
    clean,
    cut_explosion,
    resample_and_smooth,
    standard_error,
)
from lrviz.suggest.sources import SMOOTHING, SOURCES, detect_source, undo_ema, undo_smoothing
from lrviz.suggest.suggestion import RANGE_RULES, Suggestion, empty_methods

#: Fewest clean points worth reading, and the fewest decades of lr they must span.
MIN_POINTS = 8
MIN_SPAN_DECADES = 0.3
#: Fewer clean points than this gives a warning.
FEW_POINTS = 20
#: A gap between two points wider than this (decades) across which the loss fell by more
#: than half its whole drop: the ramp jumped over the descent (a linear ramp does that).
JUMPED_GAP_DECADES = 1.0
#: The curve's bottom: within this fraction of the total drop from the minimum.
BOTTOM_BAND = 0.1
#: A drop smaller than this fraction of the loss level is a flat curve, unless the raw loss
#: starts to jump somewhere (real curves that fall by 1% still say where: dev set d10).
FLAT_FRACTION = 0.01
#: A drop smaller than this many standard errors of the smoothed curve is a flat curve (the
#: lowest of ~30 independent noisy stretches lies 2-3 standard errors below the rest)...
FLAT_NOISE = 3.0
#: A drop smaller than this fraction of the level, or this many standard errors, is nearly
#: flat: still read (two such real curves were read right), with low confidence.
NEARLY_FLAT_FRACTION = 0.02
NEARLY_FLAT_NOISE = 5.0
#: ... and smaller than this many is a noisy one.
NOISY_NOISE = 8.0
#: A positive loss that falls below this fraction of its start: a deterministic problem.
DETERMINISTIC_RATIO = 1e-3
#: The libraries' rules are computed on curves up to this long (fastai's valley is O(n²)).
LIBRARY_RULES_MAX_POINTS = 5000
#: The least room between min, suggested and max lr (factor).
MIN_GAP = 10**0.1


@dataclass
class Prepared:
    """A curve read up to the point where the fitted constants come in."""

    range_rule: str
    source: str
    source_reason: str
    warnings: list[str]
    tested: tuple[float, float] | None
    library_rules: dict[str, float | None]
    diverged_lr: float | None = None
    curve_lr: np.ndarray = field(default_factory=lambda: np.empty(0))
    curve_loss: np.ndarray = field(default_factory=lambda: np.empty(0))
    features: Features | None = None  # None: the curve cannot say
    curve: Curve | None = None  # the cleaned points the features were read from
    numbers: dict = field(default_factory=dict)  # lrs read off the curve, constant-free
    severe: int = 0  # warnings that make the confidence low

    def empty(self) -> Suggestion:
        return self.build(methods=empty_methods(), confidence="low")

    def build(self, **values) -> Suggestion:
        base = {
            "suggested_lr": None,
            "min_lr": None,
            "max_lr": None,
            "start_lr": None,
            "stops_improving_lr": None,
            "lr_at_min_loss": None,
        }
        base.update(values)
        return Suggestion(
            warnings=list(self.warnings),
            range_rule=self.range_rule,
            diverged_lr=self.diverged_lr,
            tested_range=self.tested,
            source=self.source,
            source_reason=self.source_reason,
            library_rules=dict(self.library_rules),
            curve_lr=self.curve_lr,
            curve_loss=self.curve_loss,
            **base,
        )


def suggest(lr, loss, *, constants: Constants = DEFAULT, **options) -> Suggestion:
    """Read a range-test curve: suggested lr, likely band, recommended range, the rules.

    Parameters (all but ``constants`` are :func:`prepare`'s)
    ----------
    lr, loss : array-like (n,)
        The curve's points in recorded (iteration) order; any order works for raw losses.
        Points whose lr is not a finite positive number are ignored; non-finite losses are
        dropped (a trailing run of them marks where the test diverged).
    range_rule : str
        Bottom of the recommended range: ``"start"`` (where the loss starts to improve,
        Smith's reading), ``"third"`` (max_lr / 3) or ``"fourth"`` (max_lr / 4); never above
        half the suggestion.
    smoothing : float, optional
        Width of lrviz's Gaussian smoothing in decades of lr (default 0.15, wider for sparse
        curves; 0 disables it).
    source : str, optional
        Which library saved the curve: ``"torch-lr-finder"``, ``"lightning"``, ``"fastai"`` or
        ``"raw"`` (:mod:`lrviz.suggest.sources`); its smoothing is undone exactly. Default raw.
    input_smoothing : float in [0, 1)
        Instead of a source: the weight of a debiased EMA (fastai's convention) to undo.
    num_it : int, optional
        The iterations the test was asked for (fastai's rules trim by it; default: the
        number of points).
    constants : Constants
        The reading's fitted numbers (:data:`lrviz.suggest.best_lr.DEFAULT`).

    Returns
    -------
    Suggestion
        Never raises for bad data: a curve that cannot say gives ``suggested_lr=None`` and a
        warning that says what to rerun.

    Raises
    ------
    ValueError
        ``lr`` and ``loss`` differ in length, or a bad option.
    """
    return assemble(prepare(lr, loss, **options), constants)


def read_suggestion(
    lr,
    loss,
    *,
    path=None,
    log_format: str | None = None,
    source: str | None = None,
    input_smoothing: float | None = None,
    **options,
) -> Suggestion:
    """The suggestion for a curve read from a file: the source stated, or found from the
    file (:func:`lrviz.suggest.sources.detect_source`). ``lrviz suggest`` and the app both
    call this, so they read a file the same way."""
    if input_smoothing is not None:
        return suggest(lr, loss, input_smoothing=input_smoothing, **options)
    if source is not None:
        return suggest(lr, loss, source=source, source_reason="stated", **options)
    guess = detect_source(loss, path=path, log_format=log_format)
    return suggest(lr, loss, source=guess.source, source_reason=guess.reason, **options)


def prepare(
    lr,
    loss,
    *,
    range_rule: str = "start",
    smoothing: float | None = None,
    input_smoothing: float = 0.0,
    source: str | None = None,
    source_reason: str | None = None,
    num_it: int | None = None,
) -> Prepared:
    """Everything :func:`suggest` reads that does not depend on the fitted constants."""
    if range_rule not in RANGE_RULES:
        raise ValueError(f"range rule must be one of {', '.join(RANGE_RULES)}, got {range_rule!r}")
    if smoothing is not None and not (math.isfinite(smoothing) and smoothing >= 0):
        raise ValueError(f"smoothing must be a non-negative number of decades, got {smoothing}")
    if not 0.0 <= input_smoothing < 1.0:
        raise ValueError(f"input smoothing must be in [0, 1), got {input_smoothing}")
    if source is not None and source not in SOURCES:
        raise ValueError(f"source must be one of {', '.join(SOURCES)}, got {source!r}")
    if source is not None and source != "raw" and input_smoothing > 0:
        raise ValueError("give a source or an input smoothing weight, not both")
    lr = np.asarray(lr, dtype=np.float64).ravel()
    loss = np.asarray(loss, dtype=np.float64).ravel()
    if lr.shape != loss.shape:
        raise ValueError(f"lr and loss differ in length ({lr.size} and {loss.size})")
    with np.errstate(all="ignore"):
        return _prepare(
            lr, loss, range_rule, smoothing, input_smoothing, source, source_reason, num_it
        )


def _prepare(lr, loss, range_rule, smoothing, input_smoothing, source, source_reason, num_it):
    if input_smoothing > 0:
        raw_loss = undo_ema(loss, input_smoothing)
        source = "fastai" if input_smoothing == SMOOTHING["fastai"].weight else "raw"
        reason = source_reason or f"a debiased EMA of weight {input_smoothing:g} was undone"
        if source == "raw":
            source = f"ema {input_smoothing:g}"
    else:
        source = source or "raw"
        raw_loss = undo_smoothing(loss, source)
        reason = source_reason or ("stated" if source != "raw" else "raw losses")
    rules = {}
    if lr.size <= LIBRARY_RULES_MAX_POINTS:
        rules = anchors.library_rules(lr, loss, num_it)
    curve = clean(lr, raw_loss)
    n = curve.x.size
    prepared = Prepared(
        range_rule=range_rule,
        source=source,
        source_reason=reason,
        warnings=[],
        tested=None if n == 0 else (float(curve.lr[0]), float(curve.lr[-1])),
        library_rules=rules,
        diverged_lr=curve.diverged_lr,
    )
    span = float(curve.x[-1] - curve.x[0]) if n else 0.0
    if n < MIN_POINTS or span < MIN_SPAN_DECADES:
        prepared.warnings.append(
            f"too few points to read: {n} with a finite loss, over {span:.1f} decades of lr "
            f"(need {MIN_POINTS} over {MIN_SPAN_DECADES}); rerun the test longer or wider"
        )
        return prepared
    if curve.scale == 0.0:
        prepared.warnings.append("flat curve: the loss is zero everywhere")
        return prepared
    if n < FEW_POINTS:
        prepared.warnings.append(f"only {n} points: the reading is rough (run 100 or more)")
        prepared.severe += 1
    cut_explosion(curve)
    prepared.diverged_lr = curve.diverged_lr
    jumped = _jumped_over(curve)
    if jumped is not None:
        a, b = jumped
        prepared.warnings.append(
            f"the ramp jumped over the descent: the loss fell between lr {format_lr(a)} and "
            f"{format_lr(b)} with no point in between (a linear ramp does that): rerun with an "
            "exponential ramp (step_mode='exp', mode='exponential')"
        )
        return prepared
    grid, smooth, width = resample_and_smooth(curve, smoothing)
    # 10**log10(lr) can round past the largest float: keep every lr inside the tested range.
    prepared.curve_lr = np.clip(10.0**grid, curve.lr[0], curve.lr[-1])
    prepared.curve_loss = smooth * curve.scale
    if not np.all(np.isfinite(smooth)):  # cannot happen for finite input; stay safe
        prepared.warnings.append("the curve could not be read")
        return prepared
    _read_features(prepared, curve, grid, smooth, width)
    return prepared


def _read_features(prepared: Prepared, curve: Curve, grid, smooth, width) -> None:
    """The constant-free features of the smoothed log-lr curve, or a warning why none."""
    warnings = prepared.warnings
    prepared.curve = curve
    size = grid.size
    lr_grid = prepared.curve_lr
    low_index = int(np.argmin(smooth))
    low = float(smooth[low_index])
    start_level = float(smooth[0])
    drop = start_level - low
    edge = max(2, size // 50)

    error = standard_error(curve, grid, smooth, width)
    level = max(abs(start_level), abs(low))
    threshold = max(FLAT_FRACTION * level, FLAT_NOISE * error)
    rise = float(np.max(smooth)) - start_level
    bottom_x = float(grid[low_index])
    onset_x, calm = jump_onset(curve, bottom_x)
    if drop <= threshold and onset_x is not None and low_index > edge:
        threshold = 0.0  # flat to the eye, but the jumps say where training changes
    if drop <= threshold and not (low_index <= edge and rise > threshold):
        warnings.append(
            "flat curve: the loss hardly changes over the tested range "
            "(widen the lr range or run the test longer)"
        )
        return
    if drop <= threshold or low_index <= edge:
        warnings.append(
            "the loss never improved: it only rose from the smallest lr tested "
            "(start the test at a smaller lr)"
        )
        return

    slope = np.gradient(smooth, grid)  # loss per decade of lr
    steep_index = int(np.argmin(slope[: low_index + 1]))
    steep_slope = float(slope[steep_index])
    steepest = float(lr_grid[steep_index]) if steep_slope < 0 else None
    # Smith: the loss starts to improve where the tangent at the steepest point leaves the
    # initial level.
    start_x = float(grid[0])
    if steep_slope < 0:
        back = (start_level - float(smooth[steep_index])) / -steep_slope  # decades
        start_x = max(start_x, float(grid[steep_index]) - back)
    inside = smooth <= low + BOTTOM_BAND * drop
    enter = low_index
    while enter > 0 and inside[enter - 1]:
        enter -= 1
    leave = low_index
    while leave < size - 1 and inside[leave + 1]:
        leave += 1
    # Points on the fall itself (from where it starts to improve to where it stops).
    descent = int(np.count_nonzero((curve.x >= start_x) & (curve.x <= float(grid[enter]))))
    minimum = float(lr_grid[low_index]) / 10.0
    lo, hi = float(lr_grid[0]), float(lr_grid[-1])
    methods = {
        "steepest": steepest,
        "valley": anchors.curve_valley(lr_grid, smooth),
        "minimum": minimum if minimum >= lr_grid[0] else None,
        "slide": anchors.curve_slide(grid, lr_grid, smooth, drop),
    }
    prepared.numbers = {
        "start_lr": _inside(10.0**start_x, lo, hi),
        "stops_improving_lr": _inside(float(lr_grid[enter]), lo, hi),
        "lr_at_min_loss": _inside(float(lr_grid[low_index]), lo, hi),
        "turns_up_lr": _inside(float(lr_grid[leave]), lo, hi),
        "methods": {k: None if v is None else _inside(v, lo, hi) for k, v in methods.items()},
    }
    prepared.features = Features(
        start_x=start_x,
        bottom_x=bottom_x,
        stops_improving_x=float(grid[enter]),
        onset_x=onset_x,
        baseline_points=calm,
        descent_points=descent,
        first_x=float(grid[0]),
        last_x=float(grid[-1]),
    )

    if leave == size - 1 and prepared.diverged_lr is None:
        prepared.severe += 1
        warnings.append(
            "unfinished curve: the loss was still at its lowest at the largest lr tested, so "
            "the best lr may be larger (raise the max lr)"
        )
    if _falling_from_the_start(curve, steep_slope):
        warnings.append(
            "the loss was already falling fast at the smallest lr tested (start the test lower)"
        )
    nearly_flat = drop <= max(NEARLY_FLAT_FRACTION * level, NEARLY_FLAT_NOISE * error)
    if nearly_flat:
        prepared.severe += 1
        warnings.append(
            "nearly flat curve: the loss fell by only "
            f"{100 * drop / level:.1f}% over the test, so the reading is rough "
            "(widen the lr range, or run the test longer)"
        )
    elif drop <= NOISY_NOISE * error:
        prepared.severe += 1
        warnings.append(
            "noisy curve: the drop in loss is small next to the noise (run the test longer, "
            "or with a larger batch)"
        )
    if onset_x is None:
        prepared.severe += 1
        warnings.append(
            "the loss never starts to jump (a deterministic or full-batch problem): the "
            "suggestion is where the loss stops improving, so confirm it with a few short "
            "trainings at and below it"
        )
    lowest = float(np.min(curve.raw))
    if 0 < lowest < DETERMINISTIC_RATIO * float(curve.y[0]):
        warnings.append(
            "the loss fell by over 1000x: on a deterministic problem the range test overshoots "
            "the largest stable lr, so confirm with a few trainings at and below the suggestion"
        )


def assemble(prepared: Prepared, constants: Constants = DEFAULT) -> Suggestion:
    """The suggestion, band, range, confidence and why, from a prepared curve."""
    numbers = prepared.numbers
    if not numbers:
        return prepared.empty()
    if prepared.features is None:  # features read, but the curve cannot say
        return prepared.build(
            confidence="low",
            **{k: v for k, v in numbers.items() if k != "turns_up_lr"},
        )
    f = prepared.features
    lo, hi = prepared.tested
    x = place(f, constants)
    suggested = _inside(10.0**x, lo, hi)
    top = min(10.0 ** (x + constants.max_above), numbers["lr_at_min_loss"])
    if prepared.diverged_lr is not None:
        top = min(top, prepared.diverged_lr / 2)
    top = max(top, suggested * MIN_GAP)
    rule_low = {
        "start": numbers["start_lr"],
        "third": top / 3.0,
        "fourth": top / 4.0,
    }[prepared.range_rule]
    bottom = _inside(min(rule_low, suggested / 2.0), lo, hi)
    top = _inside(top, lo, hi)
    likely = (10.0 ** (x + constants.band_below), 10.0 ** (x + constants.band_above))
    if prepared.severe or len(prepared.warnings) >= 2:
        confidence = "low"
    elif prepared.warnings or not sharp(f, constants):
        confidence = "medium"
    else:
        confidence = "high"
    jumpy = None if f.onset_x is None else _inside(10.0**f.onset_x, lo, hi)
    return prepared.build(
        suggested_lr=suggested,
        min_lr=bottom,
        max_lr=top,
        likely_best=likely,
        why=_why(f, constants, suggested, numbers),
        jumpy_lr=jumpy,
        confidence=confidence,
        start_lr=numbers["start_lr"],
        stops_improving_lr=numbers["stops_improving_lr"],
        lr_at_min_loss=numbers["lr_at_min_loss"],
        methods=numbers["methods"],
    )


def _why(f: Features, constants: Constants, suggested, numbers) -> str:
    """One sentence: why this lr (the band and the range are reported beside it)."""
    fmt = format_lr
    bottom = numbers["lr_at_min_loss"]
    if f.onset_x is None:
        return (
            f"the loss stops improving at {fmt(numbers['stops_improving_lr'])} and bottoms out "
            f"at {fmt(bottom)}; with no noise to read, the suggestion is where it stops improving"
        )
    onset = 10.0**f.onset_x
    factor = 10.0**constants.offset
    if f.onset_x + constants.offset > f.bottom_x + constants.bottom_cap:
        return (
            f"the raw loss starts to jump at {fmt(onset)}, close to the curve's bottom at "
            f"{fmt(bottom)}; on real networks the best constant lr sits about {factor:.1f}x "
            "above where the jumps start, but not past the bottom"
        )
    return (
        f"the raw loss starts to jump at {fmt(onset)} and the curve bottoms out at {fmt(bottom)}; "
        f"on real networks the best constant lr sits about {factor:.1f}x above where the jumps "
        "start"
    )


def _jumped_over(curve: Curve) -> tuple[float, float] | None:
    """(lr before, lr after) of a wide gap the loss fell across, or None."""
    gaps = np.diff(curve.x)
    wide = np.flatnonzero(gaps > JUMPED_GAP_DECADES)
    if wide.size == 0:
        return None
    y = curve.y
    drop = float(np.median(y[:3]) - np.min(y))
    for i in wide.tolist():
        before = float(np.median(y[max(i - 2, 0) : i + 1]))
        after = float(np.median(y[i + 1 : i + 4]))
        if drop > 0 and before - after > 0.5 * drop:
            return float(curve.lr[i]), float(curve.lr[i + 1])
    return None


def _falling_from_the_start(curve: Curve, steep_slope: float) -> bool:
    """True when the first tenth of the lr range already falls steeply and significantly.

    A least-squares line through the (despiked) points there must fall at over a quarter of
    the steepest slope, and by more than 4 standard errors of its own slope.
    """
    x, y = curve.x, curve.y
    head = x <= x[0] + 0.1 * (x[-1] - x[0])
    if head.sum() < 4:
        head = np.arange(x.size) < 4
    hx, hy = x[head], y[head]
    dx = hx - hx.mean()
    spread = float(np.sum(dx * dx))
    if spread == 0:
        return False
    slope = float(np.sum(dx * (hy - hy.mean())) / spread)
    residual = hy - hy.mean() - slope * dx
    slope_error = math.sqrt(float(np.sum(residual**2)) / max(hx.size - 2, 1) / spread)
    return slope < 0.25 * steep_slope and slope < -4 * slope_error


def _inside(value: float, lo: float, hi: float) -> float:
    """Clip a value that drifted out of the tested range by rounding."""
    return float(min(max(value, lo), hi))

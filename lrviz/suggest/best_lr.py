"""Where the best constant learning rate sits on a range-test curve: lrviz's reading.

What real range tests show
--------------------------
Measured on 43 real range tests (torch-lr-finder, Lightning and fastai on 19 PyTorch models,
``bench/advice.py``), each against the best constant λ found by training at 25 λ × 3 seeds:
the bottom of the curve is 3-30x above the λ that trains best, by a factor that varies from
model to model; the steepest descent is below it by a factor that varies even more. What
tracks the best λ better is the first λ where the raw (un-smoothed) loss stops following a
smooth trend: the scatter of the points around a 0.3-decade trend grows where the loss
starts to jump ("too high: the loss jumps around") and also where the curve bends sharply
into its descent, which a trend that wide cannot follow. Both mark where training changes
regime; a constant λ trains best about half a decade above the first of them, and never
above the bottom of the curve. Measured, not derived: a trend of 0.2 or 0.4 decades, or the
scatter against the neighbours' mean (blind to bends), all track the best λ worse
(docs/benchmarks.md).

The reading
-----------
1. the relative scatter ``|raw - trend| / trend`` of every point, its running median over
   ``±NOISE_WINDOW`` decades, and its baseline: the median over the first half of the points
   before the curve's bottom (the calm start);
2. the **onset**: the first λ past the baseline stretch where the running scatter exceeds
   ``NOISE_FACTOR`` times the baseline;
3. ``suggested = min(onset × 10**OFFSET, bottom)``; a curve without measurable noise (a
   deterministic problem) has no onset, and takes the point where the loss stops improving;
4. the confidence is high when the onset comes within ``HIGH_SPAN`` decades of where the loss
   starts to improve (one sharp transition) and nothing else is wrong;
5. the likely band ``suggested × 10**[BAND_BELOW, BAND_ABOVE]``: the shortest interval that
   held 85% of the dev set's best λs around their suggestions (the spread has a long tail
   below, which quantiles would pay for on every curve; cross-validated coverage in
   ``docs/benchmarks.md``);
6. ``max_lr``: ``suggested × 10**MAX_ABOVE``, never past the bottom of the curve.

The constants live in :class:`Constants`; :data:`DEFAULT` holds the values chosen by
leave-one-case-out cross-validation on the dev set, where the structure (the scatter, its
window, the factor) was fixed before the offsets were fitted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from lrviz.suggest.clean import Curve, local_linear_smooth


@dataclass(frozen=True)
class Constants:
    """The numbers of the reading (decades are log10 units of λ)."""

    #: half-width (decades) of the running median of the scatter
    noise_window: float = 0.2
    #: width (decades) of the trend the scatter is measured around
    trend_width: float = 0.3
    #: the onset: running scatter above this many times the calm start's
    noise_factor: float = 4.0
    #: the calm start: this fraction of the points before the bottom (at least 5 points)
    baseline_fraction: float = 0.5
    #: suggested λ = onset × 10**offset ...
    offset: float = 0.5
    #: ... but never above the bottom × 10**bottom_cap
    bottom_cap: float = 0.0
    #: likely band around the suggestion (decades)
    band_below: float = -0.45
    band_above: float = 0.44
    #: max λ for a cyclical schedule: suggestion × 10**max_above, never past the bottom
    max_above: float = 0.5
    #: "high" confidence: the loss starts to jump within this many decades of where it
    #: starts to improve (a sharp, well-defined transition)
    high_span: float = 0.6


DEFAULT = Constants()

#: Relative scatter below this at the calm start is no noise at all (a deterministic curve:
#: what is left is the trend's own fitting error). Minibatch losses scatter by percents.
MIN_NOISE = 1e-3


@dataclass(frozen=True)
class Features:
    """What the reading needs from a curve, computed once (cheap to re-place with other
    constants: the advice benchmark does that for cross-validation)."""

    start_x: float  # log10 λ where the loss starts to improve
    bottom_x: float  # log10 λ of the smoothed curve's lowest point
    stops_improving_x: float  # log10 λ where the curve enters its bottom
    onset_x: float | None  # log10 λ where the raw loss starts to jump (None: no noise)
    baseline_points: int  # points in the calm start
    descent_points: int  # points between where the loss starts to improve and the bottom
    first_x: float
    last_x: float


def jump_onset(curve: Curve, bottom_x: float, constants: Constants = DEFAULT):
    """(onset log10 λ or None, points in the calm start): where the raw loss starts to jump."""
    x, raw = curve.x, curve.raw
    before = int(np.searchsorted(x, bottom_x))
    calm = max(5, int(constants.baseline_fraction * before))
    if x.size < 8 or before < calm + 2:
        return None, calm
    trend = _trend(x, curve.y, constants.trend_width)  # despiked: junk cannot bend it
    level = np.maximum(np.abs(trend), 1e-12)
    # Against the trend, not against the neighbours: measured on the dev set, the scatter
    # around the trend tracks the best λ (37/43 within 3x) and the neighbour-to-neighbour
    # scatter does not (23/43): what grows first is a wobble over a few steps, not noise.
    scatter = np.abs(raw - trend) / level
    baseline = float(np.median(scatter[:calm]))
    if not baseline > MIN_NOISE:
        return None, calm  # no measurable noise: a deterministic curve
    running = _running_median(x, scatter, constants.noise_window, start=calm)
    above = np.flatnonzero(running > constants.noise_factor * baseline)
    if above.size == 0:
        return None, calm
    return float(x[calm + int(above[0])]), calm


def place(features: Features, constants: Constants = DEFAULT) -> float:
    """log10 of the suggested λ, from the features and the constants."""
    cap = features.bottom_x + constants.bottom_cap
    if features.onset_x is None:
        return min(features.stops_improving_x, cap)
    return min(features.onset_x + constants.offset, cap)


def sharp(features: Features, constants: Constants = DEFAULT) -> bool:
    """The loss starts to jump soon after it starts to improve: one sharp transition, the
    case where the onset pins the best λ down best (measured: docs/benchmarks.md). A long
    slow descent before the jumps leaves the best λ anywhere along it."""
    if features.onset_x is None:
        return False
    return features.onset_x - features.start_x <= constants.high_span


def _trend(x: np.ndarray, y: np.ndarray, width: float) -> np.ndarray:
    """The curve's trend at its own points: a Gaussian local-linear fit on a fine log grid."""
    span = float(x[-1] - x[0])
    size = int(np.clip(4 * x.size, 256, 800))
    grid = np.linspace(x[0], x[-1], size)
    step = span / (size - 1) if span > 0 else 1.0
    values = np.interp(grid, x, y)
    smooth = local_linear_smooth(values, width / step)
    return np.interp(x, grid, smooth)


def _running_median(x: np.ndarray, values: np.ndarray, half: float, start: int) -> np.ndarray:
    """Median of ``values`` within ±half of each ``x[start:]`` (a few hundred evaluations at
    most: long curves are read at evenly spaced points and held in between)."""
    points = np.arange(start, x.size)
    stride = max(1, math.ceil(points.size / 400))
    chosen = points[::stride]
    lo = np.searchsorted(x, x[chosen] - half, side="left")
    hi = np.searchsorted(x, x[chosen] + half, side="right")
    medians = np.array([np.median(values[a:b]) for a, b in zip(lo, hi, strict=True)])
    return np.repeat(medians, stride)[: points.size]

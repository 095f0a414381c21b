"""Suggested learning rates from an LR range test curve (loss against lr).

:func:`suggest` reads a range-test curve the way Leslie Smith describes, computes the LR
finders' rules on the same cleaned curve, and makes one recommendation. It accepts what
range-test logs really contain: points in any order, repeated lrs, NaN/inf losses (a missing
value, or the tail of a diverged test), linear or exponential ramps, 20 points or 20,000,
junk points at the start, losses of any scale or sign.

The reading, step by step
-------------------------
1. **Clean**: keep points with a finite positive lr; sort by lr; average repeated lrs; drop
   non-finite losses (a trailing run of them marks where the test diverged); replace spikes
   by the median of their 7 neighbours (a Hampel filter, anchored at the left edge so that
   up to three junk points at the start of a log are judged against the curve's level).
2. **Cut the explosion**: after the lowest point, the first point that has climbed above
   the start by as much as the curve had dropped ends the curve (its value clipped), so a
   blow-up to 1e30 cannot swamp the smoothing.
3. **Resample onto a log-lr grid** (bin averages where points are dense, linear
   interpolation in log lr where they are sparse): every rule works against log lr, so a
   linear ramp (few points at small lr) reads like an exponential one.
4. **Smooth without lag**: local linear regression with a Gaussian kernel in log lr,
   :data:`DEFAULT_SMOOTHING` decades wide (wider when the points are sparser); it neither
   shifts features nor flattens the curve's ends. The EMA the LR finders plot lags: with
   fastai's defaults (100 steps, weight 0.98) it moves the curve's minimum 0.5-1 decade to
   the right, and their rules (minimum / 10, steepest) were tuned on that shifted curve.
5. **Read it**:

   - ``start_lr``: the loss starts to improve, where the tangent at the steepest point
     leaves the initial level (Smith's lower bound);
   - the **bottom**: the stretch around the minimum where the smoothed loss is within
     :data:`BOTTOM_BAND` (10%) of its total drop from the minimum. The loss *stops
     improving* where the curve enters it (``stops_improving_lr``) and has *turned up*
     where it leaves it: that is ``max_lr``, the top of the recommended range;
   - ``suggested_lr``: the middle of the bottom in log lr.

Why the middle of the bottom
----------------------------
The loss at lr λ of a range test is roughly the loss after a few steps at λ, so the curve
keeps falling with λ until λ is too large to be stable; a constant lr trains fastest just
below that. The middle of the bottom is a robust "just below where it turns up": unlike the
argmin it does not jump around on a flat, noisy bottom. ``tests/core/test_ground_truth.py``
checks it against the best constant lr found by actually training a small MLP with SGD and
Adam. The known limits, found while building it: on a convex problem that reaches its noise
floor during the test (minibatch logistic regression) the best constant lr after a long
run is 3-30x lower, because the test cannot see the long-run noise floor; and on a
deterministic quadratic the test overshoots the stability limit 2/L (the unstable direction
has decayed to nothing when the ramp crosses it, and grows back only later); a loss that
falls by over 1000x gives a warning saying so.

Every number is a plain float or None; :meth:`Suggestion.to_dict` is JSON-ready.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field

import numpy as np

#: Names of the alternative rules, in display order.
METHODS = ("steepest", "valley", "minimum", "slide")
#: Rules for the bottom of the recommended range.
RANGE_RULES = ("start", "third", "fourth")
#: Confidence levels, best first.
CONFIDENCES = ("high", "medium", "low")
#: Fewest clean points worth reading, and the fewest decades of lr they must span.
MIN_POINTS = 8
MIN_SPAN_DECADES = 0.3
#: Fewer clean points than this gives a warning.
FEW_POINTS = 20
#: Half-width of the window, and threshold in robust standard deviations, of the filter that
#: replaces spikes and junk first points by their neighbours' median.
DESPIKE_HALF_WIDTH = 3
DESPIKE_SIGMAS = 3.0
#: Default width (standard deviation) of the Gaussian smoothing, in decades of lr.
DEFAULT_SMOOTHING = 0.15
#: The curve's bottom: within this fraction of the total drop from the minimum.
BOTTOM_BAND = 0.1
#: A drop smaller than this fraction of the loss level is a flat curve.
FLAT_FRACTION = 0.02
#: A drop smaller than this many standard errors of the smoothed curve is a flat curve (the
#: lowest of ~30 independent noisy stretches lies 2-3 standard errors below the rest)...
FLAT_NOISE = 5.0
#: ... and smaller than this many is a noisy one.
NOISY_NOISE = 8.0
#: A positive loss that falls below this fraction of its start: a deterministic problem.
DETERMINISTIC_RATIO = 1e-3

_LABELS = {
    "suggested": "suggested lr",
    "start": "loss starts to improve",
    "stops_improving": "loss stops improving",
    "max": "loss turns up (max lr)",
    "steepest": "steepest descent",
    "valley": "valley (fastai)",
    "minimum": "minimum / 10",
    "slide": "slide (fastai)",
}


@dataclass(frozen=True)
class Marker:
    """A point to draw on the loss-vs-lr plot.

    Attributes
    ----------
    name : str
        ``"suggested"``, ``"start"``, ``"stops_improving"``, ``"max"`` or one of
        :data:`METHODS`.
    label : str
        Short human label for a legend or tooltip.
    lr : float
    loss : float
        Height of the smoothed curve (:attr:`Suggestion.curve_loss`) at ``lr``.
    """

    name: str
    label: str
    lr: float
    loss: float


@dataclass(frozen=True)
class Suggestion:
    """What a range-test curve says about the learning rate.

    Attributes
    ----------
    suggested_lr : float or None
        The one constant lr lrviz recommends: the middle (in log lr) of the curve's bottom.
        None when the curve says nothing (flat, never improved, too few points).
    min_lr, max_lr : float or None
        The recommended range for a cyclical or one-cycle schedule. ``max_lr`` is where the
        loss turns up; ``min_lr`` follows ``range_rule``. ``min_lr <= max_lr``.
    start_lr : float or None
        Where the loss starts to improve (start of the steep descent).
    stops_improving_lr : float or None
        Where the loss stops improving (enters the bottom).
    methods : dict
        ``{"steepest", "valley", "minimum", "slide"}``: the LR finders' rules, each a float
        or None, computed on the cleaned, smoothed log-lr curve.
    confidence : str
        ``"high"``, ``"medium"`` or ``"low"``.
    warnings : list of str
        Why confidence is not high, one sentence each.
    range_rule : str
        How ``min_lr`` was chosen: ``"start"``, ``"third"`` (max/3) or ``"fourth"`` (max/4).
    lr_at_min_loss : float or None
        Where the smoothed loss is lowest.
    diverged_lr : float or None
        Where the curve blew up (non-finite tail, or loss climbing back above its start by
        its whole drop); None if it did not.
    tested_range : tuple of float or None
        Smallest and largest lr with a finite loss.
    curve_lr, curve_loss : ndarray
        The cleaned, resampled, smoothed curve every number was read from (log-spaced lr;
        loss in the input's units). Empty when there were too few points.
    """

    suggested_lr: float | None
    min_lr: float | None
    max_lr: float | None
    start_lr: float | None
    stops_improving_lr: float | None
    methods: dict[str, float | None]
    confidence: str
    warnings: list[str]
    range_rule: str = "start"
    lr_at_min_loss: float | None = None
    diverged_lr: float | None = None
    tested_range: tuple[float, float] | None = None
    curve_lr: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False)
    curve_loss: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False)

    def loss_at(self, lr: float | None) -> float | None:
        """Height of the smoothed curve at ``lr`` (None outside it or without a curve)."""
        if lr is None or self.curve_lr.size == 0 or not lr > 0:
            return None
        x = math.log10(lr)
        grid = np.log10(self.curve_lr)
        if x < grid[0] - 1e-9 or x > grid[-1] + 1e-9:
            return None
        return float(np.interp(x, grid, self.curve_loss))

    def markers(self) -> list[Marker]:
        """Every suggestion that has a value, as a named point on the smoothed curve."""
        values = {
            "suggested": self.suggested_lr,
            "start": self.start_lr,
            "stops_improving": self.stops_improving_lr,
            "max": self.max_lr,
            **self.methods,
        }
        out = []
        for name, lr in values.items():
            loss = self.loss_at(lr)
            if lr is not None and loss is not None:
                out.append(Marker(name, _LABELS[name], lr, loss))
        return out

    def to_dict(self) -> dict:
        """JSON-ready summary (no NaN: missing numbers are None)."""
        return {
            "suggested_lr": self.suggested_lr,
            "min_lr": self.min_lr,
            "max_lr": self.max_lr,
            "start_lr": self.start_lr,
            "stops_improving_lr": self.stops_improving_lr,
            "lr_at_min_loss": self.lr_at_min_loss,
            "methods": dict(self.methods),
            "confidence": self.confidence,
            "warnings": list(self.warnings),
            "range_rule": self.range_rule,
            "diverged_lr": self.diverged_lr,
            "tested_range": None if self.tested_range is None else list(self.tested_range),
        }


@dataclass
class _Curve:
    """A curve on its way through the reading.

    x is log10(lr), increasing; y the (despiked, rescaled) loss; raw the rescaled loss before
    despiking; scale what the loss was divided by; lr the points' learning rates.
    """

    x: np.ndarray
    y: np.ndarray
    raw: np.ndarray
    scale: float
    lr: np.ndarray = field(default_factory=lambda: np.empty(0))
    diverged_x: float | None = None
    diverged_lr: float | None = None


def suggest(
    lr,
    loss,
    *,
    range_rule: str = "start",
    smoothing: float | None = None,
    input_smoothing: float = 0.0,
) -> Suggestion:
    """Read a range-test curve: suggested lr, recommended range, the finders' rules.

    Parameters
    ----------
    lr, loss : array-like (n,)
        The curve's points, in any order. Points whose lr is not a finite positive number
        are ignored; non-finite losses are dropped (a trailing run of them marks where the
        test diverged). Raw or already smoothed losses both work.
    range_rule : str
        Bottom of the recommended range: ``"start"`` (where the loss starts to improve,
        Smith's reading), ``"third"`` (max_lr / 3) or ``"fourth"`` (max_lr / 4).
    smoothing : float, optional
        Width of the Gaussian smoothing in decades of lr. Default
        :data:`DEFAULT_SMOOTHING`, widened to 1.5 times the median spacing of the points
        when they are sparser. 0 disables smoothing.
    input_smoothing : float in [0, 1)
        Weight of the EMA the losses were already smoothed with, in iteration (= lr) order.
        LR finders save smoothed losses: fastai and Lightning with a debiased EMA of weight
        0.98, torch-lr-finder with 0.95. That EMA lags (it moves the curve's features to
        larger lrs, about 4x for fastai's defaults), so it is undone exactly before reading.
        0 (default): the losses are raw, as :class:`lrviz.rangetest.RangeTest` records them.
        Undoing an EMA the losses never had amplifies their noise about 1 / (1 - weight)
        times; there is no reliable way to tell from the curve, so say what you know.

    Returns
    -------
    Suggestion
        Never raises for bad data: too few points, a flat curve or one that never improved
        give a Suggestion with ``suggested_lr=None`` and a warning.

    Raises
    ------
    ValueError
        ``lr`` and ``loss`` differ in length, or a bad ``range_rule``, ``smoothing`` or
        ``input_smoothing``.
    """
    if range_rule not in RANGE_RULES:
        raise ValueError(f"range rule must be one of {', '.join(RANGE_RULES)}, got {range_rule!r}")
    if smoothing is not None and not (math.isfinite(smoothing) and smoothing >= 0):
        raise ValueError(f"smoothing must be a non-negative number of decades, got {smoothing}")
    if not 0.0 <= input_smoothing < 1.0:
        raise ValueError(f"input smoothing must be in [0, 1), got {input_smoothing}")
    with np.errstate(all="ignore"):
        return _suggest(lr, loss, range_rule, smoothing, float(input_smoothing))


def _suggest(lr, loss, range_rule, smoothing, input_smoothing) -> Suggestion:
    curve = _clean(lr, loss, input_smoothing)
    warnings: list[str] = []
    n = curve.x.size
    tested = None if n == 0 else (float(curve.lr[0]), float(curve.lr[-1]))
    empty = _Empty(range_rule, warnings, tested)
    empty.diverged_lr = curve.diverged_lr
    span = float(curve.x[-1] - curve.x[0]) if n else 0.0
    if n < MIN_POINTS or span < MIN_SPAN_DECADES:
        warnings.append(
            f"too few points to read: {n} with a finite loss, over {span:.1f} decades of lr "
            f"(need {MIN_POINTS} over {MIN_SPAN_DECADES})"
        )
        return empty.build()
    if curve.scale == 0.0:
        warnings.append("flat curve: the loss is zero everywhere")
        return empty.build()
    if n < FEW_POINTS:
        warnings.append(f"only {n} points: the reading is rough")

    _cut_explosion(curve)
    empty.diverged_lr = curve.diverged_lr
    grid, smooth, width = _resample_and_smooth(curve, smoothing)
    # 10**log10(lr) can round past the largest float: keep every lr inside the tested range.
    empty.curve_lr = np.clip(10.0**grid, curve.lr[0], curve.lr[-1])
    empty.curve_loss = smooth * curve.scale
    if not np.all(np.isfinite(smooth)):  # cannot happen for finite input; stay safe
        warnings.append("the curve could not be read")
        return empty.build()
    return _read(curve, grid, smooth, width, empty)


@dataclass
class _Empty:
    """What every Suggestion shares; ``build()`` without numbers gives the empty one."""

    range_rule: str
    warnings: list[str]
    tested: tuple[float, float] | None
    diverged_lr: float | None = None
    curve_lr: np.ndarray = field(default_factory=lambda: np.empty(0))
    curve_loss: np.ndarray = field(default_factory=lambda: np.empty(0))

    def build(self, **numbers) -> Suggestion:
        values = {
            "suggested_lr": None,
            "min_lr": None,
            "max_lr": None,
            "start_lr": None,
            "stops_improving_lr": None,
            "lr_at_min_loss": None,
            "methods": dict.fromkeys(METHODS),
            "confidence": "low",
        }
        values.update(numbers)
        return Suggestion(
            warnings=self.warnings,
            range_rule=self.range_rule,
            diverged_lr=self.diverged_lr,
            tested_range=self.tested,
            curve_lr=self.curve_lr,
            curve_loss=self.curve_loss,
            **values,
        )


def _clean(lr, loss, input_smoothing: float = 0.0) -> _Curve:
    lr = np.asarray(lr, dtype=np.float64).ravel()
    loss = np.asarray(loss, dtype=np.float64).ravel()
    if lr.shape != loss.shape:
        raise ValueError(f"lr and loss differ in length ({lr.size} and {loss.size})")
    keep = np.isfinite(lr) & (lr > 0)
    lr, loss = lr[keep], loss[keep]
    if lr.size == 0:
        return _Curve(np.empty(0), np.empty(0), np.empty(0), 1.0)
    # Rescale so that sums of losses near the float limit cannot overflow; every lr read
    # from the curve is independent of the loss's scale.
    finite = np.isfinite(loss)
    scale = float(np.max(np.abs(loss[finite]))) if finite.any() else 1.0
    loss = loss / scale if scale > 0 else loss
    order = np.argsort(lr, kind="stable")
    lr, loss, finite = lr[order], loss[order], finite[order]
    # Repeated lrs: the mean of their finite losses (NaN if none).
    unique, index = np.unique(lr, return_inverse=True)
    sums = np.bincount(index, weights=np.where(finite, loss, 0.0), minlength=unique.size)
    counts = np.bincount(index, weights=finite.astype(np.float64), minlength=unique.size)
    merged = np.full(unique.size, np.nan)
    np.divide(sums, counts, out=merged, where=counts > 0)
    if input_smoothing > 0:
        merged = undo_ema(merged, input_smoothing)
    finite = np.isfinite(merged)
    diverged_x = diverged_lr = None
    if finite.any():
        last = int(np.flatnonzero(finite)[-1])
        if last + 1 < unique.size:
            diverged_lr = float(unique[last + 1])
            diverged_x = float(np.log10(diverged_lr))
    raw = merged[finite]
    return _Curve(
        x=np.log10(unique[finite]),
        y=_despike(raw),
        raw=raw,
        scale=scale,
        lr=unique[finite],
        diverged_x=diverged_x,
        diverged_lr=diverged_lr,
    )


def undo_ema(smoothed: np.ndarray, weight: float) -> np.ndarray:
    """The raw values behind a debiased EMA (:func:`lrviz.smoothing.debiased_ema`).

    Exact for the finite prefix of ``smoothed`` (an LR finder's EMA turns NaN at the first
    non-finite loss and stays so); values after it are returned unchanged. Also undoes the
    non-debiased EMA started at the first value (torch-lr-finder) up to a transient at the
    start.
    """
    out = np.array(smoothed, dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(out))
    end = int(bad[0]) if bad.size else out.size
    if end < 2 or weight == 0:
        return out
    steps = np.arange(1, end + 1)
    biased = out[:end] * (1.0 - weight**steps)
    out[0] = biased[0] / (1.0 - weight)
    out[1:end] = (biased[1:] - weight * biased[:-1]) / (1.0 - weight)
    return out


def _despike(y: np.ndarray, half: int = DESPIKE_HALF_WIDTH) -> np.ndarray:
    """Replace outliers by the median of their neighbours (a Hampel filter).

    A point is an outlier when it is further than :data:`DESPIKE_SIGMAS` robust standard
    deviations (1.4826 x MAD) from the median of its window of ``2 * half + 1`` points; the
    rest of the curve is left alone, so a steep but orderly descent is not flattened. At the
    left edge the window stays full (junk first points are judged against the curve's own
    level); at the right edge it shrinks symmetrically, so a real blow-up at the end survives.
    """
    n = y.size
    half = min(half, (n - 1) // 2)
    if half < 1:
        return y.copy()
    width = 2 * half + 1
    windows = np.lib.stride_tricks.sliding_window_view(y, width)
    centre = np.empty(n)
    spread = np.empty(n)
    centre[half : n - half] = np.median(windows, axis=1)
    spread[half : n - half] = np.median(np.abs(windows - centre[half : n - half, None]), axis=1)
    centre[:half], spread[:half] = centre[half], spread[half]
    for i in range(n - half, n):
        window = y[2 * i - n + 1 :]
        centre[i] = np.median(window)
        spread[i] = np.median(np.abs(window - centre[i]))
    outlier = np.abs(y - centre) > DESPIKE_SIGMAS * 1.4826 * spread
    return np.where(outlier, centre, y)


def _cut_explosion(curve: _Curve) -> None:
    """End the curve where, after its minimum, it climbs above its start by its whole drop.

    Keeps the cut point (clipped to that ceiling) and clips everything else to it too.
    """
    x, y = curve.x, curve.y
    start = float(np.median(y[:3]))
    low_index = int(np.argmin(y))
    drop = start - float(y[low_index])
    if not drop > 0:
        return  # never improved: nothing to cut
    ceiling = start + drop
    above = np.flatnonzero(y[low_index:] > ceiling)
    if above.size:
        end = low_index + int(above[0])
        curve.x, curve.y, curve.raw = x[: end + 1], y[: end + 1], curve.raw[: end + 1]
        curve.lr = curve.lr[: end + 1]
        if curve.diverged_x is None or x[end] < curve.diverged_x:
            curve.diverged_x, curve.diverged_lr = float(x[end]), float(curve.lr[end])
    curve.y = np.minimum(curve.y, ceiling)
    curve.raw = np.minimum(curve.raw, ceiling)


def _resample_and_smooth(curve: _Curve, smoothing: float | None):
    """Bin-average onto a uniform log-lr grid, interpolate the gaps, Gaussian-smooth.

    Returns (grid, smoothed, width): log10 lr of the grid, the smoothed (rescaled) loss on
    it, and the smoothing width used, in decades.
    """
    x, y = curve.x, curve.y
    span = float(x[-1] - x[0])
    # Several grid points per data point: bins then rarely hold two points or none, which
    # would make the reading depend on how the points happen to fall into bins.
    size = int(np.clip(4 * x.size, 256, 800))
    grid = np.linspace(x[0], x[-1], size)
    step = span / (size - 1)
    bins = np.clip(np.rint((x - x[0]) / step).astype(np.int64), 0, size - 1)
    counts = np.bincount(bins, minlength=size)
    occupied = counts > 0
    mean_x = np.bincount(bins, weights=x, minlength=size)[occupied] / counts[occupied]
    mean_y = np.bincount(bins, weights=y, minlength=size)[occupied] / counts[occupied]
    values = np.interp(grid, mean_x, mean_y)
    if smoothing is None:
        spacing = float(np.median(np.diff(x)))
        width = max(DEFAULT_SMOOTHING, 1.5 * spacing)
    else:
        width = float(smoothing)
    # A fitted line can overshoot at the ends; never beyond the data's own range.
    smooth = np.clip(_local_linear_smooth(values, width / step), values.min(), values.max())
    return grid, smooth, width


def _local_linear_smooth(values: np.ndarray, sigma_points: float) -> np.ndarray:
    """Local linear regression with Gaussian weights on a uniform grid.

    In the interior it equals a Gaussian moving average; at the edges it fits a line
    instead of averaging one side only, so a curve that is still falling (or rising) at the
    ends is not flattened there.
    """
    if sigma_points < 0.3:
        return values.copy()
    n = values.size
    half = min(math.ceil(3 * sigma_points), n - 1)
    offsets = np.arange(-half, half + 1, dtype=np.float64)
    kernel = np.exp(-0.5 * (offsets / sigma_points) ** 2)

    def window_sum(data: np.ndarray, weights: np.ndarray) -> np.ndarray:
        # sum over j of weights[j - i] * data[j] for every i (full convolution, centred)
        return np.convolve(data, weights[::-1])[half : half + n]

    ones = np.ones(n)
    s0 = window_sum(ones, kernel)
    s1 = window_sum(ones, kernel * offsets)
    s2 = window_sum(ones, kernel * offsets**2)
    t0 = window_sum(values, kernel)
    t1 = window_sum(values, kernel * offsets)
    det = s0 * s2 - s1 * s1
    fitted = (s2 * t0 - s1 * t1) / np.where(det > 1e-12 * s0 * s2, det, np.inf)
    return np.where(det > 1e-12 * s0 * s2, fitted, t0 / s0)


def _read(curve: _Curve, grid, smooth, width, empty: _Empty) -> Suggestion:
    """Find the features of the smoothed log-lr curve and assemble the suggestion."""
    warnings = empty.warnings
    size = grid.size
    lr_grid = empty.curve_lr
    low_index = int(np.argmin(smooth))
    low = float(smooth[low_index])
    start_level = float(smooth[0])
    drop = start_level - low
    edge = max(2, size // 50)

    standard_error = _standard_error(curve, grid, smooth, width)
    level = max(abs(start_level), abs(low))
    threshold = max(FLAT_FRACTION * level, FLAT_NOISE * standard_error)
    rise = float(np.max(smooth)) - start_level
    if drop <= threshold and not (low_index <= edge and rise > threshold):
        warnings.append(
            "flat curve: the loss hardly changes over the tested range "
            "(widen the lr range or run the test longer)"
        )
        return empty.build()
    if drop <= threshold or low_index <= edge:
        warnings.append(
            "the loss never improved: it only rose from the smallest lr tested "
            "(start the test at a smaller lr)"
        )
        return empty.build()

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

    # The bottom: around the minimum, within BOTTOM_BAND of the drop.
    inside = smooth <= low + BOTTOM_BAND * drop
    enter = low_index
    while enter > 0 and inside[enter - 1]:
        enter -= 1
    leave = low_index
    while leave < size - 1 and inside[leave + 1]:
        leave += 1
    suggested = float(np.power(10.0, 0.5 * (grid[enter] + grid[leave])))  # clipped below
    max_lr = float(lr_grid[leave])
    start_lr = float(np.power(10.0, start_x))
    range_low = {"start": start_lr, "third": max_lr / 3.0, "fourth": max_lr / 4.0}
    minimum = float(lr_grid[low_index]) / 10.0
    methods = {
        "steepest": steepest,
        "valley": _valley(lr_grid, smooth),
        "minimum": minimum if minimum >= lr_grid[0] else None,
        "slide": _slide(grid, lr_grid, smooth, drop),
    }

    severe = len(warnings)  # so far at most "only n points", which alone makes it low
    unfinished = leave == size - 1 and empty.diverged_lr is None
    if unfinished:
        severe += 1
        warnings.append(
            "unfinished curve: the loss was still at its lowest at the largest lr tested, so "
            "the best lr may be larger (raise the max lr)"
        )
    if _falling_from_the_start(curve, steep_slope):
        warnings.append(
            "the loss was already falling fast at the smallest lr tested (start the test lower)"
        )
    if drop <= NOISY_NOISE * standard_error:
        warnings.append("noisy curve: the drop in loss is small next to the noise")
    lowest = float(np.min(curve.raw))
    if 0 < lowest < DETERMINISTIC_RATIO * float(curve.y[0]):
        warnings.append(
            "the loss fell by over 1000x: on a deterministic problem the range test overshoots "
            "the largest stable lr, so confirm with a few trainings at and below the suggestion"
        )
    if severe or len(warnings) >= 2:
        confidence = "low"
    elif warnings:
        confidence = "medium"
    else:
        confidence = "high"

    lo, hi = float(lr_grid[0]), float(lr_grid[-1])
    top = _inside(max_lr, lo, hi)
    return empty.build(
        suggested_lr=_inside(suggested, lo, hi),
        min_lr=min(_inside(range_low[empty.range_rule], lo, hi), top),
        max_lr=top,
        start_lr=_inside(start_lr, lo, hi),
        stops_improving_lr=_inside(float(lr_grid[enter]), lo, hi),
        lr_at_min_loss=_inside(float(lr_grid[low_index]), lo, hi),
        methods={k: None if v is None else _inside(v, lo, hi) for k, v in methods.items()},
        confidence=confidence,
    )


def _falling_from_the_start(curve: _Curve, steep_slope: float) -> bool:
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


def _standard_error(curve: _Curve, grid, smooth, width) -> float:
    """Standard error of the smoothed curve: the points' robust scatter around it, divided
    by the square root of how many points a kernel width averages."""
    residual = curve.raw - np.interp(curve.x, grid, smooth)
    scatter = 1.4826 * float(np.median(np.abs(residual - np.median(residual))))
    span = float(curve.x[-1] - curve.x[0])
    averaged = max(1.0, curve.x.size * 2.5 * width / span)
    return scatter / math.sqrt(averaged)


def _valley(lr_grid: np.ndarray, smooth: np.ndarray) -> float | None:
    """fastai's ``valley``: part-way along the longest valley (longest decreasing run).

    fastai takes the longest strictly decreasing subsequence of its recorded losses and
    returns the point ``int(L/3) + int(L/6)`` steps after its start. Here it runs on the
    smoothed log-lr curve, where steps are a fixed fraction of a decade.
    """
    n = smooth.size
    # Length of the longest strictly decreasing subsequence ending at each point, by
    # patience sorting of the negated values (O(n log n)).
    longest = np.ones(n, dtype=np.int64)
    tails: list[float] = []
    for i, value in enumerate((-smooth).tolist()):
        k = bisect.bisect_left(tails, value)
        if k == len(tails):
            tails.append(value)
        else:
            tails[k] = value
        longest[i] = k + 1
    end = int(np.argmax(longest))
    if longest[end] < 2:
        return None
    start = max(end - int(longest[end]), 0)
    sections = (end - start) / 3
    index = min(start + int(sections) + int(sections / 2), n - 1)
    return float(lr_grid[index])


def _slide(grid: np.ndarray, lr_grid: np.ndarray, smooth: np.ndarray, drop: float) -> float | None:
    """fastai's ``slide`` rule, in decades and in units of the curve's drop.

    fastai slides a window of 15 points leftwards from the end of its 100-step, 8-decade
    ramp (1.2 decades) until the loss gradient at both ends differs by at most 0.005 per
    step (0.0625 per decade, for cross-entropy losses dropping by about 2), and returns the
    lr at the window's left end. Here: 1.2 decades and 0.03 x the drop per decade.
    """
    step = float(grid[-1] - grid[0]) / (grid.size - 1)
    width = round(1.2 / step)
    if width < 1 or width >= grid.size:
        return None
    slope = np.gradient(smooth, grid)
    threshold = 0.03 * drop
    right = grid.size - 1
    left = right - width
    found = float(lr_grid[left])
    while left >= 0 and abs(slope[right] - slope[left]) > threshold:
        found = float(lr_grid[left])
        right -= 1
        left -= 1
    return found


#: fastai's and Lightning's LR finders save the loss already smoothed with this EMA weight.
FINDER_SMOOTHING = 0.98


def input_smoothing_for(log_format: str | None, loss: np.ndarray | None = None) -> float:
    """The EMA weight to undo before reading a saved curve. The command line and the app
    both ask here, so they read a file the same way.

    fastai and Lightning save their finder's loss smoothed with weight 0.98; other logs (and
    lrviz's own range tests) hold raw losses. A saved curve is taken as smoothed when it is an
    LR-finder CSV whose losses, un-smoothed, stay non-negative: undoing an EMA that was never
    applied multiplies the noise by 1 / (1 - 0.98) = 50 and drives a raw loss below zero.
    """
    if log_format != "lr-finder-csv":
        return 0.0
    if loss is None:
        return FINDER_SMOOTHING
    y = np.asarray(loss, dtype=np.float64)
    finite = y[np.isfinite(y)]
    if finite.size < 3 or np.any(finite < 0):
        return 0.0
    raw = undo_ema(y, FINDER_SMOOTHING)
    raw = raw[np.isfinite(raw)]
    return FINDER_SMOOTHING if np.all(raw >= 0) else 0.0

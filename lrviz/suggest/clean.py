"""Cleaning a range-test curve before it is read.

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
4. **Smooth without lag**: local linear regression with a Gaussian kernel in log lr; it
   neither shifts features nor flattens the curve's ends (an EMA lags).

The losses reach this module raw: a library's saved smoothing is undone first
(:mod:`lrviz.suggest.sources`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

#: Half-width of the window, and threshold in robust standard deviations, of the filter that
#: replaces spikes and junk first points by their neighbours' median.
DESPIKE_HALF_WIDTH = 3
DESPIKE_SIGMAS = 3.0
#: Default width (standard deviation) of the Gaussian smoothing, in decades of lr.
DEFAULT_SMOOTHING = 0.15


@dataclass
class Curve:
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


def clean(lr, loss) -> Curve:
    """Sorted, merged, despiked points of a raw curve (see the module's steps 1)."""
    lr = np.asarray(lr, dtype=np.float64).ravel()
    loss = np.asarray(loss, dtype=np.float64).ravel()
    if lr.shape != loss.shape:
        raise ValueError(f"lr and loss differ in length ({lr.size} and {loss.size})")
    keep = np.isfinite(lr) & (lr > 0)
    lr, loss = lr[keep], loss[keep]
    if lr.size == 0:
        return Curve(np.empty(0), np.empty(0), np.empty(0), 1.0)
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
    finite = np.isfinite(merged)
    diverged_x = diverged_lr = None
    if finite.any():
        last = int(np.flatnonzero(finite)[-1])
        if last + 1 < unique.size:
            diverged_lr = float(unique[last + 1])
            diverged_x = float(np.log10(diverged_lr))
    raw = merged[finite]
    return Curve(
        x=np.log10(unique[finite]),
        y=despike(raw),
        raw=raw,
        scale=scale,
        lr=unique[finite],
        diverged_x=diverged_x,
        diverged_lr=diverged_lr,
    )


def despike(y: np.ndarray, half: int = DESPIKE_HALF_WIDTH) -> np.ndarray:
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


def cut_explosion(curve: Curve) -> None:
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


def resample_and_smooth(curve: Curve, smoothing: float | None):
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
    smooth = np.clip(local_linear_smooth(values, width / step), values.min(), values.max())
    return grid, smooth, width


def local_linear_smooth(values: np.ndarray, sigma_points: float) -> np.ndarray:
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


def standard_error(curve: Curve, grid, smooth, width) -> float:
    """Standard error of the smoothed curve: the points' robust scatter around it, divided
    by the square root of how many points a kernel width averages."""
    residual = curve.raw - np.interp(curve.x, grid, smooth)
    scatter = 1.4826 * float(np.median(np.abs(residual - np.median(residual))))
    span = float(curve.x[-1] - curve.x[0])
    averaged = max(1.0, curve.x.size * 2.5 * width / span)
    return scatter / math.sqrt(averaged)

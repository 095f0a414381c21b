"""The LR finders' own rules, in one registry, as fastai keeps valley / slide / minimum / steep.

Two families:

- :data:`LIBRARY_RULES`: exact re-implementations of what each library returns for the curve
  *as it saved it* (smoothed), with the library's trimming and float32 arithmetic where it
  uses float32: fastai's ``valley``, ``slide``, ``minimum``, ``steep`` (fastai 2.8), the
  steepest-gradient rules of torch-lr-finder 0.2.2 and Lightning 2.6. They answer "what would
  my library have said?", and the advice benchmark scores them against trained ground truth.
- :data:`METHODS`: the same ideas read off lrviz's cleaned, un-lagged log-lr curve
  (``steepest``, ``valley``, ``minimum``, ``slide``), drawn as markers on the loss-vs-lr panel.

Every rule takes arrays and returns a float lr or None; none raises on a short curve.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable

import numpy as np

#: Names of the rules read off lrviz's cleaned curve, in display order.
METHODS = ("steepest", "valley", "minimum", "slide")


# --- the libraries' rules, on the curve as the library saved it -----------------------------


def torch_lr_finder_steepest(lr, loss, num_it=None, skip_start=10, skip_end=5):
    """torch-lr-finder's ``plot(suggest_lr=True)``: argmin of ``np.gradient(loss)`` (unit
    spacing) after dropping the first 10 and last 5 points."""
    lr, loss = list(lr), list(loss)
    if len(lr) < skip_start + skip_end + 2:
        return None
    lr, loss = lr[skip_start:-skip_end], loss[skip_start:-skip_end]
    gradient = np.gradient(np.asarray(loss, dtype=np.float64))
    if not np.any(np.isfinite(gradient)):
        return None
    return float(lr[int(np.nanargmin(gradient))])


def lightning_steepest(lr, loss, num_it=None, skip_begin=10, skip_end=1):
    """Lightning's ``lr_finder.suggestion()``: float32, non-finite losses dropped, steepest
    gradient with respect to the *linear* lr, after skipping 10 first and 1 last points."""
    lr_all = np.asarray(lr, dtype=np.float64)
    keep_lr = lr_all[skip_begin:-skip_end].astype(np.float32)
    keep_loss = np.asarray(loss, dtype=np.float64)[skip_begin:-skip_end].astype(np.float32)
    index = np.arange(lr_all.size)[skip_begin:-skip_end]
    finite = np.isfinite(keep_loss)
    keep_lr, keep_loss, index = keep_lr[finite], keep_loss[finite], index[finite]
    if keep_loss.size < 2 or np.unique(keep_lr).size < keep_lr.size:
        return None
    with np.errstate(all="ignore"):
        gradient = np.gradient(keep_loss, keep_lr)
    if not np.any(np.isfinite(gradient)):
        return None
    return float(lr_all[index[int(np.nanargmin(gradient))]])


def _fastai_trim(lr, loss, num_it):
    """fastai's ``lrs[num_it//10:-5]``, float32, cut at the first NaN loss."""
    num_it = len(lr) if num_it is None else int(num_it)
    lr32 = np.asarray(lr, dtype=np.float64)[num_it // 10 : -5].astype(np.float32)
    loss32 = np.asarray(loss, dtype=np.float64)[num_it // 10 : -5].astype(np.float32)
    nan = np.flatnonzero(np.isnan(loss32))
    if nan.size:
        lr32, loss32 = lr32[: nan[0]], loss32[: nan[0]]
    return lr32, loss32


def fastai_valley(lr, loss, num_it=None):
    """fastai's ``valley`` (its default): along the longest strictly decreasing subsequence,
    the point ``int(L/3) + int(L/6)`` after its start."""
    lr32, loss32 = _fastai_trim(lr, loss, num_it)
    values = loss32.tolist()
    n = len(values)
    if n < 2:
        return None
    max_start = max_end = 0
    lds = [1] * n
    for i in range(1, n):
        for j in range(i):
            if values[i] < values[j] and lds[i] < lds[j] + 1:
                lds[i] = lds[j] + 1
            if lds[max_end] < lds[i]:
                max_end = i
                max_start = max_end - lds[max_end]
    sections = (max_end - max_start) / 3
    return float(lr32[max_start + int(sections) + int(sections / 2)])


def fastai_slide(lr, loss, num_it=None, lr_diff=15, thresh=0.005, adjust_value=1.0):
    """fastai's ``slide``: walk a 15-point window left from the end until the loss gradient at
    its two ends differs by at most 0.005."""
    lr32, loss32 = _fastai_trim(lr, loss, num_it)
    if loss32.size < lr_diff + 2:
        return None
    gradient = np.gradient(loss32)
    r_idx = -1
    l_idx = r_idx - lr_diff
    found = lr32[l_idx]
    while l_idx >= -len(loss32) and abs(gradient[r_idx] - gradient[l_idx]) > thresh:
        found = lr32[l_idx]
        r_idx -= 1
        l_idx -= 1
    return float(found) * adjust_value


def fastai_minimum(lr, loss, num_it=None):
    """fastai's ``minimum``: the lr of the lowest loss, divided by 10."""
    lr32, loss32 = _fastai_trim(lr, loss, num_it)
    if loss32.size == 0 or not np.any(np.isfinite(loss32)):
        return None
    return float(lr32[int(np.nanargmin(loss32))]) / 10


def fastai_steep(lr, loss, num_it=None):
    """fastai's ``steep``: the left end of the steepest step in log lr."""
    lr32, loss32 = _fastai_trim(lr, loss, num_it)
    if loss32.size < 2 or np.any(lr32 <= 0):
        return None
    with np.errstate(all="ignore"):
        slopes = (loss32[1:] - loss32[:-1]) / (np.log(lr32[1:]) - np.log(lr32[:-1]))
    if not np.any(np.isfinite(slopes)):
        return None
    return float(lr32[int(np.nanargmin(slopes))])


Rule = Callable[..., "float | None"]

#: The libraries' rules by name: ``rule(lr, loss, num_it=None) -> float | None`` on the curve
#: as saved (``num_it``: the requested iterations, which fastai's trimming uses).
LIBRARY_RULES: dict[str, Rule] = {
    "fastai_valley": fastai_valley,
    "fastai_slide": fastai_slide,
    "fastai_minimum": fastai_minimum,
    "fastai_steep": fastai_steep,
    "torch_lr_finder_steepest": torch_lr_finder_steepest,
    "lightning_steepest": lightning_steepest,
}

#: Each library's own default suggestion.
LIBRARY_DEFAULT = {
    "fastai": "fastai_valley",
    "torch-lr-finder": "torch_lr_finder_steepest",
    "lightning": "lightning_steepest",
}


def library_rules(lr, loss, num_it=None) -> dict[str, float | None]:
    """Every library rule on a saved curve (recorded order), errors becoming None."""
    out: dict[str, float | None] = {}
    with np.errstate(all="ignore"):
        for name, rule in LIBRARY_RULES.items():
            try:
                value = rule(lr, loss, num_it)
            except (ValueError, IndexError, ZeroDivisionError):
                value = None
            out[name] = value if value is not None and np.isfinite(value) and value > 0 else None
    return out


# --- the same ideas on lrviz's cleaned log-lr curve -----------------------------------------


def curve_valley(lr_grid: np.ndarray, smooth: np.ndarray) -> float | None:
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


def curve_slide(
    grid: np.ndarray, lr_grid: np.ndarray, smooth: np.ndarray, drop: float
) -> float | None:
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

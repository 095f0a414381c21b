"""The chosen learning-rate range, as numbers: what a valid range is, and where an edge
the user released lands (snapped onto a nearby suggestion marker).

The window's region, its spin boxes and the export all go through these functions, so a
range is checked, and an edge snapped, one way everywhere. All values are learning rates
(never log10); distances are measured in decades.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from lrviz.lr_format import format_lr

#: Edges released within this many decades of a suggestion marker snap onto it.
SNAP_DECADES = 0.08


def checked_range(min_lr: float, max_lr: float) -> tuple[float, float]:
    """``(min_lr, max_lr)`` as floats.

    Raises ValueError, naming the edge, unless both are positive and finite numbers and
    ``min_lr <= max_lr``.
    """
    values = []
    for name, value in (("min λ", min_lr), ("max λ", max_lr)):
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be a number, got {value!r}") from None
        if isinstance(value, bool) or not (math.isfinite(number) and number > 0):
            raise ValueError(f"{name} must be positive and finite, got {value!r}")
        values.append(number)
    lo, hi = values
    if lo > hi:
        raise ValueError(f"min λ {format_lr(lo)} is above max λ {format_lr(hi)}")
    return lo, hi


def snap(lr: float, targets: Iterable[float | None], decades: float = SNAP_DECADES) -> float:
    """The target nearest to ``lr`` in log10 if it is within ``decades``, else ``lr``.
    Targets that are None, not finite or not positive are ignored."""
    best, best_distance = lr, decades
    x = math.log10(lr)
    for target in targets:
        if target is None or not (math.isfinite(target) and target > 0):
            continue
        distance = abs(math.log10(target) - x)
        if distance <= best_distance:
            best, best_distance = float(target), distance
    return best


def snap_edit(
    old: tuple[float, float],
    new: tuple[float, float],
    targets: Iterable[float | None],
    decades: float = SNAP_DECADES,
) -> tuple[float, float]:
    """Where a released edit of the range from ``old`` to ``new`` lands, ``(lo, hi)``.

    An edge that moved snaps onto a target within ``decades``; an edge that stayed stays.
    When the whole band moved (both edges, same ratio) it keeps its width: it shifts so that
    whichever edge is closer to a target lands on it.
    """
    targets = list(targets)
    lo, hi = new
    old_lo, old_hi = old
    moved_lo = not math.isclose(lo, old_lo, rel_tol=1e-9)
    moved_hi = not math.isclose(hi, old_hi, rel_tol=1e-9)
    if moved_lo and moved_hi and math.isclose(hi / lo, old_hi / old_lo, rel_tol=1e-6):
        factor, best = 1.0, decades
        for edge in (lo, hi):
            target = snap(edge, targets, decades)
            distance = abs(math.log10(target / edge))
            if target != edge and distance <= best:
                factor, best = target / edge, distance
        lo, hi = lo * factor, hi * factor
    else:
        if moved_lo:
            lo = snap(lo, targets, decades)
        if moved_hi:
            hi = snap(hi, targets, decades)
    return min(lo, hi), max(lo, hi)


def middle_third(lrs: np.ndarray) -> tuple[float, float] | None:
    """The middle third, in log λ, of the positive finite ``lrs``: a range to start editing
    from when a curve gives no reading. None without any such λ."""
    lrs = np.asarray(lrs, dtype=np.float64)
    finite = lrs[np.isfinite(lrs) & (lrs > 0)]
    if not finite.size:
        return None
    a, b = math.log10(finite.min()), math.log10(finite.max())
    return 10 ** (a + (b - a) / 3), 10 ** (a + 2 * (b - a) / 3)

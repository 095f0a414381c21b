"""Pair each loss point of a log with the lr in force at it: one function for the command
line (``lrviz suggest``) and the app, so both read a file the same way."""

from __future__ import annotations

import numpy as np


def pair_lr_loss(lr_series, loss_series) -> tuple[np.ndarray, np.ndarray] | None:
    """(lr, loss) in recorded order, or None when the two cannot be paired.

    Both series must share an x axis (step, epoch, ...). When every loss point has an lr
    logged at the same x (an LR-finder CSV, where one row holds both), the pairs are exact
    and a row with one value missing drops only that row. Otherwise (an lr logged at other
    steps than the loss) the lr is interpolated in log lr at each loss point: schedules are
    geometric as often as linear.
    """
    if lr_series is None or loss_series is None:
        return None
    if getattr(lr_series, "x_axis", None) != getattr(loss_series, "x_axis", None):
        return None
    lx = np.asarray(lr_series.x, dtype=np.float64)
    ly = np.asarray(lr_series.y, dtype=np.float64)
    x = np.asarray(loss_series.x, dtype=np.float64)
    y = np.asarray(loss_series.y, dtype=np.float64)
    keep = np.isfinite(lx) & np.isfinite(ly) & (ly > 0)
    if not keep.any():
        return None
    lx, ly = lx[keep], ly[keep]
    exact = _exact_pairs(lx, x)
    if exact is not None:
        lr_rows, loss_rows = exact
        return ly[lr_rows], y[loss_rows]
    order = np.argsort(lx, kind="stable")
    lr = np.exp(np.interp(x, lx[order], np.log(ly[order])))
    return lr, y


def _exact_pairs(lx: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(lr rows, loss rows) pairing every loss point, in recorded order, with the one lr
    logged at the same x; None unless every loss x has exactly one lr x equal to it.

    Vectorized (a 10M-row log pairs in a fraction of a second): steps usually increase, and
    then one ``searchsorted`` does it; otherwise a sort-based intersection."""
    if _increasing(lx):  # strictly increasing: every lr x is unique
        rows = np.minimum(np.searchsorted(lx, x), lx.size - 1)
        if np.array_equal(lx[rows], x) and (_increasing(x) or np.unique(x).size == x.size):
            return rows, np.arange(x.size)
        return None
    shared, lr_rows, loss_rows = np.intersect1d(lx, x, return_indices=True)
    if shared.size != x.size or np.unique(lx).size != lx.size:
        return None
    order = np.argsort(loss_rows)  # recorded order of the loss points
    return lr_rows[order], loss_rows[order]


def _increasing(a: np.ndarray) -> bool:
    return a.size < 2 or bool(np.all(a[1:] > a[:-1]))

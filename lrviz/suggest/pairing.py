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
    shared, lr_rows, loss_rows = np.intersect1d(lx, x, return_indices=True)
    if shared.size == x.size and np.unique(lx).size == lx.size:
        order = np.sort(loss_rows)  # recorded order of the loss points
        by_x = dict(zip(loss_rows.tolist(), lr_rows.tolist(), strict=True))
        return ly[[by_x[i] for i in order.tolist()]], y[order]
    order = np.argsort(lx, kind="stable")
    lr = np.exp(np.interp(x, lx[order], np.log(ly[order])))
    return lr, y

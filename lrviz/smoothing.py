"""Curve smoothing shared by the range test, suggestions and log inspection."""

from __future__ import annotations

import numpy as np


def debiased_ema(values: np.ndarray, weight: float = 0.6) -> np.ndarray:
    """TensorBoard-style exponential moving average with bias correction.

    Parameters
    ----------
    values : array of shape (n,)
        Raw values. Non-finite entries are skipped: they do not enter the average and the
        output holds NaN at their positions.
    weight : float in [0, 1)
        Smoothing weight; 0 returns the input unchanged (non-finite entries become NaN).

    Returns
    -------
    ndarray of shape (n,), float64.
    """
    y = np.asarray(values, dtype=np.float64)
    if not 0.0 <= weight < 1.0:
        raise ValueError(f"smoothing weight must be in [0, 1), got {weight}")
    finite = np.isfinite(y)
    if finite.all():
        # Every value kept (the usual log): the EMA written straight into the result,
        # without a copy of the kept values and a scatter back.
        if weight == 0.0:
            return y.copy()
        return _ema_of_finite(y, weight) if y.size else np.full(y.shape, np.nan)
    out = np.full(y.shape, np.nan)
    if weight == 0.0:
        out[finite] = y[finite]
        return out
    kept = y[finite]
    if kept.size == 0:
        return out
    # Closed form of the recursive EMA over the kept points: a linear filter, computed in
    # blocks so that weight**k never underflows to 0 and then divides.
    out[finite] = _ema_of_finite(kept, weight)
    return out


#: Values scanned in one numpy call: a few ms each, so that the GUI thread waiting for the
#: interpreter lock gets it between them (a 10M-point log was two calls of 60-120 ms), and
#: each temporary is small enough to be reused rather than page-faulted afresh.
PIECE_VALUES = 1 << 18


def _ema_of_finite(y: np.ndarray, weight: float) -> np.ndarray:
    """Recursive EMA ``s_t = w s_(t-1) + (1 - w) y_t`` from ``s_0 = 0``, debiased.

    Computed as a blocked scan: inside a block of B values the recursion is a cumulative sum
    of values scaled by ``w**-k`` (B keeps that scale below 1e150, so ordinary losses never
    overflow), done for many blocks at once, in place, a piece of blocks at a time; then one
    short loop carries each block's end into the next. A block that still overflows (losses
    beyond ~1e150) is redone by plain recursion.
    """
    n = y.size
    block = int(np.clip(150.0 / -np.log10(weight), 1, n))
    blocks = -(-n // block)
    whole = n // block  # blocks with no padding
    decay = weight ** np.arange(1, block + 1)
    scale = (1.0 - weight) * decay
    out = np.empty(n)
    body = out[: whole * block].reshape(whole, block)
    values = y[: whole * block].reshape(whole, block)
    last = np.zeros(block)  # the last, partial block, padded with zeros
    last[: n - whole * block] = y[whole * block :]
    ends = np.empty(blocks)
    per_piece = max(1, PIECE_VALUES // block)

    def scan(rows: np.ndarray, source: np.ndarray) -> None:
        with np.errstate(over="ignore", invalid="ignore"):
            np.divide(source, decay, out=rows)
            np.cumsum(rows, axis=1, out=rows)
            rows *= scale
        # A cumulative sum that overflowed stays infinite or NaN to its block's end.
        for b in np.flatnonzero(~np.isfinite(rows[:, -1])):
            rows[b] = _ema_loop(source[b], weight, 0.0)

    for at in range(0, whole, per_piece):
        rows = body[at : at + per_piece]
        scan(rows, values[at : at + per_piece])
        ends[at : at + len(rows)] = rows[:, -1]
    tail = last[None, :].copy()
    if whole < blocks:
        scan(tail, last[None, :])
        ends[-1] = tail[0, -1]
    # Carry: each block starts from the previous block's final value, decayed.
    carry = np.zeros(blocks)
    step = weight**block
    for b in range(1, blocks):
        carry[b] = step * carry[b - 1] + ends[b - 1] if step else ends[b - 1]
    with np.errstate(over="ignore", invalid="ignore"):
        for at in range(0, whole, per_piece):
            rows = body[at : at + per_piece]
            rows += decay[None, :] * carry[at : at + len(rows), None]
        if whole < blocks:
            tail += decay[None, :] * carry[-1]
            out[whole * block :] = tail[0, : n - whole * block]
    # Debias: divide by 1 - w**k, which is 1 to double precision once w**k < 1e-17.
    head = min(n, int(np.ceil(-17.0 / np.log10(weight))) + 1)
    out[:head] /= 1.0 - weight ** np.arange(1, head + 1)
    return out


def _ema_loop(block: np.ndarray, weight: float, last: float) -> np.ndarray:
    out = np.empty(block.size)
    with np.errstate(over="ignore", invalid="ignore"):
        for i, value in enumerate(block):
            last = weight * last + (1.0 - weight) * value
            out[i] = last
    return out

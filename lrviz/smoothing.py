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
    out = np.full(y.shape, np.nan)
    finite = np.isfinite(y)
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


def _ema_of_finite(y: np.ndarray, weight: float) -> np.ndarray:
    """Recursive EMA ``s_t = w s_(t-1) + (1 - w) y_t`` from ``s_0 = 0``, debiased.

    Computed as a blocked scan: inside a block of B values the recursion is a cumulative sum
    of values scaled by ``w**-k`` (B keeps that scale below 1e150, so ordinary losses never
    overflow), done for all blocks at once; then one short loop carries each block's end into
    the next. A block that still overflows (losses beyond ~1e150) is redone by plain recursion.
    """
    n = y.size
    block = int(np.clip(150.0 / -np.log10(weight), 1, n))
    blocks = -(-n // block)
    padded = np.zeros(blocks * block)
    padded[:n] = y
    rows = padded.reshape(blocks, block)
    decay = weight ** np.arange(1, block + 1)
    with np.errstate(over="ignore", invalid="ignore"):
        local = (1.0 - weight) * decay * np.cumsum(rows / decay, axis=1)
    bad = ~np.all(np.isfinite(local), axis=1)
    for b in np.flatnonzero(bad):
        local[b] = _ema_loop(rows[b], weight, 0.0)
    # Carry: each block starts from the previous block's final value, decayed.
    carry = np.zeros(blocks)
    step = weight**block
    ends = local[:, -1]
    for b in range(1, blocks):
        carry[b] = step * carry[b - 1] + ends[b - 1] if step else ends[b - 1]
    with np.errstate(over="ignore", invalid="ignore"):
        local += decay[None, :] * carry[:, None]
    ema = local.ravel()[:n]
    # Debias: divide by 1 - w**k, which is 1 to double precision once w**k < 1e-17.
    head = min(n, int(np.ceil(-17.0 / np.log10(weight))) + 1)
    ema[:head] /= 1.0 - weight ** np.arange(1, head + 1)
    return ema


def _ema_loop(block: np.ndarray, weight: float, last: float) -> np.ndarray:
    out = np.empty(block.size)
    with np.errstate(over="ignore", invalid="ignore"):
        for i, value in enumerate(block):
            last = weight * last + (1.0 - weight) * value
            out[i] = last
    return out

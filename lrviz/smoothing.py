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
    """Recursive EMA, debiased, over finite values only.

    Each chunk is vectorized as a cumulative sum of values scaled by weight**-k; the chunk
    length keeps that scale below 1e150 so ordinary losses never overflow. A chunk that
    still overflows (losses beyond ~1e150) falls back to the plain recursion.
    """
    n = y.size
    result = np.empty(n)
    chunk = int(np.clip(150.0 / -np.log10(weight), 1, 65536))
    last = 0.0
    count = 0
    for start in range(0, n, chunk):
        block = y[start : start + chunk]
        k = np.arange(1, block.size + 1)
        decay = weight**k
        with np.errstate(over="ignore", invalid="ignore"):
            ema = decay * (last + (1.0 - weight) * np.cumsum(block / decay))
        if not np.all(np.isfinite(ema)):
            ema = _ema_loop(block, weight, last)
        result[start : start + block.size] = ema / (1.0 - weight ** (count + k))
        last = ema[-1]
        count += block.size
    return result


def _ema_loop(block: np.ndarray, weight: float, last: float) -> np.ndarray:
    out = np.empty(block.size)
    with np.errstate(over="ignore", invalid="ignore"):
        for i, value in enumerate(block):
            last = weight * last + (1.0 - weight) * value
            out[i] = last
    return out

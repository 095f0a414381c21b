"""Parse the learning-rate lists users type: ``A:B:N`` (log-spaced) or ``a,b,c``."""

from __future__ import annotations

import numpy as np


def parse_lrs(text: str) -> np.ndarray:
    """Learning rates from ``"1e-4:10:64"`` (N log-spaced values from A to B) or a comma list.

    Raises ValueError with a message naming what is wrong.
    """
    text = text.strip()
    if not text:
        raise ValueError("empty learning-rate list")
    if ":" in text:
        parts = text.split(":")
        if len(parts) != 3:
            raise ValueError(f"learning rates {text!r}: expected A:B:N, e.g. 1e-4:10:64")
        low, high = (_positive(p, text) for p in parts[:2])
        try:
            count = int(parts[2])
        except ValueError:
            raise ValueError(f"learning rates {text!r}: N must be a whole number") from None
        if count < 1:
            raise ValueError(f"learning rates {text!r}: N must be at least 1")
        if count > 100_000:
            raise ValueError(f"learning rates {text!r}: at most 100000 runs")
        if count == 1:
            return np.array([low])
        return np.geomspace(low, high, count)
    values = [_positive(p, text) for p in text.split(",") if p.strip()]
    if not values:
        raise ValueError(f"learning rates {text!r}: no values")
    return np.array(values)


def _positive(token: str, text: str) -> float:
    try:
        value = float(token)
    except ValueError:
        raise ValueError(f"learning rates {text!r}: {token.strip()!r} is not a number") from None
    if not (np.isfinite(value) and value > 0):
        raise ValueError(f"learning rates {text!r}: {token.strip()!r} must be positive and finite")
    return value

"""Argument types shared by the sub-commands: each reads one option's text and refuses a bad
value with one line naming it (argparse prints it and exits 2).

One number reader serves them all, so ``lrviz sweep``, ``rangetest``, ``simulate`` and
``schedule`` word the same mistake the same way.
"""

from __future__ import annotations

import argparse
import math


def _float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None


def _need(ok: bool, text: str, what: str) -> None:
    if not ok:
        raise argparse.ArgumentTypeError(f"{text!r} {what}")


def finite_number(text: str) -> float:
    value = _float(text)
    _need(math.isfinite(value), text, "must be finite")
    return value


def positive_float(text: str) -> float:
    value = _float(text)
    _need(math.isfinite(value) and value > 0, text, "must be positive and finite")
    return value


def above_one(text: str) -> float:
    value = _float(text)
    _need(math.isfinite(value) and value > 1, text, "must be above 1")
    return value


def fraction(text: str) -> float:
    value = _float(text)
    _need(math.isfinite(value) and 0 < value <= 1, text, "must be in (0, 1]")
    return value


def stop_factor(text: str) -> float | None:
    """A factor above 1, or ``none`` / ``off`` / ``never`` for no stop."""
    if text.strip().lower() in ("none", "off", "never"):
        return None
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number or 'none'") from None
    _need(math.isfinite(value) and value > 1, text, "must be above 1")
    return value


def whole(text: str) -> int:
    """A whole number of at least 0, written as an integer."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    _need(value >= 0, text, "must be at least 0")
    return value


def count(text: str) -> int:
    """A whole number of at least 1, written as an integer."""
    value = whole(text)
    _need(value >= 1, text, "must be at least 1")
    return value


def positive_int(text: str) -> int:
    """A whole number of at least 1; ``1e8`` too, so that a size limit, not the spelling,
    refuses it."""
    try:
        value = int(text)
    except ValueError:
        value = _whole_float(text)
        if value is None:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    _need(value >= 1, text, "must be at least 1")
    return value


def _whole_float(text: str) -> int | None:
    try:
        number = float(text)
    except ValueError:
        return None
    return int(number) if math.isfinite(number) and number.is_integer() else None


def lr_range(text: str) -> tuple[float, float]:
    """``A:B`` with 0 < A < B, finite."""
    parts = text.split(":")
    if len(parts) != 2:
        raise argparse.ArgumentTypeError(f"{text!r} is not A:B, e.g. 1e-7:1")
    try:
        lo, hi = float(parts[0]), float(parts[1])
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not A:B with numbers, e.g. 1e-7:1") from None
    if not (math.isfinite(lo) and math.isfinite(hi) and 0 < lo < hi):
        raise argparse.ArgumentTypeError(f"{text!r}: need 0 < A < B, finite")
    return lo, hi

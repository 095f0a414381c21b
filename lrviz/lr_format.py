"""Learning rates as text, the one way: the window, the command line and the exported code
all write ``3e-3``, ``0.05`` and ``1.25e-4`` alike, never ``0.0030000000000000001``."""

from __future__ import annotations

import math


def format_lr(value: float, digits: int = 3, invalid: str | None = None) -> str:
    """A learning rate as short text that is also a valid Python/JSON literal.

    Rounded to ``digits`` significant digits; plain decimals from 0.01 to below 1000
    (``0.05``, ``0.123``, ``2.5``), compact scientific notation otherwise (``3e-3``,
    ``1.25e-4``, ``1e+04`` becomes ``1e4``).

    A value that is no learning rate (not finite, or not positive) raises ValueError, or,
    when ``invalid`` is given, is written as ``invalid`` (a view showing "–" for a run that
    has none).
    """
    value = float(value)
    if not (math.isfinite(value) and value > 0):
        if invalid is not None:
            return invalid
        raise ValueError(f"a learning rate must be positive and finite, got {value!r}")
    mantissa, exponent = f"{value:.{digits - 1}e}".split("e")
    mantissa = mantissa.rstrip("0").rstrip(".")
    power = int(exponent)
    if -2 <= power < 3:
        text = f"{float(mantissa) * 10.0**power:.{max(digits - 1 - power, 0)}f}"
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        return text
    return f"{mantissa}e{power}"

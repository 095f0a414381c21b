"""A spin box for learning rates: scientific notation, steps along 1-2-5 per decade."""

from __future__ import annotations

import math

from PySide6.QtGui import QValidator
from PySide6.QtWidgets import QDoubleSpinBox

from lrviz.lr_format import format_lr

_LADDER = (1.0, 2.0, 5.0)


class ScientificSpinBox(QDoubleSpinBox):
    """Shows 3e-4 rather than 0.0003; arrow keys walk 1e-4, 2e-4, 5e-4, 1e-3, ..."""

    def __init__(
        self, value: float = 1e-3, minimum: float = 1e-12, maximum: float = 1e6, parent=None
    ) -> None:
        super().__init__(parent)
        self.setDecimals(300)  # the displayed text is ours; keep full precision inside
        self.setRange(minimum, maximum)
        self.setValue(value)
        self.setKeyboardTracking(False)
        self.setAccelerated(True)

    def textFromValue(self, value: float) -> str:
        return format_lr(value, invalid=f"{value:g}")

    def valueFromText(self, text: str) -> float:
        try:
            return float(text)
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int):
        stripped = text.strip()
        if not stripped:
            return QValidator.State.Intermediate, text, pos
        try:
            value = float(stripped)
        except ValueError:
            partial = stripped.lower().rstrip("e+-.")
            try:
                float(partial or "x")
            except ValueError:
                ok = all(ch in "0123456789.eE+-" for ch in stripped)
                state = QValidator.State.Intermediate if ok else QValidator.State.Invalid
                return state, text, pos
            return QValidator.State.Intermediate, text, pos
        if self.minimum() <= value <= self.maximum():
            return QValidator.State.Acceptable, text, pos
        return QValidator.State.Intermediate, text, pos

    def stepBy(self, steps: int) -> None:
        value = self.value()
        for _ in range(abs(steps)):
            value = _ladder_step(value, up=steps > 0)
        self.setValue(min(max(value, self.minimum()), self.maximum()))


def _ladder_step(value: float, up: bool) -> float:
    exponent = math.floor(math.log10(value))
    mantissa = value / 10**exponent
    rungs = [r * 10**e for e in (exponent - 1, exponent, exponent + 1) for r in _LADDER]
    if up:
        return next(r for r in rungs if r > value * (1 + 1e-9))
    return next(r for r in reversed(rungs) if r < value * (1 - 1e-9)) if mantissa else value

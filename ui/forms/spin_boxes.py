"""Spin boxes the forms share: a range, a value and a tooltip in one call."""

from __future__ import annotations

from PySide6.QtWidgets import QDoubleSpinBox, QSpinBox


def float_box(value: float, lo: float, hi: float, tip: str, decimals: int = 3) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setDecimals(decimals)
    box.setRange(lo, hi)
    box.setValue(value)
    box.setToolTip(tip)
    return box


def int_box(value: int, lo: int, hi: int, tip: str) -> QSpinBox:
    box = QSpinBox()
    box.setRange(lo, hi)
    box.setValue(value)
    box.setToolTip(tip)
    box.setGroupSeparatorShown(True)
    return box

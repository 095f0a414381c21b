"""The "λ from [low] to [high]" row every λ form has (Simulate, Range test, Search, the
range readout), so the row reads and behaves the same everywhere."""

from __future__ import annotations

from PySide6.QtWidgets import QFormLayout, QHBoxLayout, QLabel, QWidget


def add_lr_range_row(form: QFormLayout, text: str, low: QWidget, high: QWidget) -> QHBoxLayout:
    """Add the row ``text``: ``low`` "to" ``high``, the two boxes sharing the width. The
    label's mnemonic (``"λ &from"``: Alt+F) focuses ``low`` (a label of a layout has no
    buddy of its own)."""
    row = QHBoxLayout()
    row.addWidget(low, 1)
    row.addWidget(QLabel("to"))
    row.addWidget(high, 1)
    form.addRow(text, row)
    label = form.labelForField(row)
    if isinstance(label, QLabel):
        label.setBuddy(low)
    return row

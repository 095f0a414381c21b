"""The one "λ from [low] to [high]" row of every λ form (duplicates D3/D5, factored)."""

from __future__ import annotations

from PySide6.QtWidgets import QFormLayout, QLabel, QWidget

from ui.lr_range_row import add_lr_range_row
from ui.sci_spinbox import ScientificSpinBox


def test_the_row_holds_both_boxes_and_its_mnemonic_focuses_the_low_one(qtbot):
    host = QWidget()
    qtbot.addWidget(host)
    form = QFormLayout(host)
    low, high = ScientificSpinBox(1e-4), ScientificSpinBox(1.0)
    row = add_lr_range_row(form, "λ &from", low, high)
    assert [row.itemAt(i).widget() for i in (0, 2)] == [low, high]
    assert row.stretch(0) == row.stretch(2) == 1
    label = form.labelForField(row)
    assert isinstance(label, QLabel) and label.buddy() is low

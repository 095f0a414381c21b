"""Reading and writing a form's widgets as plain values, for sessions (``get_state`` /
``set_state`` of a form). A value of the wrong kind, or a choice the combo box does not
offer, leaves the widget as it is: a hand-edited session never breaks a form."""

from __future__ import annotations

import math

from PySide6.QtWidgets import QAbstractButton, QComboBox, QLineEdit, QSlider


def values(widgets: dict) -> dict:
    """``{key: value}`` of ``{key: widget}``: a combo box's data, a spin box's or slider's
    value, a check box's state, a line edit's text."""
    out = {}
    for key, widget in widgets.items():
        if isinstance(widget, QComboBox):
            out[key] = widget.currentData()
        elif isinstance(widget, QAbstractButton):
            out[key] = widget.isChecked()
        elif isinstance(widget, QLineEdit):
            out[key] = widget.text()
        else:
            out[key] = widget.value()
    return out


def apply(widgets: dict, state: dict) -> None:
    """Set each widget of ``{key: widget}`` from ``state[key]`` where it is present and of
    the right kind."""
    for key, widget in widgets.items():
        if key in state:
            set_value(widget, state[key])


def set_value(widget, value) -> bool:
    """Set one widget; False (and nothing changed) when ``value`` does not fit it."""
    if isinstance(widget, QComboBox):
        index = widget.findData(value)
        if index < 0 or isinstance(value, bool) != isinstance(widget.itemData(index), bool):
            return False
        widget.setCurrentIndex(index)
        return True
    if isinstance(widget, QAbstractButton):
        if not isinstance(value, bool):
            return False
        widget.setChecked(value)
        return True
    if isinstance(widget, QLineEdit):
        if not isinstance(value, str):
            return False
        widget.setText(value)
        return True
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    if not math.isfinite(value):
        return False
    if isinstance(widget, QSlider) or type(widget.value()) is int:
        if value != int(value):
            return False
        value = int(value)
    widget.setValue(value)
    return True

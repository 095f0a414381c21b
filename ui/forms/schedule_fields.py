"""The Simulate form's schedule parameters: warm-up, decay and cycle settings, each row shown
only for the policies that use it (:mod:`lrviz.schedule_fields` says which, with their
labels, tooltips, ranges and defaults, and turns their values into the schedule)."""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QSpinBox

from lrviz.schedule_fields import FIELDS, PolicyField, form_schedule

from .spin_boxes import float_box, int_box

#: What the anneal choices are called.
ANNEAL_LABELS = {"cos": "cosine", "linear": "linear"}


class ScheduleFields:
    """One widget per parameter name (a parameter several policies share, such as
    ``step_size``, keeps its value when the policy changes; its label and tooltip follow
    the policy). Rows go into the form after the Schedule row (:meth:`add_rows`)."""

    def __init__(self) -> None:
        self.widgets: dict[str, object] = {}
        self._fields: dict[str, list[PolicyField]] = {}
        for field in FIELDS:
            self._fields.setdefault(field.name, []).append(field)
            if field.name not in self.widgets:
                self.widgets[field.name] = _widget(field)
        self._form: QFormLayout | None = None
        self.policy = "constant"
        self.shown = True
        self.widgets["warmup_steps"].valueChanged.connect(lambda _v: self._show_rows())

    def add_rows(self, form: QFormLayout, after) -> None:
        """Insert the rows into ``form`` just below the row of widget ``after``."""
        self._form = form
        row, _role = form.getWidgetPosition(after)
        for k, (name, widget) in enumerate(self.widgets.items()):
            # A switch says its name itself (no label): the labels' column stays narrow.
            label = "" if isinstance(widget, QCheckBox) else self._fields[name][0].label
            form.insertRow(row + 1 + k, label, widget)
        self._show_rows()

    def show_for(self, policy: str, shown: bool = True) -> None:
        """Show the rows of ``policy`` (none when not ``shown``: an optimizer that picks its
        own λ has no schedule)."""
        self.policy, self.shown = policy, shown
        self._show_rows()

    def field(self, name: str) -> PolicyField | None:
        """The field ``name`` is for the current policy, or None if it does not apply."""
        return next((f for f in self._fields[name] if f.applies_to(self.policy)), None)

    def values(self) -> dict:
        """``{name: value}`` of the current policy's fields, None for auto."""
        out = {}
        for name, widget in self.widgets.items():
            field = self.field(name)
            if field is not None:
                out[name] = _value(field, widget)
        if not out.get("warmup_steps"):
            out["warmup_start_factor"] = None  # hidden without a warm-up: it shapes none
        return out

    def schedule(self, iterations: int) -> dict | None:
        """The simulation's schedule (see :func:`lrviz.schedule_fields.form_schedule`)."""
        return form_schedule(self.policy, iterations, self.values())

    def set_schedule(self, spec: dict | None) -> None:
        """Show ``spec`` (a simulation's schedule): its parameters, auto for the others."""
        spec = spec or {}
        for name, widget in self.widgets.items():
            field = self._fields[name][0]
            _set(field, widget, spec.get(name))

    def state_widgets(self) -> dict:
        """The widgets by session key (``schedule_step_size``...)."""
        return {f"schedule_{name}": widget for name, widget in self.widgets.items()}

    def _show_rows(self) -> None:
        if self._form is None:
            return
        warming = self.widgets["warmup_steps"].value() > 0
        for name, widget in self.widgets.items():
            field = self.field(name)
            visible = self.shown and field is not None
            if name == "warmup_start_factor":
                visible = visible and warming  # it only shapes a warm-up
            self._form.setRowVisible(widget, visible)
            if field is not None:
                label = self._form.labelForField(widget)
                if isinstance(widget, QCheckBox):
                    widget.setText(field.label)
                elif label is not None:
                    label.setText(field.label)
                widget.setToolTip(field.tip)
                if isinstance(widget, QDoubleSpinBox):
                    widget.setDecimals(field.decimals)


#: The boxes' width whatever their range (a 10,000,000 maximum asked for 116 px and, with
#: the labels, pushed the form past a 1024-pixel window's Controls dock).
BOX_WIDTH = 60


def _widget(field: PolicyField):
    widget = _make_widget(field)
    widget.setMinimumWidth(BOX_WIDTH)
    return widget


def _make_widget(field: PolicyField):
    if field.kind == "count":
        box = int_box(0, 0, int(field.hi), field.tip)
        box.setSpecialValueText(field.auto)
        return box
    if field.kind == "number":
        start = field.lo if field.default is None else field.default
        box = float_box(start, field.lo, field.hi, field.tip, field.decimals)
        box.setSingleStep(0.05 if field.hi <= 1 else 1.0)
        if field.default is None:
            box.setSpecialValueText(field.auto)  # shown at the lowest value, lo
        return box
    if field.kind == "choice":
        combo = QComboBox()
        for choice in field.choices:
            combo.addItem(ANNEAL_LABELS.get(choice, choice), choice)
        combo.setCurrentIndex(combo.findData(field.default))
        combo.setToolTip(field.tip)
        return combo
    box = QCheckBox()
    box.setChecked(bool(field.default))
    box.setToolTip(field.tip)
    return box


def _value(field: PolicyField, widget):
    if isinstance(widget, QSpinBox):
        return widget.value() or None
    if isinstance(widget, QDoubleSpinBox):
        if field.default is None and widget.value() <= field.lo:
            return None
        return widget.value()
    if isinstance(widget, QComboBox):
        return widget.currentData()
    return widget.isChecked()


def _set(field: PolicyField, widget, value) -> None:
    if isinstance(widget, QSpinBox):
        widget.setValue(int(value) if value is not None else 0)
    elif isinstance(widget, QDoubleSpinBox):
        default = field.lo if field.default is None else field.default
        widget.setValue(float(value) if value is not None else default)
    elif isinstance(widget, QComboBox):
        index = widget.findData(value if value is not None else field.default)
        widget.setCurrentIndex(max(index, 0))
    else:
        widget.setChecked(bool(field.default if value is None else value))

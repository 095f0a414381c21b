"""The function box: type a loss, see it checked and previewed as you type, run it anywhere.

:class:`FormulaBox` owns the widgets of a typed objective (preset, formula, start point,
optional domain, gradient noise, and a small preview of the surface) and puts them as rows
into its host form's layout, so the Simulate and Range test forms line them up with their
own rows. Typing is checked after a pause (green, or red with the column of the problem);
a valid 2-D formula's contour preview is computed off the GUI thread
(:class:`ui.surface_jobs.SurfaceJobs`), a 1-D one is drawn as its curve.

Its state is plain text and numbers (:meth:`get_state` / :meth:`set_state`), as typed, so a
session can save and restore it, an unfinished formula included.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QComboBox, QFormLayout, QLabel, QLineEdit, QWidget

from lrviz.expressions import formula_problem, parse_formula
from lrviz.objectives.expression import PRESETS, ExpressionObjective
from lrviz.surfaces import format_domain, parse_domain

from ..surface_jobs import SurfaceJobs
from ..surface_view import SurfaceView
from ..theme import apply_plot_theme, mark
from ..tooltips import explain_plot_export
from .spin_boxes import float_box

#: How long typing must pause before the formula is checked and previewed (ms).
FORMULA_DEBOUNCE_MS = 250
#: Grid of the preview: enough for a 300 px wide thumbnail, a ninth of the panel's work.
PREVIEW_RESOLUTION = 96
PREVIEW_HEIGHT = 118
DEFAULT_FORMULA = "x**2 + 10*y**2"


class FormulaBox(QObject):
    """The rows of a typed objective.

    Signals
    -------
    checked(bool)          after each check: whether the formula is valid
    preview_updated(str)   the preview now shows this formula ("" once cleared)
    """

    checked = Signal(bool)
    preview_updated = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        apply_plot_theme()
        self.preset = QComboBox()
        self.preset.addItem("(type your own)", None)
        for key, preset in PRESETS.items():
            self.preset.addItem(preset.label, key)
            self.preset.setItemData(
                self.preset.count() - 1, preset.description, Qt.ItemDataRole.ToolTipRole
            )
        self.preset.setToolTip("Formulas that each show an idea: pick one, then edit it.")
        self.formula = QLineEdit(DEFAULT_FORMULA)
        self.formula.setToolTip(
            "A loss in x (1-D), x and y (2-D) or w[0] … w[n-1], with + - * / **, "
            "sin cos tan exp log log1p sqrt abs tanh sigmoid softplus minimum maximum where, "
            "pi and e, checked as you type and never run as Python."
        )
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.start = QLineEdit("1, 1")
        self.start.setToolTip("Where every run starts: one number per coordinate, comma separated.")
        self.domain = QLineEdit()
        self.domain.setPlaceholderText("auto")
        self.domain.setToolTip(
            "The region the contour plots show: the x range, then the y range, e.g. -3:3, -2:2 "
            "(blank: around the start and the minimum)."
        )
        self.gradient_noise = float_box(
            0.0,
            0.0,
            1e6,
            "Standard deviation of Gaussian noise added to each gradient "
            "coordinate, the same draw for every run (seeded by Seed); 0 = exact gradients.",
        )
        self.gradient_noise.setSpecialValueText("none")
        self.preview = pg.PlotWidget()
        explain_plot_export(self.preview)
        self.preview.setFixedHeight(PREVIEW_HEIGHT)
        self.preview.setMenuEnabled(False)
        self.preview.setMouseEnabled(x=False, y=False)
        self.preview.hideButtons()
        self.preview.setToolTip("The formula's contours over its domain, and the start (○).")
        plot = self.preview.getPlotItem()
        for side in ("left", "bottom"):
            plot.getAxis(side).setStyle(tickFont=_small_font(), tickLength=-4)
        plot.getAxis("left").setWidth(30)
        self.preview_view = SurfaceView(plot, marker_size=8)
        self.curve = pg.PlotDataItem(pen=pg.mkPen((60, 80, 130), width=1.5))
        plot.addItem(self.curve)
        self.preview_text = ""  # the formula the preview shows

        self.surfaces = SurfaceJobs(self)
        self.surfaces.computed.connect(self._on_surface)
        self.surfaces.failed.connect(lambda _key, _message: self._clear_preview())
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(FORMULA_DEBOUNCE_MS)
        self._timer.timeout.connect(self.check_formula)
        for box in (self.formula, self.start, self.domain):
            box.textEdited.connect(lambda _text: self._timer.start())
        self.preset.activated.connect(lambda _index: self.apply_preset())
        self._rows: list[QWidget] = []
        self._shown = False
        self.check_formula()

    # --- the host form ----------------------------------------------------------------------
    def add_rows(self, layout: QFormLayout) -> None:
        """Put the box's rows into ``layout`` (the host's form)."""
        layout.addRow("Preset", self.preset)
        layout.addRow("Formula", self.formula)
        layout.addRow("", self.message)
        layout.addRow("Start", self.start)
        layout.addRow("Domain", self.domain)
        layout.addRow("Noise σ", self.gradient_noise)
        layout.addRow(self.preview)
        self._rows = [
            self.preset,
            self.formula,
            self.message,
            self.start,
            self.domain,
            self.gradient_noise,
            self.preview,
        ]
        self._layout = layout

    def set_visible(self, visible: bool) -> None:
        was, self._shown = self._shown, visible
        for widget in self._rows:
            self._layout.setRowVisible(widget, visible)
        if visible and not was:
            self.check_formula()

    def shutdown(self) -> None:
        """Stop the preview's thread (the window is closing)."""
        self._timer.stop()
        self.surfaces.shutdown()

    # --- values -----------------------------------------------------------------------------
    def expression_fields(self) -> dict:
        """The config fields of the typed objective: expr, start, domain, gradient_noise.
        Raises ValueError (with the column, for the formula) when something is wrong."""
        text = self.formula.text().strip()
        problem = formula_problem(text)
        if problem is not None:
            raise ValueError(f"formula: {problem}")
        dim = parse_formula(text).dim
        domain = parse_domain(self.domain.text(), dim) if dim <= 2 else None
        return {
            "expr": text,
            "start": self.start_point(),
            "domain": domain,
            "gradient_noise": self.gradient_noise.value(),
        }

    def objective(self) -> ExpressionObjective:
        """The objective the box describes (raises ValueError when it is incomplete)."""
        fields = self.expression_fields()
        return ExpressionObjective(
            fields["expr"], fields["start"], fields["gradient_noise"], fields["domain"]
        )

    def start_point(self) -> tuple[float, ...]:
        text = self.start.text().replace(";", ",")
        try:
            values = tuple(float(part) for part in text.split(",") if part.strip())
        except ValueError:
            raise ValueError(f"start: {text!r} is not a list of numbers") from None
        if not values:
            raise ValueError("start: give one number per coordinate, e.g. 1, 1")
        return values

    def get_state(self) -> dict:
        """The box as typed: plain strings and numbers (JSON-ready)."""
        return {
            "preset": self.preset.currentData(),
            "formula": self.formula.text(),
            "start": self.start.text(),
            "domain": self.domain.text(),
            "gradient_noise": self.gradient_noise.value(),
        }

    def set_state(self, state: dict) -> None:
        """Restore :meth:`get_state`'s dict (keys left out keep their values)."""
        if "preset" in state:
            index = self.preset.findData(state["preset"])
            self.preset.setCurrentIndex(max(index, 0))
        for key, box in (("formula", self.formula), ("start", self.start), ("domain", self.domain)):
            if key in state and state[key] is not None:
                box.setText(str(state[key]))
        if state.get("gradient_noise") is not None:
            self.gradient_noise.setValue(float(state["gradient_noise"]))
        self.check_formula()

    def set_config(self, config) -> None:
        """Show a configuration's typed objective (its expr, start, domain and noise)."""
        self.preset.setCurrentIndex(0)
        self.formula.setText(config.expr or "")
        if config.start is not None:
            self.start.setText(", ".join(f"{v:g}" for v in config.start))
        self.domain.setText(format_domain(config.domain) if config.domain else "")
        self.gradient_noise.setValue(config.gradient_noise or 0.0)
        self.check_formula()

    def apply_preset(self, key: str | None = None) -> None:
        """Fill the box from preset ``key`` (default: the combo's choice)."""
        if key is not None:
            self.preset.setCurrentIndex(max(self.preset.findData(key), 0))
        key = self.preset.currentData()
        if key is None:
            return
        preset = PRESETS[key]
        self.formula.setText(preset.formula)
        self.start.setText(", ".join(f"{v:g}" for v in preset.start))
        self.domain.setText(format_domain(preset.domain))
        self.gradient_noise.setValue(preset.gradient_noise)
        self.check_formula()

    # --- checking and previewing ------------------------------------------------------------
    def check_formula(self) -> bool:
        """Validate now: green when it parses, red with the position when not; then preview."""
        self._timer.stop()
        problem = formula_problem(self.formula.text())
        valid = problem is None
        if valid:
            self.formula.setStyleSheet("QLineEdit { border: 1px solid #2a8a2a; }")
            mark(self.message, "ok")
            self.message.setText("✓ a valid formula")
        else:
            self.formula.setStyleSheet("QLineEdit { border: 1px solid #b00020; }")
            mark(self.message, "error")
            self.message.setText(str(problem))
        self._preview(valid)
        self.checked.emit(valid)
        return valid

    def _preview(self, valid: bool) -> None:
        if not valid:
            self._clear_preview()
            return
        if not self._shown:
            return  # another objective is chosen: nothing to preview
        try:
            objective = self.objective()
        except ValueError as exc:
            self._clear_preview()
            if "formula" not in str(exc):  # start or domain: say what is wrong, in red
                mark(self.message, "error")
                self.message.setText(str(exc))
            return
        if objective.dim == 1:
            self._preview_curve(objective)
        elif objective.dim == 2:
            key = (objective.formula.text, tuple(objective.initial_point()), objective.domain)
            self.surfaces.request(key, objective, None, PREVIEW_RESOLUTION)
        else:
            self._clear_preview()
            self.message.setText(f"✓ a valid formula in {objective.dim} coordinates (no preview)")

    def _preview_curve(self, objective: ExpressionObjective) -> None:
        self.surfaces.cancel()
        ((x0, x1),) = objective.domain
        xs = np.linspace(x0, x1, 256)
        with np.errstate(all="ignore"):
            ys = objective.loss_only(xs[:, None])
        self.preview_view.set_surface(None)
        self.preview_view.set_markers(None)
        self.curve.setData(xs, np.where(np.isfinite(ys), ys, np.nan), connect="finite")
        plot = self.preview.getPlotItem()
        plot.enableAutoRange()
        plot.setAspectLocked(False)
        self.preview_text = objective.formula.text
        self.preview_updated.emit(self.preview_text)

    def _on_surface(self, key, surface, segments) -> None:
        text, start, _domain = key
        self.curve.setData([], [])
        self.preview_view.set_domain(surface.domain)
        self.preview_view.set_surface(surface, segments)
        self.preview_view.set_markers(start)
        self.preview_text = text
        self.preview_updated.emit(text)

    def _clear_preview(self) -> None:
        self.surfaces.cancel()
        self.preview_view.set_surface(None)
        self.preview_view.set_markers(None)
        self.curve.setData([], [])
        if self.preview_text:
            self.preview_text = ""
            self.preview_updated.emit("")


def _small_font():
    from PySide6.QtGui import QFont

    font = QFont()
    font.setPointSize(7)
    return font

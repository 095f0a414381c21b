"""The Range test form: problem, ramp, stop rule and smoothing; Run/Stop."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from lrviz.objectives import OBJECTIVES
from lrviz.rangetest import (
    DEFAULT_MAX_LR,
    DEFAULT_MIN_LR,
    DEFAULT_STOP_FACTOR,
    RangeTestSpec,
)
from lrviz.simulation_config import SimulationConfig

from ..lr_range_row import add_lr_range_row
from ..sci_spinbox import ScientificSpinBox
from ..theme import mark
from . import form_state
from .formula_box import FormulaBox
from .problem_rows import ProblemRows
from .spin_boxes import int_box

OBJECTIVE_LABELS = {
    "quadratic": "Quadratic bowl ½wᵀAw",
    "rosenbrock": "Rosenbrock valley (2-D)",
    "beale": "Beale (2-D)",
    "himmelblau": "Himmelblau, four minima (2-D)",
    "rastrigin": "Rastrigin, many local minima (2-D)",
    "saddle": "Saddle point (2-D)",
    "logreg": "Logistic regression",
    "mlp": "MLP classifier (1 hidden layer)",
    "expr": "Your formula…",
}
MINIBATCH_OBJECTIVES = ("logreg", "mlp")
#: Its problem's defaults are ProblemRows' (an MLP with Adam on minibatches of 32).
DEFAULT_ITERATIONS = 500
#: EMA weight of the bold curve and of the early stop. torch-lr-finder's 0.95: fastai's 0.98
#: lags about a decade behind the raw loss on a 300-step, 7-decade ramp.
DEFAULT_SMOOTHING = 0.95
SMOOTHING_STEPS = 1000  # the slider's resolution: weight = value / SMOOTHING_STEPS


class RangeTestForm(QWidget):
    """Settings of an LR range test and its Run/Stop buttons.

    Signals: ``run_requested(RangeTestSpec)``, ``stop_requested()``, ``verify_requested()``,
    ``smoothing_changed(float)`` (live, while the slider moves).
    """

    run_requested = Signal(object)
    stop_requested = Signal()
    verify_requested = Signal()
    smoothing_changed = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.problem_rows = rows = ProblemRows(
            ((name, OBJECTIVE_LABELS[name]) for name in OBJECTIVES if name in OBJECTIVE_LABELS),
            (
                "The problem trained once while λ ramps up, step by step.",
                "The update rule of the test's training, with PyTorch's semantics.",
                "same test",
            ),
        )
        self.objective, self.optimizer, self.batch_size, self.seed = rows.widgets

        self.min_lr = ScientificSpinBox(DEFAULT_MIN_LR)
        self.min_lr.setToolTip(
            "The λ of the ramp's first step, small enough that training barely moves."
        )
        self.max_lr = ScientificSpinBox(DEFAULT_MAX_LR)
        self.max_lr.setToolTip("The λ of the ramp's last step, large enough that training breaks.")
        self.iterations = int_box(
            DEFAULT_ITERATIONS, 2, 1_000_000, "How many steps the ramp takes, one λ per step."
        )
        self.iterations.setSingleStep(100)
        self.mode = QComboBox()
        self.mode.addItem("exponential", "exp")
        self.mode.addItem("linear", "linear")
        self.mode.setToolTip(
            "The ramp's shape: exponential (fastai, torch-lr-finder, Lightning) spends equal "
            "time in every decade; linear (Smith's paper) spends most of it at large λ."
        )
        self.stop_factor = QDoubleSpinBox()
        self.stop_factor.setRange(1.0, 1000.0)
        self.stop_factor.setDecimals(1)
        self.stop_factor.setSingleStep(0.5)
        self.stop_factor.setValue(DEFAULT_STOP_FACTOR)
        self.stop_factor.setSpecialValueText("never")
        self.stop_factor.setPrefix("k = ")
        self.stop_factor.setToolTip(
            "Stop early once the smoothed loss exceeds k × its best (the LR finders use 4; "
            "'never' stops only on a non-finite loss)."
        )
        self.smoothing = QSlider(Qt.Orientation.Horizontal)
        self.smoothing.setRange(0, SMOOTHING_STEPS - 1)
        self.smoothing.setValue(round(DEFAULT_SMOOTHING * SMOOTHING_STEPS))
        self.smoothing.setPageStep(10)
        self.smoothing.setToolTip(
            "Smoothing: the weight of the moving average drawn bold and used by the early "
            "stop, calmer when higher but lagging to the right on the λ axis."
        )
        self.smoothing_value = QLabel()
        self.smoothing_value.setMinimumWidth(36)
        self.smoothing_value.setToolTip(self.smoothing.toolTip())

        problem = QGroupBox("Problem")
        problem_form = QFormLayout(problem)
        self.formula_box = FormulaBox(self)
        rows.add_to(problem_form, after_objective=self.formula_box.add_rows)
        self._problem_form = problem_form

        ramp = QGroupBox("Ramp")
        ramp_form = QFormLayout(ramp)
        add_lr_range_row(ramp_form, "λ &from", self.min_lr, self.max_lr)
        ramp_form.addRow("&Iterations", self.iterations)
        ramp_form.addRow("Ra&mp", self.mode)
        ramp_form.addRow("Stop &when", self.stop_factor)
        smooth_row = QHBoxLayout()
        smooth_row.addWidget(self.smoothing, 1)
        smooth_row.addWidget(self.smoothing_value)
        ramp_form.addRow("Smoot&hing", smooth_row)
        label = ramp_form.labelForField(smooth_row)
        if isinstance(label, QLabel):
            label.setBuddy(self.smoothing)

        self.run_button = QPushButton("Run test")
        self.run_button.setToolTip(
            "Run a range test: train once while λ grows every step, and read where the loss "
            "falls fastest (Ctrl+T)."
        )
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip(
            "Stop the range test; the suggestions read the curve so far (Shift+Esc)."
        )
        self.verify_button = QPushButton("Verify")
        self.verify_button.setToolTip(
            "Check the suggestion: train a short sweep of fixed λ around it on this problem "
            "and draw the measured loss vs λ."
        )
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.stop_button)
        buttons.addWidget(self.verify_button)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setToolTip("What the range test is doing.")
        self.message = QLabel()
        self.message.setWordWrap(True)
        mark(self.message, "error")
        self.message.setToolTip("Why the last request failed.")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(problem)
        layout.addWidget(ramp)
        layout.addLayout(buttons)
        layout.addWidget(self.status)
        layout.addWidget(self.message)

        self.run_button.clicked.connect(self._request_run)
        self.stop_button.clicked.connect(self.stop_requested)
        self.verify_button.clicked.connect(self.verify_requested)
        self.smoothing.valueChanged.connect(self._on_smoothing)
        self.objective.currentIndexChanged.connect(self._show_relevant_options)
        self._show_relevant_options()
        self._on_smoothing(self.smoothing.value())
        self.set_running(False)
        self.set_verifiable(False)  # until a test on a built-in problem has a reading

    # --- values ---------------------------------------------------------------------------
    def smoothing_weight(self) -> float:
        return self.smoothing.value() / SMOOTHING_STEPS

    def set_smoothing_weight(self, weight: float) -> None:
        self.smoothing.setValue(round(weight * SMOOTHING_STEPS))

    def settings(self) -> RangeTestSpec:
        """The range test the form describes. Raises ValueError when it is inconsistent."""
        lo, hi = self.min_lr.value(), self.max_lr.value()
        objective = self.objective.currentData()
        batch = self.batch_size.value() if objective in MINIBATCH_OBJECTIVES else 0
        stop = self.stop_factor.value()
        expression = self.formula_box.expression_fields() if objective == "expr" else {}
        config = SimulationConfig(
            **expression,
            objective=objective,
            optimizer=self.optimizer.currentData(),
            seed=self.seed.value(),
            batch_size=batch or None,
        )
        spec = RangeTestSpec(
            config=config,
            min_lr=lo,
            max_lr=hi,
            iterations=self.iterations.value(),
            mode=self.mode.currentData(),
            stop_factor=None if stop <= self.stop_factor.minimum() else stop,
            smoothing=self.smoothing_weight(),
        )
        spec.check()
        return spec

    def _state_widgets(self) -> dict:
        return {
            "objective": self.objective,
            "optimizer": self.optimizer,
            "batch_size": self.batch_size,
            "seed": self.seed,
            "min_lr": self.min_lr,
            "max_lr": self.max_lr,
            "iterations": self.iterations,
            "mode": self.mode,
            "stop_factor": self.stop_factor,
            "smoothing": self.smoothing,
            # the typed objective, when "expr" is chosen
            "formula": self.formula_box.formula,
            "start": self.formula_box.start,
            "domain": self.formula_box.domain,
            "gradient_noise": self.formula_box.gradient_noise,
        }

    def get_state(self) -> dict:
        """The form's settings as plain values (part of a session's "range test")."""
        return form_state.values(self._state_widgets())

    def set_state(self, state: dict) -> None:
        form_state.apply(self._state_widgets(), state)
        self.formula_box.check_formula()

    # --- state ----------------------------------------------------------------------------
    def set_running(self, running: bool) -> None:
        self.run_button.setEnabled(not running)
        self.stop_button.setEnabled(running)
        if running:
            self.verify_button.setEnabled(False)

    def set_verifiable(self, verifiable: bool) -> None:
        """Verify needs a finished test on a built-in problem with a reading."""
        self.verify_button.setEnabled(verifiable)

    def show_error(self, message: str) -> None:
        self.message.setText(message)

    def show_status(self, text: str) -> None:
        self.status.setText(text)

    def _request_run(self) -> None:
        try:
            settings = self.settings()
        except ValueError as exc:
            self.show_error(str(exc))
            return
        self.message.clear()
        self.run_requested.emit(settings)

    def _on_smoothing(self, value: int) -> None:
        weight = value / SMOOTHING_STEPS
        self.smoothing_value.setText(f"{weight:.3f}".rstrip("0").rstrip(".") or "0")
        self.smoothing_changed.emit(weight)

    def shutdown(self) -> None:
        """Stop the formula preview's thread (the window is closing)."""
        self.formula_box.shutdown()

    def _show_relevant_options(self) -> None:
        objective = self.objective.currentData()
        self._problem_form.setRowVisible(self.batch_size, objective in MINIBATCH_OBJECTIVES)
        self.formula_box.set_visible(objective == "expr")

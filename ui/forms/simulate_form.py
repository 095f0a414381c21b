"""The Simulate form: objective, optimizer, learning rates, iterations, seed, Run/Pause/Stop."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from lrviz.adaptive_lr import (
    ADAPTIVE_OPTIMIZERS,
    DEFAULT_MAX_LR_FACTOR,
    DEFAULT_MIN_LR_FACTOR,
    HYPERGRADIENT_DEFAULTS,
    HYPERGRADIENT_PRESETS,
)
from lrviz.limits import MAX_DIM
from lrviz.lr_format import format_lr
from lrviz.objectives import OBJECTIVES
from lrviz.optimizers import OPTIMIZERS, hypergrad_lr_for
from lrviz.schedules import POLICY_LABELS
from lrviz.simulation_config import SimulationConfig
from lrviz.simulation_presets import SIMULATION_PRESETS

from ..lr_range_row import add_lr_range_row
from ..sci_spinbox import ScientificSpinBox
from ..theme import mark
from . import form_state
from .formula_box import FORMULA_DEBOUNCE_MS, FormulaBox  # noqa: F401 (re-exported)
from .schedule_fields import ScheduleFields
from .spin_boxes import float_box, int_box

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
OPTIMIZER_LABELS = {
    "sgd": "SGD",
    "momentum": "SGD + momentum",
    "nesterov": "SGD + Nesterov",
    "adam": "Adam",
    "sgd-hd": "SGD + hypergradient",
    "sgdn-hd": "SGD + Nesterov + hypergradient",
    "adam-hd": "Adam + hypergradient",
    "dog": "DoG (parameter-free)",
}


BETA_PRESET_LABELS = {
    "code-default": "authors' code default",
    "paper-mnist": "paper: MNIST",
    "paper-cifar10": "paper: CIFAR-10",
}
CUSTOM_BETA = "custom"
ADAPTIVE_HINTS = {
    "dog": "DoG picks its own λ: the λ here multiplies it (1 is the paper's DoG).",
    "hd": "Each run starts from its λ here (λ₀); β, the learning rate of λ, moves it. "
    f"A guard keeps λ within {format_lr(DEFAULT_MIN_LR_FACTOR)} .. "
    f"{format_lr(DEFAULT_MAX_LR_FACTOR)} × λ₀.",
}


class SimulateForm(QWidget):
    """Builds a :class:`SimulationConfig` and asks for it to be run.

    Signals: ``run_requested(SimulationConfig)``, ``pause_requested()``,
    ``resume_requested()``, ``stop_requested()``.
    """

    run_requested = Signal(object)
    pause_requested = Signal()
    resume_requested = Signal()
    stop_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.objective = QComboBox()
        for name in OBJECTIVES:
            self.objective.addItem(OBJECTIVE_LABELS.get(name, name), name)
        self.objective.setToolTip(
            "The loss function that gradient descent minimises, one run per λ."
        )
        # Long objective names must not squeeze the labels of a 300 px form.
        self.objective.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.objective.setMinimumContentsLength(12)
        self.formula_box = FormulaBox(self)
        # The box's widgets, by the names the form always had.
        box = self.formula_box
        self.preset, self.formula, self.start = box.preset, box.formula, box.start
        self.formula_message, self.domain = box.message, box.domain
        self.optimizer = QComboBox()
        for name in OPTIMIZERS:
            self.optimizer.addItem(OPTIMIZER_LABELS.get(name, name), name)
        self.optimizer.setToolTip("The update rule each run applies, with PyTorch's semantics.")
        # 12 characters: with the schedule's rows the Training box must still fit the
        # Controls dock of a 1024-pixel window beside its scroll bar.
        _narrow(self.optimizer, 12)

        self.curvature = float_box(
            10.0,
            1e-3,
            1e6,
            "The bowl's largest eigenvalue L: plain gradient descent diverges above λ = 2/L.",
        )
        self.condition = float_box(
            1.0,
            1.0,
            1e8,
            "The condition number, L over the smallest eigenvalue (1 = a round bowl).",
        )
        self.dim = int_box(2, 1, MAX_DIM, "How many parameters the problem has.")
        self.batch_size = int_box(
            0, 0, 100_000, "Samples per gradient step (noisier when small); 0 uses the full batch."
        )
        self.batch_size.setSpecialValueText("full batch")
        self.momentum = float_box(
            0.9, 0.0, 0.999, "The momentum μ: how much of the last step each step keeps."
        )
        self.momentum.setSingleStep(0.05)
        self._build_hypergradient_row()
        self.sharpness_every = int_box(
            0,
            0,
            1_000_000,
            "Measure each run's sharpness (top Hessian eigenvalue) this often and draw it "
            "against 2/λ, the edge of stability (each measurement costs extra gradients).",
        )
        self.sharpness_every.setSpecialValueText("off")
        self.sharpness_every.setPrefix("every ")
        self.sharpness_every.setSuffix(" iterations")
        # Its hint is as wide as "every 1,000,000 iterations" (187 px): the widest field,
        # which cut the form at the right once the schedule's rows brought a scroll bar.
        self.sharpness_every.setMinimumWidth(140)
        self._build_examples()

        self.lr_min = ScientificSpinBox(1e-4)
        self.lr_min.setToolTip("The smallest learning rate λ simulated.")
        self.lr_max = ScientificSpinBox(10.0)
        self.lr_max.setToolTip("The largest learning rate λ simulated.")
        self.lr_count = int_box(
            32,
            1,
            4096,
            "How many learning rates to race, log-spaced from the smallest to the largest.",
        )
        self.iterations = int_box(200, 1, 10_000_000, "How many steps each run takes.")
        self.iterations.setSingleStep(100)
        self.schedule = QComboBox()
        for policy, label in POLICY_LABELS.items():
            self.schedule.addItem(label, policy)
        self.schedule.setToolTip(
            "How λ changes over each run (PyTorch's formulas, each run's λ the schedule's "
            "peak, steps and periods fitted to the run unless set below), as λ vs "
            "iteration shows."
        )
        _narrow(self.schedule, 12)
        # Warm-up, decay and cycle parameters: the rows of the chosen schedule only.
        self.schedule_fields = ScheduleFields()
        self.seed = int_box(
            0,
            0,
            2**31 - 1,
            "The seed of the data, the start point and the minibatch order (same seed, same runs).",
        )

        problem = QGroupBox("Problem")
        problem_form = QFormLayout(problem)
        problem_form.addRow("Objective", self.objective)
        self.formula_box.add_rows(problem_form)
        problem_form.addRow("Curvature L", self.curvature)
        problem_form.addRow("Condition", self.condition)
        problem_form.addRow("Dimension", self.dim)
        problem_form.addRow("Batch size", self.batch_size)
        problem_form.addRow("Seed", self.seed)
        self._problem_form = problem_form

        training = QGroupBox("Training")
        training_form = QFormLayout(training)
        training_form.addRow("Optimizer", self.optimizer)
        training_form.addRow("", self.adaptive_hint)
        training_form.addRow("Momentum", self.momentum)
        training_form.addRow("β", self.beta_row)
        add_lr_range_row(training_form, "λ from", self.lr_min, self.lr_max)
        training_form.addRow("Runs", self.lr_count)
        training_form.addRow("Iterations", self.iterations)
        training_form.addRow("Schedule", self.schedule)
        self.schedule_fields.add_rows(training_form, self.schedule)
        training_form.addRow("Sharpness", self.sharpness_every)
        self._training_form = training_form

        self.run_button = QPushButton("Run")
        self.run_button.setToolTip("Start a new simulation with these settings (Ctrl+R).")
        self.pause_button = QPushButton("Pause")
        self.pause_button.setToolTip("Pause or resume the running simulation (Ctrl+P).")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop the simulation and keep what it computed (Esc).")
        buttons = QHBoxLayout()
        for button in (self.run_button, self.pause_button, self.stop_button):
            buttons.addWidget(button)
        self.message = QLabel()
        self.message.setWordWrap(True)
        mark(self.message, "error")

        # The form scrolls rather than making the window taller than the screen (a typed
        # formula's rows and preview made it 781 px tall in a 700-px window).
        content = QWidget()
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(content)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)
        self.scroll = scroll
        layout = QVBoxLayout(content)
        layout.addWidget(self.examples)
        layout.addWidget(problem)
        layout.addWidget(training)
        layout.addLayout(buttons)
        layout.addWidget(self.message)
        layout.addStretch(1)

        self.run_button.clicked.connect(self._request_run)
        self.pause_button.clicked.connect(self._toggle_pause)
        self.stop_button.clicked.connect(self.stop_requested)
        self.objective.currentIndexChanged.connect(self._show_relevant_options)
        self.optimizer.currentIndexChanged.connect(self._show_relevant_options)
        self.schedule.currentIndexChanged.connect(self._show_relevant_options)
        self._paused = False
        self._show_relevant_options()
        self.set_run_state("idle")

    def config(self) -> SimulationConfig:
        """The configuration the form describes. Raises ValueError when it is inconsistent."""
        lo, hi = self.lr_min.value(), self.lr_max.value()
        if lo > hi:
            raise ValueError("the smallest λ is above the largest")
        count = self.lr_count.value()
        lrs = np.array([lo]) if count == 1 or lo == hi else np.geomspace(lo, hi, count)
        objective = self.objective.currentData()
        expression = self.formula_box.expression_fields() if objective == "expr" else {}
        return SimulationConfig(
            **expression,
            objective=objective,
            optimizer=self.optimizer.currentData(),
            lrs=lrs,
            iterations=self.iterations.value(),
            seed=self.seed.value(),
            dim=self.dim.value(),
            curvature=self.curvature.value(),
            condition=self.condition.value(),
            batch_size=self.batch_size.value() or None,
            momentum=self.momentum.value(),
            hypergrad_lr=self.beta.value() if self._uses_beta() else None,
            sharpness_every=self.sharpness_every.value() or None,
            schedule=self._schedule(),
        )

    def _schedule(self) -> dict | None:
        # HD and DoG choose their own λ at every step: no schedule on top.
        if self.optimizer.currentData() in ADAPTIVE_OPTIMIZERS:
            return None
        return self.schedule_fields.schedule(self.iterations.value())

    # --- examples (lrviz.simulation_presets) ---------------------------------------------------
    def _build_examples(self) -> None:
        # One row, no group box: the form must fit a 600-pixel screen; the description shows
        # under it only once an example is chosen.
        self.examples = QWidget()
        self.example = QComboBox()
        _narrow(self.example, 12)
        self.example.addItem("Examples…", None)
        for key, preset in SIMULATION_PRESETS.items():
            self.example.addItem(preset.label, key)
            self.example.setItemData(
                self.example.count() - 1, preset.description, Qt.ItemDataRole.ToolTipRole
            )
        self.example.setToolTip("Ready-made simulations that each show one idea about λ.")
        self.example_button = QPushButton("Run example")
        self.example_button.setToolTip("Fill in the form with the example and run it.")
        self.example_button.setEnabled(False)
        self.example_text = QLabel()
        self.example_text.setWordWrap(True)
        mark(self.example_text, "hint")  # readable in the dark theme too
        self.example_text.hide()
        row = QHBoxLayout()
        row.addWidget(self.example, 1)
        row.addWidget(self.example_button)
        box = QVBoxLayout(self.examples)
        box.setContentsMargins(0, 0, 0, 0)
        box.addLayout(row)
        box.addWidget(self.example_text)
        self.example.currentIndexChanged.connect(self._show_example)
        self.example_button.clicked.connect(self.run_example)

    def _show_example(self) -> None:
        key = self.example.currentData()
        self.example_button.setEnabled(key is not None)
        self.example_text.setVisible(key is not None)
        if key is not None:
            self.example_text.setText(SIMULATION_PRESETS[key].description)

    def run_example(self, key: str | None = None) -> bool:
        """Run example ``key`` (default: the chosen one): the form shows its problem and
        settings, and the simulation runs exactly as the example describes it (each run's
        own optimizer, when it has them, which the form cannot show). False if none."""
        if not isinstance(key, str):
            key = self.example.currentData()
        if key is None:
            return False
        self.example.setCurrentIndex(self.example.findData(key))
        config = SIMULATION_PRESETS[key].build()
        self.set_config(config)
        self.message.clear()
        self.run_requested.emit(config)
        return True

    # --- β of hypergradient descent -----------------------------------------------------------
    def _build_hypergradient_row(self) -> None:
        self.beta_preset = QComboBox()
        _narrow(self.beta_preset, 8)
        for key, label in BETA_PRESET_LABELS.items():
            self.beta_preset.addItem(label, key)
        self.beta_preset.addItem("custom", CUSTOM_BETA)
        self.beta_preset.setToolTip(
            "β of Baydin et al.: the defaults of their code (SGD-HD 1e-6, Adam-HD 1e-8) or "
            "the values of their experiments (MNIST: 1e-3 and 1e-7; CIFAR-10: 1e-3 and 1e-8, "
            "all from λ₀ = 1e-3)."
        )
        self.beta = ScientificSpinBox(HYPERGRADIENT_DEFAULTS["sgd-hd"], 1e-12, 10.0)
        self.beta.setToolTip(
            "β, the learning rate of λ itself: λ ← λ + β g·u, with u the last step."
        )
        self.beta_row = QWidget()
        row = QHBoxLayout(self.beta_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.beta_preset, 1)
        row.addWidget(self.beta, 1)
        self.adaptive_hint = QLabel()
        self.adaptive_hint.setWordWrap(True)
        mark(self.adaptive_hint, "hint")  # readable in the dark theme too
        self.beta_preset.currentIndexChanged.connect(lambda _i: self._apply_beta_preset())
        self.beta.editingFinished.connect(self._beta_edited)

    def _uses_beta(self) -> bool:
        return self.optimizer.currentData() in HYPERGRADIENT_DEFAULTS

    def _apply_beta_preset(self) -> None:
        key, optimizer = self.beta_preset.currentData(), self.optimizer.currentData()
        if key == CUSTOM_BETA or optimizer not in HYPERGRADIENT_DEFAULTS:
            return
        self.beta.setValue(HYPERGRADIENT_PRESETS[key][optimizer])

    def _beta_edited(self) -> None:
        optimizer = self.optimizer.currentData()
        key = self.beta_preset.currentData()
        if key != CUSTOM_BETA and optimizer in HYPERGRADIENT_DEFAULTS:
            if self.beta.value() != HYPERGRADIENT_PRESETS[key][optimizer]:
                self.beta_preset.setCurrentIndex(self.beta_preset.findData(CUSTOM_BETA))

    # --- the formula box (objective "expr") --------------------------------------------------
    def check_formula(self) -> bool:
        """Validate the formula now (green, or red with the position) and preview it."""
        return self.formula_box.check_formula()

    def _apply_preset(self) -> None:
        self.formula_box.apply_preset()

    def shutdown(self) -> None:
        """Stop the formula preview's thread (the window is closing)."""
        self.formula_box.shutdown()

    def set_config(self, config: SimulationConfig) -> None:
        """Show ``config`` in the form (the demo uses this)."""
        self.objective.setCurrentIndex(self.objective.findData(config.objective))
        self.optimizer.setCurrentIndex(self.optimizer.findData(config.optimizer))
        lrs = np.asarray(config.lrs)
        self.lr_min.setValue(float(lrs.min()))
        self.lr_max.setValue(float(lrs.max()))
        self.lr_count.setValue(lrs.size)
        self.iterations.setValue(config.iterations)
        self.seed.setValue(config.seed)
        self.dim.setValue(config.dim)
        self.curvature.setValue(config.curvature)
        self.condition.setValue(config.condition)
        self.batch_size.setValue(config.batch_size or 0)
        if config.momentum is not None:
            self.momentum.setValue(config.momentum)
        if config.objective == "expr" and config.expr is not None:
            self.formula_box.set_config(config)
        self.sharpness_every.setValue(config.sharpness_every or 0)
        policy = (config.schedule or {}).get("policy", "constant")
        self.schedule.setCurrentIndex(max(self.schedule.findData(policy), 0))
        self.schedule_fields.set_schedule(config.schedule)
        beta = hypergrad_lr_for(config.optimizer, config.hypergrad_lr)
        if beta is not None:
            self.beta_preset.setCurrentIndex(self.beta_preset.findData(CUSTOM_BETA))
            self.beta.setValue(beta)

    # --- session state (ui.session) ---------------------------------------------------------
    def _state_widgets(self) -> dict:
        return {
            "objective": self.objective,
            "optimizer": self.optimizer,
            "formula": self.formula,
            "start": self.start,
            "domain": self.domain,
            "gradient_noise": self.formula_box.gradient_noise,
            "preset": self.preset,
            "curvature": self.curvature,
            "condition": self.condition,
            "dim": self.dim,
            "batch_size": self.batch_size,
            "seed": self.seed,
            "momentum": self.momentum,
            "lr_min": self.lr_min,
            "lr_max": self.lr_max,
            "runs": self.lr_count,
            "iterations": self.iterations,
            "beta_preset": self.beta_preset,
            "beta": self.beta,
            "sharpness_every": self.sharpness_every,
            "schedule": self.schedule,
            **self.schedule_fields.state_widgets(),
        }

    def get_state(self) -> dict:
        """The form's settings as plain values (a session's "simulate" section)."""
        return form_state.values(self._state_widgets())

    def set_state(self, state: dict | str) -> None:
        """Show saved settings; values of the wrong kind are left as they are. (A runner
        state name, as this method took before sessions, goes to :meth:`set_run_state`.)"""
        if isinstance(state, str):
            self.set_run_state(state)
            return
        form_state.apply(self._state_widgets(), state)
        self.check_formula()

    def set_run_state(self, state: str) -> None:
        """Enable the buttons that make sense in runner state ``state``."""
        running, paused = state == "running", state == "paused"
        self._paused = paused
        self.pause_button.setEnabled(running or paused)
        self.pause_button.setText("Resume" if paused else "Pause")
        self.stop_button.setEnabled(running or paused)
        if state != "failed":
            self.message.clear()

    def show_error(self, message: str) -> None:
        self.message.setText(message)

    def _request_run(self) -> None:
        try:
            config = self.config()
        except ValueError as exc:
            self.show_error(str(exc))
            return
        self.message.clear()
        self.run_requested.emit(config)

    def _toggle_pause(self) -> None:
        if self._paused:
            self.resume_requested.emit()
        else:
            self.pause_requested.emit()

    def _show_relevant_options(self) -> None:
        objective = self.objective.currentData()
        self.formula_box.set_visible(objective == "expr")
        for widget, visible in (
            (self.curvature, objective == "quadratic"),
            (self.condition, objective == "quadratic"),
            (self.dim, objective == "quadratic"),
            (self.batch_size, objective == "logreg"),
        ):
            self._problem_form.setRowVisible(widget, visible)
        optimizer = self.optimizer.currentData()
        self._training_form.setRowVisible(
            self.momentum, optimizer in ("momentum", "nesterov", "sgdn-hd")
        )
        self._training_form.setRowVisible(self.beta_row, self._uses_beta())
        scheduled = optimizer not in ADAPTIVE_OPTIMIZERS
        self._training_form.setRowVisible(self.schedule, scheduled)
        self.schedule_fields.show_for(self.schedule.currentData(), scheduled)
        hint = ADAPTIVE_HINTS["dog" if optimizer == "dog" else "hd"]
        self.adaptive_hint.setText(hint)
        self._training_form.setRowVisible(self.adaptive_hint, optimizer in ADAPTIVE_OPTIMIZERS)
        self._apply_beta_preset()  # each optimizer its own β of the chosen preset


def _narrow(combo: QComboBox, characters: int) -> None:
    """Long item texts must not widen the controls: the combo shows about ``characters``
    of them when narrow (its list and tooltips show them whole)."""
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(characters)

"""The Search form: the problem, how the coarse-to-fine search spends its runs, Run/Stop, and
the result with its export."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from lrviz.export import SNIPPET_TITLES, SNIPPETS
from lrviz.search import (
    CRITERIA,
    DEFAULT_ETA,
    DEFAULT_MAX_LR,
    DEFAULT_MIN_LR,
    DEFAULT_PER_STAGE,
    DEFAULT_STAGES,
    DEFAULT_SUBSET,
    SearchSettings,
)
from lrviz.simulation_config import SimulationConfig

from ..lr_range_row import add_lr_range_row
from ..sci_spinbox import ScientificSpinBox
from . import form_state
from .problem_rows import ProblemRows
from .range_test_form import MINIBATCH_OBJECTIVES, OBJECTIVE_LABELS
from .spin_boxes import float_box, int_box

#: The range test's problem by default (ProblemRows' defaults, its length too), so that
#: "a range test, then a search" compare the same thing.
DEFAULT_ITERATIONS = 500
DEFAULT_FORMULA = "x**2 + 25*y**2"
CRITERION_LABELS = {"final": "final loss", "best": "best loss", "area": "area (speed)"}
#: Export targets of the result: the range test's snippets and JSON.
TARGETS = (*SNIPPETS, "json")
TARGET_TITLES = {**SNIPPET_TITLES, "json": "JSON (range and search)"}


@dataclass(frozen=True)
class SearchRequest:
    """What the form describes: the problem (``config``, its ``iterations`` the full budget
    of one run) and how to search (``settings``)."""

    config: SimulationConfig
    settings: SearchSettings


class SearchForm(QWidget):
    """Settings of a coarse-to-fine search, its Run/Stop buttons and its result.

    Signals: ``run_requested(SearchRequest)``, ``stop_requested()``, ``target_changed(str)``,
    ``copy_requested()``, ``save_requested()``.
    """

    run_requested = Signal(object)
    stop_requested = Signal()
    target_changed = Signal(str)
    copy_requested = Signal()
    save_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.problem_rows = rows = ProblemRows(
            {**OBJECTIVE_LABELS, "expr": "Your formula…"}.items(),
            (
                "The problem every candidate λ trains on.",
                "The update rule every candidate trains with, with PyTorch's semantics.",
                "same search",
            ),
        )
        self.objective, self.optimizer, self.batch_size, self.seed = rows.widgets
        self.formula = QLineEdit(DEFAULT_FORMULA)
        self.formula.setToolTip("The loss as a formula in x, in x and y, or in w[0] … w[n-1].")
        self.iterations = int_box(
            DEFAULT_ITERATIONS,
            1,
            1_000_000,
            "The full budget of one run, what you will train with: finalists train it all, "
            "successive halving stops the others earlier.",
        )
        self.iterations.setSingleStep(100)

        self.min_lr = ScientificSpinBox(DEFAULT_MIN_LR)
        self.min_lr.setToolTip("The smallest λ of the coarse stage, which tries one λ per decade.")
        self.max_lr = ScientificSpinBox(DEFAULT_MAX_LR)
        self.max_lr.setToolTip("The largest λ of the coarse stage.")
        self.stages = int_box(
            DEFAULT_STAGES, 1, 50, "The most stages, the coarse one included; each "
            "narrows the bracket around the best λ, and the search stops once it is under 1.25x.",
        )  # fmt: skip
        self.per_stage = int_box(
            DEFAULT_PER_STAGE, 1, 64, "How many λ each fine stage tries, log-spaced in the bracket."
        )
        self.eta = float_box(
            DEFAULT_ETA,
            1.1,
            100.0,
            "η of successive halving: at each rung only the best 1/η of the candidates train on.",
            1,
        )
        self.eta.setPrefix("η = ")
        self.subset = float_box(
            DEFAULT_SUBSET,
            0.01,
            1.0,
            "The fraction of the samples the coarse stage screens candidates on first (1 = all).",
            2,
        )
        self.criterion = QComboBox()
        for key in CRITERIA:
            self.criterion.addItem(CRITERION_LABELS[key], key)
            self.criterion.setItemData(
                self.criterion.count() - 1, f"{CRITERIA[key]}.", Qt.ItemDataRole.ToolTipRole
            )
        self.criterion.setToolTip(
            "How candidates are ranked: by the final loss, the best loss, or the area under "
            "the loss curve (which rewards speed)."
        )

        problem = QGroupBox("Problem")
        problem_form = QFormLayout(problem)
        rows.add_to(problem_form, after_objective=lambda f: f.addRow("&Formula", self.formula))
        problem_form.addRow("&Iterations", self.iterations)
        self._problem_form = problem_form

        search = QGroupBox("Search")
        search_form = QFormLayout(search)
        add_lr_range_row(search_form, "λ &from", self.min_lr, self.max_lr)
        search_form.addRow("&Stages", self.stages)
        search_form.addRow("&Candidates", self.per_stage)
        search_form.addRow("&Halving", self.eta)
        search_form.addRow("Su&bset", self.subset)
        search_form.addRow("&Rank by", self.criterion)
        self._search_form = search_form

        self.run_button = QPushButton("Run search")
        self.run_button.setToolTip(
            "Search coarse to fine for the best constant λ: try a few, keep the best, narrow "
            "in (Ctrl+G)."
        )
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop the search; the result says what it found so far (Esc).")
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.stop_button)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setToolTip("What the search is doing.")
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #b00020;")
        self.message.setToolTip("Why the last request failed.")

        self.result_box = QGroupBox("Result")
        result_layout = QVBoxLayout(self.result_box)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.target = QComboBox()
        for key in TARGETS:
            self.target.addItem(TARGET_TITLES[key], key)
        self.target.setToolTip("What to export: code for a training script, or JSON.")
        self.code = QPlainTextEdit()
        self.code.setReadOnly(True)
        self.code.setToolTip(
            "The code of the chosen range and the best λ, for your training script."
        )
        self.code.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.code.setMinimumHeight(110)
        self.code.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.copy_button = QPushButton("Copy")
        self.copy_button.setToolTip("Copy the code shown to the clipboard.")
        self.save_button = QPushButton("Save JSON…")
        self.save_button.setToolTip("Save the chosen range, the best λ and the search as JSON.")
        self.target.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.target.setMinimumContentsLength(10)
        self.code.setMinimumWidth(120)
        export_row = QHBoxLayout()
        export_row.addWidget(self.copy_button)
        export_row.addWidget(self.save_button)
        self.export_message = QLabel()
        self.export_message.setWordWrap(True)
        result_layout.addWidget(self.summary)
        result_layout.addWidget(self.target)
        result_layout.addLayout(export_row)
        result_layout.addWidget(self.code)
        result_layout.addWidget(self.export_message)
        self.result_box.hide()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(problem)
        layout.addWidget(search)
        layout.addLayout(buttons)
        layout.addWidget(self.status)
        layout.addWidget(self.message)
        layout.addWidget(self.result_box)
        layout.addStretch(1)

        self.run_button.clicked.connect(self._request_run)
        self.stop_button.clicked.connect(self.stop_requested)
        self.objective.currentIndexChanged.connect(self._show_relevant_options)
        self.target.currentIndexChanged.connect(
            lambda _i: self.target_changed.emit(self.target_key)
        )
        self.copy_button.clicked.connect(self.copy_requested)
        self.save_button.clicked.connect(self.save_requested)
        self._show_relevant_options()
        self.set_running(False)

    # --- values ---------------------------------------------------------------------------
    @property
    def target_key(self) -> str:
        return self.target.currentData()

    def request(self) -> SearchRequest:
        """The search the form describes. Raises ValueError when it is inconsistent."""
        objective = self.objective.currentData()
        batch = self.batch_size.value() if objective in MINIBATCH_OBJECTIVES else 0
        formula = self.formula.text().strip()
        if objective == "expr" and not formula:
            raise ValueError("type a formula to search on")
        config = SimulationConfig(
            objective=objective,
            optimizer=self.optimizer.currentData(),
            seed=self.seed.value(),
            batch_size=batch or None,
            iterations=self.iterations.value(),
            expr=formula if objective == "expr" else None,
        )
        settings = SearchSettings(
            min_lr=self.min_lr.value(),
            max_lr=self.max_lr.value(),
            stages=self.stages.value(),
            per_stage=self.per_stage.value(),
            eta=self.eta.value(),
            subset=self.subset.value(),
            criterion=self.criterion.currentData(),
        )
        settings.check()
        return SearchRequest(config, settings)

    def use_problem(self, config: SimulationConfig, iterations: int | None = None) -> None:
        """Search the problem ``config`` describes (the range test's, say)."""
        for widget, value in (
            (self.objective, config.objective),
            (self.optimizer, config.optimizer),
        ):
            form_state.set_value(widget, value)
        self.batch_size.setValue(config.batch_size or 0)
        self.seed.setValue(config.seed)
        if config.expr:
            self.formula.setText(config.expr)
        if iterations is not None:
            self.iterations.setValue(iterations)

    def get_state(self) -> dict:
        return form_state.values(self._state_widgets())

    def set_state(self, state: dict) -> None:
        form_state.apply(self._state_widgets(), state)

    def _state_widgets(self) -> dict:
        return {
            "objective": self.objective,
            "formula": self.formula,
            "optimizer": self.optimizer,
            "batch_size": self.batch_size,
            "seed": self.seed,
            "iterations": self.iterations,
            "min_lr": self.min_lr,
            "max_lr": self.max_lr,
            "stages": self.stages,
            "per_stage": self.per_stage,
            "eta": self.eta,
            "subset": self.subset,
            "criterion": self.criterion,
            "target": self.target,
        }

    # --- state ----------------------------------------------------------------------------
    def set_running(self, running: bool) -> None:
        self.run_button.setEnabled(not running)
        self.stop_button.setEnabled(running)

    def show_error(self, message: str) -> None:
        self.message.setText(message)

    def show_status(self, text: str) -> None:
        self.status.setText(text)

    def show_result(self, summary: str | None, code: str = "") -> None:
        """The result's summary and export text; None hides the result."""
        self.result_box.setVisible(summary is not None)
        self.summary.setText(summary or "")
        self.set_code(code)

    def set_code(self, code: str) -> None:
        self.code.setPlainText(code)
        self.copy_button.setEnabled(bool(code))
        self.save_button.setEnabled(bool(code))

    def show_export_message(self, text: str, error: bool = False) -> None:
        self.export_message.setStyleSheet("color: #b00020;" if error else "")
        self.export_message.setText(text)

    def _request_run(self) -> None:
        try:
            request = self.request()
        except ValueError as exc:
            self.show_error(str(exc))
            return
        self.message.clear()
        self.run_requested.emit(request)

    def _show_relevant_options(self) -> None:
        objective = self.objective.currentData()
        minibatch = objective in MINIBATCH_OBJECTIVES
        self._problem_form.setRowVisible(self.batch_size, minibatch)
        self._problem_form.setRowVisible(self.formula, objective == "expr")
        self._search_form.setRowVisible(self.subset, minibatch)

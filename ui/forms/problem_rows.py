"""The problem rows the range test and the search forms share: objective, optimizer, batch
size and seed, each with its tooltip, added to a form in one order."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from PySide6.QtWidgets import QComboBox, QFormLayout

from lrviz.adaptive_lr import ADAPTIVE_OPTIMIZERS
from lrviz.optimizers import OPTIMIZERS

from .simulate_form import OPTIMIZER_LABELS
from .spin_boxes import int_box

#: A small network with Adam on minibatches: a textbook range test curve (falls, flattens,
#: explodes) in well under a second, and a search of a few seconds.
DEFAULT_OBJECTIVE = "mlp"
DEFAULT_OPTIMIZER = "adam"
DEFAULT_BATCH_SIZE = 32


class ProblemRows:
    """The widgets of a problem one λ at a time trains on (a range test, a search).

    ``objectives`` are ``(name, label)`` pairs in the order the combo lists them; the
    optimizers are those that use the λ they are given (an adaptive one would ignore the
    ramp or the candidate λ); ``tips`` are the objective's and the optimizer's tooltips
    and the end of the seed's ("same seed, same test").
    """

    def __init__(
        self,
        objectives: Iterable[tuple[str, str]],
        tips: tuple[str, str, str],
        default_objective: str = DEFAULT_OBJECTIVE,
        default_optimizer: str = DEFAULT_OPTIMIZER,
        default_batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> None:
        objective_tip, optimizer_tip, same = tips
        self.objective = QComboBox()
        for name, label in objectives:
            self.objective.addItem(label, name)
        self.objective.setCurrentIndex(max(self.objective.findData(default_objective), 0))
        self.objective.setToolTip(objective_tip)
        self.objective.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.objective.setMinimumContentsLength(12)
        self.optimizer = QComboBox()
        for name in (n for n in OPTIMIZERS if n not in ADAPTIVE_OPTIMIZERS):
            self.optimizer.addItem(OPTIMIZER_LABELS.get(name, name), name)
        self.optimizer.setCurrentIndex(max(self.optimizer.findData(default_optimizer), 0))
        self.optimizer.setToolTip(optimizer_tip)
        self.batch_size = int_box(
            default_batch_size,
            0,
            100_000,
            "Samples per step of the classifier (noisier when small); 0 uses the full batch.",
        )
        self.batch_size.setSpecialValueText("full batch")
        self.seed = int_box(
            0,
            0,
            2**31 - 1,
            f"The seed of the data, the start point and the minibatch order (same seed, {same}).",
        )

    @property
    def widgets(self):
        """(objective, optimizer, batch size, seed)"""
        return self.objective, self.optimizer, self.batch_size, self.seed

    def add_to(
        self, form: QFormLayout, after_objective: Callable[[QFormLayout], None] | None = None
    ) -> None:
        """Objective, then ``after_objective(form)``'s rows (a formula), then optimizer,
        batch size and seed."""
        form.addRow("&Objective", self.objective)
        if after_objective is not None:
            after_objective(form)
        form.addRow("O&ptimizer", self.optimizer)
        form.addRow("&Batch size", self.batch_size)
        form.addRow("S&eed", self.seed)

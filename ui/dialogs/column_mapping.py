"""Ask which columns of an unrecognised table are x, learning rate and loss."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QVBoxLayout,
)

NONE = "(none)"


class ColumnMappingDialog(QDialog):
    """Three pickers over the file's column names; ``mapping()`` gives the choice."""

    def __init__(self, path: str, columns: list[str], parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Which column is which?")
        self.columns = list(columns)
        intro = QLabel(
            f"lrviz did not recognise the columns of\n{path}.\n"
            "Say which column holds what; the others are kept as extra series."
        )
        intro.setWordWrap(True)
        self.x = self._combo(_guess(columns, ("step", "iter", "epoch", "batch", "x")), False)
        self.x.setToolTip("The column the iteration panels use as x: a step, an epoch or a time.")
        self.lr = self._combo(_guess(columns, ("lr", "learning")), True)
        self.lr.setToolTip("The column of the learning rate λ, drawn on λ vs iteration.")
        self.loss = self._combo(_guess(columns, ("loss", "error", "cost")), True)
        self.loss.setToolTip("The column of the loss, the curve every loss panel draws.")
        form = QFormLayout()
        form.addRow("x (step, epoch…)", self.x)
        form.addRow("learning rate", self.lr)
        form.addRow("loss", self.loss)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setToolTip(
            "Read the file again with these columns."
        )
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setToolTip(
            "Keep the file as it was read."
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(buttons)

    def _combo(self, guess: str | None, optional: bool) -> QComboBox:
        combo = QComboBox()
        combo.addItem("(row number)" if not optional else NONE, None)
        for name in self.columns:
            combo.addItem(name, name)
        if guess is not None:
            combo.setCurrentIndex(combo.findData(guess))
        return combo

    def choice(self) -> dict[str, str | None]:
        return {
            "x": self.x.currentData(),
            "lr": self.lr.currentData(),
            "loss": self.loss.currentData(),
        }


def _guess(columns: list[str], hints: tuple[str, ...]) -> str | None:
    for hint in hints:
        for name in columns:
            if hint in name.lower():
                return name
    return None

"""The Lab tab: one-click experiments that show what λ does on 2-D problems."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QGroupBox, QLabel, QPushButton, QVBoxLayout, QWidget

from lrviz.lab_presets import LAB_PRESETS


class LabForm(QWidget):
    """A button per Lab preset and a line on what the last one shows.

    Signal: ``preset_requested(str)`` with the preset's key (of
    :data:`lrviz.lab_presets.LAB_PRESETS`).
    """

    preset_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        group = QGroupBox("Experiments")
        buttons = QVBoxLayout(group)
        self.buttons: dict[str, QPushButton] = {}
        for key, (text, make) in LAB_PRESETS.items():
            button = QPushButton(text)
            button.setToolTip(make().description)
            button.clicked.connect(lambda _checked=False, k=key: self.preset_requested.emit(k))
            buttons.addWidget(button)
            self.buttons[key] = button
        self.buttons["effect-of-lr"].setDefault(True)
        intro = QLabel(
            "Each button runs plain gradient descent at four λ on a 2-D problem and shows "
            "every run walking the loss surface, one plot per run (untick 'one plot per run' "
            "to overlay them)."
        )
        intro.setWordWrap(True)
        self.description = QLabel()
        self.description.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(group)
        layout.addWidget(self.description)
        layout.addStretch(1)

    def show_description(self, text: str) -> None:
        self.description.setText(text)

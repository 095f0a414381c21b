"""The Lesson tab: what the lesson is about, and Step / Play / Reset."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ..theme import mark

INTRO = (
    "<b>The child and the dogs.</b> A child sees ten black dogs, then a white one. "
    "Three tiny models learn “is it a dog?” from the same animals, one at a time, each with "
    "its own learning rate λ. With λ too low the white dog is brushed off as an outlier; "
    "with a good λ colour soon stops mattering; with λ too high one white dog convinces it "
    "that dogs are white.<br><br>The models really learn (logistic regression, one SGD step "
    "per animal): the bars are their weights, the curves what they believe."
)
#: milliseconds between animals while playing
SPEEDS = {"slow": 1200, "normal": 600, "fast": 200}


class LessonForm(QWidget):
    """Signals: ``step_requested()``, ``play_toggled()``, ``reset_requested()``,
    ``speed_changed(int)`` (ms per animal)."""

    step_requested = Signal()
    play_toggled = Signal()
    reset_requested = Signal()
    speed_changed = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.intro = QLabel(INTRO)
        self.intro.setWordWrap(True)
        self.step_button = QPushButton("Step")
        self.step_button.setToolTip(
            "Show the models the next animal and let them learn from it (→ or N)."
        )
        self.play_button = QPushButton("Play")
        self.play_button.setToolTip("Show the animals one after another (Space).")
        self.reset_button = QPushButton("Reset")
        self.reset_button.setToolTip("Start again from untrained models (Home or R).")
        buttons = QHBoxLayout()
        for button in (self.step_button, self.play_button, self.reset_button):
            buttons.addWidget(button)
        self.speed = QComboBox()
        for name, ms in SPEEDS.items():
            self.speed.addItem(name, ms)
        self.speed.setCurrentIndex(1)
        self.speed.setToolTip("How long each animal stays while playing.")
        self.progress = QProgressBar()
        self.progress.setFormat("animal %v of %m")
        self.progress.setTextVisible(True)
        options = QFormLayout()
        options.addRow("Speed", self.speed)
        self.keys = QLabel("Keys: → step · Space play/pause · Home reset")
        mark(self.keys, "hint")  # readable in the dark theme too
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addLayout(options)
        layout.addWidget(self.keys)
        layout.addStretch(1)
        self.step_button.clicked.connect(self.step_requested)
        self.play_button.clicked.connect(self.play_toggled)
        self.reset_button.clicked.connect(self.reset_requested)
        self.speed.currentIndexChanged.connect(lambda _i: self.speed_changed.emit(self.interval))

    @property
    def interval(self) -> int:
        return int(self.speed.currentData())

    def set_state(self, step: int, steps: int, playing: bool) -> None:
        """Buttons and progress for ``step`` of ``steps`` animals shown."""
        done = step >= steps
        self.progress.setRange(0, steps)
        self.progress.setValue(step)
        self.step_button.setEnabled(not done and not playing)
        self.play_button.setEnabled(not done or playing)
        self.play_button.setText("Pause" if playing else ("Play" if step == 0 else "Continue"))
        self.reset_button.setEnabled(step > 0)

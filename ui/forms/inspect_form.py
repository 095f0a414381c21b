"""The Inspect tab: how loaded logs are drawn (smoothing, x axis, y range, live watch)."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from ..theme import mark

SMOOTHING_STEPS = 1000  # slider resolution: weights 0.000 .. 0.999
# Smoothing 10M points takes ~0.5 s: redraw once the slider rests, not at every pixel.
SMOOTHING_SETTLE_MS = 120


class InspectForm(QWidget):
    """Options for drawing logs. Emits ``options_changed`` whenever one changes."""

    options_changed = Signal()
    open_requested = Signal()
    open_folder_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.smoothing_slider = QSlider(Qt.Orientation.Horizontal)
        self.smoothing_slider.setRange(0, SMOOTHING_STEPS - 1)
        self.smoothing_slider.setValue(600)
        self.smoothing_slider.setToolTip(
            "Smoothing: the weight of a TensorBoard-style moving average drawn bold, with the "
            "raw curve faint behind it (0 = raw)."
        )
        self.smoothing_label = QLabel()
        self.smoothing_label.setMinimumWidth(40)
        self.x_axis = QComboBox()
        self.x_axis.addItem("step", "step")
        self.x_axis.addItem("epoch", "epoch")
        self.x_axis.addItem("wall time (s)", "time")
        self.x_axis.setToolTip(
            "What the iteration panels use as x: the step, the epoch or the wall time."
        )
        self.robust = QCheckBox("ignore outliers (5th–95th percentile)")
        self.robust.setToolTip("Fit the loss axis to the bulk of the data, not to its spikes.")
        self.watch = QCheckBox("watch files for changes")
        self.watch.setChecked(True)
        self.watch.setToolTip(
            "Re-read logs that grow while their training runs (checked every second)."
        )

        smoothing_row = QHBoxLayout()
        smoothing_row.addWidget(self.smoothing_slider, 1)
        smoothing_row.addWidget(self.smoothing_label)
        group = QGroupBox("Drawing")
        form = QFormLayout(group)
        form.addRow("Smoothing", smoothing_row)
        form.addRow("x axis", self.x_axis)
        form.addRow(self.robust)
        form.addRow(self.watch)

        self.open_button = QPushButton("Open logs…")
        self.open_button.setToolTip(
            "Open training logs: CSV, JSON, TensorBoard events, Optuna or MLflow stores (Ctrl+O)."
        )
        self.open_folder_button = QPushButton("Open folder…")
        self.open_folder_button.setToolTip(
            "Open a folder of runs, such as a Lightning version_N or a sweep (Ctrl+Shift+O)."
        )
        buttons = QHBoxLayout()
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.open_folder_button)
        self.message = QLabel()
        self.message.setWordWrap(True)
        mark(self.message, "error")
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(group)
        layout.addWidget(self.message)
        layout.addStretch(1)

        self._settle = QTimer(self)
        self._settle.setSingleShot(True)
        self._settle.setInterval(SMOOTHING_SETTLE_MS)
        self._settle.timeout.connect(self.options_changed)
        self.smoothing_slider.valueChanged.connect(self._smoothing_moved)
        self.x_axis.currentIndexChanged.connect(self.options_changed)
        self.robust.toggled.connect(self.options_changed)
        self.watch.toggled.connect(self.options_changed)
        self.open_button.clicked.connect(self.open_requested)
        self.open_folder_button.clicked.connect(self.open_folder_requested)
        self._smoothing_moved(self.smoothing_slider.value())

    @property
    def smoothing(self) -> float:
        return self.smoothing_slider.value() / SMOOTHING_STEPS

    def set_smoothing(self, weight: float) -> None:
        self.smoothing_slider.setValue(round(weight * SMOOTHING_STEPS))

    @property
    def axis(self) -> str:
        return self.x_axis.currentData()

    def set_axes(self, axes: list[str]) -> None:
        """Enable only the x axes the loaded logs can be drawn against."""
        model = self.x_axis.model()
        for i in range(self.x_axis.count()):
            model.item(i).setEnabled(self.x_axis.itemData(i) in axes)
        if self.axis not in axes and axes:
            self.x_axis.setCurrentIndex(self.x_axis.findData(axes[0]))

    def get_state(self) -> dict:
        """How logs are drawn, as plain values (a session's "inspect" section)."""
        return {
            "smoothing": self.smoothing,
            "axis": self.axis,
            "robust": self.robust.isChecked(),
            "watch": self.watch.isChecked(),
        }

    def set_state(self, state: dict) -> None:
        smoothing = state.get("smoothing")
        if isinstance(smoothing, (int, float)) and not isinstance(smoothing, bool):
            self.set_smoothing(min(max(float(smoothing), 0.0), 0.999))
        for key, box in (("robust", self.robust), ("watch", self.watch)):
            if isinstance(state.get(key), bool):
                box.setChecked(state[key])
        index = self.x_axis.findData(state.get("axis"))
        if index >= 0:
            self.x_axis.setCurrentIndex(index)

    def show_errors(self, lines: list[str]) -> None:
        self.message.setText("\n".join(lines[-5:]))

    def _smoothing_moved(self, value: int) -> None:
        self.smoothing_label.setText(f"{value / SMOOTHING_STEPS:.3f}")
        self._settle.start()

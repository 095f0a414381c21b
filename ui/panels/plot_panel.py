"""A plot with a slim header of options: the common frame of every lrviz panel."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QVBoxLayout, QWidget

from ui.colors import format_lr
from ui.theme import apply_plot_theme


class LrAxis(pg.AxisItem):
    """Axis for λ on a log scale: ticks read 1e-4, 1e-3 ... instead of exponents."""

    def tickStrings(self, values, scale, spacing):
        if self.logMode:
            return [format_lr(10.0**v) for v in values]
        return super().tickStrings(values, scale, spacing)


class PlotPanel(QWidget):
    """A titled header row of option widgets above a pyqtgraph plot."""

    def __init__(self, title: str, parent: QWidget | None = None, lr_axis: str | None = None):
        super().__init__(parent)
        apply_plot_theme()
        self.setObjectName(title.replace(" ", "_"))
        axis_items = {lr_axis: LrAxis(orientation=lr_axis)} if lr_axis else {}
        self.graphics = pg.GraphicsLayoutWidget()
        self.plot: pg.PlotItem = self.graphics.addPlot(row=0, col=0, axisItems=axis_items)
        self.plot.showGrid(x=True, y=True, alpha=0.15)
        self.header = QHBoxLayout()
        self.header.setContentsMargins(6, 2, 6, 0)
        # The dock's title bar names the panel; the header holds only its options.
        self.title = title
        self.header.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(self.header)
        layout.addWidget(self.graphics, 1)

    def add_toggle(self, text: str, checked: bool, tooltip: str, slot) -> QCheckBox:
        box = QCheckBox(text)
        box.setChecked(checked)
        box.setToolTip(tooltip)
        box.toggled.connect(slot)
        self.header.addWidget(box)
        return box

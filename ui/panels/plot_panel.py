"""A plot with a slim header of options: the common frame of every lrviz panel."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QVBoxLayout, QWidget

from ui.colors import format_lr
from ui.theme import apply_plot_theme


class ScientificAxis(pg.AxisItem):
    """An axis that reads 1e-4, 2e-4, 0.01 on log scales, labels only as many ticks as fit
    (decades first, then 2 and 5), and never rescales with SI prefixes (λ "x0.001")."""

    def __init__(self, orientation: str, **kwargs) -> None:
        super().__init__(orientation, **kwargs)
        self.enableAutoSIPrefix(False)

    def logTickStrings(self, values, scale, spacing):
        values = np.asarray(values, dtype=np.float64)
        if values.size == 0:
            return []
        numbers = 10.0**values
        with np.errstate(divide="ignore", invalid="ignore"):
            mantissa = numbers / 10.0 ** np.floor(np.log10(numbers) + 1e-9)
        room = self._label_room()
        for allowed in ((1, 2, 5), (1, 2, 3, 4, 5, 6, 7, 8, 9), (1,)):
            keep = np.isclose(mantissa[:, None], np.array(allowed)[None, :], rtol=1e-6).any(1)
            if keep.sum() <= room or allowed == (1,):
                break
        if allowed == (1, 2, 5) and np.isclose(mantissa, 1.0).sum() >= 2 and keep.sum() > room / 2:
            keep = np.isclose(mantissa, 1.0)
        return [format_lr(n) if k else "" for n, k in zip(numbers, keep, strict=True)]

    def tickStrings(self, values, scale, spacing):
        if self.logMode:
            return super().tickStrings(values, scale, spacing)
        if not values:
            return []
        biggest = max(abs(v) for v in values)
        if biggest < 1e5:
            return super().tickStrings(values, scale, spacing)
        # 1.02e6 rather than pyqtgraph's 1.02e+06
        digits = max(1, int(np.ceil(np.log10(biggest / spacing))) + 1) if spacing > 0 else 3
        return [
            f"{v:.{digits}g}".replace("e+0", "e").replace("e+", "e").replace("e-0", "e-")
            for v in values
        ]

    def _label_room(self) -> int:
        if self.orientation in ("bottom", "top"):
            return max(2, int(self.width() / 55))
        return max(2, int(self.height() / 22))


class PlotPanel(QWidget):
    """A titled header row of option widgets above a pyqtgraph plot."""

    def __init__(self, title: str, parent: QWidget | None = None):
        super().__init__(parent)
        apply_plot_theme()
        self.setObjectName(title.replace(" ", "_"))
        axis_items = {side: ScientificAxis(orientation=side) for side in ("left", "bottom")}
        self.graphics = pg.GraphicsLayoutWidget()
        self.plot: pg.PlotItem = self.graphics.addPlot(row=0, col=0, axisItems=axis_items)
        self.plot.showGrid(x=True, y=True, alpha=0.15)
        # PlotItem.addItem imposes the plot's own settings on every item, so these must be
        # set here, not per curve. Peak downsampling keeps loss spikes visible on 10M-point
        # logs; clip-to-view only helps once the user zooms (inactive under x auto-range).
        self.plot.setDownsampling(auto=True, mode="peak")
        self.plot.setClipToView(True)
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

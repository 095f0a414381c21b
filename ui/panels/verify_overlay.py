"""The check of a range test's suggestion, drawn beside its curve on loss vs λ: each trained
λ's final loss (green squares joined by a dashed line), the diverged ones as × along the top,
and the measured best λ as a labelled vertical line.

The x axis is in log mode: the vertical line takes log10(λ), converted here only.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QColor

from lrviz.lr_format import format_lr

from ..colors import DIVERGED

MEASURED = QColor(20, 130, 60)


class VerifyOverlay(QObject):
    """Measured loss against λ on the range test's plot ``plot``."""

    def __init__(self, plot: pg.PlotItem, parent=None) -> None:
        super().__init__(parent)
        self.plot = plot
        self._visible = True
        self._has_data = False
        self.points = pg.PlotDataItem(
            pen=pg.mkPen(MEASURED, width=1.5, style=Qt.PenStyle.DashLine),
            symbol="s",
            symbolSize=8,
            symbolBrush=pg.mkBrush(MEASURED),
            symbolPen=pg.mkPen(MEASURED.darker(140), width=1),
            connect="finite",
        )
        self.points.setToolTip("Final loss of a short fixed-λ training (the check)")
        self.diverged = pg.PlotDataItem(
            pen=None, symbol="x", symbolSize=10, symbolPen=pg.mkPen(DIVERGED, width=2)
        )
        self.best = pg.InfiniteLine(
            angle=90,
            movable=False,
            pen=pg.mkPen(MEASURED, width=2),
            label="",
            labelOpts={"position": 0.85, "color": MEASURED, "fill": pg.mkBrush(255, 255, 255, 210)},
        )
        for item in (self.points, self.diverged, self.best):
            item.setZValue(7)
            plot.addItem(item)
        self.clear()

    def set_measured(self, lrs, losses, best_lr: float | None) -> None:
        """The check's runs: λ and final loss (inf: diverged), and the measured best."""
        lrs = np.asarray(lrs, dtype=np.float64)
        losses = np.asarray(losses, dtype=np.float64)
        ok = np.isfinite(losses) & (losses > 0)
        self.points.setData(lrs[ok], losses[ok])
        blown = ~np.isfinite(losses)
        top = float(losses[ok].max()) * 2.0 if ok.any() else 1.0
        self.diverged.setData(lrs[blown], np.full(int(blown.sum()), top))
        if best_lr is not None:
            self.best.setValue(math.log10(best_lr))
            self.best.label.setFormat(f"measured best {format_lr(best_lr)}")
        self._has_data, self._best = True, best_lr
        self._apply()

    def clear(self) -> None:
        self.points.setData([], [])
        self.diverged.setData([], [])
        self._has_data, self._best = False, None
        self._apply()

    def set_visible(self, visible: bool) -> None:
        self._visible = visible
        self._apply()

    def _apply(self) -> None:
        shown = self._visible and self._has_data
        self.points.setVisible(shown)
        self.diverged.setVisible(shown)
        self.best.setVisible(shown and self._best is not None)

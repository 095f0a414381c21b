"""The legend of the logs' learning curves on loss vs iteration.

The simulation's runs have their legend (and their λ colour bar); the logs' runs had none:
one Keras log drew two lines, bold and faint, and nothing said which was the loss as logged.
A few runs are named here by their smoothed curve's colour, with one entry for what the
faint lines are; beyond :data:`MAX_RUNS` the Sources list, which shows the same colours,
names them.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtGui import QColor

from .fitted_legend import SCORE_CURVES, FittedLegend
from .log_layer import LogLayer, _faint, _pen

#: More runs than this are named by the Sources list only (a legend would hide curves).
MAX_RUNS = 7
_GREY = QColor(110, 110, 110)


def legend_entries(layer: LogLayer) -> list[tuple[object, str]]:
    """``(pen, name)`` of each entry for the curves ``layer`` shows."""
    curves = layer.curves
    n = len(curves)
    if n == 0 or n > MAX_RUNS:
        return []
    pairs = [layer.items[id(c.key)] for c in curves]  # (raw, smoothed) of each
    if not any(c.smoothed is not None for c in curves):
        return [(raw.pen, c.label) for (raw, _s), c in zip(pairs, curves, strict=True)]
    if n == 1:
        (raw, smooth), label = pairs[0], curves[0].label
        return [(raw.pen, f"{label} (raw)"), (smooth.pen, f"{label} (smoothed)")]
    entries = [(smooth.pen, c.label) for (_r, smooth), c in zip(pairs, curves, strict=True)]
    return [*entries, (_pen(_faint(_GREY), 1.0), "faint: as logged (raw)")]


class LogLegend:
    """A legend on ``plot``'s view naming ``layer``'s curves, its entries that do not fit
    in ``header`` (the panel's header line, shared with the panel's own legend)."""

    def __init__(self, plot: pg.PlotItem, layer: LogLayer, header=None) -> None:
        self.layer = layer
        self.legend = FittedLegend(plot.getViewBox(), header=header, curves=self._curves)
        self._samples: list[pg.PlotDataItem] = []

    def update(self) -> None:
        """Entries for what the layer shows now (after each scene the view draws)."""
        entries = legend_entries(self.layer)
        self.legend.clear()
        self._samples = [pg.PlotDataItem(pen=pen) for pen, _name in entries]
        for sample, (_, name) in zip(self._samples, entries, strict=True):
            self.legend.addItem(sample, name)
        self.legend.setVisible(bool(entries) and self.layer.visible)

    def _curves(self):
        """The drawn curves in view coordinates: where the legend should not sit."""
        paths = self.layer.paths
        n = min(2 * len(self.layer.curves), SCORE_CURVES)
        return [paths.curve(i) for i in range(n) if paths.run_visible(i)]

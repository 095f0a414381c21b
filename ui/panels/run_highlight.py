"""Hovering a run on one panel highlights it on every panel (PRODUCT.md: "linked where it
makes sense").

The pointer over a simulation's curve on loss vs iteration or λ vs iteration (each
:class:`~.run_paths.RunPaths` says which run it is over) draws that run again, wider and on
top, on both, and rings its dot on loss vs λ, so a run that looks odd in one view can be
found in the others. One overlay item per panel, given one curve: nothing is redrawn but
that curve, and nothing at all while the pointer is over no run.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, Signal

#: How much wider than its own line the highlighted run is drawn.
WIDTH = 3.0


class RunHighlight(QObject):
    """Links the hover of ``curve_panels`` (RunCurvesPanels) and marks the run on
    ``dots_panel`` (the LossVsLrPanel) too."""

    #: The run highlighted now (None: none).
    changed = Signal(object)

    def __init__(self, curve_panels, dots_panel=None, parent=None) -> None:
        super().__init__(parent)
        self.run: int | None = None
        self._curves = []
        for panel in curve_panels:
            overlay = _overlay(panel.plot)
            self._curves.append((panel, overlay))
            panel.paths.hovered.connect(self.show_run)
        self._dots_panel = dots_panel
        self._ring = None
        if dots_panel is not None:
            self._ring = pg.ScatterPlotItem(
                size=16, symbol="o", brush=pg.mkBrush(None), pen=pg.mkPen((20, 20, 20), width=2)
            )
            self._ring.setZValue(50)
            dots_panel.plot.addItem(self._ring, ignoreBounds=True)

    def show_run(self, run: int | None) -> None:
        """Highlight run ``run`` of the simulation everywhere (None: nothing)."""
        self.run = run
        for panel, overlay in self._curves:
            store = panel.store
            if run is None or store is None or run >= store.runs or not panel.paths.isVisible():
                overlay.setData([], [])
                overlay.hide()
                continue
            x, y = panel.paths.curve(run)  # view coordinates, as the overlay draws them
            pen = pg.mkPen(panel.paths.pen(run).color(), width=WIDTH)
            overlay.setData(x, y, pen=pen, connect="finite")
            overlay.show()
        self._mark_dot(run)
        self.changed.emit(run)

    def _mark_dot(self, run: int | None) -> None:
        if self._ring is None:
            return
        panel = self._dots_panel
        store = panel.store
        point = None
        if run is not None and store is not None and run < store.runs and store.count:
            best = panel.statistic.currentIndex() == 1
            loss = float((store.best_loss() if best else store.final_loss())[run])
            lr = float(store.lrs[run])
            if store.diverged_at[run] < 0 and np.isfinite(loss) and loss > 0 and lr > 0:
                point = (lr, loss)
        if point is None:
            self._ring.setData([], [])
            return
        # The ring is given view coordinates (a ScatterPlotItem is not log-mapped).
        x_log = panel.plot.getAxis("bottom").logMode
        y_log = panel.plot.getAxis("left").logMode
        x = np.log10(point[0]) if x_log else point[0]
        y = np.log10(point[1]) if y_log else point[1]
        self._ring.setData([x], [y])


class LogRunHighlight(QObject):
    """The same for the logs' runs: a run hovered in one of ``layers`` (LogLayers of
    different panels, each drawing its own subset of the runs) is drawn wider in every
    layer that draws it, found by its key (the Sources entry)."""

    changed = Signal(object)

    def __init__(self, layers, parent=None) -> None:
        super().__init__(parent)
        self.key = None
        self._overlays = []
        for layer in layers:
            overlay = _overlay(layer.plot)
            self._overlays.append((layer, overlay))
            layer.paths.hovered.connect(partial(self._hovered, layer))

    def _hovered(self, layer, index: int | None) -> None:
        n = len(layer.curves)
        self.show_key(None if index is None or n == 0 else layer.curves[index % n].key)

    def show_key(self, key) -> None:
        """Highlight the run whose key is ``key`` in every layer (None: nothing)."""
        self.key = key
        for layer, overlay in self._overlays:
            n = len(layer.curves)
            found = [i for i, c in enumerate(layer.curves) if key is not None and c.key is key]
            if not found or not layer.visible:
                overlay.setData([], [])
                overlay.hide()
                continue
            i = found[0]
            # The bold curve when smoothing draws one, else the logged one (raw i, smoothed n + i).
            j = n + i if layer.paths.run_visible(n + i) else i
            x, y = layer.paths.curve(j)
            overlay.setData(x, y, pen=pg.mkPen(layer.paths.pen(j).color(), width=WIDTH))
            overlay.setVisible(x.size > 0)
        self.changed.emit(key)


def _overlay(plot) -> pg.PlotCurveItem:
    """The item a panel draws its highlighted run with: over every run, under legends, and
    not counted in the view's auto-range."""
    overlay = pg.PlotCurveItem()
    overlay.setZValue(50)
    plot.addItem(overlay, ignoreBounds=True)
    return overlay

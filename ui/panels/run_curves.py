"""Curves of a simulation's runs, one per λ, coloured by λ: shared by the per-iteration panels."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from lrviz.run_store import RunStore
from ui.colors import DIVERGED, format_lr, lr_colormap, lr_colors
from ui.panels.plot_panel import PlotPanel

MAX_LEGEND_ENTRIES = 7


class RunCurvesPanel(PlotPanel):
    """One curve per run of a :class:`RunStore` against iteration; diverged runs end in ×.

    Subclasses choose the quantity with :meth:`values`.
    """

    y_label = ""
    y_units: str | None = None

    def __init__(self, title: str, parent=None) -> None:
        super().__init__(title, parent)
        self.store: RunStore | None = None
        self.curves: list[pg.PlotDataItem] = []
        self._drawn_version = -1
        self.plot.setLabel("bottom", "iteration")
        self.plot.setLabel("left", self.y_label, units=self.y_units)
        self.legend = self.plot.addLegend(offset=(10, -10), labelTextSize="8pt")
        self.diverged_marks = _diverged_marks()
        self.colorbar: pg.ColorBarItem | None = None
        self.simulation_visible = True
        self.show_legend = True

    def values(self, store: RunStore) -> np.ndarray:
        """(iterations, R) array plotted by this panel."""
        raise NotImplementedError

    def set_simulation_visible(self, visible: bool) -> None:
        """Show or hide the simulation's curves (loaded logs stay)."""
        self.simulation_visible = visible
        for item in [*self.curves, self.diverged_marks]:
            item.setVisible(visible)
        if self.colorbar is not None:
            self.colorbar.setVisible(visible)
        self.legend.setVisible(visible and self.show_legend)

    def set_store(self, store: RunStore) -> None:
        """Replace the curves with one per run of ``store``."""
        for curve in self.curves:
            self.plot.removeItem(curve)
        self.plot.removeItem(self.diverged_marks)
        # A fresh item: pyqtgraph caches the view of a removed item, and re-adding the old
        # one raised AttributeError ('GraphicsLayoutWidget' has no autoRangeEnabled) on the
        # second run, then on every redraw.
        self.diverged_marks = _diverged_marks()
        self.legend.clear()
        self.store = store
        colors = lr_colors(store.lrs)
        self.curves = []
        for lr, color in zip(store.lrs, colors, strict=True):
            curve = pg.PlotDataItem(pen=pg.mkPen(color, width=1), connect="finite")
            curve.setToolTip(f"λ = {format_lr(lr)}")
            curve.setVisible(self.simulation_visible)
            self.plot.addItem(curve)
            self.curves.append(curve)
        # Beyond a handful of runs the colour bar names the λ; a long legend would hide curves.
        for index in _legend_indices(store.runs):
            self.legend.addItem(self.curves[index], f"λ = {format_lr(store.lrs[index])}")
        self.plot.addItem(self.diverged_marks)
        self.legend.addItem(self.diverged_marks, "diverged")
        self._set_colorbar(store.lrs)
        self.set_simulation_visible(self.simulation_visible)
        self._drawn_version = -1
        self.refresh()

    def _set_colorbar(self, lrs: np.ndarray) -> None:
        if self.colorbar is not None:
            self.graphics.removeItem(self.colorbar)
            self.colorbar = None
        if lrs.size < 2:
            return
        lo, hi = float(np.log10(lrs.min())), float(np.log10(lrs.max()))
        if hi <= lo:
            return
        bar = pg.ColorBarItem(
            values=(lo, hi), colorMap=lr_colormap(), interactive=False, width=12, label="λ"
        )
        decades = np.arange(np.ceil(lo), np.floor(hi) + 1)
        bar.axis.setTicks([[(d, format_lr(10.0**d)) for d in decades]])
        self.graphics.addItem(bar, row=0, col=1)
        self.colorbar = bar

    def refresh(self) -> bool:
        """Redraw if the store changed since the last draw. Returns True if it drew."""
        store = self.store
        if store is None or store.version == self._drawn_version:
            return False
        self._drawn_version = store.version
        n = store.count
        x = np.arange(n, dtype=np.float64)
        data = self.display_values(self.values(store)[:n])
        for i, curve in enumerate(self.curves):
            curve.setData(x, data[:, i])
        self._mark_divergence(store, data)
        return True

    def display_values(self, data: np.ndarray) -> np.ndarray:
        return data

    def _mark_divergence(self, store: RunStore, data: np.ndarray) -> None:
        runs = np.flatnonzero((store.diverged_at >= 0) & (store.diverged_at < data.shape[0]))
        xs, ys = [], []
        for i in runs:
            at = int(store.diverged_at[i])
            column = data[: at + 1, i]
            finite = np.flatnonzero(np.isfinite(column))
            if finite.size:
                xs.append(float(finite[-1]))
                ys.append(float(column[finite[-1]]))
        self.diverged_marks.setData(xs, ys)


class LossVsIterationPanel(RunCurvesPanel):
    """Loss against iteration, one curve per λ, with a log-y option."""

    y_label = "loss"

    def __init__(self, parent=None) -> None:
        super().__init__("Loss vs iteration", parent)
        self.log_y = self.add_toggle(
            "log y", True, "Logarithmic loss axis (Ctrl+L)", self._set_log_y
        )
        self.plot.setLogMode(x=False, y=True)

    def values(self, store: RunStore) -> np.ndarray:
        return store.loss

    def display_values(self, data: np.ndarray) -> np.ndarray:
        if not self.log_y.isChecked():
            return data
        # Exact zeros (a run that hit the minimum) cannot sit on a log axis: show them at
        # the smallest positive loss, so they stay in view without stretching the axis down
        # to 1e-300 (the × of a diverged run and the legend's "loss = 0" say the rest).
        with np.errstate(invalid="ignore"):
            positive = np.where(np.isfinite(data) & (data > 0), data, np.nan)
        if np.all(np.isnan(positive)):
            return positive
        floor = float(np.nanmin(positive))
        with np.errstate(invalid="ignore"):
            return np.where(np.isfinite(data) & (data <= floor), floor, positive)

    def _set_log_y(self, on: bool) -> None:
        self.plot.setLogMode(x=False, y=on)
        self._drawn_version = -1
        self.refresh()


class LrVsIterationPanel(RunCurvesPanel):
    """The learning rate each run used at each iteration (schedules show up here)."""

    y_label = "λ"

    def __init__(self, parent=None) -> None:
        super().__init__("λ vs iteration", parent)
        self.plot.setLogMode(x=False, y=True)
        self.show_legend = False
        self.legend.setVisible(False)

    def values(self, store: RunStore) -> np.ndarray:
        return store.lr

    def _set_colorbar(self, lrs: np.ndarray) -> None:
        pass  # the y axis already is λ


def _diverged_marks() -> pg.PlotDataItem:
    """The × drawn where a run diverged."""
    return pg.PlotDataItem(
        [],
        [],
        pen=None,
        symbol="x",
        symbolSize=11,
        symbolPen=pg.mkPen(DIVERGED, width=2),
        symbolBrush=None,
    )


def _legend_indices(runs: int) -> list[int]:
    return list(range(runs)) if runs <= MAX_LEGEND_ENTRIES else []

"""Loaded runs drawn on a plot: raw curve faint behind, smoothed curve bold on top."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor

from lrviz.smoothing import debiased_ema


class LogLayer:
    """Keeps one (raw, smoothed) pair of curves per visible run on ``plot``.

    Curves are reused between updates (``setData``), so a growing log redraws without
    flicker. Smoothed values are cached per data array and weight.
    """

    def __init__(self, plot: pg.PlotItem) -> None:
        self.plot = plot
        self.items: dict[int, tuple[pg.PlotDataItem, pg.PlotDataItem]] = {}
        self._smooth_cache: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}
        self.shown_y: list[np.ndarray] = []
        self.labels: dict[int, str] = {}
        self.visible = True

    def set_visible(self, visible: bool) -> None:
        """Show or hide every curve of the layer (the panel's layer switch asks)."""
        self.visible = visible
        for raw, smooth in self.items.values():
            raw.setVisible(visible)
            smooth.setVisible(visible and smooth.property("smoothed") is True)

    def update(
        self, curves: list[tuple[object, QColor, np.ndarray, np.ndarray, str]], smoothing: float
    ) -> None:
        """Draw ``curves``: (key, colour, x, y, label) each; remove the others."""
        wanted = {id(key) for key, *_ in curves}
        for key in list(self.items):
            if key not in wanted:
                for item in self.items.pop(key):
                    self.plot.removeItem(item)
                self.labels.pop(key, None)
        cache = {}
        self.shown_y = []
        for key, color, x, y, label in curves:
            raw, smooth = self._items_for(key)
            self.labels[id(key)] = label
            raw.setPen(pg.mkPen(_faint(color) if smoothing > 0 else color, width=1))
            raw.setData(x, y)
            raw.setToolTip(label)
            raw.setVisible(self.visible)
            if smoothing > 0:
                # Keyed by the array's id, holding the array itself so the id cannot be reused
                # by a reloaded log's new data while the entry lives.
                cache_key = (id(y), smoothing)
                entry = self._smooth_cache.get(cache_key)
                if entry is None or entry[0] is not y:
                    entry = (y, debiased_ema(y, smoothing))
                cache[cache_key] = entry
                smoothed = entry[1]
                smooth.setPen(pg.mkPen(color, width=2))
                smooth.setZValue(1)
                smooth.setData(x, smoothed)
                smooth.setToolTip(label)
                smooth.setProperty("smoothed", True)
                smooth.setVisible(self.visible)
                self.shown_y.append(smoothed)
            else:
                smooth.setProperty("smoothed", False)
                smooth.setVisible(False)
                self.shown_y.append(y)
        self._smooth_cache = cache

    def clear(self) -> None:
        self.update([], 0.0)

    def _items_for(self, key) -> tuple[pg.PlotDataItem, pg.PlotDataItem]:
        items = self.items.get(id(key))
        if items is None:
            items = (_curve(), _curve())
            for item in items:
                self.plot.addItem(item)
            # The raw curve keeps each pixel's min and max (spikes stay visible); the
            # smoothed one its mean: at a million noisy points, min and max of a lightly
            # smoothed curve fill a solid band where a line belongs.
            items[1].setDownsampling(auto=True, method="mean")
            self.items[id(key)] = items
        return items

    def nearest(self, x: float) -> list[tuple[str, float, float]]:
        """For the crosshair: per drawn run, the (label, x, y) of the point nearest ``x``."""
        out = []
        for key, (raw, smooth) in self.items.items():
            item = smooth if smooth.isVisible() else raw
            xs, ys = item.getOriginalDataset()
            if xs is None or len(xs) == 0:
                continue
            i = int(np.clip(np.searchsorted(xs, x), 1, len(xs) - 1))
            if abs(xs[i - 1] - x) <= abs(xs[i] - x):
                i -= 1
            out.append((self.labels.get(key, ""), float(xs[i]), float(ys[i])))
        return out


def _faint(color: QColor) -> QColor:
    """The colour washed towards white: raw data stays readable behind its smoothed curve,
    even where thousands of noisy points fill a band."""
    faint = QColor(color)
    faint.setRgb(*(int(c + 0.7 * (255 - c)) for c in (color.red(), color.green(), color.blue())))
    return faint


def _curve() -> pg.PlotDataItem:
    # Downsampling and clip-to-view come from the plot (PlotPanel), which imposes them.
    return pg.PlotDataItem(connect="finite")

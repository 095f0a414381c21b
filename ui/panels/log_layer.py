"""Loaded runs drawn on a plot: raw curve faint behind, smoothed curve bold on top.

Every curve of the layer is one run of a single :class:`CurvePaths` item (raw curves first,
smoothed ones after, so each smoothed curve is painted over every raw one): 200 learning
curves of a big study were 400 pyqtgraph items, each with its own bounds scans and view-range
callbacks on the GUI thread. The curves arrive derived (:mod:`lrviz.log_scene`: full
resolution and screen resolution, smoothed or not); the layer only hands arrays over.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor, QPen

from lrviz.log_scene import Curve

from .run_paths import RunPaths, _log10, _not_inside_flat_stretches


class CurvePaths(RunPaths):
    """:class:`RunPaths` whose runs each have their own x, kept in data units: a change of
    the axes' log mode re-maps them here (the panel does not re-send them)."""

    def __init__(self) -> None:
        super().__init__()
        self._data: list[tuple[np.ndarray, np.ndarray]] = []
        self.full: list[tuple[np.ndarray, np.ndarray]] = []  # per run, at full resolution

    def set_runs(self, pens: list, names: list[str]) -> None:
        super().set_runs(pens, names)
        self._data = [(np.empty(0), np.empty(0))] * len(pens)

    def set_curves(self, runs, curves) -> None:
        """Run ``runs[k]`` shows ``curves[k]`` = (x, y) in data units."""
        runs = list(runs)
        for i, (x, y) in zip(runs, curves, strict=True):
            self._data[i] = (np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))
        self._map(runs)
        self._geometry_changed()

    def data(self, run: int) -> tuple[np.ndarray, np.ndarray]:
        return self._data[run]

    def shown_curves(self) -> list[tuple[str, np.ndarray, np.ndarray]]:
        """``(name, x, y)`` of each shown curve at full resolution (what an export of the
        panel holds: the log's data, not the screen's envelope of it)."""
        if len(self.full) != len(self._names):
            return super().shown_curves()
        return [
            (self._names[i], *self.full[i])
            for i in np.flatnonzero(self._shown)
            if self.full[i][0].size
        ]

    def setLogMode(self, x: bool, y: bool) -> None:
        if (bool(x), bool(y)) == self._log:
            return
        super().setLogMode(x, y)
        self._map(range(len(self._data)))
        self._geometry_changed()

    def _map(self, runs) -> None:
        """View coordinates, bounds and flat-stretch thinning of ``runs``, as array
        operations over all their points at once (400 curves one by one took ~70 ms)."""
        good = []
        for i in runs:
            x, y = self._data[i]
            self._paths[i] = None
            if x.size and x.size == y.size:
                good.append(i)
            else:
                self._x[i], self._y[i] = np.empty(0), np.empty(0)
                self._bounds[i] = np.nan
        if not good:
            return
        sizes = np.array([self._data[i][0].size for i in good])
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        x = np.concatenate([self._data[i][0] for i in good])
        y = np.concatenate([self._data[i][1] for i in good])
        x = _log10(x) if self._log[0] else x
        y = _log10(y) if self._log[1] else y
        ok = np.isfinite(x) & np.isfinite(y)
        bounds = np.empty((len(good), 4))
        bounds[:, 0] = np.minimum.reduceat(np.where(ok, x, np.inf), starts)
        bounds[:, 1] = np.maximum.reduceat(np.where(ok, x, -np.inf), starts)
        bounds[:, 2] = np.minimum.reduceat(np.where(ok, y, np.inf), starts)
        bounds[:, 3] = np.maximum.reduceat(np.where(ok, y, -np.inf), starts)
        bounds[~np.isfinite(bounds)] = np.nan  # a curve without a finite point
        self._bounds[good] = bounds
        # Points inside a flat stretch draw nothing a line between its ends would not.
        keep = _not_inside_flat_stretches(y[None, :])[0]
        keep[starts] = True
        keep[starts + sizes - 1] = True
        thinned = np.add.reduceat((~keep).astype(np.int64), starts)
        for k, i in enumerate(good):
            a, b = starts[k], starts[k] + sizes[k]
            if thinned[k]:
                inside = keep[a:b]
                self._x[i], self._y[i] = x[a:b][inside], y[a:b][inside]
            else:
                self._x[i], self._y[i] = x[a:b], y[a:b]


class LayerCurve:
    """One curve of a layer as tests and the crosshair read it: ``getOriginalDataset()`` is
    the full-resolution data, ``getData()`` what is drawn (screen resolution), both in data
    units; ``pen`` its pen."""

    def __init__(self, layer: LogLayer, index: int, smoothed: bool) -> None:
        self._layer, self._index, self._smoothed = layer, index, smoothed

    def _curve(self) -> Curve:
        return self._layer.curves[self._index]

    def getOriginalDataset(self) -> tuple[np.ndarray, np.ndarray]:
        c = self._curve()
        if self._smoothed:
            return (c.x, c.smoothed) if c.smoothed is not None else (np.empty(0), np.empty(0))
        return c.x, c.y

    def getData(self) -> tuple[np.ndarray, np.ndarray]:
        n = len(self._layer.curves)
        return self._layer.paths.data(self._index + (n if self._smoothed else 0))

    @property
    def pen(self):
        n = len(self._layer.curves)
        return self._layer.paths._pens[self._index + (n if self._smoothed else 0)]

    def isVisible(self) -> bool:
        if not self._layer.visible:
            return False
        return not self._smoothed or self._curve().smoothed is not None


class LogLayer:
    """The curves of a :class:`lrviz.log_scene.Scene` panel on ``plot``, in one item."""

    def __init__(self, plot: pg.PlotItem) -> None:
        self.plot = plot
        self.paths = CurvePaths()
        plot.addItem(self.paths)
        self.curves: list[Curve] = []
        self.items: dict[int, tuple[LayerCurve, LayerCurve]] = {}
        self.labels: dict[int, str] = {}
        self.visible = True
        self.zoomed: tuple[float, float] | None = None  # x range (data units) drawn in detail

    def set_visible(self, visible: bool) -> None:
        """Show or hide every curve of the layer (the panel's layer switch asks)."""
        self.visible = visible
        self.paths.setVisible(visible)

    def show(self, curves: list[Curve], colors: list[QColor]) -> None:
        """Draw ``curves`` (one colour each), replacing the layer's curves."""
        self.curves = list(curves)
        self.zoomed = None
        smoothing = any(c.smoothed is not None for c in curves)
        raw_pens = [_pen(_faint(c) if smoothing else c, 1.0) for c in colors]
        smooth_pens = [_pen(c, 2.0) for c in colors]
        labels = [c.label for c in curves]
        smoothed_labels = [f"{label} (smoothed)" for label in labels]
        self.paths.set_runs(raw_pens + smooth_pens, labels + smoothed_labels)
        empty = (np.empty(0), np.empty(0))
        self.paths.full = [(c.x, c.y) for c in curves] + [
            (c.x, c.smoothed) if c.smoothed is not None else empty for c in curves
        ]
        n = len(curves)
        self.paths.set_curves(
            range(2 * n),
            [c.shown for c in curves] + [_smoothed_or_empty(c.shown_smoothed) for c in curves],
        )
        for i, c in enumerate(curves):
            self.paths.set_run_visible(n + i, c.smoothed is not None)
        self.items = {
            id(c.key): (LayerCurve(self, i, False), LayerCurve(self, i, True))
            for i, c in enumerate(curves)
        }
        self.labels = {id(c.key): c.label for c in curves}
        self.paths.setVisible(self.visible)

    def show_zoomed(self, lo: float, hi: float, zoomed: list[tuple]) -> None:
        """Each curve at full detail for ``lo <= x <= hi`` (:func:`lrviz.log_scene.zoom`)."""
        n = len(self.curves)
        if len(zoomed) != n:
            return
        self.zoomed = (lo, hi)
        self.paths.set_curves(
            range(2 * n),
            [z[0] for z in zoomed] + [_smoothed_or_empty(z[1]) for z in zoomed],
        )

    def show_whole(self) -> None:
        """Back to the whole curves at screen resolution (zoomed out)."""
        if self.zoomed is None:
            return
        self.zoomed = None
        n = len(self.curves)
        self.paths.set_curves(
            range(2 * n),
            [c.shown for c in self.curves]
            + [_smoothed_or_empty(c.shown_smoothed) for c in self.curves],
        )

    def needs_detail(self) -> bool:
        """Whether any curve has more points than it draws at full view."""
        return any(c.shown[0].size < c.x.size for c in self.curves)

    def extent(self) -> tuple[float, float] | None:
        """The x range (data units) of all curves, None when there are none."""
        extents = [c.extent for c in self.curves if c.extent is not None]
        if not extents:
            return None
        return min(e[0] for e in extents), max(e[1] for e in extents)

    def clear(self) -> None:
        self.show([], [])

    def nearest(self, x: float) -> list[tuple[str, float, float]]:
        """For the crosshair: per drawn run, the (label, x, y) of the point nearest ``x``."""
        out = []
        for c in self.curves:
            xs = c.x
            ys = c.smoothed if c.smoothed is not None else c.y
            if xs.size == 0:
                continue
            i = int(np.clip(np.searchsorted(xs, x), 1, max(len(xs) - 1, 1)))
            i = min(i, xs.size - 1)
            if i > 0 and abs(xs[i - 1] - x) <= abs(xs[i] - x):
                i -= 1
            out.append((c.label, float(xs[i]), float(ys[i])))
        return out


def _pen(color: QColor, width: float) -> QPen:
    """A cosmetic pen (pg.mkPen's, at a tenth of its cost: a study draws 400)."""
    pen = QPen(color)
    pen.setWidthF(width)
    pen.setCosmetic(True)
    return pen


def _smoothed_or_empty(shown):
    return shown if shown is not None else (np.empty(0), np.empty(0))


def _faint(color: QColor) -> QColor:
    """The colour washed towards white: raw data stays readable behind its smoothed curve,
    even where thousands of noisy points fill a band."""
    faint = QColor(color)
    faint.setRgb(*(int(c + 0.7 * (255 - c)) for c in (color.red(), color.green(), color.blue())))
    return faint

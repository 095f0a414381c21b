"""Thousands of coloured dots (a study's trials on loss vs λ) as one plot item, drawn fast.

pyqtgraph's scatter keeps a style per point: 10,000 trials with a brush each cost ~10 s of
symbol rendering on the GUI thread, and even one brush costs ~100 ms a ``setData`` and a
paint. Here a dot's colour is one of a few dozen levels of the λ colour map (neighbouring
trials differ by less than the eye can tell), each level's symbol is rendered once into one
atlas pixmap, and a paint is one ``drawPixmapFragments`` over arrays, whatever the number of
levels (each fragment names its level's part of the atlas); the trend line through the dots
is one cached path.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from pyqtgraph import functions as fn
from pyqtgraph.graphicsItems.ScatterPlotItem import renderSymbol
from pyqtgraph.Qt.internals import PrimitiveArray
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QImage, QPainter, QPixmap

#: Colour levels of the dots: banding is invisible at 64 along a perceptual colour map.
LEVELS = 64


class SweepDots(pg.GraphicsObject):
    """Dots at (x, y) (data units; log10 where the axis is log), each of colour level
    ``levels[i]`` of the palette; optionally a line through them in order."""

    def __init__(
        self, symbol: str = "o", size: float = 9, pen=None, line_pen=None, name: str = "points"
    ) -> None:
        super().__init__()
        self.name = name
        self._symbol, self._size = symbol, float(size)
        self._pen = pen if pen is not None else pg.mkPen((200, 200, 200))
        self._line_pen = line_pen
        self._log = (False, False)
        self._data = (np.empty(0), np.empty(0))  # data units
        self._x = self._y = np.empty(0)  # view units
        self._levels = np.zeros(0, dtype=np.intp)
        self._order = np.zeros(0, dtype=np.intp)  # points grouped by level
        self._starts = np.zeros(1, dtype=np.intp)
        self._levels_drawn = 0  # colour levels with a symbol in the atlas
        self._atlas: QPixmap | None = None  # every level's symbol, side by side
        self._sources = np.zeros((0, 4))  # each level's left, top, width, height in it
        self._brushes: list = []
        self._outline = True
        self._line = None
        self._groups: np.ndarray | None = None  # the line joins dots of one group
        self._rect = QRectF()
        self._fragments = PrimitiveArray(QPainter.PixmapFragment, 10)

    def set_palette(self, brushes: list) -> None:
        """One symbol per colour level, rendered once."""
        self._brushes = list(brushes)
        self._render()

    def set_outline(self, outline: bool) -> None:
        """Outline each dot (apart, dots read better outlined; thousands of overlapping
        outlines turn a band of colours grey)."""
        if outline != self._outline:
            self._outline = outline
            self._render()

    def _render(self) -> None:
        pen = self._pen if self._outline else pg.mkPen(None)
        images = [renderSymbol(self._symbol, self._size, pen, brush) for brush in self._brushes]
        self._levels_drawn = len(images)
        self._sources = np.zeros((len(images), 4))
        self._atlas = None
        if images:
            # One row, a pixel apart (smooth scaling never reads a neighbour's edge).
            widths = np.array([image.width() for image in images], dtype=np.float64)
            heights = np.array([image.height() for image in images], dtype=np.float64)
            lefts = np.concatenate([[0.0], np.cumsum(widths + 1)[:-1]])
            atlas = QImage(int(lefts[-1] + widths[-1]), int(heights.max()), images[0].format())
            atlas.fill(Qt.GlobalColor.transparent)
            painter = QPainter(atlas)
            for left, image in zip(lefts.tolist(), images, strict=True):
                painter.drawImage(QPointF(left, 0.0), image)
            painter.end()
            self._atlas = QPixmap.fromImage(atlas)
            self._sources = np.column_stack([lefts, np.zeros_like(lefts), widths, heights])
        self._group()
        self.update()

    def set_points(self, x, y, levels=None, groups=None) -> None:
        """Dots at (x, y); the line (when the item has a pen for it) joins consecutive dots
        of the same ``groups`` value only: trials of two studies are not one sweep."""
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        self._data = (x, y)
        self._groups = None if groups is None else np.asarray(groups).ravel()
        levels = np.zeros(x.size, dtype=np.intp) if levels is None else levels
        self._levels = np.asarray(levels, dtype=np.intp)
        self._order = np.argsort(self._levels, kind="stable")
        self._group()
        self._remap()

    def _group(self) -> None:
        """Where each level's dots start in ``_order``, for the palette as it is now (a new
        palette of more levels than the dots' last grouping made paint index past its end,
        an exception inside Qt's paint that crashed the process)."""
        count = max(self._levels_drawn, 1)
        self._starts = np.searchsorted(self._levels[self._order], np.arange(count + 1))

    def getData(self) -> tuple[np.ndarray, np.ndarray]:
        """The dots in view units, as pyqtgraph's items answer it (log10 on a log axis)."""
        return self._x, self._y

    def shown_curves(self) -> list[tuple[str, np.ndarray, np.ndarray]]:
        """The dots in data units, for an export of the panel."""
        x, y = self._data
        return [(self.name, x, y)] if x.size else []

    def setLogMode(self, x: bool, y: bool) -> None:
        self._log = (bool(x), bool(y))
        self._remap()

    def _remap(self) -> None:
        x, y = self._data
        self._x = _log10(x) if self._log[0] else x
        self._y = _log10(y) if self._log[1] else y
        self._line = None
        ok = np.isfinite(self._x) & np.isfinite(self._y)
        self.prepareGeometryChange()
        if ok.any():
            x0, x1 = float(self._x[ok].min()), float(self._x[ok].max())
            y0, y1 = float(self._y[ok].min()), float(self._y[ok].max())
            self._rect = QRectF(x0, y0, x1 - x0, y1 - y0)
        else:
            self._rect = QRectF()
        self.informViewBoundsChanged()
        self.update()

    # --- what pyqtgraph asks ---------------------------------------------------------------
    def dataBounds(self, ax: int, frac: float = 1.0, orthoRange=None):
        if self._rect.isNull() and not self._x.size:
            return (None, None)
        r = self._rect
        return (r.left(), r.right()) if ax == 0 else (r.top(), r.bottom())

    def pixelPadding(self) -> float:
        return self._size * 0.7072

    def boundingRect(self) -> QRectF:
        rect = QRectF(self._rect)
        px, py = self.pixelVectors()
        if px is None or py is None:
            return rect
        pad = self.pixelPadding()
        dx, dy = pad * abs(px.x()) + 1e-12, pad * abs(py.y()) + 1e-12
        return rect.adjusted(-dx, -dy, dx, dy)

    def viewTransformChanged(self) -> None:
        self.prepareGeometryChange()

    def paint(self, painter, _option, _widget=None) -> None:
        if self._x.size == 0:
            return
        if self._line_pen is not None and self._x.size >= 2:
            if self._line is None:
                self._line = _line_path(self._x, self._y, self._groups)
            painter.setPen(self._line_pen)
            painter.drawPath(self._line)
        if self._atlas is None:
            return
        # Every dot's fragment in one pass over arrays, in level order (sorted once in
        # set_points), and one drawPixmapFragments for all of them: a call per level cost a
        # Python call and a shiboken wrap each, 256 a paint for 256 colours of runs.
        order = self._order[: self._starts[-1]]  # dots of a level with a symbol
        points = np.vstack([self._x[order], self._y[order]])
        points = fn.transformCoordinates(painter.transform(), points)
        points = fn.clip_array(points, -(2**30), 2**30)
        painter.resetTransform()
        ok = np.isfinite(points).all(axis=0)
        count = int(np.count_nonzero(ok))
        self._fragments.resize(count)
        if count == 0:
            return
        frags = self._fragments.ndarray()
        frags[:, 0:2] = points[:, ok].T
        frags[:, 2:6] = self._sources[self._levels[order][ok]]
        frags[:, 6:10] = (1.0, 1.0, 0.0, 1.0)
        painter.drawPixmapFragments(*self._fragments.drawargs(), self._atlas)


def _log10(a: np.ndarray) -> np.ndarray:
    return np.log10(a, out=np.full(a.shape, np.nan), where=a > 0)


def _line_path(x: np.ndarray, y: np.ndarray, groups: np.ndarray | None):
    """The line through the dots in order, broken at non-finite points and, when ``groups``
    is given, between dots of different groups."""
    if groups is None or groups.size != x.size:
        return pg.arrayToQPath(x, y, connect="finite")
    ok = np.isfinite(x) & np.isfinite(y)
    joined = np.zeros(x.size, dtype=bool)  # joined[i]: a segment from dot i to dot i + 1
    joined[:-1] = ok[:-1] & ok[1:] & (groups[:-1] == groups[1:])
    return pg.arrayToQPath(x[ok], y[ok], connect=joined[ok])

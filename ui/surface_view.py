"""A loss surface drawn into one pyqtgraph plot: the log-scaled loss as an image, its contour
lines, the minima, the start, and (for the loss-surface panel) the runs' paths.

Shared by the loss-surface panel (one view per plot) and the formula box's preview.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF

from lrviz.surfaces import Surface

from .colors import DIVERGED

#: Pale, so the runs' colours (viridis) stand out: near white at the minimum, slate at the
#: walls.
SURFACE_COLORS = ((253, 253, 251), (232, 237, 243), (200, 210, 224), (150, 164, 188))
CONTOUR_PEN = (90, 100, 120, 150)
#: Paths further than this many domain widths outside the domain are cut there: Qt paints
#: a 1e150 coordinate badly, and nobody sees past the view anyway.
OUTSIDE_LIMIT = 5.0


def surface_colormap() -> pg.ColorMap:
    stops = np.linspace(0.0, 1.0, len(SURFACE_COLORS))
    return pg.ColorMap(stops, [(*tuple(c), 255) for c in SURFACE_COLORS])


class SurfaceView:
    """The surface items of one plot. ``plot`` is any :class:`pyqtgraph.PlotItem`."""

    def __init__(self, plot: pg.PlotItem, marker_size: int = 11) -> None:
        self.plot = plot
        # Paths double back on themselves: pyqtgraph's downsampling and clip-to-view assume
        # x increases along a curve and would cut them up.
        plot.setDownsampling(auto=False)
        plot.setClipToView(False)
        plot.showGrid(x=False, y=False)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setLookupTable(surface_colormap().getLookupTable(nPts=256))
        self.image.setZValue(-20)
        self.contours = pg.PlotDataItem(pen=pg.mkPen(CONTOUR_PEN, width=1), connect="pairs")
        self.contours.setZValue(-18)
        # A zoomed or panned view's own surface, over the first (which still shows while
        # the view's is computed): finer contours, and loss where the first has none.
        self.detail_image = pg.ImageItem(axisOrder="row-major")
        self.detail_image.setLookupTable(surface_colormap().getLookupTable(nPts=256))
        self.detail_image.setZValue(-15)
        self.detail_contours = pg.PlotDataItem(pen=pg.mkPen(CONTOUR_PEN, width=1), connect="pairs")
        self.detail_contours.setZValue(-10)
        self.detail: Surface | None = None
        self.minima = pg.ScatterPlotItem(
            symbol="+", size=marker_size + 1, pen=pg.mkPen((40, 40, 40), width=2), brush=None
        )
        self.start = pg.ScatterPlotItem(
            symbol="o",
            size=marker_size,
            pen=pg.mkPen((20, 20, 20), width=1.5),
            brush=pg.mkBrush(255, 255, 255),
        )
        self.start.setZValue(10)
        self.diverged = pg.ScatterPlotItem(
            symbol="x", size=marker_size + 2, pen=pg.mkPen(DIVERGED, width=2.5), brush=None
        )
        self.diverged.setZValue(11)
        for item in (
            self.image, self.contours, self.detail_image, self.detail_contours, self.minima,
            self.start, self.diverged,
        ):  # fmt: skip
            plot.addItem(item)
        #: the runs' paths drawn in this plot (``getData()`` each), set by whoever draws them
        self.paths: list = []
        self.trajectory_item = None  # the item that draws them
        self.domain = None

    def set_domain(self, domain) -> None:
        """Show ``domain`` ((x0, x1), (y0, y1)), however far the runs go (all of it, and more
        along one axis where the plot's aspect is locked)."""
        self.domain = domain
        (x0, x1), (y0, y1) = domain
        self.plot.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0.0)
        self.plot.disableAutoRange()

    def set_surface(self, surface: Surface | None, segments: np.ndarray | None = None) -> None:
        _draw_surface(self.image, self.contours, surface, segments)

    def set_detail(self, surface: Surface | None, segments: np.ndarray | None = None) -> None:
        """The surface of the view's own region (None: only the first one)."""
        self.detail = surface
        _draw_surface(self.detail_image, self.detail_contours, surface, segments)

    def levels(self) -> tuple[float, float] | None:
        """The colour scale in front: the view's own surface's, else the first's."""
        image = self.detail_image if self.detail is not None else self.image
        levels = image.levels
        return None if levels is None else (float(levels[0]), float(levels[1]))

    def set_markers(self, start, minima=()) -> None:
        if start is None:
            self.start.setData([], [])
        else:
            self.start.setData([float(start[0])], [float(start[1])])
        points = np.asarray(minima, dtype=np.float64).reshape(-1, 2)
        self.minima.setData(points[:, 0], points[:, 1])

    def clipped(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self.domain is None or x.size == 0:
            return x, y
        (x0, x1), (y0, y1) = self.domain
        wx, wy = OUTSIDE_LIMIT * (x1 - x0), OUTSIDE_LIMIT * (y1 - y0)
        return np.clip(x, x0 - wx, x1 + wx), np.clip(y, y0 - wy, y1 + wy)

    def last_inside(self, x: np.ndarray, y: np.ndarray) -> tuple[float, float] | None:
        """The last point of a path inside the domain (where a diverged run is marked)."""
        if self.domain is None or x.size == 0:
            return None
        (x0, x1), (y0, y1) = self.domain
        inside = np.flatnonzero((x >= x0) & (x <= x1) & (y >= y0) & (y <= y1))
        if inside.size == 0:
            return None
        i = int(inside[-1])
        return float(x[i]), float(y[i])

    def set_diverged(self, points) -> None:
        points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        self.diverged.setData(points[:, 0], points[:, 1])


def _draw_surface(image: pg.ImageItem, contours: pg.PlotDataItem, surface, segments) -> None:
    if surface is None or not np.isfinite(surface.log_loss).any():
        image.clear()
        contours.setData([], [])
        return
    values = surface.log_loss
    finite = values[np.isfinite(values)]
    lo, hi = np.percentile(finite, (0.5, 99.5)) if finite.size > 1 else (finite[0],) * 2
    if not hi > lo:
        lo, hi = lo - 1.0, hi + 1.0
    image.setImage(values, levels=(lo, hi), autoLevels=False)
    (x0, x1), (y0, y1) = surface.domain
    image.setRect(QRectF(x0, y0, x1 - x0, y1 - y0))
    if segments is None:
        segments = surface.contours()
    if segments.size:
        contours.setData(segments[:, 0], segments[:, 1])
    else:
        contours.setData([], [])

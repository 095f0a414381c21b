"""Many runs' curves as one plot item: one paint call and one bounds query per frame.

pyqtgraph gives every curve its own item; with 256 runs a frame then costs 256 items' worth of
Python in the GUI thread (bounds scans, view-range callbacks, paint set-up), and each call into
Qt hands the GIL to the engine thread and waits up to a switch interval to get it back, so a
paint stretched to seconds while a simulation ran (docs/benchmarks.md). Here the runs share one
item: each run keeps a cached ``QPainterPath`` rebuilt only when its data changes, the bounds
are kept per run and reduced over a small array, and ``paint`` is one loop of ``drawPath``.

While a run streams (:meth:`RunPaths.set_live`), even that loop is too slow for the GUI
thread (40-80 ms a frame for 256 curves): the curves are stroked into an image on a thread
of their own (:mod:`.curve_raster`) and ``paint`` draws the latest image, moved to the
current view until the next one arrives. Once the run ends, painting is vector again, at
full quality, and exports (SVG, images) always are.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Signal
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QWidget

from .curve_raster import CurveRaster, Frame, image_transform, stroking_pens, transform_key

#: Hovering this close to a curve (pixels) names its run in the tooltip.
HOVER_PIXELS = 8


class RunPaths(pg.GraphicsObject):
    """The curves of R runs, one pen each, in view coordinates (log10 where the axis is log).

    ``set_runs`` replaces the pens (one per run); ``set_data`` gives some runs new data;
    ``curve(i)`` is what run ``i`` shows, as ``(x, y)``. ``hovered`` says which run the
    pointer is over (None once it is over none), for the panels to highlight it.
    """

    hovered = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self._log = (False, False)
        self._pens: list = []
        self._stroking_pens: tuple | None = None
        self._names: list[str] = []
        self._x: list[np.ndarray] = []
        self._y: list[np.ndarray] = []
        self._paths: list = []
        self._shown = np.zeros(0, dtype=bool)
        self._bounds = np.full((0, 4), np.nan)  # x min, x max, y min, y max per run
        self._rect = QRectF()
        self.setAcceptHoverEvents(True)
        self._version = 0  # changes with anything a picture of the curves shows
        self.live = False
        self._raster: CurveRaster | None = None
        self._image = None  # (frame, QImage) last stroked while live
        self._asked = None  # key of the frame asked for and not arrived yet
        self._last_paint = None  # (view key, transform, size, dpr, antialias) last asked for
        self._informed = None  # the steady extent the view was last told of, while live
        self._block: _Block | None = None  # every run's curve from an envelope view
        self._hovered: int | None = None

    def set_live(self, live: bool) -> None:
        """Streaming (stroke off the GUI thread, show the latest image) or not (paint
        vectors, exactly)."""
        live = bool(live)
        if live == self.live:
            return
        self.live = live
        self._last_paint, self._informed = None, None
        if not live:
            self._image, self._asked = None, None
            if self._raster is not None:
                self._raster.close()
                self._raster = None
        self.informViewBoundsChanged()  # the view fits the exact bounds again (or steady ones)
        self.update()

    # --- data -------------------------------------------------------------------------------

    def set_runs(self, pens: list, names: list[str]) -> None:
        """One run per pen, all empty and shown."""
        runs = len(pens)
        self._block = None
        self._pens, self._names = list(pens), list(names)
        self._stroking_pens = None  # made when a frame is first stroked
        self._x = [np.empty(0)] * runs
        self._y = [np.empty(0)] * runs
        self._paths = [None] * runs
        self._shown = np.ones(runs, dtype=bool)
        self._bounds = np.full((runs, 4), np.nan)
        self._hover(None)  # other runs now
        self._geometry_changed()

    def set_data(self, runs, x: np.ndarray, ys: np.ndarray) -> None:
        """Runs ``runs`` now show ``(x, ys[k])`` (data coordinates, ``ys`` one row per run;
        mapped to log10 here when the axis is log, as pyqtgraph's own curves do)."""
        runs = np.asarray(runs, dtype=np.intp)
        if runs.size == 0:
            return
        self._leave_block()
        x = np.asarray(x, dtype=np.float64)
        ys = np.asarray(ys, dtype=np.float64).reshape(runs.size, x.size)
        shown_x = _log10(x) if self._log[0] else x
        shown = _log10(ys) if self._log[1] else ys.copy()
        self._bounds[runs] = _finite_bounds(shown_x, shown)
        # Points inside a flat stretch draw nothing a line between its ends would not: a
        # constant λ is 2 points, not 2,000 (a third of a frame's paint was flat λ curves).
        keep = _not_inside_flat_stretches(shown)
        whole = keep.all(axis=1)
        for k, i in enumerate(runs.tolist()):
            if whole[k]:
                self._x[i], self._y[i] = shown_x, shown[k]
            else:
                self._x[i], self._y[i] = shown_x[keep[k]], shown[k][keep[k]]
            self._paths[i] = None
        self._geometry_changed()

    def set_block(self, view, floor: float | None) -> None:
        """Every run shows its row of ``view`` (a :class:`lrviz.envelope.EnvelopeView`,
        already in view units; x linear). ``floor`` (view units) is where non-positive
        values sit on a log axis; None: they are gaps. Nothing is copied but the columns
        the view rewrites on its next update: a frame of a streaming run costs what
        changed, and each curve is put together where it is drawn (for a live panel, on the
        stroking thread)."""
        block = _Block(view, floor, self._log[1])
        self._block = block
        self._bounds = block.bounds()
        self._paths = [None] * len(self._paths)
        self._geometry_changed()

    def _leave_block(self) -> None:
        """Each run's own arrays again (a zoomed-in view draws them from the history)."""
        block, self._block = self._block, None
        if block is not None:
            for i in range(len(self._x)):
                self._x[i], self._y[i] = block.curve(i)

    def curve(self, run: int) -> tuple[np.ndarray, np.ndarray]:
        if self._block is not None:
            return self._block.curve(run)
        return self._x[run], self._y[run]

    def shown_curves(self) -> list[tuple[str, np.ndarray, np.ndarray]]:
        """``(name, x, y)`` of each shown run in data units (λ, not log10 λ): what an export
        of the panel's data holds."""
        out = []
        for i in np.flatnonzero(self._shown):
            x, y = self.curve(i)
            if x.size == 0:
                continue
            x = 10.0**x if self._log[0] else x
            y = 10.0**y if self._log[1] else y
            out.append((self._names[i], x, y))
        return out

    def set_run_visible(self, run: int, visible: bool) -> None:
        if bool(self._shown[run]) != visible:
            self._shown[run] = visible
            self._geometry_changed()

    def run_visible(self, run: int) -> bool:
        return bool(self._shown[run])

    @property
    def log_y(self) -> bool:
        """The y axis is logarithmic (the data is held in log10)."""
        return self._log[1]

    def setLogMode(self, x: bool, y: bool) -> None:
        """Called by the plot when an axis turns log: the panel re-sends the data."""
        self._log = (bool(x), bool(y))

    # --- what pyqtgraph asks ---------------------------------------------------------------

    def dataBounds(self, ax: int, frac: float = 1.0, orthoRange=None):
        """The shown runs' extent along ``ax``: a reduction over R rows, never a data scan.

        While live, the extent is steady (see :func:`steady_range`): widened to a grid that
        the data crosses only now and then (along x in quarters of the span: the curves
        fill most of the width). An auto-ranging view whose range changed with every frame
        laid out its axes again every frame, and every frame's picture was stroked for a new
        transform."""
        rows = self._bounds[self._shown]
        cols = rows[:, 2 * ax : 2 * ax + 2]
        if cols.size == 0 or np.isnan(cols).all():
            return (None, None)
        lo, hi = float(np.nanmin(cols[:, 0])), float(np.nanmax(cols[:, 1]))
        if not self.live:
            return (lo, hi)
        return steady_range(lo, hi, steps=4 if ax == 0 else 8)

    def boundingRect(self) -> QRectF:
        return self._rect

    def paint(self, painter, _option, _widget=None) -> None:
        # Live on a window: the image. Anything else (exports, an image, SVG): vectors.
        if self.live and isinstance(painter.device(), QWidget) and self._paint_image(painter):
            return
        self._paint_vectors(painter)

    def hoverEvent(self, event) -> None:
        """Name the run under the pointer (the tooltip Qt shows for this item)."""
        if event.isExit():
            self._hover(None)
            return
        self.hover_at(event.pos().x(), event.pos().y())

    def hover_at(self, x: float, y: float) -> int | None:
        """The pointer is at (x, y), view coordinates: name the run there, say which."""
        run = self.run_at(x, y)
        self.setToolTip(self._names[run] if run is not None else "")
        self._hover(run)
        return run

    def _hover(self, run: int | None) -> None:
        if run != self._hovered:
            self._hovered = run
            self.hovered.emit(run)

    def pen(self, run: int):
        """The pen run ``run`` is drawn with."""
        return self._pens[run]

    def run_at(self, x: float, y: float) -> int | None:
        """The shown run whose curve passes nearest (x, y), within HOVER_PIXELS."""
        vectors = self.pixelVectors()
        if vectors is None or vectors[1] is None:
            return None
        pixel_y = abs(vectors[1].y()) or 1.0
        best, best_distance = None, HOVER_PIXELS * pixel_y
        for i in np.flatnonzero(self._shown):
            xs, ys = self.curve(i)
            if xs.size == 0 or not xs[0] <= x <= xs[-1]:
                continue
            k = min(int(np.searchsorted(xs, x)), xs.size - 1)
            near = ys[max(k - 1, 0) : k + 1]
            near = near[np.isfinite(near)]
            if near.size:
                distance = float(np.min(np.abs(near - y)))
                if distance < best_distance:
                    best, best_distance = int(i), distance
        return best

    # --- painting -------------------------------------------------------------------------

    def _paint_vectors(self, painter) -> None:
        for i in np.flatnonzero(self._shown):
            path = self._paths[i]
            if path is None:
                x, y = self.curve(i)
                if x.size < 2:
                    continue
                path = self._paths[i] = pg.arrayToQPath(x, y, connect="finite")
            painter.setPen(self._pens[i])
            painter.drawPath(path)

    def _paint_image(self, painter) -> bool:
        """Draw the latest stroked image, moved to the current view, and ask for a new one
        when the view or the data changed since. False: there is no view to stroke for."""
        device = painter.device()
        view = self.viewRect()
        if view is None or not view.isValid():
            return False
        to_device = painter.transform()
        area = to_device.mapRect(view).intersected(QRectF(device.rect()))
        if area.isEmpty():
            return True
        dpr = float(device.devicePixelRatioF())
        corner = QPointF(math.floor(area.left()), math.floor(area.top()))
        width = math.ceil((area.right() - corner.x()) * dpr)
        height = math.ceil((area.bottom() - corner.y()) * dpr)
        view_key = (transform_key(to_device), corner.x(), corner.y(), width, height, dpr)
        key = (*view_key, self._version)
        current = self._image is not None and self._image[0].key == key
        if not current and self._asked != key:
            antialias = painter.testRenderHint(QPainter.RenderHint.Antialiasing)
            transform = image_transform(to_device, corner, dpr)
            self._last_paint = (view_key, transform, width, height, dpr, antialias)
            self._ask(key, transform, width, height, dpr, antialias)
        if self._image is not None:
            frame, image = self._image
            back, invertible = frame.transform.inverted()
            if invertible:
                painter.save()
                painter.setTransform(back * to_device)
                painter.drawImage(QPointF(0.0, 0.0), image)
                painter.restore()
        return True

    def _ask(self, key, transform, width: int, height: int, dpr: float, antialias) -> None:
        if self._block is not None:  # each curve put together on the stroking thread
            shown = np.flatnonzero(self._shown).tolist()
            curves = _BlockCurves(self._block, shown)
        else:
            shown = [i for i in np.flatnonzero(self._shown) if self._x[i].size >= 2]
            curves = [(self._x[i], self._y[i]) for i in shown]
        if self._stroking_pens is None:
            self._stroking_pens = stroking_pens(self._pens)
        frame = Frame(
            key,
            curves,
            [self._stroking_pens[i] for i in shown],
            transform,
            width,
            height,
            dpr,
            antialias,
        )
        block = self._block
        if block is not None:  # its frozen columns' picture is kept while these hold
            frame.block, frame.runs = block, shown
            floor = block.floor if block.uses_floor else None
            frame.base_key = (key[:-1], block.view, block.generation, tuple(shown))
            frame.base_key += (self._stroking_pens, floor, antialias)
        if self._raster is None:
            self._raster = CurveRaster()
            self._raster.ready.connect(self._stroked)
        self._asked = key
        self._raster.request(frame)

    def _stroked(self, frame, image) -> None:
        if not self.live:
            return
        self._image = (frame, image)
        if self._asked == frame.key:
            self._asked = None
        self.update()

    def _geometry_changed(self) -> None:
        self._version += 1
        if self.live:  # the steady extent: it changes only now and then (see dataBounds)
            steady = (self.dataBounds(0), self.dataBounds(1))
            rect = _rect(*steady[0], *steady[1])
            if steady == self._informed and rect == self._rect and self._stroke_ahead():
                return
            self._informed = steady
        else:
            rows = self._bounds[self._shown] if self._bounds.size else self._bounds
            if rows.size == 0 or np.isnan(rows).all():
                rect = QRectF()
            else:
                rect = _rect(
                    np.nanmin(rows[:, 0]),
                    np.nanmax(rows[:, 1]),
                    np.nanmin(rows[:, 2]),
                    np.nanmax(rows[:, 3]),
                )
        self.prepareGeometryChange()
        self._rect = rect
        self.informViewBoundsChanged()
        self.update()

    def _stroke_ahead(self) -> bool:
        """While live, new data within the extent the view already fits asks for its image
        at once (for the view of the last paint) and repaints only when the image arrives:
        telling the view and repainting now painted every frame twice, once to ask and once
        to show (a view box repaints whenever an item's bounds change). False: there is no
        paint to go by yet."""
        last = self._last_paint
        if last is None:
            return False
        key = (*last[0], self._version)
        if self._image is not None and self._image[0].key == key:
            self.update()
        elif self._asked != key:
            self._ask(key, *last[1:])
        return True


class RunCurve:
    """What one run's curve shows: ``getData()`` as pyqtgraph's curves answer it."""

    def __init__(self, paths: RunPaths, run: int) -> None:
        self._paths, self._run = paths, run

    def getData(self) -> tuple[np.ndarray, np.ndarray]:
        return self._paths.curve(self._run)

    def isVisible(self) -> bool:
        return self._paths.isVisible() and self._paths.run_visible(self._run)


class _Block:
    """What :meth:`RunPaths.set_block` was given, as it stood: the view's frozen columns
    (which it never rewrites) and a copy of the rest, so another thread can draw it while
    the view moves on."""

    def __init__(self, view, floor: float | None, log: bool) -> None:
        frozen, width = view.frozen, view.width
        self.x = view.x[:width].copy()
        self._frozen = view.y[:, :frozen]
        self._tail = view.y[:, frozen:width].copy()
        self.floor, self.log = floor, log
        self._summary = view.summary()
        self._done = None  # (values as drawn, points kept, runs kept whole), when asked
        # What a picture of the frozen columns depends on (curve_raster.FrozenPicture): the
        # view and its generation, and the floor only where a value sits on it.
        self.view, self.generation = view, view.generation
        self.frozen_count, self.width = frozen, width
        self.uses_floor = floor is not None and bool(self._summary[2].any())

    def pieces(self, runs: list[int], start: int, stop: int) -> list:
        """``(x, y)`` of each of ``runs`` over columns ``[start, stop)``, as drawn (flat
        stretches inside the piece kept to their ends, as :meth:`curve` keeps them)."""
        frozen = self._frozen.shape[1]
        parts = []
        if start < frozen:
            parts.append(self._frozen[runs, start : min(stop, frozen)])
        if stop > frozen:
            parts.append(self._tail[runs, max(start - frozen, 0) : stop - frozen])
        ys = self._as_drawn(np.concatenate(parts, axis=1))
        x = self.x[start:stop]
        keep = _not_inside_flat_stretches(ys)
        whole = keep.all(axis=1)
        return [(x, ys[k]) if whole[k] else (x[keep[k]], ys[k][keep[k]]) for k in range(len(runs))]

    def row(self, run: int) -> np.ndarray:
        """Run ``run``'s values as drawn: non-positive ones at the floor, or gaps."""
        y = np.concatenate([self._frozen[run], self._tail[run]])
        return self._as_drawn(y)

    def _as_drawn(self, y: np.ndarray) -> np.ndarray:
        if self.floor is not None:
            np.maximum(y, self.floor, out=y)  # -inf (a zero, a negative) to the floor
        elif self.log:
            y[y == -np.inf] = np.nan
        return y

    def curve(self, run: int) -> tuple[np.ndarray, np.ndarray]:
        ys, keep, whole = self._curves()
        if whole[run]:
            return self.x, ys[run]
        return self.x[keep[run]], ys[run][keep[run]]

    def _curves(self):
        """Every run's values as drawn, which points to keep, and which runs keep them all:
        worked out once, over the whole block (a few array operations, where one per run
        held the interpreter lock for most of a frame), by whichever thread asks first."""
        done = self._done
        if done is None:
            ys = self._as_drawn(np.concatenate([self._frozen, self._tail], axis=1))
            keep = _not_inside_flat_stretches(ys)
            done = self._done = (ys, keep, keep.all(axis=1))
        return done

    def _drawn(self, values: np.ndarray) -> np.ndarray:
        """Which values are drawn (finite; -inf too where it goes to the floor)."""
        drawn = np.isfinite(values)
        if self.floor is not None:
            drawn |= values == -np.inf
        return drawn

    def bounds(self) -> np.ndarray:
        """(runs, 4): x min, x max, y min, y max of each run as drawn (NaN: nothing)."""
        lo, hi, nonpositive = self._summary
        runs = lo.size
        out = np.full((runs, 4), np.nan)
        if self.floor is not None:
            lo = np.where(nonpositive, self.floor, lo)
            hi = np.where(nonpositive, np.fmax(hi, self.floor), hi)
        out[:, 2], out[:, 3] = lo, hi
        has = ~np.isnan(lo)
        width = self.x.size
        if width == 0 or not has.any():
            return out
        # x: the first and last drawn column (the first and last, unless a run's ends are
        # gaps: a diverged run's last values are NaN); searched only for those runs
        first = np.zeros(runs, dtype=np.intp)
        last = np.full(runs, width - 1, dtype=np.intp)
        for i in np.flatnonzero(has & ~self._drawn(self._column(0))):
            first[i] = int(np.argmax(self._drawn(self.row(i))))
        for i in np.flatnonzero(has & ~self._drawn(self._column(width - 1))):
            last[i] = width - 1 - int(np.argmax(self._drawn(self.row(i))[::-1]))
        out[has, 0] = self.x[first[has]]
        out[has, 1] = self.x[last[has]]
        return out

    def _column(self, k: int) -> np.ndarray:
        frozen = self._frozen.shape[1]
        return self._frozen[:, k] if k < frozen else self._tail[:, k - frozen]


class _BlockCurves:
    """A frame's curves from a block: each put together as the stroking thread reaches it."""

    def __init__(self, block: _Block, runs: list[int]) -> None:
        self._block, self._runs = block, runs

    def __len__(self) -> int:
        return len(self._runs)

    def __iter__(self):
        for run in self._runs:
            yield self._block.curve(run)


def steady_range(lo: float, hi: float, steps: int = 8) -> tuple[float, float]:
    """``(lo, hi)`` widened outwards to multiples of a round step (1, 2 or 5 x 10^k, about
    a ``steps``-th of the span): a range that grows with the data changes only when the data
    crosses the next multiple, not on every frame (view units: decades on a log axis)."""
    span = hi - lo
    if not (math.isfinite(lo) and math.isfinite(hi)) or span <= 0:
        return (lo, hi)
    raw = span / steps
    decade = 10.0 ** math.floor(math.log10(raw))
    step = next(m * decade for m in (1, 2, 5, 10) if m * decade >= raw)
    # min/max: a multiple computed in floating point can land a hair inside the data
    return (min(math.floor(lo / step) * step, lo), max(math.ceil(hi / step) * step, hi))


def _rect(x0, x1, y0, y1) -> QRectF:
    """The rectangle from x0 to x1 and y0 to y1 (empty where a bound is missing)."""
    if any(v is None or not math.isfinite(v) for v in (x0, x1, y0, y1)):
        return QRectF()
    return QRectF(float(x0), float(y0), float(x1 - x0), float(y1 - y0))


def _log10(a: np.ndarray) -> np.ndarray:
    """log10 where positive, NaN elsewhere (a gap on a log axis), in one pass."""
    a = np.asarray(a, dtype=np.float64)
    return np.log10(a, out=np.full(a.shape, np.nan), where=a > 0)


def _not_inside_flat_stretches(ys: np.ndarray) -> np.ndarray:
    """(rows, points) mask: False for a point equal to both its neighbours (NaN never is)."""
    keep = np.ones(ys.shape, dtype=bool)
    if ys.shape[1] > 2:
        inner = ys[:, 1:-1]
        keep[:, 1:-1] = (inner != ys[:, :-2]) | (inner != ys[:, 2:])
    return keep


def _finite_bounds(x: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """(rows, 4): x min, x max, y min, y max of each row's finite points (NaN: none)."""
    ok = np.isfinite(ys) & np.isfinite(x)[None, :]
    out = np.full((ys.shape[0], 4), np.nan)
    has = ok.any(axis=1)
    if not has.any():
        return out
    first = np.argmax(ok, axis=1)
    last = x.size - 1 - np.argmax(ok[:, ::-1], axis=1)
    out[has, 0] = x[first[has]]  # x increases along a curve
    out[has, 1] = x[last[has]]
    with np.errstate(invalid="ignore"):
        out[has, 2] = np.where(ok, ys, np.inf).min(axis=1)[has]
        out[has, 3] = np.where(ok, ys, -np.inf).max(axis=1)[has]
    return out

"""The loss surface of a 2-D problem, with each run's path drawn live in the run's colour.

The surface (log-scaled loss, contour lines, colour bar) is computed off the GUI thread once
per simulation (:class:`ui.surface_jobs.SurfaceJobs`); the paths come from the run store's
:class:`~lrviz.trajectories.Trajectories`, at most a screen's worth of points per run, and
only runs that moved are redrawn: a frame costs O(pixels), never O(history).

Zoomed or panned, the view re-derives its own surface (finer contours, loss past the first
surface's edge; off the GUI thread, once the view stops moving) and, zoomed in, each path
from the run's full history rather than its screen-resolution path. x and y are parameters
in the same units, so the axes are equal ("equal axes"; untick it for a long narrow bowl).

"One plot per run" shows up to :data:`MAX_SIDE_BY_SIDE` runs side by side on the same surface,
each titled with its λ (and a caption, when a preset gives one): the classic picture of what
λ does, without four paths on top of each other.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer

from lrviz.lr_format import format_lr
from lrviz.objectives.base import Objective
from lrviz.run_store import RunStore
from lrviz.surfaces import surface_domain

from ..colors import lr_colors
from ..surface_jobs import SurfaceJobs
from ..surface_view import SurfaceView, surface_colormap
from .plot_panel import PlotPanel
from .trajectory_paths import PathCurve, TrajectoryPaths

MAX_SIDE_BY_SIDE = 6
MAX_LEGEND_ENTRIES = 7
#: Up to this many runs in one plot, their paths are drawn 2 px wide: wide lines cost Qt's
#: raster engine about 5x hairlines (64 paths of 2,000 points: 465 ms a paint at width 2).
THICK_PATHS = 8
#: The view settles this long (ms) before its surface and paths are re-derived.
VIEW_SETTLE_MS = 200
#: A view narrower or lower than this share of the domain is zoomed in: its paths are
#: re-derived from the full history (at most a screen's worth of points each).
ZOOMED_IN = 0.7


class LossSurfacePanel(PlotPanel):
    """Contours of a 2-D objective and the runs walking on it.

    ``show_run(store, objective, captions=None)`` starts drawing a simulation (its store
    must keep trajectories); ``refresh()`` draws what changed (True if it drew);
    ``set_side_by_side(on)``; ``shutdown()`` before the window closes.
    """

    def __init__(self, parent=None) -> None:
        super().__init__("Loss surface", parent)
        self.store: RunStore | None = None
        self.objective: Objective | None = None
        self.domain = None
        self.surface = None
        self.segments = None
        self.captions: list[str] | None = None
        self.side_by_side = self.add_toggle(
            "one plot per run",
            False,
            f"Draw each run on its own copy of the surface (up to {MAX_SIDE_BY_SIDE} runs).",
            lambda _on: self._layout_views(),
        )
        self.equal_axes = self.add_toggle(
            "equal axes",
            True,
            "x and y on the same scale, so a round bowl looks round (untick it to stretch a "
            "long, narrow valley across the plot).",
            self._set_equal_axes,
        )
        self.message = pg.TextItem("", color=(90, 90, 90), anchor=(0.5, 0.5))
        self.views: list[SurfaceView] = [SurfaceView(self.plot)]
        self._extra_plots: list[pg.PlotItem] = []
        self.legend = self.add_legend(
            corners=("top-right", "top-left", "bottom-right", "bottom-left"),
            curves=self._legend_curves,
            brush=(255, 255, 255, 190),
        )
        self.colorbar = pg.ColorBarItem(
            values=(0.0, 1.0),
            colorMap=surface_colormap(),
            interactive=False,
            width=12,
        )
        # On the tick side: the bar's own label option draws it over the bar here.
        self.colorbar.axis.setLabel("loss")
        self.colorbar.axis.setWidth(48)  # the same whatever the ticks say (see _label_axes)
        self.graphics.addItem(self.colorbar, row=0, col=1)
        self.colorbar.setVisible(False)
        self.surfaces = SurfaceJobs(self)
        self.surfaces.computed.connect(self._on_surface)
        self.view_surfaces = SurfaceJobs(self)  # the zoomed or panned view's own
        self.view_surfaces.computed.connect(self._on_view_surface)
        self.detail = None  # (surface, segments) of the view's region, or None
        self.zoom = None  # the view's region while zoomed in (paths from the full history)
        self.settle = QTimer(self)
        self.settle.setSingleShot(True)
        self.settle.setInterval(VIEW_SETTLE_MS)
        self.settle.timeout.connect(self._view_settled)
        self.plot.getViewBox().sigRangeChanged.connect(lambda *_args: self.settle.start())
        self._set_equal_axes(True)
        self._drawn_version = -1
        self._drawn_counts = np.empty(0, dtype=np.int64)
        self._drawn_step = 0
        self._axis_names = ("x", "y")
        self._label_axes(self.plot)

    # --- what to show ---------------------------------------------------------------------
    def show_run(
        self, store: RunStore, objective: Objective, captions: list[str] | None = None
    ) -> None:
        """Draw ``store``'s runs on ``objective``'s surface (2-D); ``captions`` (one per run)
        title the side-by-side plots."""
        self.store, self.objective, self.captions = store, objective, captions
        self.domain = surface_domain(objective)
        variables = getattr(getattr(objective, "formula", None), "variables", ("x", "y"))
        self._axis_names = tuple(variables[:2]) if len(variables) >= 2 else ("x", "y")
        self.surface = self.segments = None
        self.detail = self.zoom = None
        self.view_surfaces.cancel()
        fits = store.runs <= MAX_SIDE_BY_SIDE
        self.side_by_side.setEnabled(fits)
        if not fits:
            self.side_by_side.setChecked(False)
        self.surfaces.request(store, objective, self.domain)
        self._layout_views()

    def set_side_by_side(self, on: bool) -> None:
        self.side_by_side.setChecked(on)

    def set_captions(self, captions: list[str] | None) -> None:
        """A caption per run for the side-by-side titles ("too low: slow crawl")."""
        self.captions = captions
        self._decorate()
        self._drawn_version = -1
        self.refresh()

    def shutdown(self) -> None:
        self.settle.stop()
        self.surfaces.shutdown()
        self.view_surfaces.shutdown()

    # --- the view -------------------------------------------------------------------------
    def _set_equal_axes(self, on: bool) -> None:
        for view in self.views:
            view.plot.getViewBox().setAspectLocked(on, ratio=1.0)
        if self.domain is not None:
            self.views[0].set_domain(self.domain)

    def view_region(self):
        """The region the plots show now, ((x0, x1), (y0, y1))."""
        (x0, x1), (y0, y1) = self.plot.getViewBox().viewRange()
        return (float(x0), float(x1)), (float(y0), float(y1))

    def _view_settled(self) -> None:
        """Re-derive the surface (off the GUI thread) and, zoomed in, the paths of the
        region the view now shows."""
        if self.store is None or self.objective is None or self.domain is None:
            return
        region = self.view_region()
        (x0, x1), (y0, y1) = region
        (d0, d1), (e0, e1) = self.domain
        same = np.allclose((x0, x1, y0, y1), (d0, d1, e0, e1), rtol=0, atol=1e-3 * max(
            d1 - d0, e1 - e0
        ))  # fmt: skip
        zoom = None
        if (x1 - x0) < ZOOMED_IN * (d1 - d0) or (y1 - y0) < ZOOMED_IN * (e1 - e0):
            zoom = region
        if zoom != self.zoom:
            self.zoom = zoom
            self._drawn_version = -1
            self._drawn_counts[:] = -1
            self.refresh()
        if same:
            self.view_surfaces.cancel()
            self._show_detail(None)
        else:
            self.view_surfaces.request((self.store, region), self.objective, region)

    def _on_view_surface(self, key, surface, segments) -> None:
        store, region = key
        if store is self.store and region == self.view_region():
            self._show_detail((surface, segments))

    def _show_detail(self, detail) -> None:
        self.detail = detail
        for view in self.views:
            view.set_detail(*(detail or (None, None)))
        self._update_colorbar()

    # --- layout ---------------------------------------------------------------------------
    def get_state(self) -> dict:
        return {"side_by_side": self.side_by_side.isChecked()}

    def set_state(self, state: dict) -> None:
        if isinstance(state.get("side_by_side"), bool):
            self.side_by_side.setChecked(state["side_by_side"])

    def _layout_views(self) -> None:
        """One view (every run) or one per run, in a grid as square as the panel allows."""
        for plot in self._extra_plots:
            self.graphics.removeItem(plot)
        self._extra_plots = []
        self.graphics.removeItem(self.colorbar)
        store = self.store
        side = self.side_by_side.isChecked() and store is not None and store.runs > 1
        count = store.runs if side else 1
        columns = _columns(count, self.graphics.width(), self.graphics.height())
        plots = [self.plot]
        self.views = [self.views[0]]
        for i in range(1, count):
            plot = self.graphics.addPlot(row=i // columns, col=i % columns)
            plot.setXLink(self.plot)
            plot.setYLink(self.plot)
            self._extra_plots.append(plot)
            plots.append(plot)
            self.views.append(SurfaceView(plot, marker_size=9))
        rows = math.ceil(count / columns)
        self.graphics.addItem(self.colorbar, row=0, col=columns, rowspan=rows)
        for plot in plots:
            self._label_axes(plot, small=count > 1)
        self._decorate()
        self._drawn_version = -1
        self.refresh()

    def _label_axes(self, plot: pg.PlotItem, small: bool = False) -> None:
        x_name, y_name = self._axis_names
        plot.setLabel("bottom", x_name)
        plot.setLabel("left", y_name)
        # Fixed widths: with equal axes, tick labels of another width ("-2" vs "-2.5")
        # resized the view, which changed its range, its ticks, its width... for ever.
        plot.getAxis("left").setWidth(34 if small else 44)

    def _legend_curves(self) -> list:
        """The paths drawn in the first view (the legend's), where the legend should not sit."""
        return [path.getData() for path in getattr(self.views[0], "paths", ())]

    def _decorate(self) -> None:
        """Surface, markers, path items and titles of every view for the current run."""
        store = self.store
        self.legend.clear()
        if store is None:
            return
        colors = lr_colors(store.lrs)
        minima = getattr(self.objective, "minima", None) or ()
        start = self.objective.initial_point()
        side = len(self.views) > 1
        for i, view in enumerate(self.views):
            view.set_domain(self.domain)
            view.set_surface(self.surface, self.segments)
            view.set_detail(*(self.detail or (None, None)))
            view.plot.getViewBox().setAspectLocked(self.equal_axes.isChecked(), ratio=1.0)
            view.set_markers(start, minima)
            self._set_runs(view, [i] if side else list(range(store.runs)), colors)
            title = None
            if side:
                title = f"λ = {format_lr(store.lrs[i])}"
                if self.captions and i < len(self.captions) and self.captions[i]:
                    title += f" · {self.captions[i]}"
            view.plot.setTitle(title, size="9pt")
        legend = not side and store.runs <= MAX_LEGEND_ENTRIES
        self.legend.setVisible(legend)  # an empty legend still draws its box
        if legend:
            for i, curve in enumerate(self.views[0].paths):
                sample = pg.PlotDataItem([], [], pen=curve.opts["pen"])  # the legend's swatch
                self.legend.addItem(sample, f"λ = {format_lr(store.lrs[i])}")
        self._update_colorbar()
        self._drawn_counts = np.full(store.runs, -1, dtype=np.int64)

    def _set_runs(self, view: SurfaceView, runs: list[int], colors) -> None:
        """One item drawing the paths of ``runs`` in ``view`` (replacing the old one)."""
        old = getattr(view, "trajectory_item", None)
        if old is not None:
            view.plot.removeItem(old)
        width = 2 if len(runs) <= THICK_PATHS else 1
        pens = [pg.mkPen(colors[i], width=width) for i in runs]
        item = TrajectoryPaths()
        item.set_runs(pens, [f"λ = {format_lr(self.store.lrs[i])}" for i in runs])
        view.plot.addItem(item)
        view.trajectory_item = item
        view.paths = [PathCurve(item, k, pen) for k, pen in enumerate(pens)]

    def _update_colorbar(self) -> None:
        surface = self.detail[0] if self.detail is not None else self.surface
        levels = self.views[0].levels() if surface is not None else None
        self.colorbar.setVisible(levels is not None)
        if levels is None:
            return
        self.colorbar.setLevels(levels)
        lo, hi = levels
        ticks, labels = _colorbar_ticks(surface, lo, hi)
        self.colorbar.axis.setTicks([list(zip(ticks, labels, strict=True))])

    # --- drawing --------------------------------------------------------------------------
    def _on_surface(self, key, surface, segments) -> None:
        if key is not self.store:
            return  # the surface of an earlier simulation
        self.surface, self.segments = surface, segments
        for view in self.views:
            view.set_surface(surface, segments)
        self._update_colorbar()

    def refresh(self) -> bool:
        store = self.store
        traj = store.trajectories if store is not None else None
        if traj is None or traj.version == self._drawn_version:
            return False
        self._drawn_version = traj.version
        counts = np.where(store.diverged_at >= 0, store.diverged_at + 1, traj.count)
        changed = counts != self._drawn_counts
        if traj.step != self._drawn_step:  # the paths were thinned: every one changed
            changed[:] = True
            self._drawn_step = traj.step
        side = len(self.views) > 1
        marks: list[list] = [[] for _ in self.views]
        updates: list[tuple[list, list, list]] = [([], [], []) for _ in self.views]
        for i in range(store.runs):
            v = i if side else 0
            view = self.views[v]
            if changed[i] or store.diverged_at[i] >= 0:
                x, y = traj.path(i) if self.zoom is None else traj.path_within(i, self.zoom)
                if changed[i]:
                    runs, xs, ys = updates[v]
                    x, y = view.clipped(x, y)
                    runs.append(0 if side else i)
                    xs.append(x)
                    ys.append(y)
                if store.diverged_at[i] >= 0:
                    point = view.last_inside(x, y)
                    if point is not None:
                        marks[v].append(point)
        for view, points, (runs, xs, ys) in zip(self.views, marks, updates, strict=True):
            view.trajectory_item.set_paths(runs, xs, ys)
            view.set_diverged(points)
        self._drawn_counts = counts
        return True


def _columns(count: int, width: float, height: float) -> int:
    """Columns of a grid of ``count`` plots that makes each as large (and square) as it can."""
    if count <= 1:
        return 1
    width, height = max(width, 1.0), max(height, 1.0)
    best, best_size = 1, 0.0
    for columns in range(1, count + 1):
        rows = math.ceil(count / columns)
        size = min(width / columns, height / rows)
        if size > best_size + 1e-9:
            best, best_size = columns, size
    return best


def _colorbar_ticks(surface, lo: float, hi: float) -> tuple[list[float], list[str]]:
    """Ticks of the log colour scale at round losses: ``lowest + 10**k`` for whole k (the
    scale is log10(loss - lowest + offset)), labelled with the loss there."""
    offset, lowest = surface.offset, surface.lowest
    above = 10.0 ** np.arange(np.floor(lo) - 1, np.ceil(hi) + 2)
    positions = np.log10(above + offset)
    keep = (positions >= lo) & (positions <= hi)
    if keep.sum() < 2:
        positions = np.linspace(lo, hi, 3)
        return positions.tolist(), [_loss_label(float(surface.to_loss(v))) for v in positions]
    # A loss whose lowest point is 0 (to within the offset) reads 10**k itself.
    base = 0.0 if abs(lowest) <= 10 * offset else lowest
    return positions[keep].tolist(), [_loss_label(base + a) for a in above[keep]]


def _loss_label(value: float) -> str:
    if not math.isfinite(value):
        return ""
    if value != 0 and (abs(value) < 1e-2 or abs(value) >= 1e3):  # .3g writes 1e+03
        mantissa, exponent = f"{value:.1e}".split("e")
        mantissa = mantissa.rstrip("0").rstrip(".")
        return f"{mantissa}e{int(exponent)}"
    return f"{value:.3g}"

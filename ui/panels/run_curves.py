"""Curves of a simulation's runs, one per λ, coloured by λ: shared by the per-iteration panels.

Each frame costs O(pixels), not O(history): the panels draw the store's screen-resolution
envelopes (:mod:`lrviz.envelope`: min and max per bucket of iterations, grown as batches
arrive), only for runs whose data changed, and re-derive from the full history only for the
part of it a zoomed-in view shows.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QCheckBox, QLabel

from lrviz.adaptive_lr import DEFAULT_MAX_LR_FACTOR, DEFAULT_MIN_LR_FACTOR
from lrviz.envelope import Envelope, EnvelopeView, window
from lrviz.lr_format import format_lr
from lrviz.run_store import RunStore

from ..colors import DIVERGED, lr_colormap, run_pens
from .fitted_legend import SCORE_CURVES as LEGEND_SCORE_CURVES
from .plot_panel import PlotPanel
from .run_paths import RunCurve, RunPaths

#: A view showing less than this fraction of the run's iterations draws them from the full
#: history instead of the envelope.
ZOOM_FRACTION = 0.5
#: Columns of the zoomed-in envelope: more than any screen's width.
ZOOM_COLUMNS = 1024

MAX_LEGEND_ENTRIES = 7

#: Points of curves a refresh re-derives while a run streams. Re-deriving 1000 runs' curves
#: at once (envelope, log10, bounds: 2 million points, a dozen passes) stalled the window
#: for 0.4-0.8 s on the loaded 2-core machine; beyond this the stalest runs go first and the
#: rest follow in the next frames, a few tens of milliseconds behind.
STREAMING_POINTS_A_FRAME = 400_000


class RunCurvesPanel(PlotPanel):
    """One curve per run of a :class:`RunStore` against iteration; diverged runs end in ×.

    Subclasses choose the quantity with :meth:`values`.
    """

    y_label = ""
    y_units: str | None = None

    def __init__(self, title: str, parent=None) -> None:
        super().__init__(title, parent)
        self.store: RunStore | None = None
        # Every run's curve in one item (see run_paths: 256 items cost seconds a frame);
        # ``curves[i]`` answers what run i shows.
        self.paths = RunPaths()
        self.plot.addItem(self.paths)
        self.curves: list[RunCurve] = []
        self._legend_samples: list[pg.PlotDataItem] = []
        self._drawn_version = -1
        self._drawn_counts = np.empty(0, dtype=np.int64)  # iterations drawn per run
        self._zoom: tuple[int, int] | None = None  # iteration range drawn at full detail
        self._behind = False  # some runs still wait for their share of a streaming refresh
        self._view: EnvelopeView | None = None  # the envelope in view units, kept up to date
        self._marks: dict[int, tuple[float, float]] = {}  # diverged run -> its × (settled)
        self._marks_generation = -1
        self._marks_shown = None  # the marks the × item shows now
        self.plot.setLabel("bottom", "iteration")
        self.plot.setLabel("left", self.y_label, units=self.y_units)
        self.legend = self.add_legend(curves=self._shown_curves)
        self.diverged_marks = _diverged_marks()
        self.plot.addItem(self.diverged_marks)  # in the legend once a run diverges
        self.colorbar: pg.ColorBarItem | None = None  # the λ colour bar, while shown
        self._spare_colorbar: pg.ColorBarItem | None = None  # the one bar, made once
        self.simulation_visible = True
        self.covered = False
        self.show_legend = True
        # Zooming in (or back out) redraws from the full history (or the envelope).
        self.plot.getViewBox().sigXRangeChanged.connect(self._on_x_range)

    def _on_x_range(self, *_args) -> None:
        store = self.store
        if store is None:
            return
        was = self._zoom
        now = self._zoom_range(store)
        if now != was:
            self.redraw_all()

    def values(self, store: RunStore) -> np.ndarray:
        """(rows, R) history plotted by this panel (row k = iteration k * store.stride)."""
        raise NotImplementedError

    def envelope(self, store: RunStore) -> Envelope | None:
        """The screen-resolution envelope of :meth:`values`, when the store keeps one."""
        return None

    def set_simulation_visible(self, visible: bool) -> None:
        """Show or hide the simulation's curves (loaded logs stay)."""
        self.simulation_visible = visible
        shown = visible and not self.covered
        for item in (self.paths, self.diverged_marks):
            item.setVisible(shown)
        if self.colorbar is not None:
            self.colorbar.setVisible(shown)
        self.legend.setVisible(shown and self.show_legend)

    def set_streaming(self, streaming: bool) -> None:
        """A run is streaming into the panel (its curves change every frame): stroke them
        off the GUI thread (see run_paths); once it stops, paint them exactly again."""
        self.paths.set_live(streaming)

    def set_covered(self, covered: bool) -> None:
        """Another tool's layer covers the simulation's curves (a search draws its own runs
        here): they hide while it does, and what the Sources list says stays as it was."""
        self.covered = covered
        self.set_simulation_visible(self.simulation_visible)

    def set_store(self, store: RunStore) -> None:
        """Replace the curves with one per run of ``store``."""
        # The same × item, emptied: it stays in the plot (removing it and adding it back
        # raised AttributeError in pyqtgraph, which caches a removed item's view, and a fresh
        # one per run cost ~8 ms of the run's start).
        self.diverged_marks.setData([], [])
        self.legend.clear()
        self.store = store
        # Runs of their own optimizers are few, and told apart by colour: a wider line.
        width = 1 if store.optimizers is None else 1.6
        pens = run_pens(store, width)
        names = store.names
        self.paths.set_runs(pens, names)
        # Runs of their own optimizers start together and part at the bottom left, where the
        # legend usually sits: top right first for them (the freest corner wins anyway).
        self.legend.corners = (
            ("top-right", "bottom-left", "bottom-right", "top-left")
            if store.optimizers is not None
            else ("bottom-left", "top-right", "bottom-right", "top-left")
        )
        self.curves = [RunCurve(self.paths, i) for i in range(store.runs)]
        # Beyond a handful of runs the colour bar names the λ; a long legend would hide curves.
        # The legend's samples stand for runs of the shared item: clicking one hides its run.
        self._legend_samples = []
        for index in _legend_indices(store.runs):
            sample = pg.PlotDataItem(pen=pens[index])
            # A bound method, not a lambda holding the sample: the sample must not keep
            # itself alive through its own connection (collected later, mid-event).
            sample.visibleChanged.connect(partial(self._legend_sample_toggled, index))
            self._legend_samples.append(sample)
            self.legend.addItem(sample, names[index])
        # the × item is in the legend once a run diverges
        # Colours name the runs (each its own optimizer), not λ: no λ colour bar then.
        self._set_colorbar(store.lrs if store.optimizers is None else store.lrs[:1])
        self.set_simulation_visible(self.simulation_visible)
        self._drawn_version = -1
        self._drawn_counts = np.full(store.runs, -1, dtype=np.int64)
        self._zoom = None
        self._behind = False
        self._view = None
        self._marks, self._marks_generation = {}, -1
        self._marks_shown = None
        self.refresh()

    def _shown_curves(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """The shown runs' curves in view coordinates: where the legend should not sit."""
        if not self.paths.isVisible():
            return []
        shown = [curve for curve in self.curves if curve.isVisible()]
        if len(shown) > LEGEND_SCORE_CURVES:  # the ones the legend would pick, and only them
            picks = np.linspace(0, len(shown) - 1, LEGEND_SCORE_CURVES).astype(int)
            shown = [shown[i] for i in picks]
        return [curve.getData() for curve in shown]

    def _legend_sample_toggled(self, run: int) -> None:
        # A legend lists every run or none (_legend_indices): sample k is run k.
        self.paths.set_run_visible(run, self._legend_samples[run].isVisible())

    def _set_colorbar(self, lrs: np.ndarray) -> None:
        """The λ colour bar beside the plot, from the smallest λ to the largest (none for
        fewer than two). One bar, made once and given each run's range: a ColorBarItem is a
        plot of its own, and making one took 15-50 ms of every run's start."""
        lo = hi = 0.0
        if lrs.size >= 2:
            lo, hi = float(np.log10(lrs.min())), float(np.log10(lrs.max()))
        if not hi > lo:
            if self.colorbar is not None:
                self.graphics.removeItem(self.colorbar)
                self.colorbar = None
            return
        bar = self._colorbar_item()
        bar.setColorMap(lr_colormap())  # the theme's (the dark one drops the darkest end)
        bar.setLevels((lo, hi))
        bar.axis.setTicks([[(v, format_lr(10.0**v, invalid="")) for v in colorbar_ticks(lo, hi)]])
        if self.colorbar is None:
            self.graphics.addItem(bar, row=0, col=1)
            self.colorbar = bar

    def _colorbar_item(self) -> pg.ColorBarItem:
        if self._spare_colorbar is None:
            self._spare_colorbar = pg.ColorBarItem(
                values=(0.0, 1.0), colorMap=lr_colormap(), interactive=False, width=12, label="λ"
            )
        return self._spare_colorbar

    def refresh(self) -> bool:
        """Redraw if the store changed since the last draw. Returns True if it drew.

        Only runs that advanced since their last draw are built and sent to pyqtgraph (and
        the diverged ones, for their ×): a diverged run's curve stops changing, and with it
        its cost. While a run streams, at most :data:`STREAMING_POINTS_A_FRAME` points are
        re-derived a refresh, the runs drawn longest ago first."""
        store = self.store
        if store is None or (store.version == self._drawn_version and not self._behind):
            return False
        self._drawn_version = store.version
        envelope = self.envelope(store)
        if envelope is not None and self._zoom_range(store) is None:
            self._draw_envelope(store, envelope)
            return True
        counts = np.where(store.diverged_at >= 0, store.diverged_at + 1, store.count)
        changed = counts != self._drawn_counts
        diverged = (store.diverged_at >= 0) & (store.diverged_at < store.count)
        advanced = np.flatnonzero(changed & ~diverged)
        points = self._points_per_run(store)
        chunk = max(1, STREAMING_POINTS_A_FRAME // max(points, 1))
        self._behind = self.paths.live and advanced.size > chunk
        if self._behind:
            stalest = np.argsort(self._drawn_counts[advanced], kind="stable")[:chunk]
            changed = np.zeros_like(changed)
            changed[advanced[stalest]] = True
            changed |= (counts != self._drawn_counts) & diverged
        needed = np.flatnonzero(changed | diverged)
        x, ys = self._curves_to_draw(store, needed)
        floor = self._floor(store, ys)
        drawn = dict(zip(needed.tolist(), ys, strict=True))
        redrawn = np.flatnonzero(changed[needed])  # rows of ys
        self.paths.set_data(needed[redrawn], x, self.display_values(ys[redrawn], floor))
        self._drawn_counts[changed] = counts[changed]
        self._mark_divergence(store, x, drawn, floor)
        return True

    def _draw_envelope(self, store: RunStore, envelope: Envelope) -> None:
        """Every run from the store's envelope, mapped to view units incrementally (see
        :class:`lrviz.envelope.EnvelopeView`): a frame costs the columns that changed."""
        log = self.paths.log_y
        view = self._view
        if view is None or view.envelope is not envelope or view.log != log:
            view = self._view = EnvelopeView(envelope, log)
        view.update()
        floor = self._view_floor(view)
        self.paths.set_block(view, floor)
        self._behind = False
        self._drawn_counts[:] = -1  # the per-run drawing, when it takes over, draws them all
        self._mark_divergence_in_view(store, view, floor)

    def _view_floor(self, view: EnvelopeView) -> float | None:
        """Where a non-positive value sits, in view units (None: it is a gap)."""
        return None

    def _mark_divergence_in_view(self, store: RunStore, view: EnvelopeView, floor) -> None:
        """A × at each diverged run's last drawn point up to its divergence; a mark whose
        bucket is complete stays until the view merges its buckets."""
        if view.generation != self._marks_generation:
            self._marks, self._marks_generation = {}, view.generation
        runs = np.flatnonzero((store.diverged_at >= 0) & (store.diverged_at < store.count))
        x = view.x[: view.width]
        marks = []
        for i in runs.tolist():
            mark = self._marks.get(i)
            if mark is None:
                y = view.y[i, : view.width]
                if floor is not None:
                    y = np.maximum(y, floor)
                drawn = np.flatnonzero(np.isfinite(y) & (x <= store.diverged_at[i]))
                if not drawn.size:
                    continue
                k = int(drawn[-1])
                mark = (float(x[k]), float(10.0 ** y[k]) if view.log else float(y[k]))
                if k < view.frozen:
                    self._marks[i] = mark  # its bucket is complete: it stays
            marks.append(mark)
        if marks != self._marks_shown:  # setting the same marks repainted the plot anyway
            self._marks_shown = marks
            self.diverged_marks.setData([m[0] for m in marks], [m[1] for m in marks])
        self.legend.name_when(self.diverged_marks, "diverged", bool(marks))

    def _points_per_run(self, store: RunStore) -> int:
        """About how many points a run's curve has now."""
        envelope = self.envelope(store)
        if envelope is None or self._zoom is not None:
            return 2 * ZOOM_COLUMNS
        return 2 * envelope.count + envelope.iterations % envelope.bucket

    def redraw_all(self) -> None:
        """Draw every curve again (the y mode or the zoom changed)."""
        self._drawn_version = -1
        self._drawn_counts[:] = -1
        self.refresh()

    def _curves_to_draw(self, store: RunStore, runs: np.ndarray):
        """(x, (len(runs), m) y) of ``runs``: the envelope, or full detail for a zoomed-in
        view."""
        envelope = self.envelope(store)
        zoom = self._zoom_range(store)
        if envelope is None or zoom is not None:
            a, b = zoom if zoom is not None else (0, store.count)
            rows = slice(a // store.stride, -(-b // store.stride))
            x, y = window(self.values(store)[rows][:, runs], 0, ZOOM_COLUMNS)
            return rows.start * store.stride + x * store.stride, y
        return envelope.curves(runs)

    def _zoom_range(self, store: RunStore) -> tuple[int, int] | None:
        """The visible iterations when the user zoomed in on a small part of the run (an
        auto-ranging view shows it all)."""
        view = self.plot.getViewBox()
        (x0, x1), _ = view.viewRange()
        n = store.count
        if n == 0 or view.autoRangeEnabled()[0] or not (x1 - x0) < ZOOM_FRACTION * n:
            self._zoom = None
            return None
        a, b = max(0, int(np.floor(x0)) - 1), min(n, int(np.ceil(x1)) + 2)
        self._zoom = (a, b) if b > a else None
        return self._zoom

    def _floor(self, store: RunStore, ys: np.ndarray) -> float | None:
        return None

    def display_values(self, data: np.ndarray, floor: float | None = None) -> np.ndarray:
        return data

    def _mark_divergence(self, store: RunStore, x: np.ndarray, drawn: dict, floor) -> None:
        """A × at each diverged run's last finite point before it blew up."""
        runs = np.flatnonzero((store.diverged_at >= 0) & (store.diverged_at < store.count))
        xs, marks = [], []
        for i in runs:
            y = self.display_values(drawn[int(i)], floor)
            finite = np.flatnonzero(np.isfinite(y) & (x <= store.diverged_at[i]))
            if finite.size:
                xs.append(float(x[finite[-1]]))
                marks.append(float(y[finite[-1]]))
        self.diverged_marks.setData(xs, marks)
        self._marks_shown = None  # these, not the envelope view's
        self.legend.name_when(self.diverged_marks, "diverged", bool(xs))


class LossVsIterationPanel(RunCurvesPanel):
    """Loss against iteration, one curve per λ, with a log-y option."""

    y_label = "loss"

    def __init__(self, parent=None) -> None:
        super().__init__("Loss vs iteration", parent)
        self.log_y = self.add_toggle(
            "log y",
            True,
            (
                "Draw the loss on a logarithmic axis, where a steady decay is a straight line "
                "(Ctrl+L)."
            ),
            self._set_log_y,
        )
        self.plot.setLogMode(x=False, y=True)
        self._colorbar_item()  # made with the window, not when the first run starts

    def values(self, store: RunStore) -> np.ndarray:
        return store.loss

    def get_state(self) -> dict:
        return {"log_y": self.log_y.isChecked()}

    def set_state(self, state: dict) -> None:
        if isinstance(state.get("log_y"), bool):
            self.log_y.setChecked(state["log_y"])

    def envelope(self, store: RunStore) -> Envelope | None:
        return store.loss_envelope

    def _floor(self, store: RunStore, ys: np.ndarray) -> float | None:
        """The smallest positive loss of every run (not only those redrawn now): where exact
        zeros sit on a log axis."""
        if not self.log_y.isChecked():
            return None
        envelope = self.envelope(store)
        if envelope is not None and self._zoom is None:
            return envelope.min_positive()
        with np.errstate(invalid="ignore"):
            positive = ys[np.isfinite(ys) & (ys > 0)]
        return float(positive.min()) if positive.size else None

    def _view_floor(self, view: EnvelopeView) -> float | None:
        """The smallest positive loss of every run, in view units (see _floor)."""
        if not self.log_y.isChecked() or not view.log:
            return None
        lo, _hi, _nonpositive = view.summary()
        return float(np.nanmin(lo)) if not np.isnan(lo).all() else None

    def display_values(self, data: np.ndarray, floor: float | None = None) -> np.ndarray:
        if not self.log_y.isChecked() or floor is None:
            return data
        # Exact zeros (a run that hit the minimum) cannot sit on a log axis: show them at
        # the smallest positive loss, so they stay in view without stretching the axis down
        # to 1e-300.
        with np.errstate(invalid="ignore"):
            return np.where(np.isfinite(data) & (data <= floor), floor, data)

    def _set_log_y(self, on: bool) -> None:
        self.plot.setLogMode(x=False, y=on)
        self.redraw_all()


class LrVsIterationPanel(RunCurvesPanel):
    """The learning rate each run used at each iteration (schedules show up here)."""

    y_label = "λ"

    def __init__(self, parent=None) -> None:
        super().__init__("λ vs iteration", parent)
        self.plot.setLogMode(x=False, y=True)
        # Off: a warmup from 0 or a decay to 0 shows whole (a log axis has no 0), and a
        # linear schedule reads as the straight line it is. Switched from View ▸ Logarithmic
        # λ axis (Ctrl+Shift+L): a check box in the header took a row from this small panel
        # (a quarter of its plot at 1024x700), so the box holds the state but is not shown.
        self.log_y = QCheckBox("log y", self)
        self.log_y.setChecked(True)
        self.log_y.setToolTip("Draw λ on a logarithmic axis (Ctrl+Shift+L).")
        self.log_y.toggled.connect(self._set_log_y)
        self.log_y.hide()
        self.show_legend = False
        self.legend.setVisible(False)
        # Hypergradient descent's guard holds λ inside its bounds around λ₀: say so, and for
        # which runs, where their λ is drawn.
        self.clip_note = QLabel()
        self.clip_note.setStyleSheet("color: #a04a00;")
        self.clip_note.hide()
        self.header.insertWidget(0, self.clip_note)
        self._no_lr: tuple[str, str] | None = None  # why the shown logs draw no λ here

    def set_store(self, store: RunStore) -> None:
        # No legend: the runs have the colours loss vs iteration's legend names.
        self.clip_note.hide()
        super().set_store(store)
        self._show_empty_state()

    def set_logs_without_lr(self, headline: str | None, hint: str = "") -> None:
        """The shown logs draw nothing here (``headline`` says why, ``hint`` where their
        λ is instead), or None when they do. The panel says so in place of an empty plot
        while the simulation's curves are not shown either."""
        self._no_lr = None if headline is None else (headline, hint)
        self._show_empty_state()

    def set_simulation_visible(self, visible: bool) -> None:
        super().set_simulation_visible(visible)
        self._show_empty_state()

    def _show_empty_state(self) -> None:
        simulation_shown = self.store is not None and self.simulation_visible and not self.covered
        if self._no_lr is None or simulation_shown:
            self.show_empty(None)
        else:
            self.show_empty(*self._no_lr)

    def refresh(self) -> bool:
        drew = super().refresh()
        if drew:
            self._show_clips(self.store)
        return drew

    def _show_clips(self, store: RunStore) -> None:
        names = store.clipped_names()
        self.clip_note.setVisible(bool(names))
        if names:
            self.clip_note.setText(f"⚠ λ clipped by the guard: {', '.join(names)}")
            self.clip_note.setToolTip(
                "Hypergradient descent moved λ past the guard (below "
                f"{format_lr(DEFAULT_MIN_LR_FACTOR)} × λ₀, towards gradient ascent, or above "
                f"{format_lr(DEFAULT_MAX_LR_FACTOR)} × λ₀, an explosion); λ was held at the "
                "bound.\n" + "\n".join(store.clipped_runs())
            )

    def values(self, store: RunStore) -> np.ndarray:
        return store.lr

    def envelope(self, store: RunStore) -> Envelope | None:
        return store.lr_envelope

    def get_state(self) -> dict:
        return {"log_y": self.log_y.isChecked()}

    def set_state(self, state: dict) -> None:
        if isinstance(state.get("log_y"), bool):
            self.log_y.setChecked(state["log_y"])

    def _set_log_y(self, on: bool) -> None:
        self.plot.setLogMode(x=False, y=on)
        self.redraw_all()

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
        symbolBrush=pg.mkBrush(None),  # an object: None made a new brush (and symbol) a frame
    )


def colorbar_ticks(lo: float, hi: float) -> np.ndarray:
    """log10 of the λ a colour bar from 10**lo to 10**hi names: its decades, or 1, 2 and 5
    times them where fewer than two decades fall inside (λ = 1 to 8 read "1" alone)."""
    decades = np.arange(np.ceil(lo - 1e-9), np.floor(hi + 1e-9) + 1)
    if decades.size >= 2:
        return decades
    steps = np.log10([1.0, 2.0, 5.0])
    values = (np.arange(np.floor(lo) - 1, np.ceil(hi) + 1)[:, None] + steps[None, :]).ravel()
    return values[(values >= lo - 1e-9) & (values <= hi + 1e-9)]


def _legend_indices(runs: int) -> list[int]:
    return list(range(runs)) if runs <= MAX_LEGEND_ENTRIES else []

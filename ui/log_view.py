"""Draws the opened logs into the panels and keeps them in step with the Inspect options."""

from __future__ import annotations

from functools import partial

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QComboBox, QLabel

from lrviz import log_scene
from lrviz.lr_format import format_lr

from .colors import DIVERGED, lr_brushes, lr_positions
from .forms.inspect_form import InspectForm
from .latest_job import LatestJob
from .log_library import LogLibrary
from .paint_stagger import PaintStagger
from .panels.log_layer import LogLayer
from .panels.log_legend import LogLegend
from .panels.loss_vs_lr import LossVsLrPanel
from .panels.run_curves import LossVsIterationPanel, LrVsIterationPanel
from .panels.run_highlight import LogRunHighlight
from .panels.sweep_dots import SweepDots

RANGE_TEST_FORMATS = log_scene.RANGE_TEST_FORMATS
#: the logs' name on the loss vs λ panel's layer switch
LAYER = "logs"
#: the most learning curves drawn at once (the lowest final losses of a bigger sweep)
MAX_CURVES = log_scene.MAX_CURVES
#: the loss picker's choice that draws each run's train and validation losses together
TRAIN_AND_VALIDATION = log_scene.TRAIN_AND_VALIDATION
#: Logs up to this size are derived right in the GUI thread (a thread for a 3-row CSV only
#: delays its picture); bigger ones on a worker.
INLINE_RUNS = 64
INLINE_POINTS = 200_000
#: A view showing less than this fraction of its curves' x range draws them in full detail.
ZOOM_FRACTION = 0.5
#: Colour levels of a sweep's dots (see sweep_dots).
SWEEP_LEVELS = 64
#: Beyond this many trials a sweep's dots overlap: drawn without outlines, their colours
#: (λ) stay readable.
DENSE_DOTS = 500


class LogView(QObject):
    """Owns the log layers of the three panels, the series pickers and the crosshair.

    Signals: ``wants_loss_vs_lr()`` a sweep was opened, whose main view is loss vs λ;
    ``drawn()`` a derived scene is on the panels; ``failed(str)`` a derivation raised."""

    wants_loss_vs_lr = Signal()
    drawn = Signal()
    failed = Signal(str)

    def __init__(
        self,
        library: LogLibrary,
        form: InspectForm,
        loss_panel: LossVsIterationPanel,
        lr_panel: LrVsIterationPanel,
        loss_lr_panel: LossVsLrPanel,
        range_tool=None,
        layers=None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.layers = layers
        self.library, self.form = library, form
        self.loss_panel, self.lr_panel, self.loss_lr_panel = loss_panel, lr_panel, loss_lr_panel
        self.range_tool = range_tool
        self.loss_layer = LogLayer(loss_panel.plot)
        self.loss_legend = LogLegend(loss_panel.plot, self.loss_layer, loss_panel.header_legend)
        self.lr_layer = LogLayer(lr_panel.plot)
        self.loss_lr_layer = LogLayer(loss_lr_panel.plot)
        # A logged run hovered on one panel is drawn wider on each panel that draws it.
        self.highlight = LogRunHighlight((self.loss_layer, self.lr_layer, self.loss_lr_layer))
        # A study's 10,000 trials as dots of one item each (not a pyqtgraph scatter: a
        # brush per point cost seconds on the GUI thread).
        self.sweep_points = SweepDots(
            "o", 9, line_pen=pg.mkPen((150, 150, 150), width=1), name="trials"
        )
        self.sweep_points.set_palette(lr_brushes(SWEEP_LEVELS))
        loss_lr_panel.plot.addItem(self.sweep_points)
        self.sweep_diverged = SweepDots(
            "x", 11, pen=pg.mkPen(DIVERGED, width=2), name="diverged trials"
        )
        self.sweep_diverged.set_palette([pg.mkBrush(None)])
        self.sweep_diverged.setToolTip("a trial that diverged, was pruned or failed")
        loss_lr_panel.plot.addItem(self.sweep_diverged)
        if layers is not None:
            # The logs' loss-vs-λ curves and sweep points are one layer of the shared panel:
            # a range test's layer replaces them there, and opening logs brings them back.
            layers.register(LAYER, self._set_layer_visible)
        self._had_runs = 0
        self.loss_series = self._series_picker(
            loss_panel, "Which of the logs' loss series to plot (training, validation, …)."
        )
        self.lr_series = self._series_picker(
            lr_panel, "Which of the logs' learning-rate series to plot (one per parameter group)."
        )
        self._shown_range_curve = None
        self.scene: log_scene.Scene | None = None  # what the panels show
        self._cache = log_scene.DerivationCache()
        self.hidden_runs = 0  # learning curves not drawn (a sweep beyond MAX_CURVES)
        # Big logs are derived on a worker: the newest request wins (see latest_job).
        self.derivations = LatestJob("lrviz-log-view", self)
        self.derivations.failed.connect(lambda message: self.failed.emit(message))
        self.busy = self.derivations.busy
        # Zooming into a big log draws what the view shows at full detail, derived off the
        # GUI thread, per panel.
        self._zoomable = {
            "loss": (self.loss_layer, loss_panel),
            "lr": (self.lr_layer, lr_panel),
            "loss_lr": (self.loss_lr_layer, loss_lr_panel),
        }
        self._zoom_jobs = {name: LatestJob(f"lrviz-zoom-{name}", self) for name in self._zoomable}
        for name, (_layer, panel) in self._zoomable.items():
            panel.plot.getViewBox().sigXRangeChanged.connect(partial(self._on_x_range, name))

        # Coalesce bursts of changes (a slider drag, a reload) into one redraw per event-loop turn.
        self._pending = QTimer(self)
        self._pending.setSingleShot(True)
        self._pending.setInterval(0)
        self._pending.timeout.connect(self.redraw)
        # The panels of a scene derived on a worker are painted one per event-loop turn.
        self._stagger = PaintStagger(self)
        for signal in (
            library.changed,
            library.data_updated,
            form.options_changed,
            self.loss_series.currentIndexChanged,
            self.lr_series.currentIndexChanged,
        ):
            signal.connect(self.schedule_redraw)
        # A change of final/best loss redraws the sweep's points from the scene.
        loss_lr_panel.statistic.currentIndexChanged.connect(self._draw_sweep)
        form.watch.toggled.connect(self._set_watch)
        self._install_crosshair()

    def schedule_redraw(self, *_args) -> None:
        self._pending.start()

    def shutdown(self) -> None:
        """Stop the derivations (the window is closing)."""
        self.derivations.shutdown()
        for job in self._zoom_jobs.values():
            job.shutdown()

    # --- drawing --------------------------------------------------------------------------
    def redraw(self) -> None:
        """Derive what the panels show (:func:`lrviz.log_scene.derive`) and draw it: right
        here for a few small logs, on a worker for a big study or log (``drawn`` says when it
        is on screen); the panels keep their picture meanwhile."""
        runs = self.library.visible_runs()
        options = log_scene.SceneOptions(
            axis=self.form.axis,
            smoothing=self.form.smoothing,
            loss_choice=self.loss_series.currentData(),
            lr_choice=self.lr_series.currentData(),
            max_curves=MAX_CURVES,
        )
        cache = self._cache

        def derive() -> log_scene.Scene:
            # Labels are read here too: 10,000 of them cost the GUI thread tens of ms.
            scene_runs = [log_scene.SceneRun(r, r.run, r.label, r.log.format) for r in runs]
            return log_scene.derive(scene_runs, options, cache)

        # A scene still being shown panel by panel is no longer the latest: its ``drawn``
        # would answer this request.
        self._stagger.release()
        if _small(runs):
            self.derivations.cancel()  # an older derivation must not overwrite this one
            self._apply(derive())
        else:
            self.derivations.request(derive, partial(self._apply, staggered=True))

    def _apply(self, scene: log_scene.Scene, staggered: bool = False) -> None:
        """Hand a derived scene to the panels: arrays to a few items, nothing computed.

        ``staggered`` (a big scene, from a worker): the panels are painted one per event-loop
        turn (:class:`~ui.paint_stagger.PaintStagger`; their first paints of a 10M-point log
        in one go froze the window ~90 ms), and ``drawn`` is emitted a turn after the last."""
        panels = (self.loss_panel, self.lr_panel, self.loss_lr_panel)
        if staggered:
            self._stagger.stagger([p.graphics for p in panels], then=self.drawn.emit)
        else:
            self._stagger.release()  # an older scene's, not all shown yet: this one replaces it
        self.scene = scene
        self.hidden_runs = scene.hidden_runs
        # The axes these runs have: a sweep logged by epoch is drawn (and labelled) by
        # epoch in this very scene, not in the next (the form follows without asking again).
        self.form.x_axis.blockSignals(True)
        self.form.set_axes(scene.axes)
        self.form.x_axis.blockSignals(False)
        self._refresh_pickers()
        axis = scene.axis
        self.loss_layer.show(scene.loss, [_color(c.key) for c in scene.loss])
        self.loss_legend.update()
        self.lr_layer.show(scene.lr, [_color(c.key) for c in scene.lr])
        self.loss_lr_layer.show(scene.loss_lr, [_color(c.key) for c in scene.loss_lr])
        self._draw_sweep()
        sweep_x, _ = self.sweep_points.getData()
        on_loss_vs_lr = bool(scene.loss_lr) or len(sweep_x) > 0
        if self.layers is not None and scene.runs > self._had_runs and on_loss_vs_lr:
            self.layers.show(LAYER)  # new runs to compare on loss vs λ: the logs' layer
            if len(sweep_x) >= 2:
                self.wants_loss_vs_lr.emit()  # a sweep: loss vs λ is its main view
        if scene.runs != self._had_runs:
            # Another set of logs: the axes fit it, not the previous one.
            for panel in (self.loss_panel, self.lr_panel, self.loss_lr_panel):
                panel.plot.getViewBox().enableAutoRange()
        self._had_runs = scene.runs
        self._show_range_curve(scene.range_curve)
        self._apply_y_range()
        label = {"step": "step", "epoch": "epoch", "time": "wall time"}.get(axis, axis)
        # Runs whose λ is a parameter, or not logged at all: say so instead of empty axes.
        self.lr_panel.set_logs_without_lr(*no_lr_message(scene))
        self.loss_panel.plot.setTitle(
            f"the {scene.runs:,} lowest final losses of {scene.runs + scene.hidden_runs:,} runs"
            if scene.hidden_runs
            else None,
            size="9pt",
        )
        if scene.runs:
            # Steps, and the epochs of a log that counts whole ones, are ticked at whole
            # numbers (a 3-epoch Keras log read "epoch 0.5, 1.5"; HF's epochs are fractions).
            counting = axis == "step" or (axis == "epoch" and _whole_numbers(scene.loss))
            for panel in (self.loss_panel, self.lr_panel):
                panel.plot.setLabel("bottom", label, units="s" if axis == "time" else None)
                panel.plot.getAxis("bottom").integer_ticks = counting
        for panel in panels:
            # The views' auto ranges settle now, not in the paint: a range settled there
            # lays the axes out again after they were painted, and each panel was painted
            # twice (pyqtgraph's ViewBox.prepareForPaint, which a paint calls first).
            panel.plot.getViewBox().prepareForPaint()
        for name in self._zoom_jobs:
            self._follow_view(name)  # a zoomed-in view gets the new data in detail too
        if not staggered:
            self.drawn.emit()

    # --- zoomed-in views: full detail, derived on a worker ----------------------------------
    def _on_x_range(self, name: str, *_args) -> None:
        if self.scene is not None:
            self._follow_view(name)

    def _follow_view(self, name: str) -> None:
        """The view of panel ``name`` changed: a view showing less than ZOOM_FRACTION of its
        curves draws them at full detail for what it shows (derived off the GUI thread),
        a wider one their whole envelope again."""
        layer, panel = self._zoomable[name]
        extent = layer.extent()
        if extent is None or not layer.needs_detail():
            return
        (x0, x1), _ = panel.plot.getViewBox().viewRange()
        if panel.plot.getAxis("bottom").logMode:
            x0, x1 = 10.0**x0, 10.0**x1
        lo, hi = max(x0, extent[0]), min(x1, extent[1])
        if hi <= lo or (hi - lo) >= ZOOM_FRACTION * (extent[1] - extent[0]):
            self._zoom_jobs[name].cancel()
            layer.show_whole()
            return
        if layer.zoomed == (lo, hi):
            return
        curves = layer.curves

        def apply(zoomed) -> None:
            if layer.curves is curves:  # the same scene: a newer one draws itself
                layer.show_zoomed(lo, hi, zoomed)

        self._zoom_jobs[name].request(lambda: log_scene.zoom(curves, lo, hi), apply)

    def _set_layer_visible(self, visible: bool) -> None:
        self.loss_lr_layer.set_visible(visible)
        self.sweep_points.setVisible(visible)
        self.sweep_diverged.setVisible(visible)
        self._use_statistic()

    def _use_statistic(self) -> None:
        """The final/best loss choice applies to the sweep's points, when they are shown."""
        x, _ = self.sweep_points.getData()
        shown = self.sweep_points.isVisible() and len(x) > 0
        self.loss_lr_panel.use_statistic(LAYER, shown)

    def _draw_sweep(self, *_args) -> None:
        """Every visible trial's point on loss vs λ (derived in the scene), coloured by λ."""
        table = self.scene.sweep if self.scene is not None else {}
        if table.get("lr", np.empty(0)).size < 2:
            self.sweep_points.set_points([], [])
            self.sweep_diverged.set_points([], [])
            self._use_statistic()
            return
        statistic = "best" if self.loss_lr_panel.statistic.currentIndex() == 1 else "final"
        y = table[statistic]
        ok = np.isfinite(y) & (y > 0) & ~table["diverged"]
        lr = table["lr"][ok]
        levels = np.rint(lr_positions(lr) * (SWEEP_LEVELS - 1)).astype(np.intp) if lr.size else None
        self.sweep_points.set_outline(lr.size <= DENSE_DOTS)
        self.sweep_points.set_points(lr, y[ok], levels, groups=table["group"][ok])
        # Trials that went NaN/inf, were pruned or failed: × along the top of the points, as
        # diverged simulated runs are, never a dot that stretches the axis to 1e27.
        top = float(y[ok].max()) * 3 if ok.any() else 1.0
        lost = table["diverged"]
        self.sweep_diverged.set_points(table["lr"][lost], np.full(int(lost.sum()), top))
        self._use_statistic()

    def _show_range_curve(self, range_curve) -> None:
        if self.range_tool is None:
            return
        if range_curve is None:
            if self._shown_range_curve is not None:
                self._shown_range_curve = None
                self.range_tool.clear()
            return
        entry, (lr, loss) = range_curve
        run = entry.key  # the LoadedRun
        key = (id(run.run), lr.size)
        if key != self._shown_range_curve:
            self._shown_range_curve = key
            # Finders save a smoothed loss; the tool finds whose and undoes it, as
            # `lrviz suggest` does (read_suggestion).
            self.range_tool.show_range_curve(
                lr, loss, run.label, path=run.log.path, log_format=run.log.format
            )

    def _apply_y_range(self) -> None:
        view = self.loss_panel.plot.getViewBox()
        if not self.form.robust.isChecked():
            view.enableAutoRange(axis=pg.ViewBox.YAxis)
            return
        if self.scene is None or not self.scene.loss:
            return
        log = self.loss_panel.log_y.isChecked()
        band = self.scene.robust.get(log)  # derived with the scene, for both y axes
        if band is not None:
            lo, hi = band
            if log:
                lo, hi = np.log10(lo), np.log10(hi)
            view.setYRange(lo, hi, padding=0)

    # --- pickers, watch, crosshair --------------------------------------------------------
    def _series_picker(self, panel, tooltip: str) -> QComboBox:
        combo = QComboBox()
        combo.setToolTip(tooltip)
        combo.setMinimumContentsLength(12)
        combo.setVisible(False)
        panel.header.insertWidget(0, combo)
        return combo

    def _refresh_pickers(self) -> None:
        """The series the scene's runs have (derived with it), as the pickers' choices."""
        scene = self.scene
        for combo, role in ((self.loss_series, "loss"), (self.lr_series, "lr")):
            names = scene.loss_names if role == "loss" else scene.lr_names
            wanted = [("main series", None)]
            if role == "loss" and scene.has_validation:
                # Train and validation loss together: the usual question of a training log.
                wanted.append(("train + validation", TRAIN_AND_VALIDATION))
            wanted += [(name, name) for name in names]
            have = [(combo.itemText(i), combo.itemData(i)) for i in range(combo.count())]
            if have == wanted:
                continue
            current = combo.currentData()
            combo.blockSignals(True)
            combo.clear()
            for text, data in wanted:
                combo.addItem(text, data)
            index = combo.findData(current)
            combo.setCurrentIndex(index if index >= 0 else 0)
            combo.blockSignals(False)
            combo.setVisible(combo.count() > 2)

    def _set_watch(self, on: bool) -> None:
        for log in self.library.logs:
            log.watch = on
        if on:
            self.library.watch_timer.start()
        else:
            self.library.watch_timer.stop()

    def _install_crosshair(self) -> None:
        plot = self.loss_panel.plot
        self.crosshair = pg.InfiniteLine(
            angle=90, movable=False, pen=pg.mkPen((120, 120, 120), style=pg.QtCore.Qt.DashLine)
        )
        self.crosshair.setVisible(False)
        plot.addItem(self.crosshair, ignoreBounds=True)
        self.readout = QLabel()
        self.loss_panel.header.insertWidget(1, self.readout)
        self._mouse_proxy = pg.SignalProxy(
            plot.scene().sigMouseMoved, rateLimit=60, slot=self._mouse_moved
        )

    def _mouse_moved(self, event) -> None:
        pos = event[0]
        plot = self.loss_panel.plot
        if not plot.sceneBoundingRect().contains(pos) or not self.loss_layer.items:
            self.crosshair.setVisible(False)
            self.readout.clear()
            return
        x = plot.getViewBox().mapSceneToView(pos).x()
        self.crosshair.setPos(x)
        self.crosshair.setVisible(True)
        self.readout.setText(self.readout_text(x))

    def readout_text(self, x: float) -> str:
        """Values of every drawn run nearest to ``x`` (what the crosshair shows)."""
        points = self.loss_layer.nearest(x)
        parts = []
        for label, px, py in points[:4]:
            parts.append(f"{label} = {format_lr(py, invalid=f'{py:.3g}')} @ {px:g}")
        if len(points) > 4:
            parts.append(f"+{len(points) - 4} more")
        return "   ".join(parts)


#: What would put a log's λ on the λ vs iteration panel, by its format (see LOG_FORMATS).
NO_LR_HINT = (
    "Log the learning rate at each step (a learning-rate column or scalar, e.g. Lightning's "
    "LearningRateMonitor) to see its schedule here."
)
NO_LR_HINTS = {
    "fastai-csv": "fastai's CSVLogger writes no learning rate; its Recorder keeps one a batch "
    "(learn.recorder.lrs): save it as an lr column to see the schedule here.",
    "tensorboard-csv": "TensorBoard's CSV holds one tag: download the learning-rate tag too, "
    "or open the run's event files.",
    "tensorboard-events": "No learning-rate scalar in these events: log one (e.g. "
    "writer.add_scalar('lr', …) or Lightning's LearningRateMonitor) to see it here.",
    "wandb-csv": "The chart exported holds no learning-rate metric: export the chart of the "
    "learning rate too.",
    "keras-csv": "Keras logs the learning rate only when a scheduler callback runs before "
    "the CSVLogger: add one to see the schedule here.",
}


def no_lr_message(scene: log_scene.Scene) -> tuple[str | None, str]:
    """Why the λ vs iteration panel draws none of ``scene``'s runs (headline, hint), or
    (None, "") when it draws some, or there are none."""
    if not scene.runs or scene.lr:
        return None, ""
    headline = (
        "This log records no per-step λ" if scene.runs == 1 else "These runs record no per-step λ"
    )
    if scene.sweep.get("lr", np.empty(0)).size:
        return headline, "Each trial ran at one fixed λ: see its loss against it on loss vs λ."
    formats = {getattr(getattr(c.key, "log", None), "format", "") for c in scene.loss}
    hint = NO_LR_HINTS.get(formats.pop(), NO_LR_HINT) if len(formats) == 1 else NO_LR_HINT
    return headline, hint


#: Values of each curve looked at to tell whole-number x (the first ones: enough to see
#: a fractional epoch, cheap for a 10M-point log in the GUI thread).
WHOLE_SAMPLE = 4096


def _whole_numbers(curves) -> bool:
    """Whether the curves' x look like whole numbers (sampled: see WHOLE_SAMPLE)."""
    for curve in curves:
        x = curve.x[:WHOLE_SAMPLE]
        x = x[np.isfinite(x)]
        if x.size and not np.all(x == np.round(x)):
            return False
    return True


def _small(runs) -> bool:
    """Few runs of few points: derived in the GUI thread, where it takes well under a frame."""
    if len(runs) > INLINE_RUNS:
        return False
    points = 0
    for r in runs:
        points += sum(len(s) for s in getattr(r.run, "series", ()))
        if points > INLINE_POINTS:
            return False
    return True


def _color(key):
    """The colour of a scene curve: its run's (a validation curve's key is (run, "validation"))."""
    run = key[0] if isinstance(key, tuple) else key
    return run.color

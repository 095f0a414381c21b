"""Draws the opened logs into the panels and keeps them in step with the Inspect options."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QComboBox, QLabel

from lrviz import log_views
from lrviz.loaders import lr_finder
from lrviz.lr_format import format_lr

from .colors import DIVERGED, lr_colors
from .forms.inspect_form import InspectForm
from .log_library import LogLibrary
from .panels.log_layer import LogLayer
from .panels.loss_vs_lr import LossVsLrPanel
from .panels.run_curves import LossVsIterationPanel, LrVsIterationPanel

#: the formats whose file is a saved range test (declared once, by its format module)
RANGE_TEST_FORMATS = (lr_finder.FORMAT,)
#: the logs' name on the loss vs λ panel's layer switch
LAYER = "logs"
#: the most learning curves drawn at once (the lowest final losses of a bigger sweep)
MAX_CURVES = 200
#: the loss picker's choice that draws each run's train and validation losses together
TRAIN_AND_VALIDATION = "\x00train+validation"


class LogView(QObject):
    """Owns the log layers of the three panels, the series pickers and the crosshair.

    Signals: ``wants_loss_vs_lr()`` a sweep was opened, whose main view is loss vs λ."""

    wants_loss_vs_lr = Signal()

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
        self.lr_layer = LogLayer(lr_panel.plot)
        self.loss_lr_layer = LogLayer(loss_lr_panel.plot)
        self.sweep_points = pg.PlotDataItem(
            pen=pg.mkPen((150, 150, 150), width=1), symbol="o", symbolSize=9
        )
        loss_lr_panel.plot.addItem(self.sweep_points)
        self.sweep_diverged = pg.PlotDataItem(
            pen=None, symbol="x", symbolSize=11, symbolPen=pg.mkPen(DIVERGED, width=2)
        )
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
        self._pairs_cache: dict = {}
        self._validation_keys: dict[int, object] = {}  # run -> the key of its val curve
        self.hidden_runs = 0  # learning curves not drawn (a sweep beyond MAX_CURVES)

        # Coalesce bursts of changes (a slider drag, a reload) into one redraw per event-loop turn.
        self._pending = QTimer(self)
        self._pending.setSingleShot(True)
        self._pending.setInterval(0)
        self._pending.timeout.connect(self.redraw)
        for signal in (
            library.changed,
            library.data_updated,
            form.options_changed,
            self.loss_series.currentIndexChanged,
            self.lr_series.currentIndexChanged,
        ):
            signal.connect(self.schedule_redraw)
        library.changed.connect(self._refresh_pickers)
        library.data_updated.connect(self._refresh_pickers)
        form.watch.toggled.connect(self._set_watch)
        self._install_crosshair()

    def schedule_redraw(self, *_args) -> None:
        self._pending.start()

    # --- drawing --------------------------------------------------------------------------
    def redraw(self) -> None:
        runs = self._drawable(self.library.visible_runs())
        if len(self._pairs_cache) > 4 * max(1, len(runs)):
            self._pairs_cache.clear()  # series of closed or reloaded logs
        # The axes these runs have, before reading the chosen one: a sweep logged by epoch
        # is drawn (and labelled) by epoch in this very redraw, not in the next.
        self.form.set_axes(
            log_views.available_axes([r.run for r in runs]) if runs else list(log_views.AXES)
        )
        axis = self.form.axis
        smoothing = self.form.smoothing
        loss_curves, lr_curves, loss_lr_curves = [], [], []
        range_curve = None
        for run in runs:
            model = run.run
            choice = self.loss_series.currentData()
            both = choice == TRAIN_AND_VALIDATION
            loss = log_views.pick_series(model, "loss", None if both else choice)
            if loss is not None:
                x, _ = log_views.x_values(model, loss, axis)
                loss_curves.append(
                    (run, run.color, x, np.asarray(loss.y, float), f"{run.label}: {loss.name}")
                )
            validation = log_views.validation_series(model) if both else None
            if validation is not None and validation is not loss:
                x, _ = log_views.x_values(model, validation, axis)
                key = self._validation_keys.setdefault(id(run), object())
                loss_curves.append(
                    (
                        key,
                        run.color,
                        x,
                        np.asarray(validation.y, float),
                        f"{run.label}: {validation.name}",
                    )
                )
            lr = log_views.pick_series(model, "lr", self.lr_series.currentData())
            if lr is not None:
                x, _ = log_views.x_values(model, lr, axis)
                x, y = log_views.held_steps(x, lr.y)  # a step schedule drawn as steps
                lr_curves.append((run, run.color, x, y, f"{run.label}: {lr.name}"))
            pairs = self._loss_against_lr(model, loss)
            if pairs is not None:
                if run.log.format in RANGE_TEST_FORMATS and range_curve is None:
                    range_curve = (run, pairs)
                else:
                    loss_lr_curves.append((run, run.color, pairs[0], pairs[1], run.label))
        self.loss_layer.update(loss_curves, smoothing)
        self.lr_layer.update(lr_curves, 0.0)
        self.loss_lr_layer.update(loss_lr_curves, smoothing)
        self._draw_sweep(runs)
        sweep_x, _ = self.sweep_points.getData()
        on_loss_vs_lr = bool(loss_lr_curves) or (sweep_x is not None and len(sweep_x) > 0)
        if self.layers is not None and len(runs) > self._had_runs and on_loss_vs_lr:
            self.layers.show(LAYER)  # new runs to compare on loss vs λ: the logs' layer
            if sweep_x is not None and len(sweep_x) >= 2:
                self.wants_loss_vs_lr.emit()  # a sweep: loss vs λ is its main view
        if len(runs) != self._had_runs:
            # Another set of logs: the axes fit it, not the previous one.
            for panel in (self.loss_panel, self.lr_panel, self.loss_lr_panel):
                panel.plot.getViewBox().enableAutoRange()
        self._had_runs = len(runs)
        self._show_range_curve(range_curve)
        self._apply_y_range()
        label = {"step": "step", "epoch": "epoch", "time": "wall time"}.get(axis, axis)
        # Runs whose λ is a parameter, not a logged series: say so instead of empty axes.
        self.lr_panel.plot.setTitle(
            "no run logs λ per step (a sweep's λ is on loss vs λ)"
            if runs and not lr_curves
            else None,
            size="9pt",
        )
        self.loss_panel.plot.setTitle(
            f"the {len(runs)} lowest final losses of {len(runs) + self.hidden_runs} runs"
            if self.hidden_runs
            else None,
            size="9pt",
        )
        if runs:
            self.loss_panel.plot.setLabel("bottom", label, units="s" if axis == "time" else None)
            self.lr_panel.plot.setLabel("bottom", label, units="s" if axis == "time" else None)

    def _loss_against_lr(self, model, loss):
        """log_views.loss_against_lr, remembered per series: 2M-point logs pay the log-space
        interpolation once, not at every redraw (a slider move, a tick of the watch)."""
        lr = log_views.pick_series(model, "lr")
        key = (id(loss), id(lr))
        cached = self._pairs_cache.get(key)
        # The entry holds the series themselves, so their ids cannot be reused meanwhile.
        if cached is None or cached[0] is not loss or cached[1] is not lr:
            cached = self._pairs_cache[key] = (loss, lr, log_views.loss_against_lr(model, loss))
        return cached[2]

    def _drawable(self, runs: list) -> list:
        """At most MAX_CURVES learning curves (a 10,000-trial study would make 20,000 plot
        items and freeze the window): the ones with the lowest final loss. Every trial still
        has its point on loss vs λ (drawn from all runs)."""
        keep = set(log_views.lowest_final_losses([r.run for r in runs], MAX_CURVES))
        self.hidden_runs = len(runs) - len(keep)
        return [r for i, r in enumerate(runs) if i in keep]

    def _set_layer_visible(self, visible: bool) -> None:
        self.loss_lr_layer.set_visible(visible)
        self.sweep_points.setVisible(visible)
        self.sweep_diverged.setVisible(visible)
        self._use_statistic()

    def _use_statistic(self) -> None:
        """The final/best loss choice applies to the sweep's points, when they are shown."""
        x, _ = self.sweep_points.getData()
        shown = self.sweep_points.isVisible() and x is not None and len(x) > 0
        self.loss_lr_panel.use_statistic(LAYER, shown)

    def _draw_sweep(self, runs) -> None:
        # every visible trial, not only the drawn curves
        table = log_views.sweep_points([r.run for r in self.library.visible_runs()])
        if table["lr"].size < 2:
            self.sweep_points.setData([], [])
            self.sweep_diverged.setData([], [])
            self._use_statistic()
            return
        statistic = "best" if self.loss_lr_panel.statistic.currentIndex() == 1 else "final"
        y = table[statistic]
        ok = np.isfinite(y) & (y > 0) & ~table["diverged"]
        brushes = [pg.mkBrush(c) for c in lr_colors(table["lr"][ok])]
        self.sweep_points.setData(table["lr"][ok], y[ok], symbolBrush=brushes)
        # Trials that went NaN/inf, were pruned or failed: × along the top of the points, as
        # diverged simulated runs are, never a dot that stretches the axis to 1e27.
        top = float(y[ok].max()) * 3 if ok.any() else 1.0
        lost = table["diverged"]
        self.sweep_diverged.setData(table["lr"][lost], np.full(int(lost.sum()), top))
        self._use_statistic()

    def _show_range_curve(self, range_curve) -> None:
        if self.range_tool is None:
            return
        if range_curve is None:
            if self._shown_range_curve is not None:
                self._shown_range_curve = None
                self.range_tool.clear()
            return
        run, (lr, loss) = range_curve
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
        values = [y for y in self.loss_layer.shown_y if y.size]
        if not values:
            return
        log = self.loss_panel.log_y.isChecked()
        band = log_views.robust_range(np.concatenate(values), log=log)
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
        runs = [r.run for r in self.library.visible_runs()]
        for combo, role in ((self.loss_series, "loss"), (self.lr_series, "lr")):
            names = log_views.series_names(runs, role)
            current = combo.currentData()
            combo.blockSignals(True)
            combo.clear()
            combo.addItem("main series", None)
            if role == "loss" and any(log_views.validation_series(r) for r in runs):
                # Train and validation loss together: the usual question of a training log.
                combo.addItem("train + validation", TRAIN_AND_VALIDATION)
            for name in names:
                combo.addItem(name, name)
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

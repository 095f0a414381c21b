"""The Search tool: a coarse-to-fine search for the best constant λ, drawn as it runs.

:class:`SearchTool` wires the Search tab (:class:`~ui.forms.search_form.SearchForm`), the
search's layer on the shared loss vs λ panel (exclusive, like the range test's: registered on
its :class:`~ui.panels.layers.LayerSwitch`), its curves on the loss vs iteration panel (which
it covers while shown, so the simulation's runs never mix with the search's), a status-bar
label with progress and ETA, and the chosen range its result becomes, exported like the range
test's.

Data flow: :meth:`lrviz.search.LrSearch.run` runs in the worker (``ui.jobs.JobRunner``) and
yields events; in the GUI thread they fill per-candidate buffers and mark the drawing dirty;
a ~30 Hz timer draws once if dirty.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QLabel,
    QStatusBar,
    QTabWidget,
    QWidget,
)

from lrviz.lr_format import format_lr
from lrviz.search import (
    CONFIRM,
    FULL,
    LrSearch,
    PhaseStarted,
    RungEnded,
    RunsAdvanced,
    SearchFinished,
    SearchResult,
    StageEnded,
    StageStarted,
)
from lrviz.smoothing import debiased_ema

from .forms.search_form import TARGET_TITLES, SearchForm, SearchRequest
from .jobs import JobRunner
from .panels.layers import LayerSwitch
from .panels.search_overlay import SearchOverlay, stage_name
from .range_export import RangeExporter, range_code
from .range_selection import RangeSelection
from .tool_tabs import add_scrolling_tab

REDRAW_INTERVAL_MS = 33
BATCH_ITERATIONS = 2000
BATCH_SECONDS = 0.03
#: Points kept per candidate's loss curve (every k-th iteration beyond): screen resolution.
MAX_CURVE_POINTS = 4000
#: EMA weight of the loss curves of a minibatch objective (each λ's curve is readable; the
#: scores are full-data losses, not these)
CURVE_SMOOTHING = 0.95
#: this tool's name on the loss vs λ panel's layer switch
LAYER = "search"
STOP_REASONS = {
    "bracket": "the bracket is narrower than 1.25x",
    "stages": "every stage ran",
    "budget": "the budget is spent",
    "diverged": "every λ of the coarse stage diverged",
    "stopped": "stopped by hand",
}


class _Candidate:
    """One trial as the GUI sees it: its stage, its curve (strided) and its fate."""

    def __init__(self, lr: float, stage: int, iterations: int) -> None:
        self.lr, self.stage = lr, stage
        self.stride = max(1, math.ceil(iterations / MAX_CURVE_POINTS))
        self.loss = np.full(math.ceil(iterations / self.stride) + 1, np.nan)
        self.count = 0  # curve points recorded
        self.phase = FULL
        self.score = math.nan
        self.pruned = self.diverged = self.full = False

    def restart(self, phase: str) -> None:
        self.loss[:] = np.nan
        self.count, self.phase = 0, phase

    def record(self, start: int, values: np.ndarray) -> None:
        stride = self.stride
        first = -(-start // stride) * stride
        its = np.arange(first, start + values.size, stride)
        if its.size:
            rows = its // stride
            picked = values[its - start]
            self.loss[rows] = picked
            # A stopped run's columns go on as NaN: its curve ends where it stopped.
            ran = rows[~np.isnan(picked)]
            if ran.size:
                self.count = max(self.count, int(ran[-1]) + 1)

    def curve(self, smoothing: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
        """(iterations, loss) drawn; ``smoothing``: the weight of a debiased EMA per
        iteration (minibatch losses jump by more than the λ differ)."""
        n = self.count
        x = np.arange(n) * self.stride
        y = self.loss[:n].copy()
        if smoothing > 0 and n:
            y = debiased_ema(y, smoothing**self.stride)
        with np.errstate(invalid="ignore"):
            y[~(y > 0)] = np.nan  # log y: a loss of 0 or less cannot be drawn
        return x, y


class SearchTool(QObject):
    """Everything about searching for λ, coarse to fine.

    Public API
    ----------
    run_search(request=None) -> bool   start (the form's settings by default); False if invalid
    stop_search()
    adopt(settings)                     search the problem of a range test (RangeTestSpec)
    result -> SearchResult | None
    chosen_range -> (min_lr, max_lr) | None
    code(target=None) -> str; copy_code(); save_json(path); save_json_dialog()
    get_state() / set_state(dict)       the form's settings, for sessions
    shutdown()

    Signals
    -------
    started(), progressed(int, int) (run-iterations spent, planned), finished(object) (the
    SearchResult), range_changed(object), failed(str), wants_panel()
    """

    started = Signal()
    progressed = Signal(int, int)
    finished = Signal(object)
    range_changed = Signal(object)
    failed = Signal(str)
    wants_panel = Signal()

    def __init__(
        self,
        lr_panel,
        iteration_panel,
        controls: QTabWidget,
        status_bar: QStatusBar,
        host: QWidget,
        layers: LayerSwitch,
        parent: QObject | None = None,
    ) -> None:
        """Handed what it uses: the loss vs λ ``lr_panel`` (and its ``layers``), the loss vs
        iteration panel (covered while the search is shown), the ``controls`` tabs (it adds
        its own), the ``status_bar`` (one permanent label) and the ``host`` of its shortcut
        and dialogs. It never reaches into the window."""
        super().__init__(parent)
        self.host, self.controls, self.layers = host, controls, layers
        self.lr_panel, self.iteration_panel = lr_panel, iteration_panel
        self.form = SearchForm()
        self.overlay = SearchOverlay(lr_panel.plot, iteration_panel.plot, parent=self)
        self.selection = RangeSelection(self)
        self.jobs = JobRunner("lrviz-search", self)
        self.request: SearchRequest | None = None
        self.result: SearchResult | None = None
        self._search: LrSearch | None = None
        self._candidates: dict[int, _Candidate] = {}
        self._kinds: dict[int, str] = {}
        self._stage = 0
        self._best: float | None = None
        self._bracket: tuple[float, float] | None = None
        self._spent = self._planned = 0
        self._started_at = 0.0
        self._smoothing = 0.0  # of the loss curves drawn: EMA for minibatch objectives
        self._dirty_curves: set[int] = set()
        self._dirty_points = False
        self.exporter = RangeExporter(
            host,
            self.code,
            lambda: TARGET_TITLES[self.form.target_key],
            lambda text, error: self.form.show_export_message(text, error=error),
            missing="Run a search first.",
            title="Save the search's λ range",
        )

        self._build_tab()
        self.show_layer = QCheckBox("search")
        self.show_layer.setChecked(True)
        self.show_layer.setToolTip("Show the search's candidates, bracket and best λ on this plot.")
        self.show_layer.toggled.connect(lambda on: self.layers.set_shown(LAYER, on))
        lr_panel.header.addWidget(self.show_layer)
        self.show_layer.setVisible(False)  # until there is a search
        self.layers.register(LAYER, self._set_layer_visible, exclusive=True, shown=False)
        self.overlay.set_visible(False)
        # What the colours mean, under the plot: a legend inside it hid the best points.
        self.key = QLabel()
        self.key.setWordWrap(True)
        self.key.setContentsMargins(8, 2, 8, 4)
        font = self.key.font()
        font.setPointSizeF(max(font.pointSizeF() - 1.0, 7.5))
        self.key.setFont(font)
        self.key.setToolTip("The search's stages and marks on this plot.")
        self.key.hide()
        lr_panel.layout().addWidget(self.key)
        self.overlay.key_changed.connect(self._show_key)
        # Say what the search's curves on loss vs iteration are, when they are smoothed.
        self.iteration_note = QLabel()
        self.iteration_note.setToolTip(
            "The search's runs, smoothed for reading; candidates are ranked by their "
            "full-data loss, not by these curves."
        )
        iteration_panel.header.insertWidget(0, self.iteration_note)
        self.iteration_note.hide()
        self.status_label = QLabel()
        self.status_label.setToolTip("The search's progress, or its result (Search tab).")
        status_bar.addPermanentWidget(self.status_label)
        self.status_label.hide()

        self.redraw_timer = QTimer(self)
        self.redraw_timer.setInterval(REDRAW_INTERVAL_MS)
        self.redraw_timer.timeout.connect(self.redraw)
        self.shortcut = QShortcut(QKeySequence("Ctrl+G"), host, activated=self._run_clicked)
        self._wire()

    # --- composition ----------------------------------------------------------------------
    def _build_tab(self) -> None:
        self.tab = add_scrolling_tab(
            self.controls,
            "Search",
            "Search coarse to fine for the best constant λ, stopping poor candidates early.",
            [(self.form, 0)],
        )

    def _wire(self) -> None:
        form = self.form
        form.run_requested.connect(self.run_search)
        form.stop_requested.connect(self.stop_search)
        form.target_changed.connect(lambda _key: self._update_code())
        form.copy_requested.connect(self.copy_code)
        form.save_requested.connect(self.save_json_dialog)
        self.overlay.range_edited.connect(self._on_region_edit)
        self.selection.range_changed.connect(self._on_range_changed)

    def _run_clicked(self) -> None:
        self.form.run_button.click()

    # --- public API -----------------------------------------------------------------------
    @property
    def chosen_range(self) -> tuple[float, float] | None:
        return self.selection.range

    def adopt(self, settings) -> None:
        """Search the problem a range test ran on (a ``RangeTestSpec``), with its
        length as the budget, so that the two can be compared."""
        if settings is not None and not self.jobs.running:
            self.form.use_problem(settings.config, settings.iterations)

    def run_search(self, request: SearchRequest | None = None) -> bool:
        """Start a search and stream it into the plots. False (and a message in the form)
        if the settings are invalid or past the size limits."""
        try:
            request = request if request is not None else self.form.request()
            search = LrSearch(request.config, request.settings)
        except ValueError as exc:  # SizeError is a ValueError's sibling: both say one line
            self.form.show_error(str(exc))
            return False
        except Exception as exc:  # LrvizError (size limits) and formula errors
            self.form.show_error(str(exc).splitlines()[0] if str(exc) else repr(exc))
            return False
        self._halt()
        self.form.message.clear()
        self.request, self.result, self._search = request, None, search
        self._smoothing = CURVE_SMOOTHING if search.objective.stochastic else 0.0
        self.iteration_note.setText(
            f"search: minibatch loss, EMA {CURVE_SMOOTHING:g}" if self._smoothing else ""
        )
        self.iteration_note.setVisible(bool(self._smoothing))
        self._candidates.clear()
        self._kinds.clear()
        self._best = self._bracket = None
        self._spent, self._planned = 0, 0
        self._started_at = time.perf_counter()
        self.overlay.clear()
        self.selection.reset(None)
        self.form.show_result(None)
        self.form.set_running(True)
        self.form.show_status("Starting…")
        self.show_layer.setVisible(True)
        settings = request.settings
        self.lr_panel.plot.setLogMode(x=True, y=True)
        self.lr_panel.plot.getViewBox().setXRange(
            math.log10(settings.min_lr), math.log10(settings.max_lr), padding=0.04
        )
        self.lr_panel.plot.getViewBox().enableAutoRange(axis="y")
        self.iteration_panel.plot.getViewBox().enableAutoRange()
        self._reveal()
        self.redraw_timer.start()
        self.jobs.stream(
            search,
            self._on_event,
            self._on_failed,
            self._on_finished,
            BATCH_ITERATIONS,
            BATCH_SECONDS,
        )
        self.started.emit()
        return True

    def stop_search(self) -> None:
        """Stop between batches; what the search found so far becomes its result."""
        if self.jobs.running:
            self.jobs.halt()

    def code(self, target: str | None = None) -> str:
        """Export text of the chosen range and the best λ for ``target`` (default: the
        form's); empty without a result."""
        target = target or self.form.target_key
        if self.result is None:
            return ""
        optimizer = self.request.config.optimizer if self.request is not None else None
        return range_code(
            self.selection.range, self.result.best_lr, target, optimizer, self._json_extra
        )

    def copy_code(self) -> str:
        return self.exporter.copy()

    def save_json(self, path: str | Path) -> Path:
        """Write the chosen range, the best λ and the search as JSON, atomically."""
        if self.selection.range is None or self.result is None:
            raise ValueError("no search result yet")
        return self.exporter.save(path)

    def save_json_dialog(self) -> Path | None:
        name = self.request.config.objective if self.request is not None else "lr"
        return self.exporter.save_dialog(
            self.selection.range is not None, f"{name}-search.json", self.save_json
        )

    def get_state(self) -> dict:
        return {"form": self.form.get_state()}

    def set_state(self, state: dict) -> None:
        if isinstance(state.get("form"), dict):
            self.form.set_state(state["form"])

    def shutdown(self) -> None:
        self.redraw_timer.stop()
        self.jobs.shutdown()

    # --- worker events --------------------------------------------------------------------
    def _on_event(self, event) -> None:
        if self._search is None:
            return
        self._spent, self._planned = event.spent, max(event.planned, event.spent)
        if isinstance(event, RunsAdvanced):
            loss = event.batch.loss
            for j, trial in enumerate(event.trial_ids):
                self._candidates[int(trial)].record(event.batch.start, loss[:, j])
                self._dirty_curves.add(int(trial))
        elif isinstance(event, StageStarted):
            self._stage = event.stage
            self._kinds[event.stage] = event.kind
            iterations = self._search.iterations
            for trial, lr in zip(event.trial_ids, event.lrs, strict=True):
                self._candidates[int(trial)] = _Candidate(float(lr), event.stage, iterations)
        elif isinstance(event, PhaseStarted):
            for trial in event.trial_ids:
                self._candidates[int(trial)].restart(event.phase)
                self._dirty_curves.add(int(trial))
        elif isinstance(event, RungEnded):
            last = event.iteration >= self._search.iterations and event.phase == FULL
            for j, trial in enumerate(event.trial_ids):
                candidate = self._candidates[int(trial)]
                if event.diverged[j]:
                    candidate.diverged = candidate.pruned = True
                elif math.isfinite(event.scores[j]):
                    candidate.score = float(event.scores[j])
                    candidate.pruned = not bool(event.kept[j])
                    candidate.full = last
                self._dirty_curves.add(int(trial))
            self._dirty_points = True
        elif isinstance(event, StageEnded):
            self._best, self._bracket = event.best_lr, event.bracket
            self._dirty_points = True
        elif isinstance(event, SearchFinished):
            self.result = event.result
        self._show_progress()
        self.progressed.emit(self._spent, max(self._planned, 1))

    def _on_failed(self, message: str) -> None:
        self.form.show_error(f"Search failed: {message}")
        self.failed.emit(message)

    def _on_finished(self, completed: bool) -> None:
        self.redraw_timer.stop()
        self.form.set_running(False)
        search = self._search
        if search is None:
            return
        if self.result is None:  # stopped by hand: what it found so far
            self.result = search.result()
        self._best, self._bracket = self.result.best_lr, self.result.bracket
        self._dirty_points = True
        self.redraw()
        self._show_result()
        self.finished.emit(self.result)

    # --- drawing --------------------------------------------------------------------------
    def redraw(self) -> bool:
        """Draw what changed since the last draw (called by the timer)."""
        if not (self._dirty_curves or self._dirty_points):
            return False
        for trial in sorted(self._dirty_curves):
            c = self._candidates.get(trial)
            if c is not None:
                x, y = c.curve(self._smoothing)
                self.overlay.set_curve(trial, c.stage, x, y, c.pruned, c.full)
        self._dirty_curves.clear()
        if self._dirty_points:
            self._draw_points()
            self._dirty_points = False
        return True

    def _draw_points(self) -> None:
        stages: dict[int, list[_Candidate]] = {}
        for c in self._candidates.values():
            stages.setdefault(c.stage, []).append(c)
        scores = [c.score for c in self._candidates.values() if c.score > 0]
        top = max(scores) * 2.0 if scores else None
        floor = min(scores) if scores else 1e-300
        for stage, group in stages.items():
            self.overlay.set_points(
                stage,
                self._kinds.get(stage, ""),
                [c.lr for c in group],
                [np.nan if c.diverged else c.score for c in group],
                [c.full for c in group],
                [c.pruned for c in group],
                floor,
            )
        self.overlay.set_diverged([c.lr for c in self._candidates.values() if c.diverged], top)
        if self.selection.range is None:
            self.overlay.set_bracket(self._bracket)
        self.overlay.set_best(self._best)

    def _show_progress(self) -> None:
        kind = self._kinds.get(self._stage, "")
        spent, planned = self._spent, max(self._planned, 1)
        elapsed = time.perf_counter() - self._started_at
        eta = ""
        if spent > 0 and planned > spent and elapsed > 0.5:
            eta = f" · ETA {_duration(elapsed / spent * (planned - spent))}"
        text = (
            f"Search: {stage_name(self._stage, kind)} · {spent:,} of ≤{planned:,} "
            f"run-iterations{eta}"
        )
        self.status_label.setText(text)
        self.status_label.setVisible(self.show_layer.isChecked())
        self.form.show_status(text.removeprefix("Search: ").capitalize())

    def _show_result(self) -> None:
        r = self.result
        why = STOP_REASONS.get(r.stopped_because, r.stopped_because)
        if r.best_lr is None:
            self.form.show_status(f"No best λ: {why}.")
            self.status_label.setText("Search: no best λ")
            self.form.show_result(None)
            return
        a, b = r.bracket
        saving = r.grid_cost / max(r.iterations_spent, 1)
        edge = " It is an end of the range: the best may lie outside it." if r.at_edge else ""
        summary = (
            f"<b>Best λ {format_lr(r.best_lr)}</b>, between {format_lr(a)} and {format_lr(b)} "
            f"({b / a:.3g}x), ranked by {r.criterion} loss.{edge}<br>"
            f"Spent {r.iterations_spent:,} run-iterations in {len(r.stages)} stages; a "
            f"{r.grid_step:.3g}x log grid over the range would take {r.grid_cost:,} "
            f"({saving:.3g}x more)."
        )
        self.form.show_status(f"Finished: {why}." if r.stopped_because != "stopped" else "Stopped.")
        self.status_label.setText(
            f"Search: best λ {format_lr(r.best_lr)} in {format_lr(a)} – {format_lr(b)} · "
            f"{r.iterations_spent:,} run-iterations ({saving:.3g}x fewer than a grid)"
        )
        self.selection.reset((a, b))
        self.overlay.make_editable(self.selection.range)
        self.form.show_result(summary, self.code())

    # --- range edits ----------------------------------------------------------------------
    def _on_region_edit(self, min_lr: float, max_lr: float) -> None:
        try:
            changed = self.selection.edit(min_lr, max_lr, "Drag search range")
        except ValueError:
            changed = False
        if not changed:
            self.overlay.set_bracket(self.selection.range)

    def _on_range_changed(self, range_) -> None:
        if range_ is not None:
            self.overlay.set_bracket(range_)
        self._update_code()
        self.range_changed.emit(range_)

    def _update_code(self) -> None:
        if self.result is not None:
            self.form.set_code(self.code())

    def _json_extra(self) -> dict:
        extra: dict = {"source": "search"}
        if self.request is not None:
            config, settings = self.request.config, self.request.settings
            extra["problem"] = {
                "objective": config.objective,
                "optimizer": config.optimizer,
                "batch_size": config.batch_size,
                "seed": config.seed,
                "iterations": config.iterations,
                "expr": config.expr,
            }
            extra["settings"] = {
                "min_lr": settings.min_lr,
                "max_lr": settings.max_lr,
                "stages": settings.stages,
                "per_stage": settings.per_stage,
                "eta": settings.eta,
                "subset": settings.subset,
                "criterion": settings.criterion,
            }
        if self.result is not None:
            extra["search"] = self.result.to_dict()
        return extra

    # --- the layer ------------------------------------------------------------------------
    def _reveal(self) -> None:
        self.controls.setCurrentWidget(self.tab)
        self.layers.show(LAYER)
        self.wants_panel.emit()

    def _show_key(self, html: str) -> None:
        self.key.setText(html)
        self.key.setVisible(bool(html) and self.show_layer.isChecked())

    def _set_layer_visible(self, visible: bool) -> None:
        """The layer switch shows or hides the search (its points, bracket, legend and
        curves, the status label); the simulation's curves on loss vs iteration make way."""
        self.show_layer.blockSignals(True)
        self.show_layer.setChecked(visible)
        self.show_layer.blockSignals(False)
        self.overlay.set_visible(visible)
        self.key.setVisible(visible and bool(self.key.text()))
        self.iteration_note.setVisible(visible and bool(self.iteration_note.text()))
        self.iteration_panel.set_covered(visible)
        self.status_label.setVisible(visible and bool(self.status_label.text()))

    def _halt(self) -> None:
        self.jobs.supersede()
        self.redraw_timer.stop()
        self.form.set_running(False)


def screenshot_view(window, ready, paths) -> None:
    """``--screenshot PATH --view search``: the Search tab's default search (the range
    test's problem), run to its end, its stages and bracket on loss vs λ."""
    tool = window.search_tool
    window.controls.setCurrentWidget(tool.tab)
    tool.finished.connect(lambda _result: ready())
    QTimer.singleShot(0, tool.run_search)


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{max(seconds, 1):.0f} s"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes} min {rest:02d} s"


__all__ = ["CONFIRM", "LAYER", "SearchTool"]

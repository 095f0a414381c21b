"""The range tools: run an LR range test, read its curve, choose a range, export it.

:class:`RangeTool` wires the Range test tab (form + readout), the overlay on the loss vs λ
panel, the chosen-range model with its undo stack, the worker thread and the status bar.
The main window installs it with two lines in ``_install_range_tools``; the log-inspection
side calls :meth:`RangeTool.show_range_curve` for a recorded LR-finder curve.

Data flow: the worker's batches go into preallocated buffers (GUI thread) and mark the curve
dirty; a ~30 Hz timer draws it once if dirty. Every finished edit of the range (drag, spin
box, rule, reset) is one undo step on :attr:`RangeSelection.undo_stack`; the region, the
spin boxes, the readout, the code and the status bar all follow ``range_changed``.
"""

from __future__ import annotations

import math
import re
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

from lrviz.engine import Batch
from lrviz.errors import LrvizError
from lrviz.loaders import lr_finder
from lrviz.lr_format import format_lr
from lrviz.lr_range import middle_third
from lrviz.rangetest import RangeTest, RangeTestResult, RangeTestSpec, record_batch
from lrviz.smoothing import debiased_ema
from lrviz.suggest import Suggestion, read_suggestion, suggest
from lrviz.suggest.check_run import check_script
from lrviz.suggest.refine import check_lrs
from lrviz.suggest.sources import SMOOTHING, undo_smoothing
from lrviz.verify import SuggestionCheck, Verification

from .forms.range_test_form import RangeTestForm
from .jobs import JobRunner
from .panels.layers import LayerSwitch
from .panels.range_overlay import RangeOverlay
from .panels.range_readout import TARGET_TITLES, RangeReadout
from .panels.verify_overlay import VerifyOverlay
from .range_export import RangeExporter, range_code
from .range_selection import RangeSelection
from .tool_tabs import add_scrolling_tab

REDRAW_INTERVAL_MS = 33  # ~30 Hz, and only when the curve changed
# As for simulations: the ~30 ms limit sets the pace, so a fast objective cannot flood the
# GUI with thousands of tiny batches a second (and delay Stop behind them).
BATCH_ITERATIONS = 5000
BATCH_SECONDS = 0.03
#: this tool's name on the loss vs λ panel's layer switch
LAYER = "range test"


class RangeTool(QObject):
    """Everything about choosing a λ range from a range-test curve.

    Public API
    ----------
    show_range_curve(lr, loss, name, accuracy=None, input_smoothing=0.0, source=None,
                     path=None, log_format=None) -> Suggestion | None
        Show a recorded range test exactly like a simulated one; its source (the library
        whose smoothing is undone) is read from the file like ``lrviz suggest`` does,
        unless given.
    clear()                               remove the curve (e.g. its log was closed)
    run_test(settings=None) -> bool
        Start a range test (the form's settings by default); False if they were invalid.
    stop_test()
    verify() -> bool                      check the suggestion with a short fixed-λ sweep
    set_range(min_lr, max_lr) -> bool     one undoable edit of the chosen range
    chosen_range -> (min_lr, max_lr) | None
    suggestion -> Suggestion | None       the reading of the current curve
    code(target=None) -> str              export text for a target (default: the combo's)
    save_json(path) -> Path               atomic write of the chosen range as JSON
    save_json_dialog(), copy_code()
    shutdown()                            stop the worker and wait (window closing)

    Signals
    -------
    test_started()
    progressed(int, int)    iterations recorded and planned, once per batch
    test_finished(object)   the RangeTestResult (finished, stopped early, or stopped by hand)
    verified(object)        the lrviz.verify.Verification of the suggestion (after verify())
    curve_read(object)      the Suggestion of a new curve (a test, or a recorded one)
    range_changed(object)   the chosen (min_lr, max_lr), or None
    failed(str)
    """

    test_started = Signal()
    progressed = Signal(int, int)
    test_finished = Signal(object)
    verified = Signal(object)
    curve_read = Signal(object)
    range_changed = Signal(object)
    failed = Signal(str)

    #: the tool wants its panel in view (the window raises the panel's dock)
    wants_panel = Signal()
    #: a session's chosen range is back on its curve (ui.session: the section is unchanged)
    state_restored = Signal()

    def __init__(
        self,
        panel,
        controls: QTabWidget,
        status_bar: QStatusBar,
        host: QWidget,
        layers: LayerSwitch,
        parent: QObject | None = None,
    ) -> None:
        """Handed exactly what it uses: the loss vs λ ``panel``, the ``controls`` tabs (it
        adds its own), the ``status_bar`` (one permanent label), the ``host`` widget for its
        shortcuts and dialogs, and the panel's ``layers`` (the range test's layer is
        exclusive). It never reaches into the window."""
        super().__init__(parent)
        self.host = host
        self.controls = controls
        self.layers = layers
        self.panel = panel
        self.form = RangeTestForm()
        self.readout = RangeReadout()
        self.selection = RangeSelection(self)
        self.overlay = RangeOverlay(self.panel.plot, parent=self)

        self.suggestion: Suggestion | None = None
        self.result: RangeTestResult | None = None
        self.settings: RangeTestSpec | None = None
        self.name = ""
        self._test: RangeTest | None = None
        self.jobs = JobRunner("lrviz-range-test", self)
        # Verify: a short fixed-λ sweep around the suggestion, drawn beside the curve.
        self.verify_jobs = JobRunner("lrviz-verify", self)
        self.verify_overlay = VerifyOverlay(self.panel.plot, parent=self)
        self.verification: Verification | None = None
        self._check: SuggestionCheck | None = None
        self._lr = np.empty(0)
        self._loss = np.empty(0)
        self._accuracy: np.ndarray | None = None
        self._count = 0
        self._input_smoothing = 0.0
        # Where a shown LR-finder curve came from: (path, log format); None for a test run
        # here, whose losses are raw.
        self._saved: tuple[str | None, str | None] | None = None
        self._display_source: str | None = None  # the library whose smoothing is drawn
        self._dirty = False
        self.exporter = RangeExporter(
            host,
            self.code,
            lambda: TARGET_TITLES[self.readout.target_key],
            lambda text, error: self.readout.show_message(text, error=error),
            missing="Choose a range first.",
            title="Save the chosen λ range",
        )
        # A session's (curve name, chosen range), applied once that curve has been read.
        self._pending_range: tuple[str, tuple[float, float]] | None = None

        self._build_tab()
        self.show_layer = QCheckBox("range test")
        self.show_layer.setChecked(True)
        self.show_layer.setToolTip(
            "Show the range-test curve, its suggestions and the chosen range on this plot."
        )
        self.show_layer.toggled.connect(lambda on: self.layers.set_shown(LAYER, on))
        self.panel.header.addWidget(self.show_layer)
        self.show_layer.setVisible(False)  # until there is a curve
        self.layers.register(LAYER, self._set_layer_visible, exclusive=True)
        # The one-sentence why, under the plot it explains.
        self.caption = QLabel()
        self.caption.setWordWrap(True)
        self.caption.setContentsMargins(8, 2, 8, 4)
        font = self.caption.font()
        font.setPointSizeF(max(font.pointSizeF() - 1.0, 7.5))
        self.caption.setFont(font)
        self.caption.setToolTip("Why the suggested λ: the reading of the range-test curve.")
        self.caption.hide()
        self.panel.layout().addWidget(self.caption)
        self.show_layer.toggled.connect(self._show_caption)
        self.status_range = QLabel()
        self.status_range.setToolTip("The chosen λ range and the suggested λ (Range test tab).")
        status_bar.addPermanentWidget(self.status_range)

        self.redraw_timer = QTimer(self)
        self.redraw_timer.setInterval(REDRAW_INTERVAL_MS)
        self.redraw_timer.timeout.connect(self.redraw)

        self._install_actions()
        self._wire()
        self.readout.set_suggestion(None)

    # --- composition ----------------------------------------------------------------------
    def _build_tab(self) -> None:
        self.tab = add_scrolling_tab(
            self.controls,
            "Range test",
            "An LR range test: one training while λ grows, and the λ range it suggests.",
            [(self.form, 0), (self.readout, 1)],
        )

    def _install_actions(self) -> None:
        stack = self.selection.undo_stack
        self.undo_action = stack.createUndoAction(self, "Undo range")
        self.undo_action.setShortcut(QKeySequence("Ctrl+Z"))
        self.undo_action.setToolTip("Undo the last edit of the chosen range (Ctrl+Z).")
        self.redo_action = stack.createRedoAction(self, "Redo range")
        self.redo_action.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        self.redo_action.setToolTip("Redo the edit of the chosen range (Ctrl+Shift+Z).")
        self.host.addAction(self.undo_action)
        self.host.addAction(self.redo_action)
        self.shortcuts = {}
        for keys, slot in (
            ("Ctrl+T", self._run_clicked),
            ("Shift+Esc", self.form.stop_button.click),
            ("Ctrl+Shift+C", self.copy_code),
            ("Ctrl+Shift+E", self.save_json_dialog),
            ("Ctrl+Shift+R", self.reset_range),
        ):
            self.shortcuts[keys] = QShortcut(QKeySequence(keys), self.host, activated=slot)

    def _wire(self) -> None:
        form, readout, overlay = self.form, self.readout, self.overlay
        form.run_requested.connect(self.run_test)
        form.stop_requested.connect(self.stop_test)
        form.verify_requested.connect(self.verify)
        form.smoothing_changed.connect(self._mark_dirty)
        readout.range_edited.connect(self._on_spin_edit)
        readout.rule_chosen.connect(self.apply_rule)
        readout.source_chosen.connect(lambda _key: self._reread())
        readout.reset_requested.connect(self.reset_range)
        readout.target_changed.connect(lambda _key: self._update_code())
        readout.copy_requested.connect(self.copy_code)
        readout.save_requested.connect(self.save_json_dialog)
        overlay.region_edited.connect(self._on_region_edit)
        overlay.region_moving.connect(self._on_region_moving)
        self.selection.range_changed.connect(self._on_range_changed)
        self.curve_read.connect(self._restore_pending_range)

    # --- public API -----------------------------------------------------------------------
    @property
    def chosen_range(self) -> tuple[float, float] | None:
        return self.selection.range

    def show_range_curve(
        self,
        lr: np.ndarray,
        loss: np.ndarray,
        name: str,
        accuracy: np.ndarray | None = None,
        input_smoothing: float = 0.0,
        source: str | None = None,
        path: str | None = None,
        log_format: str | None = None,
    ) -> Suggestion | None:
        """Show a recorded range test (an LR-finder log) like a simulated one.

        ``lr`` and ``loss`` are the log's points in recorded order (λ, not log10);
        ``accuracy`` goes on the right axis. The library's saved smoothing is undone before
        reading: ``source`` names the library (None: found from ``path`` and the data, as
        ``lrviz suggest`` does; the readout's "Read as" box can change it), or
        ``input_smoothing`` gives a fastai-style EMA weight. Stops a running test. Returns
        the suggestion (None and a message in the form when the arrays are unusable).
        """
        self._halt()
        self.result, self.settings = None, None
        try:
            lr = np.asarray(lr, dtype=np.float64).ravel()
            loss = np.asarray(loss, dtype=np.float64).ravel()
            acc = None if accuracy is None else np.asarray(accuracy, dtype=np.float64).ravel()
            if lr.shape != loss.shape or (acc is not None and acc.shape != lr.shape):
                raise ValueError("lr, loss and accuracy differ in length")
            if not 0.0 <= input_smoothing < 1.0:
                raise ValueError(f"input smoothing must be in [0, 1), got {input_smoothing}")
        except (TypeError, ValueError) as exc:
            self._fail(f"cannot show {name}: {exc}")
            return None
        ok = np.isfinite(lr) & (lr > 0)
        if not ok.any():
            self._fail(f"cannot show {name}: no positive, finite learning rate")
            return None
        steps = np.diff(lr[ok])
        if steps.size and not (np.all(steps >= 0) or np.all(steps <= 0)):
            # Not a ramp (points saved out of order): draw it left to right.
            order = np.argsort(lr, kind="stable")
            lr, loss = lr[order], loss[order]
            acc = None if acc is None else acc[order]
        self._input_smoothing = float(input_smoothing)
        self._saved = (None if path is None else str(path), log_format or lr_finder.FORMAT)
        self.readout.set_source_choice(not input_smoothing, source)
        self._set_curve(lr, loss, acc, name)
        self.form.message.clear()
        # A long file name cannot wrap: shortened, it no longer widens the narrow dock.
        short = name if len(name) <= 40 else f"{name[:18]}…{name[-18:]}"
        self.form.show_status(f"Showing {short}: {int(ok.sum()):,} points.")
        self.form.status.setToolTip(name)
        self._frame_x(lr[ok].min(), lr[ok].max())
        self.redraw()
        suggestion = self._read_curve()
        self._reveal()
        return suggestion

    def clear(self) -> None:
        """Stop a running test and remove the curve, its suggestions and the chosen range
        (e.g. when the LR-finder log shown is closed)."""
        self._halt()
        self._test, self.result, self.settings = None, None, None
        empty = np.empty(0)
        self._set_curve(empty, empty, None, "")
        self._dirty = False
        self._saved = None
        self.suggestion = None
        self.readout.set_suggestion(None)
        self._show_caption()
        self.form.show_status("")

    def run_test(self, settings: RangeTestSpec | None = None) -> bool:
        """Start a range test and stream it into the plot. False (and a message in the
        form) if the settings are invalid or the test too big to run."""
        try:
            settings = settings if settings is not None else self.form.settings()
            settings.check()
            settings.check_limits()
            test = settings.build()
        except (ValueError, LrvizError) as exc:
            self.form.show_error(str(exc))
            return False
        self._halt()
        self.form.message.clear()
        self._test, self.settings, self.result = test, settings, None
        n = test.iterations
        has_accuracy = test.simulation.objective.has_accuracy
        config = settings.config
        self._input_smoothing = 0.0
        self._saved = None
        self.readout.set_source_choice(False, "raw")
        self._set_curve(
            np.full(n, np.nan),
            np.full(n, np.nan),
            np.full(n, np.nan) if has_accuracy else None,
            f"{config.objective} / {config.optimizer}",
            count=0,
        )
        self._frame_x(settings.min_lr, settings.max_lr)
        self.panel.plot.getViewBox().enableAutoRange(axis="y")
        self.readout.set_suggestion(None, running=True)
        self.form.set_running(True)
        self.form.show_status(f"Running: 0 of {n:,} iterations…")
        self._reveal()
        self.redraw_timer.start()
        self.jobs.stream(
            test,
            self._on_batch,
            self._on_failed,
            self._on_finished,
            BATCH_ITERATIONS,
            BATCH_SECONDS,
        )
        self.test_started.emit()
        return True

    # --- session state (ui.session) -------------------------------------------------------
    def get_state(self) -> dict:
        """The form, the test run here (its settings; it is run again on opening: the same
        curve) and the chosen range on the curve shown."""
        from lrviz.session import simulation_dict

        test = None
        if self.settings is not None and self._saved is None and self._count:
            s = self.settings
            test = {
                "config": simulation_dict(s.config),
                "min_lr": s.min_lr,
                "max_lr": s.max_lr,
                "iterations": s.iterations,
                "mode": s.mode,
                "stop_factor": s.stop_factor,
                "smoothing": s.smoothing,
            }
        rng = self.selection.range
        return {
            "form": self.form.get_state(),
            "ran": test is not None,
            "test": test,
            "curve": self.name if self._count else None,
            "range": None if rng is None else [rng[0], rng[1]],
        }

    def check_state(self, state: dict) -> None:
        if state.get("test") is not None:
            self._settings_from_state(state["test"]).build()

    def set_state(self, state: dict) -> None:
        """Show the saved form; run the saved test again; put the chosen range back once
        its curve (the test's, or a log's) has been read."""
        from lrviz.session import chosen_range

        if isinstance(state.get("form"), dict):
            self.form.set_state(state["form"])
        rng = chosen_range(state.get("range"), "range")
        curve = state.get("curve")
        self._pending_range = (curve, rng) if rng is not None and isinstance(curve, str) else None
        if state.get("test") is not None:
            self.run_test(self._settings_from_state(state["test"]))
        elif self._pending_range is not None and self._count and self.name == curve:
            self._restore_pending_range()  # the log's curve is shown already

    def _settings_from_state(self, test: dict) -> RangeTestSpec:
        from lrviz.session import simulation_config

        if not isinstance(test, dict):
            raise ValueError("test: expected an object")
        try:
            stop = test.get("stop_factor")
            return RangeTestSpec(
                config=simulation_config(test.get("config", {}), "test.config"),
                min_lr=float(test["min_lr"]),
                max_lr=float(test["max_lr"]),
                iterations=int(test["iterations"]),
                mode=str(test.get("mode", "exp")),
                stop_factor=None if stop is None else float(stop),
                smoothing=float(test.get("smoothing", 0.0)),
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"test: {exc}") from None

    def _restore_pending_range(self, *_args) -> None:
        pending, self._pending_range = self._pending_range, None
        if pending is None or pending[0] != self.name:
            return
        self.selection.reset(pending[1])
        self.state_restored.emit()

    def _run_clicked(self) -> None:
        self.controls.setCurrentWidget(self.tab)
        self.form.run_button.click()

    def stop_test(self) -> None:
        """Stop a running test; the curve so far is read when the worker has stopped."""
        if self.jobs.running:
            self.form.show_status("Stopping…")
            self.jobs.halt()

    def set_range(self, min_lr: float, max_lr: float, text: str = "Set range") -> bool:
        """One undoable edit of the chosen range (λ). False if nothing changed; ValueError
        for an invalid range."""
        return self.selection.edit(min_lr, max_lr, text)

    def reset_range(self) -> None:
        """Back to the recommended range (one undo step)."""
        recommended = self._recommended()
        if recommended is None:
            self.readout.show_message("No recommended range for this curve.", error=True)
            return
        self.selection.edit(*recommended, "Reset range")

    def apply_rule(self, rule: str) -> None:
        """Set the bottom of the range by ``rule`` (start/third/fourth) from its top."""
        if self._count == 0:
            return
        self.suggestion = self._suggest(rule)
        current = self.selection.range or self._recommended()
        if self.suggestion is None or current is None:
            self.readout.set_suggestion(self.suggestion)
            return
        top = current[1]
        bottom = {"start": self.suggestion.start_lr, "third": top / 3.0, "fourth": top / 4.0}
        low = bottom.get(rule)
        self.readout.set_suggestion(self.suggestion)
        if low is None:
            self.readout.show_message("This curve has no start of improvement.", error=True)
            return
        self.selection.edit(min(low, top), top, f"Bottom of range: {rule}")

    def code(self, target: str | None = None) -> str:
        """The export text of the chosen range for ``target`` (a key of
        ``ui.panels.range_readout.TARGETS``; default the combo's). Empty without a range."""
        target = target or self.readout.target_key
        if target.startswith("check_"):
            return self._check_code(target.removeprefix("check_"))
        suggested = self.suggestion.suggested_lr if self.suggestion is not None else None
        # The optimizer the test ran with (a saved curve's is unknown: the code says so).
        optimizer = self.settings.config.optimizer if self.settings is not None else None
        return range_code(self.selection.range, suggested, target, optimizer, self._json_extra)

    def _check_code(self, target: str) -> str:
        """A check script over the likely band (empty without one)."""
        s = self.suggestion
        if s is None or s.likely_best is None:
            return ""
        return check_script(check_lrs(s.likely_best), target, suggested_lr=s.suggested_lr)

    def save_json(self, path: str | Path) -> Path:
        """Write the chosen range as JSON atomically (temporary file, then rename)."""
        if self.selection.range is None:
            raise ValueError("no range chosen yet")
        return self.exporter.save(path)

    def save_json_dialog(self) -> Path | None:
        """Ask where to save the JSON (a sensible default name) and save it there."""
        default = f"{_slug(self.name) or 'lr'}-range.json"
        return self.exporter.save_dialog(self.selection.range is not None, default, self.save_json)

    def copy_code(self) -> str:
        """Copy the export text shown to the clipboard and return it."""
        return self.exporter.copy()

    def verify(self) -> bool:
        """Check the suggestion of the test run here: one constant-λ run per λ around it
        (:class:`lrviz.verify.SuggestionCheck`), each as many iterations as the test, in the
        worker; the measured loss vs λ is drawn beside the curve. False (and a message) when
        there is nothing to verify."""
        if self.settings is None or self.suggestion is None or self.jobs.running:
            self.form.show_error("Verify needs a finished range test on a built-in problem.")
            return False
        try:
            check = SuggestionCheck(self.settings.config, self.suggestion, self.settings.iterations)
        except (ValueError, LrvizError) as exc:
            self.form.show_error(f"Cannot verify: {exc}")
            return False
        self.verify_jobs.supersede()
        self._check, self.verification = check, None
        self.verify_overlay.clear()
        self.form.message.clear()
        self.form.set_verifiable(False)
        self.form.show_status(
            f"Verifying: {check.lrs.size} runs of {check.iterations:,} iterations around the "
            "suggestion…"
        )
        self.verify_jobs.stream(
            check,
            self._on_verify_batch,
            self._on_failed,
            self._on_verify_finished,
            BATCH_ITERATIONS,
            BATCH_SECONDS,
        )
        return True

    def _on_verify_batch(self, batch: Batch) -> None:
        check = self._check
        if check is not None:
            self.form.show_status(
                f"Verifying: {batch.stop:,} of {check.iterations:,} iterations, "
                f"{check.lrs.size} runs"
            )
            self.progressed.emit(batch.stop, check.iterations)

    def _on_verify_finished(self, _completed: bool) -> None:
        check = self._check
        if check is None:
            return
        v = self.verification = check.result()
        self.verify_overlay.set_measured(v.lrs, v.final_loss, v.best_lr)
        self.form.set_verifiable(True)
        if v.best_lr is None:
            self.form.show_status("Verified: fewer than two runs trained, no measured best.")
        else:
            regret = v.suggested_regret
            said = ""
            if v.suggested_lr is not None and regret is not None:
                worse = f"{100 * regret:.3g}% above" if regret < 10 else f"{regret + 1:.3g}x"
                said = f" The suggestion {format_lr(v.suggested_lr)} ends at {worse} its loss."
            self.form.show_status(
                f"Verified (green squares): {v.why}; measured best λ "
                f"{format_lr(v.best_lr)} after {v.iterations:,} iterations.{said}"
            )
        self.verified.emit(v)

    def shutdown(self) -> None:
        """Stop the worker thread and wait for it (the window is closing)."""
        self.redraw_timer.stop()
        self._halt()
        self.jobs.shutdown()
        self.form.shutdown()
        self.verify_jobs.shutdown()

    # --- drawing --------------------------------------------------------------------------
    def redraw(self) -> bool:
        """Draw the curve if it changed since the last draw (called by the timer)."""
        if not self._dirty:
            return False
        self._dirty = False
        n = self._count
        raw, smoothed, note = self._display_curves()
        accuracy = None
        if self._accuracy is not None:
            accuracy = debiased_ema(self._accuracy[:n], self.form.smoothing_weight())
        self.overlay.set_curve(self._lr[:n], raw, smoothed, accuracy, self.name, note)
        return True

    def _display_curves(self) -> tuple[np.ndarray, np.ndarray, str]:
        """(faint raw, bold smoothed, legend note) as drawn.

        A curve saved smoothed by an LR finder is drawn as the library saved it (bold) over
        its raw losses, recovered exactly (faint): smoothing it again moved its minimum past
        the max marker. Everything else takes the form's EMA."""
        n = self._count
        loss = self._loss[:n]
        smoothing = SMOOTHING.get(self._display_source or "raw")
        if smoothing is not None:
            return undo_smoothing(loss, self._display_source), loss, "as saved"
        weight = self.form.smoothing_weight()
        return loss, debiased_ema(loss, weight), f"EMA {weight:.3g}"

    def _mark_dirty(self, *_args) -> None:
        self._dirty = True
        if not self.redraw_timer.isActive():
            self.redraw()

    def _set_curve(self, lr, loss, accuracy, name: str, count: int | None = None) -> None:
        self._lr, self._loss, self._accuracy = lr, loss, accuracy
        # A new curve: the last check verified another suggestion.
        self.verify_jobs.supersede()
        self._check, self.verification = None, None
        self.verify_overlay.clear()
        self.form.set_verifiable(False)
        self._display_source = None
        # The "range test" toggle only where there is a range test to show or hide.
        self.show_layer.setVisible(lr.size > 0)
        self._count = lr.size if count is None else count
        self.name = name
        self.suggestion = None
        self.overlay.set_markers([])
        self.selection.reset(None)
        finite = loss[np.isfinite(loss)]
        self._set_log_y(not (finite.size and finite.min() <= 0))
        self.overlay.clear()
        self.readout.set_editable(False)
        self._dirty = True

    def _set_log_y(self, log_y: bool) -> None:
        plot = self.panel.plot
        if plot.getAxis("left").logMode != log_y:
            plot.setLogMode(x=True, y=log_y)

    def _frame_x(self, min_lr: float, max_lr: float) -> None:
        if max_lr > min_lr > 0:
            self.overlay.show_x_range(min_lr, max_lr)

    def _reveal(self) -> None:
        """Bring the range test into view: its tab, and its layer alone on the panel."""
        self.controls.setCurrentWidget(self.tab)
        self.layers.show(LAYER)
        self.wants_panel.emit()

    def _set_layer_visible(self, visible: bool) -> None:
        """The layer switch shows or hides the range test (curve, markers, bands, legend,
        caption, the status bar's chosen λ); the checkbox follows without re-entering."""
        self.show_layer.blockSignals(True)
        self.show_layer.setChecked(visible)
        self.show_layer.blockSignals(False)
        self.overlay.set_visible(visible)
        self.verify_overlay.set_visible(visible)
        self.status_range.setVisible(visible)
        if visible:
            self.overlay.place_legend("bottom-left")
        self._show_caption()

    # --- reading the curve ----------------------------------------------------------------
    def _suggest(self, rule: str | None = None) -> Suggestion | None:
        n = self._count
        rule = rule or self.readout.rule_key
        try:
            if self._saved is None:  # a test run here: raw losses
                return suggest(self._lr[:n], self._loss[:n], range_rule=rule)
            path, log_format = self._saved
            return read_suggestion(
                self._lr[:n],
                self._loss[:n],
                path=path,
                log_format=log_format,
                source=self.readout.source_key,
                input_smoothing=self._input_smoothing or None,
                range_rule=rule,
            )
        except ValueError as exc:
            self._fail(f"cannot read the curve: {exc}")
            return None

    def _read_curve(self) -> Suggestion | None:
        suggestion = self._suggest()
        self.suggestion = suggestion
        self.readout.set_suggestion(suggestion)
        self.overlay.set_markers([] if suggestion is None else suggestion.markers())
        self.overlay.set_likely_band(None if suggestion is None else suggestion.likely_best)
        self._show_caption()
        n = self._count
        log_y = self.panel.plot.getAxis("left").logMode
        source = suggestion.source if suggestion is not None and self._saved is not None else None
        if source != self._display_source:
            self._display_source = source
            self._dirty = True
            self.redraw()
        raw, smoothed, _note = self._display_curves()
        self.overlay.fit_y(raw, smoothed, log_y)
        recommended = self._recommended()
        self.selection.reset(recommended)
        # No reading: offer the middle third (in log λ) of the tested range to edit.
        tested = middle_third(self._lr[:n])
        self.readout.set_editable(tested is not None, tested if recommended is None else None)
        if suggestion is not None:
            self.curve_read.emit(suggestion)
        return suggestion

    def _reread(self) -> None:
        """Read the shown curve again (another source chosen)."""
        if self._count and not self.jobs.running:
            self._read_curve()
            self._update_code()

    def _show_caption(self, *_args) -> None:
        s = self.suggestion
        if s is None or not self.show_layer.isChecked():
            self.caption.hide()
            return
        if s.suggested_lr is None:
            reason = s.warnings[0] if s.warnings else "the curve says nothing"
            text = f"No suggested λ: {reason}."
        else:
            a, b = s.likely_best
            text = (
                f"<b>Suggested λ {format_lr(s.suggested_lr)}</b>, likely "
                f"{format_lr(a)}–{format_lr(b)} ({s.confidence} confidence): {_html(s.why)}."
            )
        self.caption.setText(text)
        self.caption.show()

    def _recommended(self) -> tuple[float, float] | None:
        s = self.suggestion
        if s is None or s.min_lr is None or s.max_lr is None:
            return None
        return s.min_lr, s.max_lr

    # --- worker events --------------------------------------------------------------------
    def _on_batch(self, batch: Batch) -> None:
        if self._test is None or batch.stop > self._lr.size:
            return  # the jobs runner already dropped batches of a replaced test
        stop = record_batch(batch, self._lr, self._loss, self._accuracy)
        self._count = max(self._count, stop)
        self._dirty = True
        lr = batch.lr[-1, 0]
        at = f" · λ = {format_lr(lr)}" if math.isfinite(lr) else ""
        self.form.show_status(f"Running: {self._count:,} of {self._lr.size:,} iterations{at}")
        self.progressed.emit(self._count, self._lr.size)

    def _on_failed(self, message: str) -> None:
        self._fail(f"Range test failed: {message}")

    def _on_finished(self, completed: bool) -> None:
        self.redraw_timer.stop()
        self.form.set_running(False)
        test = self._test
        if test is None:
            return
        result = test.result()
        self.result = result
        # The recorded result stops at the point that triggered the early stop.
        n = result.lr.size
        self._lr, self._loss = result.lr, result.loss
        self._accuracy = result.accuracy
        self._count = n
        self._dirty = True
        self.redraw()
        if result.stopped_early:
            state = f"Stopped early at λ = {format_lr(result.stop_lr)}: the loss diverged."
        elif completed:
            state = "Finished."
        else:
            state = "Stopped by hand: the suggestions read the curve so far."
        self.form.show_status(f"{state} {n:,} of {result.iterations:,} iterations.")
        if n:
            self._read_curve()
        self.form.set_verifiable(self.suggestion is not None and self.settings is not None)
        self.test_finished.emit(result)

    def _halt(self) -> None:
        """Stop a running test and forget it: its late batches become stale."""
        self.jobs.supersede()
        self.redraw_timer.stop()
        self.form.set_running(False)

    def _fail(self, message: str) -> None:
        self.form.show_error(message)
        self.failed.emit(message)

    # --- range edits ----------------------------------------------------------------------
    def _on_spin_edit(self, min_lr: float, max_lr: float) -> None:
        try:
            self.selection.edit(min_lr, max_lr, "Edit range")
            self.readout.show_message("")
        except ValueError as exc:
            self.readout.show_message(str(exc), error=True)
            self.readout.set_range(self.selection.range)

    def _on_region_edit(self, min_lr: float, max_lr: float) -> None:
        try:
            changed = self.selection.edit(min_lr, max_lr, "Drag range")
        except ValueError:
            changed = False
        if not changed:
            # Snapped back onto the same range: put the band and the boxes back too.
            self.overlay.set_region(self.selection.range)
            self.readout.set_range(self.selection.range)

    def _on_region_moving(self, min_lr: float, max_lr: float) -> None:
        self.readout.show_moving(min_lr, max_lr)
        self._show_status_range((min_lr, max_lr))

    def _on_range_changed(self, range_) -> None:
        self.overlay.set_region(range_)
        self.readout.set_range(range_)
        self._update_code()
        self._show_status_range(range_)
        self.range_changed.emit(range_)

    def _show_status_range(self, range_) -> None:
        if range_ is None:
            self.status_range.setText("")
            return
        text = f"chosen λ {format_lr(range_[0])} – {format_lr(range_[1])}"
        if self.suggestion is not None and self.suggestion.suggested_lr is not None:
            text += f" · suggested {format_lr(self.suggestion.suggested_lr)}"
        self.status_range.setText(text)

    def _update_code(self) -> None:
        try:
            self.readout.set_code(self.code())
        except ValueError as exc:
            self.readout.set_code("")
            self.readout.show_message(str(exc), error=True)

    def _json_extra(self) -> dict:
        extra: dict = {"source": self.name}
        if self.settings is not None:
            extra["range_test"] = self.settings.to_dict()
        if self.suggestion is not None:
            extra["reading"] = self.suggestion.to_dict()
        return extra


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()

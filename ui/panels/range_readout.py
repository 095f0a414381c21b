"""The chosen range in numbers, what the curve says about it, and its export.

A view only: it shows what it is given and reports what the user asks for. The range model
(:class:`ui.range_selection.RangeSelection`) and the export live elsewhere.
"""

from __future__ import annotations

import math

from PySide6.QtCore import Signal
from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from lrviz.export import SNIPPET_TITLES, SNIPPETS
from lrviz.lr_format import format_lr
from lrviz.suggest import SOURCES, Suggestion
from lrviz.suggest.check_run import TARGET_TITLES as CHECK_TITLES
from lrviz.suggest.check_run import TARGETS as CHECK_TARGETS

from ..lr_range_row import add_lr_range_row
from ..sci_spinbox import ScientificSpinBox
from ..theme import mark

RULES = {
    "start": "Smith's start",
    "third": "max ÷ 3",
    "fourth": "max ÷ 4",
}
#: Export targets in the order of the combo: the code snippets, the JSON file, then the
#: check runs over the likely band (``check_`` + a key of lrviz.suggest.check_run.TARGETS).
TARGETS = (*SNIPPETS, "json", *(f"check_{t}" for t in CHECK_TARGETS))
TARGET_TITLES = {
    **SNIPPET_TITLES,
    "json": "JSON (lrviz range file)",
    **{f"check_{t}": f"{CHECK_TITLES[t]} over the likely band" for t in CHECK_TARGETS},
}
#: The source combo: None reads the source from the file, as ``lrviz suggest`` does.
SOURCE_TITLES = {
    None: "Auto (from the file)",
    "torch-lr-finder": "torch-lr-finder (EMA 0.05)",
    "lightning": "Lightning lr_find (EMA 0.98)",
    "fastai": "fastai lr_find (EMA 0.98)",
    "raw": "raw losses (not smoothed)",
}
assert set(SOURCE_TITLES) - {None} == set(SOURCES)
CONFIDENCE_TEXT = {
    "high": "High confidence: the loss starts to jump right after it starts to fall; on "
    "real networks such suggestions were within 3x of the best λ 9 times in 10 or more.",
    "medium": "Medium confidence: usable, with a caveat.",
    "low": "Low confidence: treat the numbers as a first guess.",
}


class RangeReadout(QWidget):
    """Min/max λ boxes, ratio, suggested λ, confidence in words, and the export.

    Signals
    -------
    range_edited(float, float)  a spin box edit finished: the new min and max λ
    source_chosen(object)       which library saved the curve: a source name, or None (auto)
    rule_chosen(str)            a rule for the bottom of the range: start/third/fourth
    reset_requested()           back to the recommended range
    target_changed(str)         another export target (key of :data:`TARGETS`)
    copy_requested()
    save_requested()
    """

    range_edited = Signal(float, float)
    source_chosen = Signal(object)
    rule_chosen = Signal(str)
    reset_requested = Signal()
    target_changed = Signal(str)
    copy_requested = Signal()
    save_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.min_lr = ScientificSpinBox(1e-3)
        self.min_lr.setToolTip(
            "The bottom of the chosen range (base_lr of a cyclical schedule): type it or use "
            "the arrows, and the shaded band on loss vs λ follows."
        )
        self.max_lr = ScientificSpinBox(1e-1)
        self.max_lr.setToolTip(
            "The top of the chosen range (max_lr of a one-cycle or cyclical schedule): type it "
            "or use the arrows, and the shaded band follows."
        )
        self.rule = QComboBox()
        for key, text in RULES.items():
            self.rule.addItem(text, key)
        self.rule.setToolTip(
            "How to set the bottom of the range from its top: Smith's start of improvement, "
            "or max ÷ 3 or max ÷ 4 (common one-cycle and cyclical choices)."
        )
        for combo in (self.rule,):
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
            )
            combo.setMinimumContentsLength(6)
        self.reset_button = QToolButton()
        self.reset_button.setText("Reset")
        self.reset_button.setToolTip(
            "Back to the recommended range, as one undo step (Ctrl+Shift+R)."
        )

        self.ratio = QLabel("–")
        self.ratio.setToolTip("max λ ÷ min λ, and how many decades the range spans.")
        self.suggested = QLabel("–")
        self.suggested.setToolTip(
            "The one constant λ the curve suggests: half a decade above where the raw loss "
            "starts to jump, never above the curve's bottom (calibrated on real networks)."
        )
        self.likely = QLabel("–")
        self.likely.setToolTip(
            "Where the best constant λ likely is (the green band on the plot, which held the "
            "measured best λ of real networks about 3 times in 4); a check run settles it."
        )
        self.why = QLabel()
        self.why.setWordWrap(True)
        self.why.setToolTip("Why this λ, in one sentence.")
        self.source = QComboBox()
        for key, text in SOURCE_TITLES.items():
            self.source.addItem(text, key)
        self.source.setToolTip(
            "Which library saved this curve, whose own smoothing of the loss is undone before "
            "reading (auto tells it from the file name and the start of the curve)."
        )
        self.source.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.source.setMinimumContentsLength(6)
        font = self.suggested.font()
        font.setBold(True)
        self.suggested.setFont(font)
        self.recommended = QLabel("–")
        self.recommended.setToolTip(
            "The range the curve recommends, bottom by the chosen rule; Reset goes back to it."
        )
        self.confidence = QLabel()
        self.confidence.setWordWrap(True)
        self.confidence.setToolTip("How much the curve supports the suggestion, and why.")

        chosen = QGroupBox("Chosen range")
        form = QFormLayout(chosen)
        add_lr_range_row(form, "&Range λ", self.min_lr, self.max_lr)
        rule_row = QHBoxLayout()
        rule_row.addWidget(self.rule, 1)
        rule_row.addWidget(self.reset_button)
        form.addRow("Bo&ttom", rule_row)
        label = form.labelForField(rule_row)
        if isinstance(label, QLabel):
            label.setBuddy(self.rule)
        form.addRow("Ratio", self.ratio)
        form.addRow("Suggested λ", self.suggested)
        form.addRow("Likely best", self.likely)
        form.addRow("Curve range", self.recommended)
        form.addRow("Read &as", self.source)
        label = form.labelForField(self.source)
        if isinstance(label, QLabel):
            label.setBuddy(self.source)
        form.addRow(self.why)
        form.addRow(self.confidence)

        self.target = QComboBox()
        for key in TARGETS:
            self.target.addItem(TARGET_TITLES[key], key)
        self.target.setToolTip("What to export the chosen range as: code for a library, or JSON.")
        self.target.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.target.setMinimumContentsLength(8)
        self.code = QPlainTextEdit()
        self.code.setReadOnly(True)
        self.code.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        mono.setPointSizeF(max(mono.pointSizeF() - 1.0, 8.0))
        mono.setStyleHint(QFont.StyleHint.Monospace)
        self.code.setFont(mono)
        self.code.setMinimumHeight(8 * self.code.fontMetrics().lineSpacing() + 12)
        self.code.setToolTip("Code for the chosen range, which follows every change of the range.")
        self.copy_button = QToolButton()
        self.copy_button.setText("&Copy")
        self.copy_button.setToolTip("Copy this text to the clipboard (Ctrl+Shift+C).")
        self.save_button = QToolButton()
        self.save_button.setText("&Save…")
        self.save_button.setToolTip(
            "Save the chosen range, the suggestion and the test settings as a JSON file "
            "(Ctrl+Shift+E)."
        )
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setToolTip("The outcome of the last copy or save.")

        export = QGroupBox("Export")
        export_layout = QVBoxLayout(export)
        # Copy sits next to what it copies: no scrolling to reach it in a short window.
        top = QHBoxLayout()
        top.addWidget(self.target, 1)
        top.addWidget(self.copy_button)
        top.addWidget(self.save_button)
        export_layout.addLayout(top)
        export_layout.addWidget(self.code, 1)
        export_layout.addWidget(self.message)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(chosen)
        layout.addWidget(export, 1)

        self.min_lr.valueChanged.connect(self._on_spin)
        self.max_lr.valueChanged.connect(self._on_spin)
        self.rule.activated.connect(lambda _i: self.rule_chosen.emit(self.rule.currentData()))
        self.source.activated.connect(lambda _i: self.source_chosen.emit(self.source.currentData()))
        self.reset_button.clicked.connect(self.reset_requested)
        self.target.currentIndexChanged.connect(
            lambda _i: self.target_changed.emit(self.target.currentData())
        )
        self.copy_button.clicked.connect(self.copy_requested)
        self.save_button.clicked.connect(self.save_requested)
        self._showing = False
        self.set_range(None)

    # --- what it shows --------------------------------------------------------------------
    @property
    def target_key(self) -> str:
        return self.target.currentData()

    @property
    def rule_key(self) -> str:
        return self.rule.currentData()

    @property
    def source_key(self) -> str | None:
        """The source the user chose, None for auto."""
        return self.source.currentData()

    def set_source_choice(self, enabled: bool, key: str | None = None) -> None:
        """Offer the source choice (a saved curve) or not (lrviz's own test is raw)."""
        index = self.source.findData(key)
        self.source.setCurrentIndex(max(index, 0))
        self.source.setEnabled(enabled)

    def set_range(self, range_: tuple[float, float] | None) -> None:
        """Show the chosen range (λ) in the boxes and the ratio, without emitting."""
        has = range_ is not None
        for widget in (self.copy_button, self.save_button, self.code):
            widget.setEnabled(has)
        if not has:
            self.ratio.setText("–")
            return
        self._show_spins(*range_)

    def set_editable(self, editable: bool, hint: tuple[float, float] | None = None) -> None:
        """Allow range edits (there is a curve to choose on) or not (none yet, or running).

        ``hint`` fills the boxes when there is no chosen range yet, without emitting."""
        for widget in (self.min_lr, self.max_lr, self.rule, self.reset_button):
            widget.setEnabled(editable)
        if hint is not None:
            self._showing = True
            try:
                self.min_lr.setValue(hint[0])
                self.max_lr.setValue(hint[1])
            finally:
                self._showing = False

    def show_moving(self, min_lr: float, max_lr: float) -> None:
        """Live numbers while the region is dragged (no undo step, no export yet)."""
        self._show_spins(min_lr, max_lr)

    def set_suggestion(self, suggestion: Suggestion | None, running: bool = False) -> None:
        """The curve's reading: suggested λ, recommended range, confidence in words."""
        self.confidence.setStyleSheet("")
        self.suggested.setStyleSheet("")
        if suggestion is None:
            self.suggested.setText("–")
            self.recommended.setText("–")
            self.likely.setText("–")
            self.why.setText("")
            self.confidence.setText(
                "Running… the suggestions follow when the test ends."
                if running
                else "No curve yet: run a range test or open an LR-finder log (lr, loss CSV)."
            )
            return
        source = f"Read as {suggestion.source}: {suggestion.source_reason}."
        if suggestion.suggested_lr is None:
            self.suggested.setText("none")
            self.recommended.setText("–")
            self.likely.setText("–")
            self.why.setText(source)
            reason = suggestion.warnings[0] if suggestion.warnings else "the curve says nothing"
            self.confidence.setText(f"No suggestion: {reason}. Set a range by hand above.")
            mark(self.confidence, "error")
            return
        word = suggestion.confidence
        value = format_lr(suggestion.suggested_lr)
        if word == "low":
            # Not a confident number: say so before the number does.
            self.suggested.setText(f"≈ {value}?  (low)")
            self.suggested.setStyleSheet("font-weight: normal;")
            mark(self.suggested, "warning")
        else:
            self.suggested.setText(f"{value}  ({word})")  # short: the dock can be narrow
            self.suggested.setStyleSheet("")
            mark(self.suggested, None)
        if suggestion.likely_best is not None:
            a, b = suggestion.likely_best
            self.likely.setText(f"{format_lr(a)} to {format_lr(b)}")
        self.why.setText(f"Why: {suggestion.why}.\n{source}")
        if suggestion.min_lr is not None and suggestion.max_lr is not None:
            self.recommended.setText(
                f"{format_lr(suggestion.min_lr)} to {format_lr(suggestion.max_lr)}"
            )
        text = CONFIDENCE_TEXT.get(word, word)
        if suggestion.warnings:
            text += "\n" + "\n".join(f"• {w}" for w in suggestion.warnings)
        self.confidence.setText(text)
        mark(self.confidence, None if word == "high" else "warning")

    def set_code(self, text: str) -> None:
        if self.code.toPlainText() != text:
            self.code.setPlainText(text)

    def show_message(self, text: str, error: bool = False) -> None:
        mark(self.message, "error" if error else "ok")
        self.message.setText(text)

    # --- internals ------------------------------------------------------------------------
    def _show_spins(self, min_lr: float, max_lr: float) -> None:
        self._showing = True
        try:
            # Wide enough that any range fits; the selection model checks the order.
            self.min_lr.setValue(min_lr)
            self.max_lr.setValue(max_lr)
        finally:
            self._showing = False
        ratio = max_lr / min_lr
        self.ratio.setText(f"{ratio:.3g}×  ({math.log10(ratio):.2g} decades)")

    def _on_spin(self, _value: float) -> None:
        if not self._showing:
            self.range_edited.emit(self.min_lr.value(), self.max_lr.value())

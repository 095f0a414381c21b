"""A coarse-to-fine search drawn over the shared plots: its candidates on loss vs λ, each
stage in its own colour, and their loss curves on loss vs iteration.

On loss vs λ (log-x, log-y): each scored candidate as a dot at its score, filled once it
trained the full budget, hollow and faint where successive halving stopped it (a *pruned*
run, scored at the rung that stopped it), a red × along the top for one that diverged; the
current bracket shaded; the best λ a labelled vertical line. After the search the shaded band
becomes the chosen range, draggable. On loss vs iteration: one curve per candidate, a pruned
run's a short faint stub that ends where it stopped.

As in :mod:`ui.panels.range_overlay`, the x axis is in log mode and neither
``LinearRegionItem`` nor ``InfiniteLine`` has one: both take log10(λ), converted here only.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QColor

from lrviz.lr_format import format_lr
from lrviz.search import COARSE, CONFIRM

from ..colors import DIVERGED

#: One colour per stage (cycled): a qualitative palette, distinct from viridis (the λ map).
STAGE_COLORS = [
    QColor(90, 90, 90),
    QColor(31, 119, 180),
    QColor(255, 127, 14),
    QColor(44, 160, 44),
    QColor(148, 103, 189),
    QColor(214, 39, 40),
    QColor(140, 86, 75),
    QColor(227, 119, 194),
    QColor(23, 190, 207),
]
PRUNED_ALPHA = 90
BRACKET = QColor(255, 170, 0, 45)
BRACKET_EDGE = QColor(200, 120, 0)
CHOSEN = QColor(31, 119, 180, 38)
CHOSEN_EDGE = QColor(31, 90, 160)
BEST = QColor(200, 30, 30)


def stage_color(stage: int, alpha: int = 255) -> QColor:
    color = QColor(STAGE_COLORS[stage % len(STAGE_COLORS)])
    color.setAlpha(alpha)
    return color


def stage_name(stage: int, kind: str) -> str:
    what = {COARSE: "coarse", CONFIRM: "confirm"}.get(kind, "fine")
    return f"stage {stage + 1} · {what}"


class SearchOverlay(QObject):
    """The search's items on the loss vs λ plot ``lr_plot`` and the loss vs iteration plot
    ``iteration_plot``.

    Signals
    -------
    range_edited(float, float)  the user released the chosen range (min, max λ)
    key_changed(str)            the colour key changed (rich text, see :meth:`key_html`)
    """

    range_edited = Signal(float, float)
    key_changed = Signal(str)

    def __init__(self, lr_plot: pg.PlotItem, iteration_plot: pg.PlotItem, parent=None) -> None:
        super().__init__(parent)
        self.lr_plot = lr_plot
        self.iteration_plot = iteration_plot
        self.view = lr_plot.getViewBox()
        self._visible = True
        self._stage_items: dict[int, tuple[pg.PlotDataItem, pg.PlotDataItem]] = {}
        self._stage_kinds: dict[int, str] = {}
        self._curves: dict[int, pg.PlotDataItem] = {}
        self._editable = False
        self._updating = False
        self._bracket_lr: tuple[float, float] | None = None
        self._best_lr: float | None = None

        self.diverged = pg.PlotDataItem(
            pen=None, symbol="x", symbolSize=11, symbolPen=pg.mkPen(DIVERGED, width=2)
        )
        self.bracket = pg.LinearRegionItem(
            values=(0.0, 1.0),
            movable=False,
            brush=pg.mkBrush(BRACKET),
            pen=pg.mkPen(BRACKET_EDGE, width=1, style=Qt.PenStyle.DashLine),
        )
        self.bracket.setZValue(-20)
        self.bracket.setToolTip("The bracket: the best λ so far and its neighbours, both worse")
        self.bracket.sigRegionChangeFinished.connect(self._on_region_finished)
        self.best = pg.InfiniteLine(
            angle=90,
            movable=False,
            pen=pg.mkPen(BEST, width=2),
            label="",
            labelOpts={"position": 0.93, "color": BEST, "fill": pg.mkBrush(255, 255, 255, 210)},
        )
        self.best.setZValue(8)
        for item in (self.bracket, self.diverged, self.best):
            lr_plot.addItem(item)
        self.bracket.hide()
        self.best.hide()

    # --- candidates on loss vs λ ----------------------------------------------------------
    def set_points(self, stage: int, kind: str, lrs, scores, full, pruned, floor=None) -> None:
        """The scored candidates of ``stage``: λ, score (log y), whether each trained the
        full budget (filled) or was pruned (hollow, faint); unscored ones are left out. A
        score of 0 or less (a bowl solved exactly) sits at ``floor``, the lowest positive
        score: a log axis has no 0."""
        lrs, scores = np.asarray(lrs, dtype=np.float64), np.asarray(scores, dtype=np.float64)
        full, pruned = np.asarray(full, dtype=bool), np.asarray(pruned, dtype=bool)
        filled, hollow = self._stage(stage, kind)
        if floor is not None:
            with np.errstate(invalid="ignore"):
                scores = np.where(np.isfinite(scores) & (scores <= floor), floor, scores)
        ok = np.isfinite(scores) & (scores > 0)
        done, faint = ok & ~pruned, ok & pruned
        filled.setData(lrs[done], scores[done], symbolSize=[10 if f else 7 for f in full[done]])
        hollow.setData(lrs[faint], scores[faint])

    def set_diverged(self, lrs, top: float | None) -> None:
        """Diverged candidates as red × at height ``top`` (just above the highest score)."""
        lrs = np.asarray(lrs, dtype=np.float64)
        if top is None or lrs.size == 0:
            self.diverged.setData([], [])
            return
        self.diverged.setData(lrs, np.full(lrs.size, top))

    def set_bracket(self, bracket: tuple[float, float] | None) -> None:
        self._bracket_lr = bracket
        if bracket is None:
            self.bracket.hide()
            return
        self._updating = True
        self.bracket.setRegion((math.log10(bracket[0]), math.log10(bracket[1])))
        self._updating = False
        self.bracket.setVisible(self._visible)

    def set_best(self, lr: float | None) -> None:
        self._best_lr = lr
        if lr is None:
            self.best.hide()
            return
        self.best.setValue(math.log10(lr))
        self.best.label.setFormat(f"best {format_lr(lr)}")
        self.best.setVisible(self._visible)

    def make_editable(self, range_: tuple[float, float] | None) -> None:
        """After the search: the band is the chosen range, draggable (``range_edited``)."""
        self._editable = range_ is not None
        region = self.bracket
        region.setMovable(self._editable)
        region.setBrush(pg.mkBrush(CHOSEN if self._editable else BRACKET))
        pen = pg.mkPen(CHOSEN_EDGE if self._editable else BRACKET_EDGE, width=2)
        for line in region.lines:
            line.setPen(pen)
        region.setToolTip(
            "Chosen λ range from the search's bracket: drag an edge or the band"
            if self._editable
            else "The bracket: the best λ so far and its neighbours, both worse"
        )
        self.set_bracket(range_)

    def _on_region_finished(self, *_args) -> None:
        if self._updating or not self._editable:
            return
        low, high = self.bracket.getRegion()
        self.range_edited.emit(10.0**low, 10.0**high)

    # --- curves on loss vs iteration ------------------------------------------------------
    def set_curve(self, trial: int, stage: int, x, y, pruned: bool, finalist: bool) -> None:
        curve = self._curves.get(trial)
        if curve is None:
            curve = pg.PlotDataItem(connect="finite")
            curve.setDownsampling(auto=True, method="peak")
            self.iteration_plot.addItem(curve)
            curve.setVisible(self._visible)
            self._curves[trial] = curve
        alpha = PRUNED_ALPHA if pruned else 255
        curve.setPen(pg.mkPen(stage_color(stage, alpha), width=2 if finalist else 1))
        curve.setZValue(2 if finalist else 1)
        curve.setData(x, y)

    # --- the whole layer ------------------------------------------------------------------
    def clear(self) -> None:
        for filled, hollow in self._stage_items.values():
            self.lr_plot.removeItem(filled)
            self.lr_plot.removeItem(hollow)
        for curve in self._curves.values():
            self.iteration_plot.removeItem(curve)
        self._stage_items.clear()
        self._stage_kinds.clear()
        self._curves.clear()
        self.diverged.setData([], [])
        self.make_editable(None)
        self.set_best(None)
        self._update_legend()

    def set_visible(self, visible: bool) -> None:
        self._visible = visible
        items = [self.diverged, *self._curves.values()]
        for filled, hollow in self._stage_items.values():
            items += [filled, hollow]
        for item in items:
            item.setVisible(visible)
        self.bracket.setVisible(visible and self._bracket_lr is not None)
        self.best.setVisible(visible and self._best_lr is not None)

    def _stage(self, stage: int, kind: str) -> tuple[pg.PlotDataItem, pg.PlotDataItem]:
        items = self._stage_items.get(stage)
        if items is None:
            color = stage_color(stage)
            filled = pg.PlotDataItem(
                pen=None,
                symbol="o",
                symbolSize=10,
                symbolBrush=pg.mkBrush(color),
                symbolPen=pg.mkPen(color.darker(140), width=1),
            )
            hollow = pg.PlotDataItem(
                pen=None,
                symbol="o",
                symbolSize=8,
                symbolBrush=None,
                symbolPen=pg.mkPen(stage_color(stage, 150), width=1.2),
            )
            for item in (filled, hollow):
                item.setZValue(6)
                item.setVisible(self._visible)
                self.lr_plot.addItem(item)
            items = self._stage_items[stage] = (filled, hollow)
            self._stage_kinds[stage] = kind
            self._update_legend()
        return items

    def _update_legend(self) -> None:
        self.key_changed.emit(self.key_html())

    def key_html(self) -> str:
        """What the colours and marks mean, as one line of rich text (shown under the plot,
        where it hides no point). Lines break between entries only, never inside one."""
        if not self._stage_items:
            return ""

        def entry(mark: str, color: QColor | None, text: str) -> str:
            shown = mark if color is None else f'<span style="color:{color.name()}">{mark}</span>'
            return f"{shown}&nbsp;{text.replace(' ', '&nbsp;')}"

        parts = [
            entry("●", stage_color(stage), stage_name(stage, self._stage_kinds[stage]))
            for stage in sorted(self._stage_items)
        ]
        parts += [
            entry("○", None, "pruned (scored where it stopped)"),
            entry("×", DIVERGED, "diverged"),
            entry("▮", BRACKET_EDGE, "bracket, then the chosen range"),
            entry("│", BEST, "best λ"),
        ]
        return " &nbsp; ".join(parts)

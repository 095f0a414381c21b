"""Loss against λ on a log axis: one point per run, its final or best loss."""

from __future__ import annotations

from functools import partial

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox

from lrviz.run_store import RunStore

from ..colors import DIVERGED, run_colors
from .plot_panel import PlotPanel
from .run_paths import steady_range
from .sweep_dots import SweepDots

#: The stability limit in red-brown, the best constant step in green: theory's two λ.
THEORY_COLORS = ((170, 60, 40), (30, 120, 60))
DASH = Qt.PenStyle.DashLine


class LossVsLrPanel(PlotPanel):
    """Each simulated run as a point (λ, loss); diverged runs as red × along the top."""

    def __init__(self, parent=None) -> None:
        super().__init__("Loss vs λ", parent)
        self.store: RunStore | None = None
        self._drawn_version = -1
        self.plot.setLabel("bottom", "learning rate λ")
        self.plot.setLabel("left", "loss")
        self.plot.setLogMode(x=True, y=True)
        self.statistic = QComboBox()
        self.statistic.addItems(["final loss", "best loss"])
        self.statistic.setToolTip("Plot each run's loss at its last iteration, or its lowest.")
        self.statistic.currentIndexChanged.connect(self._redraw)
        self.header.addWidget(self.statistic)
        # The choice applies to one point per run (the simulation's, a log sweep's), not to
        # a range test's curve: shown only while a layer that uses it is on the panel.
        self._statistic_users: set[str] = set()
        self.statistic.setVisible(False)
        # The runs' dots are not a PlotDataItem: the legend is told where they are, so it
        # sits where they are not (through the dots alone: a method of the panel held by its
        # own legend made a cycle whose collection crashed).
        self.points = RunDots()
        self.legend = self.add_legend(curves=partial(_dots_for_legend, self.points))
        self.trend = pg.PlotDataItem(pen=pg.mkPen((150, 150, 150), width=1), connect="finite")
        # The runs' points are one item of their own (self.points, above), each run's colour
        # a level whose symbol is rendered once (see RunDots). Pens and brushes below are Qt
        # objects made once: pyqtgraph caches a rendered symbol per pen and brush object.
        self.diverged = pg.PlotDataItem(
            pen=None,
            symbol="x",
            symbolSize=11,
            symbolPen=pg.mkPen(DIVERGED, width=2),
            symbolBrush=pg.mkBrush(None),
        )
        # Runs that reached a loss of exactly 0: a log axis cannot show 0, so they sit at the
        # smallest positive loss, marked with a down-pointing triangle.
        self.zeros = pg.PlotDataItem(
            pen=None,
            symbol="t",
            symbolSize=10,
            symbolPen=pg.mkPen((60, 60, 60), width=1.5),
            symbolBrush=pg.mkBrush((50, 50, 150)),
        )
        for item in (self.trend, self.points, self.diverged, self.zeros):
            self.plot.addItem(item)
        self.legend.addItem(self.points, "run (colour = λ)")  # "diverged" once one does
        self._zeros_in_legend = False
        self.theory_lines: list[pg.InfiniteLine] = []
        view = self.plot.getViewBox()
        view.sigRangeChanged.connect(self._place_theory_labels)
        view.sigResized.connect(self._place_theory_labels)

    def set_theory(self, lines) -> None:
        """Vertical lines at the λ theory names (``[(λ, label), ...]``, e.g. from
        :meth:`lrviz.theory.TheoryLrs.lines`), replacing earlier ones; None or [] removes
        them. Part of the simulation's layer: hidden with its points."""
        for line in self.theory_lines:
            self.plot.removeItem(line)
        self.theory_lines = []
        for i, (value, label) in enumerate(lines or ()):
            line = pg.InfiniteLine(
                pos=np.log10(value),  # the x axis is logarithmic: items sit at log10(λ)
                angle=90,
                pen=pg.mkPen(THEORY_COLORS[i % len(THEORY_COLORS)], width=1.5, style=DASH),
                label=label,
                labelOpts={
                    "position": 0.92 - 0.1 * i,
                    "color": THEORY_COLORS[i % len(THEORY_COLORS)],
                    "fill": (255, 255, 255, 200),
                    "anchors": [(1, 0.5), (1, 0.5)],
                },
            )
            line.setToolTip(label)
            line.setVisible(self.points.isVisible())
            self.plot.addItem(line, ignoreBounds=True)
            self.theory_lines.append(line)
        self._place_theory_labels()

    def _place_theory_labels(self, *_args) -> None:
        """Each theory label left of its line, or right of it where the left has no room, or
        across it, inside the plot, where neither side has: in a narrow plot
        "2/(μ+L) = 0.196" was cut at the axis."""
        view = self.plot.getViewBox()
        (x0, x1), _ = view.viewRange()
        width = view.width()
        if width <= 0 or not x1 > x0:
            return
        for line in self.theory_lines:
            label = line.label
            text_width = label.boundingRect().width()
            left = (line.value() - x0) / (x1 - x0) * width
            if left >= text_width + 6:
                side = (1, 0.5)
            elif width - left >= text_width + 6:
                side = (0, 0.5)
            else:  # the label's left end at the axis, the rest across the line
                side = (min(max((left - 3) / max(text_width, 1), 0.0), 1.0), 0.5)
            if label.anchors[0] != side:
                label.anchors = [side, side]
                label.updatePosition()

    def get_state(self) -> dict:
        return {"statistic": "best" if self.statistic.currentIndex() == 1 else "final"}

    def set_state(self, state: dict) -> None:
        if state.get("statistic") in ("final", "best"):
            self.statistic.setCurrentIndex(1 if state["statistic"] == "best" else 0)

    def set_simulation_visible(self, visible: bool) -> None:
        """Show or hide the simulation's points."""
        for item in (self.trend, self.points, self.diverged, self.zeros, *self.theory_lines):
            item.setVisible(visible)
        self.legend.setVisible(visible)
        self.use_statistic("simulation", visible and self.store is not None)

    def set_streaming(self, streaming: bool) -> None:
        """A run is streaming into the panel: its points move every frame (see RunDots)."""
        self.points.set_live(streaming)

    def use_statistic(self, owner: str, used: bool) -> None:
        """Say whether ``owner``'s layer, as shown now, plots the final/best loss choice."""
        if used:
            self._statistic_users.add(owner)
        else:
            self._statistic_users.discard(owner)
        self.statistic.setVisible(bool(self._statistic_users))

    def set_store(self, store: RunStore) -> None:
        self.store = store
        if self._zeros_in_legend:
            self.legend.removeItem(self.zeros)
            self._zeros_in_legend = False
        self.legend.removeItem(self.diverged)  # until a run of this store diverges
        self._levels = self.points.set_colors(run_colors(store))
        own = store.optimizers is not None  # then the colours name optimizers, x is each λ₀
        self.points.name = "run (colour = optimizer)" if own else "run (colour = λ)"
        self.legend.rename(self.points, self.points.name)
        self._drawn_version = -1
        self.use_statistic("simulation", self.points.isVisible())
        self.refresh()

    def refresh(self) -> bool:
        store = self.store
        if store is None or store.version == self._drawn_version or store.count == 0:
            return False
        self._drawn_version = store.version
        loss = store.best_loss() if self.statistic.currentIndex() == 1 else store.final_loss()
        diverged = store.diverged_at >= 0
        ok = ~diverged & np.isfinite(loss) & (loss > 0)
        zero = ~diverged & (loss == 0)
        lrs = store.lrs
        floor = float(loss[ok].min()) if ok.any() else 1.0
        self.zeros.setData(lrs[zero], np.full(int(zero.sum()), floor))
        if zero.any() and not self._zeros_in_legend:
            self.legend.addItem(self.zeros, "loss = 0 (at the lowest)")
            self._zeros_in_legend = True
        # A trend through runs of different optimizers, ordered by λ₀, would mean nothing.
        trend = ok if store.optimizers is None else np.zeros_like(ok)
        self.trend.setData(lrs[trend], loss[trend])
        self.points.set_points(lrs[ok], loss[ok], self._levels[ok])
        # Diverged runs sit where they blew up, capped just above the highest point so a
        # 1e300 loss does not squash the interesting range.
        finite_positive = loss[np.isfinite(loss) & (loss > 0)]
        top = finite_positive.max() if finite_positive.size else 1.0
        cap = top * 3 if not np.any(ok) else loss[ok].max() * 3
        shown = np.where(np.isfinite(loss) & (loss > 0), np.minimum(loss, cap), cap)
        self.diverged.setData(lrs[diverged], shown[diverged])
        self.legend.name_when(self.diverged, "diverged", bool(diverged.any()))
        return True

    def _redraw(self) -> None:
        self._drawn_version = -1
        self.refresh()


def _dots_for_legend(dots) -> list:
    x, y = dots.getData()
    return [(x, y, False)] if dots.isVisible() and len(x) else []  # markers, not a line


class RunDots(SweepDots):
    """The simulation's runs as dots, one colour each (see sweep_dots).

    They were a PlotDataItem with a brush per run, which the plot's clip-to-view and
    downsampling thinned whenever the view changed: pyqtgraph then raised "Number of brushes
    does not match number of points (1000 != 666)" and drew no points, and it rendered a
    symbol per point's brush. Here every point stays, and each colour's symbol is rendered
    once per simulation.
    """

    def __init__(self) -> None:
        pen = pg.mkPen((200, 200, 200))
        super().__init__("o", 8, pen=pen, name="run (colour = λ)")
        # What a legend's sample draws (pyqtgraph's ItemSample and the header's legend read
        # an item's ``opts``): pyqtgraph's default symbol colours.
        brush = pg.mkBrush((50, 50, 150))
        self.opts = {
            "pen": None,
            "symbol": "o",
            "size": 8,
            "brush": brush,
            "symbolBrush": brush,
            "symbolPen": pen,
            "antialias": True,
        }
        self.live = False

    def set_live(self, live: bool) -> None:
        """While a run streams, the view fits steady bounds (see :meth:`dataBounds`)."""
        if bool(live) != self.live:
            self.live = bool(live)
            self.informViewBoundsChanged()

    def dataBounds(self, ax: int, frac: float = 1.0, orthoRange=None):
        """The points' extent; while live, widened to a grid the points cross only now and
        then (as run_paths does): an auto-ranging view whose range changed with every frame
        laid out its axes again every frame."""
        lo, hi = super().dataBounds(ax, frac, orthoRange)
        if not self.live or lo is None:
            return (lo, hi)
        return steady_range(lo, hi)

    def set_colors(self, colors) -> np.ndarray:
        """One colour per run (``QColor``s; runs beyond 256 share levels of the colour
        map); returns each run's level, for :meth:`set_points`."""
        keys = np.array([c.rgba() for c in colors], dtype=np.int64)
        _, first, levels = np.unique(keys, return_index=True, return_inverse=True)
        self.set_palette([pg.mkBrush(colors[i]) for i in first])
        return levels.reshape(-1).astype(np.intp)

    def getOriginalDataset(self) -> tuple[np.ndarray, np.ndarray]:
        """The points in data units (λ, loss), as pyqtgraph's items answer it."""
        return self._data

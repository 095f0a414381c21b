"""Sharpness against iteration, with each run's stability limit 2/λ (edge of stability).

Gradient descent with step λ is stable on a quadratic only while the sharpness (the top
eigenvalue of the loss Hessian) stays below 2/λ; Cohen et al. (2021) saw it climb to 2/λ on
networks and hover there. Each run draws its measured sharpness (solid, dots) and its 2/λ
(dashed, the λ it used at each iteration, so schedules and adaptive λ move it), in the run's
colour.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QSizePolicy

from lrviz.run_store import RunStore

from .. import theme
from ..colors import run_colors
from .plot_panel import PlotPanel

#: Above the curves and dashed lines (z 0) and their symbols.
LABEL_Z = 20

#: 2/λ is drawn from at most this many points of the λ history.
LIMIT_POINTS = 2000
MAX_LABELS = 7  # more runs: no labels (the colours match the other panels' λ)
EMPTY_MESSAGE = (
    "No sharpness measured. Set “Sharpness every” on the Simulate form, or run the "
    "example “Edge of stability”."
)


class SharpnessPanel(PlotPanel):
    """Each run's sharpness (solid) and 2/λ (dashed) against iteration."""

    def __init__(self, parent=None) -> None:
        super().__init__("Sharpness", parent)
        self.store: RunStore | None = None
        self.curves: list[pg.PlotDataItem] = []
        self.limits: list[pg.PlotDataItem] = []
        self._drawn_version = -1
        self.plot.setLabel("bottom", "iteration")
        self.plot.setLabel("left", "sharpness")
        self.plot.getAxis("left").setToolTip("Sharpness: the top eigenvalue of the loss Hessian")
        self.log_y = self.add_toggle(
            "log y", True, "Draw the sharpness on a logarithmic axis.", self._set_log
        )
        self.plot.setLogMode(x=False, y=True)
        # Each dashed line is labelled at its right end with its run and value: a legend box
        # would sit on the curves, which fill the plot.
        self.key = QLabel("dots: sharpness · dashed: 2/λ")
        self.key.setToolTip(
            "2/λ: where the sharpness passes it, gradient descent with step λ is unstable."
        )
        theme.mark(self.key, "hint")
        # Its full width when there is room (an Ignored policy gave it none: the header's
        # stretch took it all); a narrow dock cuts the key short, not the plot.
        self.key.setMinimumWidth(0)
        self.key.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self.header.insertWidget(0, self.key)
        self.labels: list[pg.TextItem] = []
        self.message = pg.TextItem(EMPTY_MESSAGE, color=theme.role_color("hint"), anchor=(0.5, 0.5))
        self.message.setTextWidth(320)
        self.plot.getViewBox().addItem(self.message, ignoreBounds=True)
        self.plot.getViewBox().sigRangeChanged.connect(self._place_message)
        self.plot.getViewBox().sigRangeChanged.connect(self._keep_labels_inside)
        self.plot.getViewBox().sigResized.connect(self._keep_labels_inside)
        self._place_message()

    def set_store(self, store: RunStore) -> None:
        """Replace the curves with one pair (sharpness, 2/λ) per run of ``store``."""
        for item in [*self.curves, *self.limits, *self.labels]:
            self.plot.removeItem(item)
        self.store = store
        self.curves, self.limits, self.labels = [], [], []
        if store.sharpness is not None:
            for name in store.names:
                # (pens and colours: restyle, below, as after a theme switch)
                curve = pg.PlotDataItem(symbol="o", symbolSize=4, symbolPen=None, connect="finite")
                limit = pg.PlotDataItem(connect="finite")
                curve.setToolTip(f"{name}: sharpness")
                limit.setToolTip(f"{name}: 2/λ, where gradient descent becomes unstable")
                for item in (limit, curve):
                    self.plot.addItem(item)
                self.curves.append(curve)
                self.limits.append(limit)
                if store.runs <= MAX_LABELS:
                    # On a backing, above every curve: the runs' dots crossed the text
                    # ("λ = 2: 2/λ = 1" under the λ = 1 curve at 1024x700).
                    label = pg.TextItem(anchor=(1, 1))
                    label.setZValue(LABEL_Z)
                    self.plot.addItem(label, ignoreBounds=True)
                    self.labels.append(label)
        self.restyle()
        self.message.setVisible(store.sharpness is None)
        self._drawn_version = -1
        self.plot.getViewBox().enableAutoRange()
        self.refresh()

    def restyle(self) -> None:
        """The runs' curves and labels (text and backing) and the empty plot's message in
        the theme's colours (a theme switch calls this: the data and the view, zoom
        included, stay as they were)."""
        fill = pg.mkBrush(theme.current().legend_fill)
        # The λ colour map drops its darkest end on a dark background: the runs' colours too.
        colors = run_colors(self.store) if self.curves else []
        for curve, limit, color in zip(self.curves, self.limits, colors, strict=True):
            curve.setPen(pg.mkPen(color, width=1.5))
            curve.setSymbolBrush(color)
            limit.setPen(pg.mkPen(color, width=1.2, style=Qt.PenStyle.DashLine))
        for label, color in zip(self.labels, colors, strict=False):
            # a shade nearer the text colour: readable on either background
            shade = color.lighter(125) if theme.is_dark() else color.darker(120)
            label.fill = fill  # (TextItem has no setter: painted from this attribute)
            label.setColor(shade)
            label.update()
        self.message.setColor(theme.role_color("hint"))
        self.message.update()

    def refresh(self) -> bool:
        """Redraw if the store changed since the last draw. Returns True if it drew."""
        store = self.store
        if store is None or store.sharpness is None or store.version == self._drawn_version:
            return False
        self._drawn_version = store.version
        x = store.sharpness_x()
        values = store.sharpness[: store.sharpness_count]
        rows = store.rows
        step = max(1, -(-rows // LIMIT_POINTS))
        lr_x = store.history_x()[::step]
        with np.errstate(divide="ignore", invalid="ignore"):
            limits = 2.0 / store.lr[:rows:step]
        for i, (curve, limit) in enumerate(zip(self.curves, self.limits, strict=True)):
            curve.setData(x, self._shown(values[:, i]))
            limit.setData(lr_x, self._shown(limits[:, i]))
        self._label_limits(store, lr_x, limits)
        return True

    def _label_limits(self, store: RunStore, x: np.ndarray, limits: np.ndarray) -> None:
        """Each run's name and 2/λ just above the right end of its dashed line."""
        for i, label in enumerate(self.labels):
            finite = np.flatnonzero(np.isfinite(limits[:, i]) & (limits[:, i] > 0))
            label.setVisible(finite.size > 0)
            if not finite.size:
                continue
            value = float(limits[finite[-1], i])
            label.setText(f"{store.names[i]}: 2/λ = {value:.3g}")
            y = np.log10(value) if self.log_y.isChecked() else value
            label.setPos(float(x[finite[-1]]), y)
        self._keep_labels_inside()

    def _keep_labels_inside(self, *_args) -> None:
        """A label sits just above its dashed line, or just below it where above would
        leave the view (the largest 2/λ is the top of the plot, and its label was cut)."""
        view = self.plot.getViewBox()
        (_x0, _x1), (_y0, y1) = view.viewRange()
        _dx, dy = view.viewPixelSize()
        for label in self.labels:
            height = label.boundingRect().height() * dy  # the label's height in data units
            above = label.pos().y() + height <= y1
            label.setAnchor((1, 1) if above else (1, 0))

    def _shown(self, values: np.ndarray) -> np.ndarray:
        # A log axis cannot show a sharpness at or below 0 (a saddle early on): leave a gap.
        if self.log_y.isChecked():
            with np.errstate(invalid="ignore"):
                return np.where(values > 0, values, np.nan)
        return values

    def get_state(self) -> dict:
        return {"log_y": self.log_y.isChecked()}

    def set_state(self, state: dict) -> None:
        if isinstance(state.get("log_y"), bool):
            self.log_y.setChecked(state["log_y"])

    def _set_log(self, on: bool) -> None:
        self.plot.setLogMode(x=False, y=on)
        self._drawn_version = -1
        self.refresh()

    def _place_message(self, *_args) -> None:
        (x0, x1), (y0, y1) = self.plot.getViewBox().viewRange()
        self.message.setPos((x0 + x1) / 2, (y0 + y1) / 2)

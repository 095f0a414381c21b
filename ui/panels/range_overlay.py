"""A range test drawn over the loss vs λ plot: the curve, the suggestions and the chosen range.

Layered on :attr:`LossVsLrPanel.plot` (log-x, log-y): the raw loss faint, the smoothed loss
bold, accuracy on a second, linear y axis at the right, one labelled vertical line per
suggestion, and a draggable shaded region for the chosen range.

The plot's x axis is in log mode, and neither ``InfiniteLine`` nor ``LinearRegionItem`` has a
log mode: both take and report **log10(λ)**. Everything this module hands out (signals, the
region it is given) is in λ; the conversion happens here and only here.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QColor, QFont

from lrviz.lr_format import format_lr
from lrviz.lr_range import SNAP_DECADES, snap_edit
from lrviz.suggest import Marker

from .fitted_legend import FittedLegend

CURVE = QColor(31, 100, 180)
ACCURACY = QColor(30, 140, 60)
REGION = QColor(31, 119, 180, 38)
REGION_HOVER = QColor(31, 119, 180, 70)
REGION_EDGE = QColor(31, 90, 160)
#: The likely band of the best λ: a faint green strip behind the chosen range.
LIKELY = QColor(40, 150, 70, 34)
LIKELY_EDGE = QColor(40, 150, 70, 170)

#: name -> (short label, colour, emphasised); the order is the drawing order (suggested on
#: top). ``stops_improving`` is not drawn: the region and "suggested" already say it.
MARKER_STYLE = {
    "steepest": ("steepest", QColor(200, 120, 0), False),
    "valley": ("valley", QColor(0, 140, 110), False),
    "minimum": ("min/10", QColor(190, 80, 150), False),
    "slide": ("slide", QColor(90, 90, 200), False),
    "start": ("start", QColor(90, 60, 140), False),
    "max": ("max", QColor(90, 60, 140), False),
    "jumpy": ("jumps", QColor(110, 110, 110), False),
    "suggested": ("suggested", QColor(210, 50, 30), True),
}
LABEL_GAP_PX = 6  # horizontal space kept between two labels in one row
LABEL_TOP_PX = 4  # space between the top of the view and the first row of labels
#: The range test's legend corners, the first preferred: the curve's flat start and its
#: explosion leave the bottom free more often than the top, where the markers are named.
LEGEND_CORNERS = ("bottom-left", "bottom-right", "top-left", "top-right")


class LinearAxis(pg.AxisItem):
    """An axis that stays linear when the plot switches to log mode (accuracy, 0..1)."""

    def setLogMode(self, *args, **kwargs) -> None:
        super().setLogMode(False, False)


class RangeOverlay(QObject):
    """The range-test layer of a log-x plot.

    Signals
    -------
    region_edited(float, float)  the user released a region edge (or the region): min and max
                                 λ, after snapping to the nearest marker within
                                 :data:`SNAP_DECADES`
    region_moving(float, float)  live while the region is dragged (for cheap readouts)
    """

    region_edited = Signal(float, float)
    region_moving = Signal(float, float)

    def __init__(self, plot: pg.PlotItem, parent=None):
        super().__init__(parent)
        self.plot = plot
        self.view: pg.ViewBox = plot.getViewBox()
        self.markers: list[Marker] = []
        self._lines: dict[str, pg.InfiniteLine] = {}
        self._region_lr: tuple[float, float] | None = None
        self._updating_region = False
        self._visible = True
        self._has_accuracy = False
        self._name = ""
        self._smoothing = None
        self._raw_alpha = 70

        faint = QColor(CURVE)
        faint.setAlpha(70)
        self.raw = pg.PlotDataItem(pen=pg.mkPen(faint, width=1), connect="finite")
        self.smoothed = pg.PlotDataItem(pen=pg.mkPen(CURVE, width=2.5), connect="finite")
        for item in (self.raw, self.smoothed):
            # 'peak' keeps loss spikes visible when thousands of points are drawn.
            item.setDownsampling(auto=True, method="peak")
            item.setZValue(5)

        self.region = pg.LinearRegionItem(
            values=(0.0, 1.0),
            brush=pg.mkBrush(REGION),
            hoverBrush=pg.mkBrush(REGION_HOVER),
            pen=pg.mkPen(REGION_EDGE, width=2),
            hoverPen=pg.mkPen(QColor(210, 50, 30), width=3),
            swapMode="sort",
        )
        self.region.setZValue(-10)
        self.region.setToolTip(
            "The chosen λ range: drag an edge or the whole band (an edge released within "
            f"{SNAP_DECADES:g} decades of a suggestion snaps to it; Ctrl+Z undoes)."
        )
        for line in self.region.lines:
            line.setToolTip("Drag to change this end of the chosen range.")
        self.region.sigRegionChanged.connect(self._on_region_moving)
        self.region.sigRegionChangeFinished.connect(self._on_region_finished)

        self.likely = pg.LinearRegionItem(
            values=(0.0, 1.0),
            movable=False,
            brush=pg.mkBrush(LIKELY),
            pen=pg.mkPen(LIKELY_EDGE, width=1, style=Qt.PenStyle.DashLine),
        )
        self.likely.setZValue(-20)
        self._likely_lr: tuple[float, float] | None = None
        # A legend sample for the band (a region has none of its own).
        self.likely_sample = pg.PlotDataItem(pen=pg.mkPen(LIKELY_EDGE, width=6))

        for item in (self.likely, self.region, self.raw, self.smoothed):
            plot.addItem(item)
        self.region.hide()
        self.likely.hide()
        # Our own legend: the panel's belongs to the simulation and hides with it; fitted
        # to the view and placed in its freest corner, clear of the panel's when both show.
        self.legend = FittedLegend(
            self.view,
            corners=LEGEND_CORNERS,
            brush=pg.mkBrush(255, 255, 255, 200),  # readable over the shaded range
        )
        self.legend.hide()

        # Accuracy: a second ViewBox sharing x, drawn behind the plot so it never takes the
        # mouse (region drags must reach the main view); see pyqtgraph's MultiplePlotAxes.
        self.accuracy_axis = LinearAxis("right")
        plot.setAxisItems({"right": self.accuracy_axis})
        self.accuracy_view = pg.ViewBox(enableMouse=False)
        self.accuracy_view.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.accuracy_view.setZValue(-100)
        self.accuracy_view.setMenuEnabled(False)
        plot.scene().addItem(self.accuracy_view)
        self.accuracy_axis.linkToView(self.accuracy_view)
        self.accuracy_view.setXLink(plot)
        self.accuracy_view.setYRange(0.0, 1.0, padding=0.02)
        self.accuracy_view.enableAutoRange(enable=False)
        self.accuracy = pg.PlotDataItem(pen=pg.mkPen(ACCURACY, width=1.5), connect="finite")
        self.accuracy_view.addItem(self.accuracy)
        self.accuracy_axis.setLabel("accuracy", color=ACCURACY.name())
        plot.hideAxis("right")
        self.view.sigResized.connect(self._sync_accuracy_view)
        self.view.sigResized.connect(self._layout_labels)
        self.view.sigXRangeChanged.connect(self._layout_labels)
        self._sync_accuracy_view()

    # --- curve ----------------------------------------------------------------------------
    def set_curve(
        self,
        lr: np.ndarray,
        raw: np.ndarray,
        smoothed: np.ndarray,
        accuracy: np.ndarray | None = None,
        name: str | None = None,
        smoothing: float | None = None,
    ) -> None:
        """Draw the curve (λ, not log10). ``accuracy`` goes on the right axis (0..1).

        ``name`` and ``smoothing`` (the EMA weight) only label the legend."""
        lr = np.asarray(lr, dtype=np.float64)
        # Thousands of noisy points pile up into a solid band: the denser, the fainter.
        alpha = int(np.clip(70 * math.sqrt(500 / max(lr.size, 1)), 22, 70))
        if alpha != self._raw_alpha:
            self._raw_alpha = alpha
            faint = QColor(CURVE)
            faint.setAlpha(alpha)
            self.raw.setPen(pg.mkPen(faint, width=1))
        self.raw.setData(lr, np.asarray(raw, dtype=np.float64))
        self.smoothed.setData(lr, np.asarray(smoothed, dtype=np.float64))
        has_accuracy = accuracy is not None and bool(np.isfinite(accuracy).any())
        if has_accuracy:
            with np.errstate(divide="ignore", invalid="ignore"):
                self.accuracy.setData(np.log10(lr), np.asarray(accuracy, dtype=np.float64))
        else:
            self.accuracy.setData([], [])
        if has_accuracy != self._has_accuracy:
            self._has_accuracy = has_accuracy
            self._show_accuracy_axis()
            self._update_legend()
        if (name is not None and name != self._name) or smoothing != self._smoothing:
            self._name = name if name is not None else self._name
            self._smoothing = smoothing
            self._update_legend()

    def clear(self) -> None:
        """Remove the curve, the markers and the region."""
        self.raw.setData([], [])
        self.smoothed.setData([], [])
        self.accuracy.setData([], [])
        self._has_accuracy = False
        self._show_accuracy_axis()
        self.legend.clear()
        self.legend.hide()
        self._name, self._smoothing = "", None
        self.set_markers([])
        self.set_region(None)
        self.set_likely_band(None)

    def set_visible(self, visible: bool) -> None:
        """Show or hide the whole layer (curve, accuracy, markers, region)."""
        self._visible = visible
        for item in (self.raw, self.smoothed, self.accuracy):
            item.setVisible(visible)
        for line in self._lines.values():
            line.setVisible(visible)
        self.region.setVisible(visible and self._region_lr is not None)
        self.likely.setVisible(visible and self._likely_lr is not None)
        self.legend.setVisible(visible and bool(self.legend.entries))
        self._show_accuracy_axis()
        if visible:
            self._layout_labels()

    @property
    def visible(self) -> bool:
        return self._visible

    def show_x_range(self, min_lr: float, max_lr: float) -> None:
        """Fix the x axis to the tested λ range, so a streaming curve grows across it."""
        self.view.setXRange(math.log10(min_lr), math.log10(max_lr), padding=0.02)

    def fit_y(self, raw: np.ndarray, smoothed: np.ndarray, log_y: bool = True) -> None:
        """Fit the y axis to the curve, ignoring a blow-up at its end: from the lowest raw
        point to a little above the highest smoothed point before the smoothed minimum."""
        raw = np.asarray(raw, dtype=np.float64)
        smoothed = np.asarray(smoothed, dtype=np.float64)
        ok = np.isfinite(raw) & ((raw > 0) if log_y else True)
        good = np.isfinite(smoothed) & ((smoothed > 0) if log_y else True)
        if not ok.any() or not good.any():
            self.view.enableAutoRange(axis=pg.ViewBox.YAxis)
            return
        lowest_at = int(np.nanargmin(np.where(good, smoothed, np.nan)))
        head = smoothed[: lowest_at + 1][good[: lowest_at + 1]]
        # The raw plateau before the bottom must be in view too (a Lightning curve's bold
        # line starts at half its raw loss, and the plateau was cut off above it).
        raw_head = raw[: lowest_at + 1][ok[: lowest_at + 1]]
        plateau = float(np.percentile(raw_head, 90)) if raw_head.size else float(head.max())
        ceiling = max(float(head.max()), plateau)
        top = max(ceiling, float(np.nanmax(np.where(good, smoothed, np.nan))))
        # A blow-up at the end: keep it in view only when modest.
        top = min(top, ceiling * 1.5) if head.size else top
        # The raw points' low tail, not their minimum: an un-smoothed finder curve is noisy.
        low = min(float(np.percentile(raw[ok], 2)), float(smoothed[good].min()))
        if log_y:
            lo, hi = math.log10(low), math.log10(max(top, low * 1.01))
            pad = 0.05 * max(hi - lo, 0.05)
        else:
            lo, hi = low, max(top, low + 1e-12)
            pad = 0.05 * (hi - lo)
        lo, hi = lo - pad, hi + pad
        # Room above the curve for the rows of marker labels, so they never cover it.
        height = self.view.height()
        band = self.label_band_px() if self._lines else 0.0
        if 0 < band < 0.6 * height:
            hi += (hi - lo) * band / (height - band)
        self.view.setYRange(lo, hi, padding=0)

    def label_band_px(self) -> float:
        """Height in pixels of the rows of marker labels at the top of the view."""
        return float(getattr(self, "_label_band_px", 0.0))

    def place_legend(self, corner: str) -> None:
        """Prefer ``corner`` ("bottom-left", "bottom-right", "top-left", "top-right") for the
        legend; a freer corner still wins."""
        self.legend.corners = (corner, *(c for c in LEGEND_CORNERS if c != corner))
        self.legend.fit()

    # --- markers --------------------------------------------------------------------------
    def set_markers(self, markers: list[Marker]) -> None:
        """One labelled vertical line per suggestion; labels are stacked in rows so that
        neighbours never overlap (see :meth:`_layout_labels`)."""
        for line in self._lines.values():
            self.plot.removeItem(line)
        self._lines.clear()
        order = list(MARKER_STYLE)
        self.markers = sorted(
            (m for m in markers if m.name in MARKER_STYLE and m.lr > 0 and math.isfinite(m.lr)),
            key=lambda m: order.index(m.name),
        )
        font = QFont()
        font.setPointSizeF(8.5)
        bold = QFont(font)
        bold.setBold(True)
        for z, marker in enumerate(self.markers):
            short, color, emphasised = MARKER_STYLE[marker.name]
            # Values only on the one that matters; the others say theirs in a tooltip.
            text = f"{short} {format_lr(marker.lr)}" if emphasised else short
            line_color = QColor(color)
            line_color.setAlpha(255 if emphasised else 150)
            pen = pg.mkPen(
                line_color,
                width=2 if emphasised else 1,
                style=Qt.PenStyle.SolidLine if emphasised else Qt.PenStyle.DashLine,
            )
            fill = QColor(255, 255, 255, 235)
            line = pg.InfiniteLine(
                pos=math.log10(marker.lr),
                angle=90,
                movable=False,
                pen=pen,
                label=text,
                labelOpts={
                    "position": 0.95,
                    "color": color,
                    "fill": pg.mkBrush(fill),
                    "anchors": [(0.5, 0.0), (0.5, 0.0)],
                },
            )
            line.label.setFont(bold if emphasised else font)
            tip = f"{marker.label}: λ = {format_lr(marker.lr)}"
            line.setToolTip(tip)
            line.label.setToolTip(tip)
            line.setZValue(20 + z)
            line.label.setZValue(30 + z)
            line.setVisible(self._visible)
            self.plot.addItem(line, ignoreBounds=True)
            self._lines[marker.name] = line
        self._layout_labels()

    def marker_lrs(self) -> list[float]:
        return [m.lr for m in self.markers]

    def label_rows(self) -> dict[str, int]:
        """Row of each marker's label (0 = top row); for tests and layout checks."""
        return dict(getattr(self, "_rows", {}))

    def label_rects(self) -> dict[str, tuple[float, float, float, float]]:
        """Scene rectangle (x, y, w, h) of each marker label, for overlap checks."""
        out = {}
        for name, line in self._lines.items():
            r = line.label.sceneBoundingRect()
            out[name] = (r.x(), r.y(), r.width(), r.height())
        return out

    def _layout_labels(self, *_args) -> None:
        """Greedy row packing in screen pixels: left to right, each label takes the highest
        row whose last label ends left of it. Rerun when the view is zoomed or resized."""
        if not self._lines:
            self._rows = {}
            return
        (x0, x1), _ = self.view.viewRange()
        width, height = self.view.width(), self.view.height()
        if width <= 0 or height <= 0 or x1 <= x0:
            return
        placed = []
        for marker in self.markers:
            line = self._lines[marker.name]
            text_rect = line.label.textItem.boundingRect()
            px = (math.log10(marker.lr) - x0) / (x1 - x0) * width
            # Emphasised labels claim their place first.
            rank = 0 if MARKER_STYLE[marker.name][2] else 1
            placed.append((rank, px, text_rect.width(), text_rect.height(), marker.name))
        row_height = max(p[3] for p in placed) + 1
        self._label_band_px = 0.0
        rows: list[list[tuple[float, float]]] = []
        self._rows = {}
        for _rank, px, w, _h, name in sorted(placed, key=lambda p: (p[0], p[1])):
            # Centred on its line, but slid inward near the view's edges so that no label
            # is cut off ("suggested …" at the right edge was).
            anchor = 0.5
            if w > 0 and px - w / 2 < LABEL_GAP_PX:
                anchor = max(0.0, min(0.5, (px - LABEL_GAP_PX) / w))
            elif w > 0 and px + w / 2 > width - LABEL_GAP_PX:
                anchor = min(1.0, max(0.5, 1.0 - (width - LABEL_GAP_PX - px) / w))
            label = self._lines[name].label
            if label.anchors[0][0] != anchor:
                label.anchors = [(anchor, 0.0), (anchor, 0.0)]
                label.updatePosition()
            left, right = px - anchor * w, px + (1.0 - anchor) * w
            index = next(
                (
                    i
                    for i, spans in enumerate(rows)
                    if all(right + LABEL_GAP_PX <= a or left >= b + LABEL_GAP_PX for a, b in spans)
                ),
                len(rows),
            )
            if index == len(rows):
                rows.append([])
            rows[index].append((left, right))
            self._rows[name] = index
            top = LABEL_TOP_PX + index * row_height
            self._label_band_px = max(self._label_band_px, top + row_height + 2)
            self._lines[name].label.setPosition(max(0.0, 1.0 - top / height))

    # --- region ---------------------------------------------------------------------------
    def set_likely_band(self, band: tuple[float, float] | None) -> None:
        """Shade where the best constant λ likely is (λ, not log10); None hides it."""
        ok = band is not None and 0 < band[0] < band[1] and all(map(math.isfinite, band))
        self._likely_lr = (float(band[0]), float(band[1])) if ok else None
        if self._likely_lr is not None:
            a, b = self._likely_lr
            self.likely.setRegion((math.log10(a), math.log10(b)))
            tip = f"Likely best constant λ: {format_lr(a)} to {format_lr(b)}"
            self.likely.setToolTip(tip)
        self.likely.setVisible(self._visible and self._likely_lr is not None)
        if self.legend.entries:  # a curve is shown: its legend lists the band too
            self._update_legend()

    @property
    def likely_band(self) -> tuple[float, float] | None:
        return self._likely_lr

    def set_region(self, range_: tuple[float, float] | None) -> None:
        """Show the chosen range (λ units) without emitting ``region_edited``."""
        self._region_lr = None if range_ is None else (float(range_[0]), float(range_[1]))
        if range_ is None:
            self.region.hide()
            return
        lo, hi = (math.log10(v) for v in self._region_lr)
        self._updating_region = True
        try:
            self.region.setRegion((lo, hi))
        finally:
            self._updating_region = False
        self.region.setVisible(self._visible)

    def _on_region_moving(self) -> None:
        if self._updating_region:
            return
        lo, hi = self.region.getRegion()
        self.region_moving.emit(10.0**lo, 10.0**hi)

    def _on_region_finished(self) -> None:
        if self._updating_region or self._region_lr is None:
            return
        lo_log, hi_log = self.region.getRegion()
        lo, hi = snap_edit(self._region_lr, (10.0**lo_log, 10.0**hi_log), self.marker_lrs())
        self.region_edited.emit(lo, hi)

    # --- accuracy axis --------------------------------------------------------------------
    def _show_accuracy_axis(self) -> None:
        shown = self._has_accuracy and self._visible
        if shown:
            self.plot.showAxis("right")
        else:
            self.plot.hideAxis("right")
        self.accuracy_view.setVisible(shown)

    def _sync_accuracy_view(self) -> None:
        self.accuracy_view.setGeometry(self.view.sceneBoundingRect())
        # The linked x must be re-read once both views have the same shape.
        self.accuracy_view.linkedViewChanged(self.view, self.accuracy_view.XAxis)

    def _update_legend(self) -> None:
        # Short entries: the view may be narrow and share its bottom with the runs' legend.
        self.legend.clear()
        name = self._name or "loss"
        if len(name) > 22:
            name = name[:10] + "…" + name[-10:]
        self.legend.addItem(self.raw, name)
        if self._smoothing is None:
            ema = ""
        elif isinstance(self._smoothing, str):
            ema = f" ({self._smoothing})"
        else:
            ema = f" (EMA {self._smoothing:.3g})"
        self.legend.addItem(self.smoothed, f"smoothed{ema}")
        if self._has_accuracy:
            self.legend.addItem(self.accuracy, "accuracy (right)")
        if self._likely_lr is not None:
            self.legend.addItem(self.likely_sample, "likely best λ")
        self.legend.setVisible(self._visible)

"""A plot with a slim header of options: the common frame of every lrviz panel."""

from __future__ import annotations

import math
import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QFontMetricsF, QImage, QPainter, QPen, QPicture, QPixmap, QTransform
from PySide6.QtWidgets import (
    QCheckBox,
    QGraphicsItem,
    QHBoxLayout,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from lrviz.lr_format import format_lr

from ..theme import apply_plot_theme
from ..tooltips import explain_plot_export
from .empty_state import EmptyState
from .fitted_legend import FittedLegend, HeaderLegend


class ScientificAxis(pg.AxisItem):
    """An axis that reads 1e-4, 2e-4, 0.01 on log scales, labels only as many ticks as fit
    (decades first, then 2 and 5), and never rescales with SI prefixes (λ "x0.001")."""

    #: Below this many labelled ticks, a log axis switches to evenly spaced values.
    MIN_LABELS = 3
    #: Pixels of blank kept between two tick labels: less and "5000 10000 15000" reads as one.
    LABEL_GAP = 10

    #: A counting axis (integer data) keeps ticks between whole numbers only while it
    #: spans less than this: "step 2.5" or "epoch 0.2" of a 3-epoch log means nothing.
    INTEGER_SPAN = 2.0

    def __init__(self, orientation: str, **kwargs) -> None:
        super().__init__(orientation, **kwargs)
        self.enableAutoSIPrefix(False)
        self._fine = False  # the current log ticks are evenly spaced values, not 1-2-5
        self.integer_ticks = False  # the data on this axis are whole numbers (steps, epochs)
        self._draw_specs: list | None = None  # the lines of the last layout (see paint)

    def tickSpacing(self, minVal, maxVal, size):
        """pyqtgraph's spacing, widened (1, 2, 5 times a power of ten) until the widest
        label fits between two ticks: it counts ticks per pixel, not label widths, and a
        growing run's iteration axis ran '20000 40000 60000' into each other. On a
        counting axis (:attr:`integer_ticks`), no tick falls between two whole numbers."""
        levels = self._label_spacing(minVal, maxVal, size)
        if not (self.integer_ticks and not self.logMode and levels):
            return levels
        if abs(maxVal - minVal) < self.INTEGER_SPAN:
            return levels
        whole = [(step, offset) for step, offset in levels if step >= 1 - 1e-9]
        return whole or [(1.0, 0.0)]

    def _label_spacing(self, minVal, maxVal, size):
        levels = super().tickSpacing(minVal, maxVal, size)
        span = abs(maxVal - minVal)
        horizontal = self.orientation in ("bottom", "top")
        if self.logMode or not levels or self._tickSpacing is not None or not horizontal:
            return levels
        if not (span > 0 and size > 0 and np.isfinite(span)):
            return levels
        metrics = QFontMetricsF(self.style["tickFont"] or self.font())
        scale = self.autoSIPrefixScale * self.scale
        lo = min(minVal, maxVal)
        major = step = levels[0][0]
        for _ in range(12):
            values = np.arange(np.ceil(lo / step) * step, lo + span + step * 1e-9, step)
            strings = self.tickStrings(values.tolist(), scale, step) if values.size else []
            widest = max((metrics.horizontalAdvance(text) for text in strings), default=0.0)
            if step / span * size >= widest + self.LABEL_GAP:
                break
            step = _next_nice_step(step)
        if step == major:
            return levels
        return [(step, 0), (step / (4 if _mantissa(step) == 2 else 5), 0)]

    def paint(self, p, opt, widget) -> None:
        """pyqtgraph's axis, with its lines (the axis, the ticks and the grid lines across
        the plot) filled as one-pixel rectangles where that gives the same pixels.

        Qt strokes an aliased, translucent one-pixel line a pixel at a time: a log axis's
        grid (a line per decade and per 2..9 between them, 130 across a plot of 13 decades)
        took 9-10 ms of its 12 ms paint, and an axis is painted again whenever its range or
        size changes (every few frames of a streaming run whose loss keeps falling). A
        filled rectangle of the same pixels is one span per row: well under a millisecond.
        The labels are recorded and replayed as pyqtgraph does (``self.picture`` is
        pyqtgraph's sign that the axis must be laid out again)."""
        if self.picture is None:
            self._draw_specs = None
            picture = QPicture()
            painter = QPainter(picture)
            try:
                if self.style["tickFont"]:
                    painter.setFont(self.style["tickFont"])
                specs = self.generateDrawSpecs(painter)
                if specs is not None:
                    axis_spec, tick_specs, text_specs = specs
                    self._draw_specs = [axis_spec, *tick_specs]
                    self.drawPicture(painter, None, [], text_specs)
            finally:
                painter.end()
            self.picture = picture
        if self._draw_specs:
            _draw_lines(p, self._draw_specs)
        self.picture.play(p)

    def drawPicture(self, p, axisSpec, tickSpecs, textSpecs) -> None:
        """pyqtgraph's, but the axis line may be left to :meth:`paint` (None)."""
        if axisSpec is None:
            p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
            p.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
            if self.style["tickFont"] is not None:
                p.setFont(self.style["tickFont"])
            p.setPen(self.textPen())
            p.setClipRect(self.boundingRect().toAlignedRect())
            for rect, flags, text in textSpecs:
                p.drawText(rect, int(flags), text)
            return
        super().drawPicture(p, axisSpec, tickSpecs, textSpecs)

    def generateDrawSpecs(self, p):
        """pyqtgraph's labels less any that would touch one already placed (majors are
        placed first): its fill-ratio check lets the top level's labels overlap."""
        specs = super().generateDrawSpecs(p)
        if specs is None:
            return specs
        axis_spec, tick_specs, text_specs = specs
        return axis_spec, tick_specs, _apart(text_specs, self.LABEL_GAP)

    def logTickValues(self, minVal, maxVal, size, stdTicks):
        """Decades and 2-5 steps; on a view spanning too little of a decade for three of
        those (2.1 to 2.4), evenly spaced values instead, so there are always enough labels."""
        ticks = super().logTickValues(minVal, maxVal, size, stdTicks)
        self._fine = False
        # One pass over every level's values (a numpy call per value cost an axis's layout
        # a few ms, on every range change of a streaming run)
        values = np.concatenate([np.asarray(v, dtype=np.float64) for _s, v in ticks] or [[]])
        values = values[(values >= minVal) & (values <= maxVal)]
        mantissa = 10 ** (values - np.floor(values + 1e-9))
        inside = int(np.isclose(mantissa[:, None], (1.0, 2.0, 5.0), rtol=1e-6).any(axis=1).sum())
        if inside >= self.MIN_LABELS or not (np.isfinite(minVal) and np.isfinite(maxVal)):
            return ticks
        fine = _even_log_ticks(minVal, maxVal, self._label_room(), self._end_margin())
        if fine is None:
            return ticks
        self._fine = True
        return fine

    def logTickStrings(self, values, scale, spacing):
        values = np.asarray(values, dtype=np.float64)
        if values.size == 0:
            return []
        if self._fine:
            return _even_labels(10.0**values)
        numbers = 10.0**values
        with np.errstate(divide="ignore", invalid="ignore"):
            mantissa = numbers / 10.0 ** np.floor(np.log10(numbers) + 1e-9)
        room = self._label_room()
        for allowed in ((1, 2, 5), (1, 2, 3, 4, 5, 6, 7, 8, 9), (1,)):
            keep = np.isclose(mantissa[:, None], np.array(allowed)[None, :], rtol=1e-6).any(1)
            if keep.sum() <= room or allowed == (1,):
                break
        if allowed == (1, 2, 5) and np.isclose(mantissa, 1.0).sum() >= 2 and keep.sum() > room / 2:
            keep = np.isclose(mantissa, 1.0)
        if (keep & self._label_fits(values)).sum() < 2:
            # λ from 1 to 8 read "1" and nothing else ("10" stood past the axis end): 2 and 5
            # say the scale (generateDrawSpecs leaves out any that would touch another)
            keep = np.isclose(mantissa[:, None], np.array((1, 2, 5))[None, :], rtol=1e-6).any(1)
        return [format_lr(n, invalid="") if k else "" for n, k in zip(numbers, keep, strict=True)]

    def tickStrings(self, values, scale, spacing):
        if self.logMode:
            return super().tickStrings(values, scale, spacing)
        if not values:
            return []
        biggest = max(abs(v) for v in values)
        if biggest < 1e5:
            return super().tickStrings(values, scale, spacing)
        # 1.02e6 rather than pyqtgraph's 1.02e+06
        digits = max(1, int(np.ceil(np.log10(biggest / spacing))) + 1) if spacing > 0 else 3
        return [
            f"{v:.{digits}g}".replace("e+0", "e").replace("e+", "e").replace("e-0", "e-")
            for v in values
        ]

    def _label_fits(self, values: np.ndarray) -> np.ndarray:
        """Which tick positions leave a short label room inside the axis's ends (pyqtgraph
        draws no label that would stick out)."""
        lo, hi = sorted(self.range)
        length = self.width() if self.orientation in ("bottom", "top") else self.height()
        if not (hi > lo and length > 0):
            return np.ones(values.shape, dtype=bool)
        margin = 12.0 * (hi - lo) / length
        return (values >= lo + margin) & (values <= hi - margin)

    def _end_margin(self) -> float:
        """How near an end of the axis (in its units) a tick's label is left out."""
        lo, hi = sorted(self.range)
        length = self.width() if self.orientation in ("bottom", "top") else self.height()
        return 12.0 * (hi - lo) / length if hi > lo and length > 0 else 0.0

    def _label_room(self) -> int:
        if self.orientation in ("bottom", "top"):
            return max(2, int(self.width() / 55))
        return max(2, int(self.height() / 22))


class TimedGraphicsLayoutWidget(pg.GraphicsLayoutWidget):
    """A plot widget that remembers how long its last paint took and counts its paints, so
    the window can pace its redraws on what drawing really costs (paint included)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.paints = 0
        self.paint_seconds = 0.0

    def paintEvent(self, event) -> None:
        started = time.perf_counter()
        super().paintEvent(event)
        self.paint_seconds = time.perf_counter() - started
        self.paints += 1


class PlotPanel(QWidget):
    """A titled header row of option widgets above a pyqtgraph plot."""

    def __init__(self, title: str, parent: QWidget | None = None):
        super().__init__(parent)
        apply_plot_theme()
        self.setObjectName(title.replace(" ", "_"))
        axis_items = {side: ScientificAxis(orientation=side) for side in ("left", "bottom")}
        self.graphics = TimedGraphicsLayoutWidget()
        self.plot: pg.PlotItem = self.graphics.addPlot(row=0, col=0, axisItems=axis_items)
        explain_plot_export(self.graphics)
        self.plot.showGrid(x=True, y=True, alpha=0.15)
        # An axis (its grid lines span the plot) was painted again with every frame of the
        # curves, replaying its labels' text layout: 4 ms an axis, a third of a streaming
        # frame's paint. Cached as a pixmap, it is drawn again only when it changes.
        for side in ("left", "bottom", "top", "right"):
            self.plot.getAxis(side).setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        # PlotItem.addItem imposes the plot's own settings on every item, so these must be
        # set here, not per curve. Peak downsampling keeps loss spikes visible on 10M-point
        # logs; clip-to-view only helps once the user zooms (inactive under x auto-range).
        self.plot.setDownsampling(auto=True, mode="peak")
        self.plot.setClipToView(True)
        self.header = QHBoxLayout()
        self.header.setContentsMargins(6, 2, 6, 0)
        # The dock's title bar names the panel; the header holds only its options, and the
        # legend when the plot is too small to hold it (see fitted_legend).
        self.title = title
        self.header_legend = HeaderLegend()
        self.header.addWidget(self.header_legend, 100)
        self.header.addStretch(1)
        # The legend's own row, for when the options leave its line too little room.
        self.legend_row = QHBoxLayout()
        self.legend_row.setContentsMargins(6, 0, 6, 0)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(self.header)
        layout.addLayout(self.legend_row)
        # The plot, or in its place a sentence saying why there is nothing to plot.
        self.body = QStackedWidget()
        self.body.addWidget(self.graphics)
        self.empty_state = EmptyState()
        self.body.addWidget(self.empty_state)
        layout.addWidget(self.body, 1)
        self.header_legend.changed.connect(self._place_header_legend)

    def show_empty(self, headline: str | None, hint: str = "") -> None:
        """Show ``headline`` (why nothing is plotted) and ``hint`` (what would fill the
        panel) in the plot's place; None shows the plot again."""
        if headline is None:
            self.body.setCurrentWidget(self.graphics)
            return
        self.empty_state.set_text(headline, hint)
        self.body.setCurrentWidget(self.empty_state)

    def empty_text(self) -> str | None:
        """What the panel says instead of its plot, or None while it shows the plot."""
        if self.body.currentWidget() is not self.empty_state:
            return None
        return self.empty_state.text()

    def add_legend(self, **kwargs) -> FittedLegend:
        """The plot's legend, fitted to its view (see :class:`FittedLegend` for
        ``corners`` and ``curves``); entries it has no room for go to the header."""
        kwargs.setdefault("header", self.header_legend)
        legend = FittedLegend(self.plot.getViewBox(), **kwargs)
        self.plot.legend = legend  # where pyqtgraph puts the items added with a name
        return legend

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._place_header_legend()

    def _place_header_legend(self) -> None:
        """The header's legend beside the options where they leave it the room for all its
        entries, else on a row of its own below them."""
        legend = self.header_legend
        if not legend.entries():
            return
        others = 0
        for i in range(self.header.count()):
            widget = self.header.itemAt(i).widget()
            if widget is not None and widget is not legend and not widget.isHidden():
                others += widget.sizeHint().width() + self.header.spacing()
        inline = legend.line_width() <= self.width() - others - 16
        in_header = self.header.indexOf(legend) >= 0
        if inline and not in_header:
            self.legend_row.removeWidget(legend)
            self.header.insertWidget(0, legend, 100)
        elif not inline and in_header:
            self.header.removeWidget(legend)
            self.legend_row.addWidget(legend)

    def add_toggle(self, text: str, checked: bool, tooltip: str, slot) -> QCheckBox:
        box = QCheckBox(text)
        box.setChecked(checked)
        box.setToolTip(tooltip)
        box.toggled.connect(slot)
        self.header.addWidget(box)
        return box


def _draw_lines(painter: QPainter, specs) -> None:
    """Draw ``(pen, p1, p2)`` line specs as pyqtgraph's axis does (aliased), each
    horizontal or vertical one of a plain one-pixel pen filled as the rectangle of pixels Qt
    would stroke (the pixel each end point falls in, and those between: the same pixels and
    the same blend, tests/ui/test_axis_lines.py), on a pixmap or image painter that only
    translates; any other line, or on any other painter (an export), stroked as it was."""
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
    transform = painter.transform()
    kind = QTransform.TransformationType
    translates = transform.type() in (kind.TxNone, kind.TxTranslate)  # (`<=` crashed PySide)
    # a pixmap or an image (an axis's cache is a pixmap): Qt's raster engine, whose pixels
    # these rectangles are
    filled = translates and isinstance(painter.device(), (QImage, QPixmap))
    if filled:
        painter.resetTransform()
    for pen, p1, p2 in specs:
        rect = _pixel_rect(pen, transform.map(p1), transform.map(p2)) if filled else None
        if rect is not None:
            painter.fillRect(rect, pen.color())
            continue
        if filled:
            painter.setTransform(transform)
        painter.setPen(pen)
        painter.drawLine(p1, p2)
        if filled:
            painter.resetTransform()
    painter.restore()


def _pixel_rect(pen: QPen, a, b) -> QRect | None:
    """The pixels an aliased cosmetic one-pixel solid line from ``a`` to ``b`` (device
    coordinates) covers, when it is horizontal or vertical; None otherwise."""
    if not (
        pen.isCosmetic()
        and pen.widthF() in (0.0, 1.0)
        and pen.style() == Qt.PenStyle.SolidLine
        and pen.brush().style() == Qt.BrushStyle.SolidPattern
    ):
        return None
    ax, ay, bx, by = a.x(), a.y(), b.x(), b.y()
    if not all(math.isfinite(v) and abs(v) < 1e6 for v in (ax, ay, bx, by)):
        return None
    if ay == by:
        x0, x1 = sorted((math.floor(ax), math.floor(bx)))
        return QRect(x0, math.floor(ay), x1 - x0 + 1, 1)
    if ax == bx:
        y0, y1 = sorted((math.floor(ay), math.floor(by)))
        return QRect(math.floor(ax), y0, 1, y1 - y0 + 1)
    return None


def _mantissa(step: float) -> int:
    """1, 2 or 5: ``step`` divided by its power of ten, rounded."""
    return round(float(step / 10.0 ** np.floor(np.log10(step) + 1e-9)))


def _next_nice_step(step: float) -> float:
    """The next of 1, 2, 5, 10, 20, 50... above ``step`` (which need not be one of them)."""
    power = 10.0 ** np.floor(np.log10(step) + 1e-9)
    for factor in (2.0, 5.0, 10.0):
        if factor * power > step * (1 + 1e-9):
            return factor * power
    return 20.0 * power


def _apart(text_specs: list, gap: float) -> list:
    """The ``(rect, flags, text)`` specs, in order, leaving out each one whose rectangle
    (grown by half ``gap`` on every side) meets a rectangle kept before it."""
    kept: list = []
    half = gap / 2
    for spec in text_specs:
        grown = spec[0].adjusted(-half, -1, half, 1)
        if not any(grown.intersects(other[0]) for other in kept):
            kept.append(spec)
    return kept


#: Values a log axis spanning less than a decade labels, most telling first: the decade,
#: then 2 and 5, then the values between. Evenly spaced values (1, 1.5, 2, 2.5 from 0.55
#: to 2.6) crowd the top of a log axis and leave its bottom half unlabelled.
_FINE_MANTISSAS = ((1.0,), (2.0, 5.0), (1.5, 3.0), (4.0, 6.0, 8.0), (1.2, 2.5, 7.0), (9.0,))


def _even_log_ticks(lo: float, hi: float, room: int, margin: float = 0.0):
    """Tick levels (positions in log10) for a view spanning less of a decade than three of
    1, 2 and 5 fill: values of :data:`_FINE_MANTISSAS` taken in order of preference, each
    at least a ``3``-to-``room``-th of the span from every one taken (so they spread evenly
    over the axis as drawn), none within ``margin`` of an end (pyqtgraph leaves out a label
    that would stick out); evenly spaced values for a view narrower still."""
    a, b = 10.0**lo, 10.0**hi
    if not (np.isfinite(a) and np.isfinite(b) and b > a > 0):
        return None
    span = hi - lo
    decades = np.arange(np.floor(lo) - 1, np.ceil(hi) + 1)
    chosen: list[float] = []
    gap = span / max(3, min(room, 6))
    for mantissas in _FINE_MANTISSAS:
        for value in np.sort(np.log10(np.outer(10.0**decades, mantissas)).ravel()):
            inside = lo + margin <= value <= hi - margin
            if inside and all(abs(value - c) >= gap * 0.999 for c in chosen):
                chosen.append(float(value))
    if len(chosen) >= 3:
        return [(None, sorted(chosen))]
    return _linear_even_ticks(a, b, room)


def _linear_even_ticks(a: float, b: float, room: int):
    """Evenly spaced values between a and b: the nice step (1, 2 or 5 times a power of
    ten) that gives 3 to ``room`` labels (a view of 2.1 to 2.4)."""
    span = b - a
    for target in range(max(3, min(room, 6)), 2, -1):
        raw = span / target
        power = 10.0 ** np.floor(np.log10(raw))
        for factor in (1.0, 2.0, 5.0, 10.0):
            step = factor * power
            if span / step <= target:
                break
        major = np.arange(np.ceil(a / step) * step, b + step * 1e-9, step)
        if major.size >= 3:
            return [(None, np.log10(major).tolist())]
    return None


def _even_labels(numbers: np.ndarray) -> list[str]:
    """Labels for evenly spaced values, written as every λ is (``format_lr``: 9e-4, 4.5e-5,
    0.25) when that tells them apart, else with as many significant digits as do (and no
    padded exponent: 4.5e-5, not 4.5e-05 beside a decade's 1e-4)."""
    labels = [format_lr(v, invalid="") for v in numbers]
    if len(set(labels)) == len(labels):
        return labels
    for digits in range(2, 8):
        labels = [_short_exponent(f"{v:.{digits}g}") for v in numbers]
        if len(set(labels)) == len(labels):
            return labels
    return [_short_exponent(f"{v:.8g}") for v in numbers]


def _short_exponent(text: str) -> str:
    """``4.5e-05`` -> ``4.5e-5``, ``1.2e+06`` -> ``1.2e6``."""
    mantissa, e, exponent = text.partition("e")
    if not e:
        return text
    sign = "-" if exponent.startswith("-") else ""
    return f"{mantissa}e{sign}{int(exponent.lstrip('+-'))}"

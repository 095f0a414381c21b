"""A plot legend that stays inside its view, readable, and off the data.

pyqtgraph's legend keeps the size of its text and the corner it was given, whatever the view:
at 1024x700 the narrow loss vs λ panel cut its legend at the right edge, and the small loss vs
iteration panel of the Lab cut its legend at the top and drew it over the curves. Here, each
time the view is resized or the legend's entries change, the legend

- takes the smaller font (7 pt rather than 8 pt) when the view is small or the larger one
  does not fit;
- lists as many entries as fit, then "+N more" (its tooltip names the rest);
- sits in the corner of the view with the least data under it (and away from another
  legend of the same view), moving only when another corner is clearly freer;
- and, when not three rows fit (a strip of a plot), leaves the plot for the panel's header:
  one line of coloured samples and names (:class:`HeaderLegend`).

A legend the user dragged stays where it was put (kept inside the view).
"""

from __future__ import annotations

import inspect
import weakref
from html import escape

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFontMetrics
from PySide6.QtWidgets import QLabel, QSizePolicy

#: Pixels between a legend and the edge of its view.
MARGIN = 6
#: A view narrower or lower than this (pixels) gets the smaller font at once.
SMALL_VIEW = (300, 220)
FONT_SIZES = ("8pt", "7pt")
#: A cut legend ("first entries, +N more") needs this many rows to say anything.
MIN_CUT_ROWS = 3
#: Where a legend may sit: (x, y) of its anchor, as fractions of the legend and of the view.
POSITIONS = {
    "bottom-left": (0.0, 1.0),
    "top-right": (1.0, 0.0),
    "bottom-right": (1.0, 1.0),
    "top-left": (0.0, 0.0),
    "left": (0.0, 0.5),
    "right": (1.0, 0.5),
    "top": (0.5, 0.0),
    "bottom": (0.5, 1.0),
}
#: After the corners: the middle of an edge, when every corner has data under it.
EDGES = ("left", "right", "top", "bottom")
#: What an edge's middle must save over the best corner to be chosen (a corner reads better).
EDGE_COST = 1.0
#: Above this fraction of its view's area, a legend goes to the panel's header.
MAX_COVER = 1 / 5
#: Names longer than this many characters may take two lines in a narrow view.
WRAP_AT = 14
#: Another corner must have this much less data under it (a fraction) to move the legend.
MOVE_MARGIN = 0.25
#: A point (a run's final loss, a trial) under a legend costs as much as this many line
#: samples: hiding a marker hides a result, a stretch of line only its way there.
POINT_WEIGHT = 4.0
#: Line samples under a legend (a curve across its whole width counts 4) that send it to the
#: header when the header has the room.
LINE_COVER = 4.0
#: Lines of a panel's header a legend may take.
HEADER_LINES = 3
#: Curves and points sampled to score a corner: enough to see where data is, cheap per frame.
SCORE_CURVES = 64
SCORE_POINTS = 256
#: A streaming run moves its view every frame: corners are re-scored at most this often.
PLACE_INTERVAL_MS = 250


class FittedLegend(pg.LegendItem):
    """A :class:`pyqtgraph.LegendItem` on ``view`` that fits itself to the view.

    ``corners`` are the corners it may take, in order of preference (ties go to the first).
    ``header`` (a :class:`HeaderLegend`) takes the entries when no legend fits in the plot.
    ``curves`` returns extra ``(x, y)`` arrays in view coordinates that the corner should
    avoid (items pyqtgraph does not know as curves, such as many runs drawn as one item).

    Entries are added, renamed and removed as on a pyqtgraph legend (``addItem``,
    :meth:`rename`, ``removeItem``, ``clear``); :attr:`entries` lists all of them, shown or
    not. ``setVisible`` says whether the owner wants the legend; it shows only if it fits.
    """

    def __init__(
        self,
        view: pg.ViewBox,
        corners=("bottom-left", "top-right", "bottom-right", "top-left"),
        header: HeaderLegend | None = None,
        curves=None,
        **kwargs,
    ) -> None:
        kwargs.setdefault("labelTextSize", FONT_SIZES[0])
        super().__init__(offset=(MARGIN, -MARGIN), **kwargs)
        self.view = view
        self.corners = tuple(corners)
        self.corner = self.corners[0]
        # Held weakly: the header is a widget of the panel and ``curves`` often one of its
        # methods. Held strongly, the panel could be freed from inside this legend's own
        # destruction (its last reference in this item's attributes), and the panel's scene
        # then cleared items being destroyed: a segfault in the cycle collector
        # (tests/ui/test_panel_symbols.py, about one run in three under load).
        self._header = None if header is None else weakref.ref(header)
        self._curves = weakref.WeakMethod(curves) if inspect.ismethod(curves) else curves
        self.entries: list[tuple[object, str]] = []
        self.hidden_entries: list[str] = []  # names behind "+N more"
        self.moved_by_user = False
        self._wanted = True  # the owner shows the legend
        self._fits = True
        self._covering = False  # it would hide a marker: in the header instead
        self._more: pg.PlotDataItem | None = None
        self._shown_key = None  # (font, rows) the layout holds now
        self._refit = QTimer(self)
        self._refit.setSingleShot(True)
        self._refit.timeout.connect(self.fit)
        self._replace = QTimer(self)
        self._replace.setSingleShot(True)
        self._replace.setInterval(PLACE_INTERVAL_MS)
        self._replace.timeout.connect(self.place)
        self.setParentItem(view)
        # Deferred, never run inside the signal: a view resized while its widget tree is
        # torn down (a closed panel freed by the collector) must not rebuild the legend's
        # items then (a segfault now and then).
        view.sigResized.connect(self._schedule_fit)
        view.sigRangeChanged.connect(self._range_changed)

    @property
    def header(self) -> HeaderLegend | None:
        return None if self._header is None else self._header()

    @property
    def curves(self):
        if isinstance(self._curves, weakref.WeakMethod):
            return self._curves()
        return self._curves

    # --- entries -------------------------------------------------------------------------
    def addItem(self, item, name) -> None:
        self.entries.append((item, str(name)))
        self._entries_changed()

    def removeItem(self, item) -> None:
        kept = [(i, n) for i, n in self.entries if i is not item and n != item]
        if len(kept) != len(self.entries):
            self.entries = kept
            self._entries_changed()

    def clear(self) -> None:
        self.entries = []
        self._entries_changed()

    def has(self, item) -> bool:
        """Whether ``item`` has an entry."""
        return any(i is item for i, _name in self.entries)

    def name_when(self, item, name: str, shown: bool) -> None:
        """An entry for ``item`` while ``shown`` (a marker for what may not happen: no
        "diverged" before a run diverges), none otherwise."""
        if shown and not self.has(item):
            self.addItem(item, name)
        elif not shown and self.has(item):
            self.removeItem(item)

    def rename(self, item, name: str) -> None:
        """Give ``item``'s entry a new name (the legend refits to it)."""
        self.entries = [(i, str(name) if i is item else n) for i, n in self.entries]
        self._entries_changed()

    def _schedule_fit(self, *_args) -> None:
        self._refit.start(0)

    def _entries_changed(self) -> None:
        self._shown_key = None
        self._show(self.labelTextSize(), False, len(self.entries))  # at once, fitted soon
        self._apply_visibility()
        self._refit.start(0)  # many entries added in a row fit once

    # --- visibility ------------------------------------------------------------------------
    def setVisible(self, visible: bool) -> None:
        self._wanted = bool(visible)
        self._apply_visibility()

    def show(self) -> None:
        self.setVisible(True)

    def hide(self) -> None:
        self.setVisible(False)

    def wanted(self) -> bool:
        """Whether the owner shows the legend (it may still be in the header, or empty)."""
        return self._wanted

    def _apply_visibility(self) -> None:
        in_header = not self._fits or self._covering
        super().setVisible(self._wanted and not in_header and bool(self.entries))
        header = self.header
        if header is not None:
            header.set_entries(self.entries if self._wanted and in_header else [], owner=self)

    # --- fitting ---------------------------------------------------------------------------
    def fit(self) -> None:
        """Choose font, wrapping and rows for the view's size, then the corner."""
        self._refit.stop()
        width, height = self.view.width(), self.view.height()
        if width < 1 or height < 1:
            return
        self._covering = False
        room_w, room_h = width - 2 * MARGIN, height - 2 * MARGIN
        small = width < SMALL_VIEW[0] or height < SMALL_VIEW[1]
        count = len(self.entries)
        choice = None
        for size in FONT_SIZES[1:] if small else FONT_SIZES:
            for wrap in (False, True):
                rows = self._rows_that_fit(size, wrap, room_w, room_h)
                if rows:
                    choice = (size, wrap, rows)
                    break
            if choice:
                break
        self._fits = count == 0 or choice is not None
        if choice is not None:
            self._show(*choice)
            # A legend over a fifth of a small plot hides what it names: the header instead.
            if self.header is not None and self.width() * self.height() > MAX_COVER * (
                width * height
            ):
                self._fits = False
        self._apply_visibility()
        if self.moved_by_user:
            self._keep_inside()
            return
        self.place(to_header=False)
        if choice is not None and not choice[1] and self.isVisible():
            self._try_narrower(choice, room_w, room_h)
        self._leave_markers_free()

    def _try_narrower(self, choice, room_w: float, room_h: float) -> None:
        """Where every place has data under the legend, long names on two lines may leave
        one free (a narrow loss vs λ hid its lowest point under the legend)."""
        covered = self._score(self.corner)
        if covered <= 0 or not any(len(name) > WRAP_AT for _i, name in self.entries):
            return
        size, _wrap, _rows = choice
        rows = self._rows_that_fit(size, True, room_w, room_h)
        if rows == len(self.entries):
            self._show(size, True, rows)
            best = min(self._candidates(), key=self._cost)
            if self._cost(best) < covered * (1 - MOVE_MARGIN):
                self.corner = best
                self._anchor(best)
                return
        self._show(*choice)
        self._anchor(self.corner)

    def _rows_that_fit(self, size: str, wrap: bool, room_w: float, room_h: float) -> int:
        """How many rows (the last one "+N more" if not all) fit in the room at ``size``, 0
        if not enough do: measured on the legend with every entry."""
        count = len(self.entries)
        if count == 0:
            return 0
        self._show(size, wrap, count)
        heights = [max(s.height(), label.height()) for s, label in self.items]
        overhead = self.height() - sum(heights)
        if self.width() > room_w:
            return 0
        if self.height() <= room_h:
            return count
        row = max(heights)
        for rows in range(count - 1, MIN_CUT_ROWS - 1, -1):
            if overhead + sum(heights[: rows - 1]) + row <= room_h:
                return rows
        return 0

    def _show(self, size: str, wrap: bool, rows: int) -> None:
        """Lay out the first ``rows`` entries at ``size`` (long names on two lines if
        ``wrap``; the last row "+N more" when not all fit)."""
        key = (size, wrap, rows, tuple((id(i), n) for i, n in self.entries))
        if key == self._shown_key:
            return
        self._shown_key = key
        super().clear()
        self.opts["labelTextSize"] = size
        cut = rows < len(self.entries)
        kept = self.entries[: rows - 1] if cut else self.entries
        for item, name in kept:
            super().addItem(item, _wrapped(escape(name)) if wrap else escape(name))
        self.hidden_entries = [n for _i, n in self.entries[len(kept) :]]
        if cut:
            if self._more is None:
                self._more = pg.PlotDataItem(pen=None)  # a blank sample: the row is text
            super().addItem(self._more, f"+{len(self.hidden_entries)} more")
            self.getLabel(self._more).setToolTip("\n".join(self.hidden_entries))
        self.layout.activate()
        self.updateSize()

    # --- placing ---------------------------------------------------------------------------
    def _range_changed(self, *_args) -> None:
        if not self.moved_by_user and self.isVisible() and not self._replace.isActive():
            self._replace.start()

    def place(self, to_header: bool = True) -> None:
        """Move to the allowed corner (or, where all of them are covered, the middle of an
        edge) with the least data under it; to the header (if ``to_header`` and it has the
        room) where even that hides a marker. Back from the header only on :meth:`fit`, so
        that a streaming run does not make it come and go."""
        self._replace.stop()
        if not self.isVisible() or self.moved_by_user:
            return
        candidates = self._candidates()
        scores = {where: self._cost(where) for where in candidates}
        best = min(candidates, key=lambda c: scores[c])  # ties: the first allowed
        current = scores.get(self.corner, np.inf)
        if best != self.corner and scores[best] < current * (1 - MOVE_MARGIN):
            self.corner = best
        elif self.corner not in scores:
            self.corner = best
        self._anchor(self.corner)
        if to_header:
            self._leave_markers_free()

    def _leave_markers_free(self) -> None:
        """Where the legend would hide a run's point (the demo's lowest loss in a narrow
        loss vs λ) or a curve across its width (the edge of stability's λ = 1 in a small
        loss vs iteration), the header names the entries instead, if it has the room for
        them all."""
        header = self.header
        if header is None or not self.isVisible() or self.moved_by_user:
            return
        hides = self._markers_under(self.corner) or self._score(self.corner) >= LINE_COVER
        if hides and header.has_room(self.entries):
            self._covering = True
            self._apply_visibility()

    def _candidates(self) -> tuple[str, ...]:
        return (*self.corners, *(e for e in EDGES if e not in self.corners))

    def _cost(self, where: str) -> float:
        return self._score(where) + (EDGE_COST if where in EDGES else 0.0)

    def _anchor(self, where: str) -> None:
        fx, fy = POSITIONS[where]
        offset = (MARGIN * (1 - 2 * fx), MARGIN * (1 - 2 * fy))  # inwards; 0 at a middle
        self.opts["offset"] = offset
        self.anchor(itemPos=(fx, fy), parentPos=(fx, fy), offset=offset)

    def corner_rect(self, where: str) -> QRectF:
        """Where the legend would sit at ``where`` (a key of :data:`POSITIONS`), in the
        view's pixels."""
        fx, fy = POSITIONS[where]
        w, h = self.width(), self.height()
        x = fx * (self.view.width() - w) + MARGIN * (1 - 2 * fx)
        y = fy * (self.view.height() - h) + MARGIN * (1 - 2 * fy)
        return QRectF(x, y, w, h)

    def _score(self, corner: str) -> float:
        """How much lies under the legend in ``corner``: sampled data, and any other shown
        legend of the view (which counts as fully covered)."""
        pixels = self.corner_rect(corner)
        for other in self.view.childItems():
            if other is not self and isinstance(other, pg.LegendItem) and other.isVisible():
                if pixels.intersects(other.mapRectToParent(other.boundingRect())):
                    return 1e9
        x0, x1, y0, y1 = self._data_box(corner)
        score = 0.0
        for x, y, line in self._data():
            score += _covered(x, y, line, x0, x1, y0, y1)
        return score

    def _markers_under(self, where: str) -> int:
        """How many markers (points, ×) lie under the legend at ``where``."""
        x0, x1, y0, y1 = self._data_box(where)
        count = 0
        for x, y, line in self._data():
            if not line:
                count += int(_covered(x, y, False, x0, x1, y0, y1) / POINT_WEIGHT)
        return count

    def _data_box(self, where: str) -> tuple[float, float, float, float]:
        pixels = self.corner_rect(where)
        top_left = self.view.mapToView(pixels.topLeft())
        bottom_right = self.view.mapToView(pixels.bottomRight())
        x0, x1 = sorted((top_left.x(), bottom_right.x()))
        y0, y1 = sorted((top_left.y(), bottom_right.y()))
        return x0, x1, y0, y1

    def _data(self):
        """``(x, y, is_line)`` in view coordinates of what the view shows, sampled."""
        arrays = []
        for item in self.view.addedItems:
            if not isinstance(item, pg.PlotDataItem) or not item.isVisible():
                continue
            x, y = item.getData()
            if x is None or len(x) == 0:
                continue
            arrays.append((x, y, item.opts.get("pen") is not None))
            if item.opts.get("symbol") is not None and arrays[-1][2]:
                arrays.append((x, y, False))  # a line through points: both count
        curves = self.curves
        if curves is not None:  # (x, y) of a line, or (x, y, False) of markers
            arrays.extend((x, y, *kind) if kind else (x, y, True) for x, y, *kind in curves())
        if len(arrays) > SCORE_CURVES:
            picks = np.linspace(0, len(arrays) - 1, SCORE_CURVES).astype(int)
            arrays = [arrays[i] for i in picks]
        out = []
        for x, y, line in arrays:
            x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
            if x.size > SCORE_POINTS:
                step = -(-x.size // SCORE_POINTS)
                x, y = x[::step], y[::step]
            out.append((x, y, line))
        return out

    def _keep_inside(self) -> None:
        pos = self.pos()
        x = min(max(pos.x(), 0.0), max(self.view.width() - self.width(), 0.0))
        y = min(max(pos.y(), 0.0), max(self.view.height() - self.height(), 0.0))
        if (x, y) != (pos.x(), pos.y()):
            self.autoAnchor(QPointF(x, y))

    def mouseDragEvent(self, ev) -> None:
        super().mouseDragEvent(ev)
        if ev.isAccepted():
            self.moved_by_user = True  # the user's place wins over the freest corner


def _wrapped(name: str) -> str:
    """``name`` on two lines, broken at the space nearest its middle (as it was if short or
    without spaces)."""
    if len(name) <= WRAP_AT or " " not in name:
        return name
    middle = len(name) / 2
    spaces = [i for i, c in enumerate(name) if c == " "]
    cut = min(spaces, key=lambda i: abs(i - middle))
    return name[:cut] + "<br>" + name[cut + 1 :]


def _covered(x, y, line: bool, x0: float, x1: float, y0: float, y1: float) -> float:
    """How much of one curve (``line``) or set of points lies in the box: sample points of
    a line with increasing x taken across the box, or points inside it."""
    finite = np.isfinite(x) & np.isfinite(y)
    if not finite.any():
        return 0.0
    x, y = x[finite], y[finite]
    if line and x.size >= 2 and np.all(np.diff(x) >= 0):
        if x[-1] < x0 or x[0] > x1:
            return 0.0
        across = np.linspace(max(x0, x[0]), min(x1, x[-1]), 16)
        at = np.interp(across, x, y)
        return float(np.count_nonzero((at >= y0) & (at <= y1))) / 4
    inside = (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)
    return POINT_WEIGHT * float(np.count_nonzero(inside))


class HeaderLegend(QLabel):
    """One line of a panel's header naming what a legend too big for its plot names: a
    coloured sample and a name per entry, as many as the line has room for, then "+N more"
    (the tooltip lists them all). ``changed`` says its entries changed (the panel may give it
    a row of its own)."""

    changed = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        # Never wider than the room the header leaves: the panel must not grow for it.
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setMinimumWidth(0)
        self._owners: dict[int, list] = {}
        self.hide()

    def set_entries(self, entries, owner=None) -> None:
        """``owner``'s entries (``[(item, name), ...]``); [] when its legend is in the plot."""
        key = id(owner)
        if entries:
            self._owners[key] = list(entries)
        else:
            self._owners.pop(key, None)
        self._compose()
        self.changed.emit()

    def line_width(self, entries=None) -> float:
        """Pixels the entries take on one line."""
        entries = self.entries() if entries is None else entries
        metrics = QFontMetrics(self.font())
        gap = metrics.horizontalAdvance("   ")
        widths = [metrics.horizontalAdvance(f"{_sample(item)[0]} {name}") for item, name in entries]
        return sum(widths) + gap * max(len(widths) - 1, 0)

    def has_room(self, entries) -> bool:
        """Whether ``entries`` fit on one line as wide as the panel."""
        panel = self.parentWidget()
        return panel is not None and self.line_width(entries) <= panel.width() - 16

    def entries(self) -> list[tuple[object, str]]:
        return [entry for entries in self._owners.values() for entry in entries]

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._compose()

    def _compose(self) -> None:
        entries = self.entries()
        self.setVisible(bool(entries))
        if not entries:
            return
        metrics = QFontMetrics(self.font())
        room = max(self.width(), 40)
        gap = metrics.horizontalAdvance("   ")
        lines: list[list[str]] = [[]]
        used = 0.0
        for k, (item, name) in enumerate(entries):
            glyph, color = _sample(item)
            rest = len(entries) - k - 1
            more = gap + metrics.horizontalAdvance(f"+{rest} more") if rest else 0.0
            last_line = len(lines) == HEADER_LINES
            reserve = more if last_line else 0.0
            text = f"{glyph} {name}"
            width = metrics.horizontalAdvance(text) + (gap if lines[-1] else 0.0)
            if lines[-1] and used + width + reserve > room:
                if last_line:
                    lines[-1].append(f"+{len(entries) - k} more")
                    break
                lines.append([])
                used, last_line = 0.0, len(lines) == HEADER_LINES
                reserve = more if last_line else 0.0
                width = metrics.horizontalAdvance(text)
            if not lines[-1] and width + reserve > room:  # one name wider than the line
                name = metrics.elidedText(
                    name, Qt.TextElideMode.ElideRight, max(int(room - reserve) - 24, 20)
                )
                width = metrics.horizontalAdvance(f"{glyph} {name}")
            lines[-1].append(f'<span style="color:{color}">{glyph}</span> {escape(name)}')
            used += width
        self.setText("<br>".join("&nbsp;&nbsp; ".join(line) for line in lines))
        self.setToolTip("\n".join(name for _item, name in entries))


def _sample(item) -> tuple[str, str]:
    """A glyph and colour standing for ``item``'s line or symbol in a line of text."""
    opts = getattr(item, "opts", {}) or {}
    pen = opts.get("pen")
    if pen is not None:
        return "━", _color_name(pg.mkPen(pen).color())
    symbol = opts.get("symbol")
    if symbol is not None:
        brush = opts.get("symbolBrush")
        source = opts.get("symbolPen") if symbol == "x" or brush is None else brush
        color = (
            pg.mkPen(source).color()
            if symbol == "x" or brush is None
            else (pg.mkBrush(source).color() if not isinstance(source, list) else QColor("gray"))
        )
        return ("✕" if symbol == "x" else "●"), _color_name(color)
    return "", "gray"


def _color_name(color: QColor) -> str:
    return color.name() if color.isValid() else "gray"

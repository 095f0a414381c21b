"""Widgets painted one per event-loop turn instead of all in one go.

Qt paints every widget of a window that needs it in one pass. A plot panel's first paint of
new curves, or at a new size, costs 15-30 ms (pyqtgraph lays its axes out again and builds the
paths); when a 10M-point log is handed over, or the window switches to the logs' layout, all
three panels needed it at once and the window froze for 60-120 ms. Staggered, each panel is
painted in a turn of its own, and the event loop serves input and timers in between.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QWidget

#: ms between two staggered paints (a turn of the event loop; 1 is enough: a timer's turn
#: comes after the paint Qt posted)
GAP_MS = 1


class PaintStagger(QObject):
    """``stagger(widgets, then)``: hold the paints of ``widgets`` (updates disabled) and let
    them paint one per turn, in order; ``then()`` is called a turn after the last one. A new
    ``stagger`` (or :meth:`release`) lets the ones still held paint at once, without their
    ``then``."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._held: list[QWidget] | None = None  # None: nothing staggered
        self._then: Callable[[], None] | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(GAP_MS)
        self._timer.timeout.connect(self._next)

    @property
    def active(self) -> bool:
        return self._held is not None

    def stagger(self, widgets, then: Callable[[], None] | None = None) -> None:
        self.release()
        widgets = [w for w in widgets if w.updatesEnabled()]
        for widget in widgets:
            widget.setUpdatesEnabled(False)
        self._held, self._then = widgets, then
        self._next()

    def release(self) -> None:
        """Let every held widget paint now (no ``then``)."""
        self._timer.stop()
        for widget in self._held or ():
            widget.setUpdatesEnabled(True)
        self._held, self._then = None, None

    def _next(self) -> None:
        if self._held is None:
            return
        if not self._held:
            then = self._then
            self._held, self._then = None, None
            if then is not None:
                then()
            return
        self._held.pop(0).setUpdatesEnabled(True)  # painted before the next timer's turn
        self._timer.start()

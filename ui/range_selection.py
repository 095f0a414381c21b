"""The chosen learning-rate range: one model for the region, the spin boxes and the export.

Every edit the user finishes (a drag released, a spin box edited, a rule applied) is one
command on a :class:`QUndoStack`, so Ctrl+Z walks back through edits, not through pixels.
A new curve resets the range and forgets the history: undoing into another curve's range
would be a surprise.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from lrviz.lr_range import checked_range


def _same(a: tuple[float, float] | None, b: tuple[float, float] | None) -> bool:
    if a is None or b is None:
        return a is b
    return all(math.isclose(x, y, rel_tol=1e-12) for x, y in zip(a, b, strict=True))


class _SetRange(QUndoCommand):
    def __init__(self, selection: RangeSelection, old, new, text: str) -> None:
        super().__init__(text)
        self._selection, self._old, self._new = selection, old, new

    def redo(self) -> None:
        self._selection._apply(self._new)

    def undo(self) -> None:
        self._selection._apply(self._old)


class RangeSelection(QObject):
    """The chosen range ``(min_lr, max_lr)`` in learning-rate units (never log10), or None.

    Signals
    -------
    range_changed(object)  the new ``(min_lr, max_lr)`` tuple, or None when cleared
    """

    range_changed = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.undo_stack = QUndoStack(self)
        self._range: tuple[float, float] | None = None

    @property
    def range(self) -> tuple[float, float] | None:
        return self._range

    def reset(self, range_: tuple[float, float] | None) -> None:
        """Start over at ``range_`` (a new curve): no undo step, history cleared."""
        new = None if range_ is None else checked_range(*range_)
        self.undo_stack.clear()
        if not _same(new, self._range):
            self._apply(new)

    def edit(self, min_lr: float, max_lr: float, text: str = "Change range") -> bool:
        """Set the range as one undoable step. False when nothing changed.

        Raises ValueError for an invalid range (the caller shows it; nothing changes).
        """
        new = checked_range(min_lr, max_lr)
        if _same(new, self._range):
            return False
        self.undo_stack.push(_SetRange(self, self._range, new, text))
        return True

    def undo(self) -> None:
        self.undo_stack.undo()

    def redo(self) -> None:
        self.undo_stack.redo()

    def _apply(self, range_: tuple[float, float] | None) -> None:
        self._range = range_
        self.range_changed.emit(range_)

"""Python's cycle collector runs in the GUI thread only.

Left automatic, the collector runs in whichever thread happens to allocate when a threshold
is crossed: an engine or log-loader thread. A window or plot item caught in a reference cycle
(a signal connected to a lambda over it) is then destroyed there, and destroying Qt objects
outside the GUI thread deadlocked (Qt's connection mutex against the GIL, seen with gdb) or
crashed the test suite. So automatic collection is switched off and a GUI-thread timer
collects instead, generation by generation as the thresholds say (pyqtgraph's
``GarbageCollector`` does the same; this one can be stopped, for tests).

A full collection (the oldest generation) walks every object the program holds: 0.1 s and
more on the GUI thread once a 10,000-trial study is open. Python's own automatic collection
runs one only when the objects that reached the oldest generation since the last one are a
quarter of those it found then (CPython's ``long_lived_pending > long_lived_total / 4``),
which an explicit ``gc.collect(2)`` does not check; this collector keeps that rule. And
:func:`freeze_startup` moves what the app holds from its start (modules, classes, the window)
out of every later collection.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

#: How often (ms) the GUI thread checks whether a collection is due.
CHECK_INTERVAL_MS = 500


class GuiThreadCollector(QObject):
    """While it runs, cycles are collected on a timer in the thread that created it."""

    def __init__(self, parent: QObject | None = None, interval_ms: int = CHECK_INTERVAL_MS):
        super().__init__(parent)
        self._was_enabled = gc.isenabled()
        self._thresholds = gc.get_threshold()
        #: Objects the last full collection left in the oldest generation (None: none yet).
        self._long_lived: int | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.collect_due)
        gc.disable()
        self._timer.start()

    def collect_due(self) -> int:
        """Collect the generations whose counts passed their thresholds; objects freed."""
        counts = gc.get_count()
        freed = 0
        for generation in range(3):
            if counts[generation] <= self._thresholds[generation]:
                break
            if generation == 2:
                oldest = len(gc.get_objects(generation=2))
                if self._long_lived is not None and oldest - self._long_lived <= (
                    self._long_lived // 4
                ):
                    break  # too few new long-lived objects to be worth a walk of them all
            freed += gc.collect(generation)
            if generation == 2:
                self._long_lived = len(gc.get_objects(generation=2))
        return freed

    def full_collection_due(self) -> bool:
        """Whether the next check would walk every object (for tests)."""
        if self._long_lived is None:
            return True
        return len(gc.get_objects(generation=2)) - self._long_lived > self._long_lived // 4

    def stop(self) -> None:
        """Back to automatic collection (as it was before)."""
        self._timer.stop()
        if self._was_enabled:
            gc.enable()


def freeze_startup() -> None:
    """What the app holds once it has started (modules, classes, functions, the window) is
    left out of every later collection (:func:`gc.freeze`): the app keeps it to the end, and a
    full collection then walks only what was made since (the logs opened, ...), not the ~80,000
    objects of Qt, pyqtgraph and numpy as well. Call it once, after the window is made."""
    gc.freeze()

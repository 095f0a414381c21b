"""Python's cycle collector runs in the GUI thread only.

Left automatic, the collector runs in whichever thread happens to allocate when a threshold
is crossed: an engine or log-loader thread. A window or plot item caught in a reference cycle
(a signal connected to a lambda over it) is then destroyed there, and destroying Qt objects
outside the GUI thread deadlocked (Qt's connection mutex against the GIL, seen with gdb) or
crashed the test suite. So automatic collection is switched off and a GUI-thread timer
collects instead, generation by generation as the thresholds say (pyqtgraph's
``GarbageCollector`` does the same; this one can be stopped, for tests).
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
            freed += gc.collect(generation)
        return freed

    def stop(self) -> None:
        """Back to automatic collection (as it was before)."""
        self._timer.stop()
        if self._was_enabled:
            gc.enable()

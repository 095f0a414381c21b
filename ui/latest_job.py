"""Derivations that only the latest request matters for: one running at a time, the newest
request waiting, older results dropped.

Dragging the smoothing slider over a 10M-point log asks for a new derivation at every step;
each takes a second or two on a worker. Starting them all would fill the machine with stale
work, and stopping a running one means waiting for it on the GUI thread
(:meth:`ui.jobs.JobRunner.halt` waits for the thread): so a request made while one runs
waits, a newer request replaces the waiting one, and the running one's result is dropped
when a newer request exists (it describes a state the user has already left).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from .jobs import JobRunner


class LatestJob(QObject):
    """``request(compute, on_result)``: run ``compute()`` on a worker thread and call
    ``on_result(result)`` in the GUI thread, unless a newer request came in meanwhile.

    Signals: ``failed(str)`` a computation raised; ``busy(bool)`` work started / all done."""

    failed = Signal(str)
    busy = Signal(bool)

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.jobs = JobRunner(name, self)
        self._requested = 0  # number of the newest request
        self._pending: tuple | None = None
        self._running = False

    @property
    def running(self) -> bool:
        return self._running or self._pending is not None

    def request(self, compute: Callable[[], object], on_result: Callable[[object], None]) -> None:
        self._requested += 1
        self._pending = (self._requested, compute, on_result)
        if not self._running:
            self.busy.emit(True)
            self._start_pending()

    def cancel(self) -> None:
        """Drop the waiting request and the running one's result (the state they describe
        was drawn another way meanwhile)."""
        self._requested += 1
        self._pending = None

    def shutdown(self) -> None:
        self.cancel()
        self.jobs.shutdown()

    def _start_pending(self) -> None:
        number, compute, on_result = self._pending
        self._pending = None
        self._running = True

        def batches():
            yield compute()

        def deliver(result) -> None:
            if number == self._requested:
                on_result(result)

        self.jobs.start(batches, deliver, self.failed.emit, self._ended, exclusive=False)

    def _ended(self, _completed: bool) -> None:
        self._running = False
        if self._pending is not None:
            self._start_pending()
        else:
            self.busy.emit(False)

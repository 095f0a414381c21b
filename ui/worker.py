"""Run an engine generator in a QThread and hand its batches to the GUI thread.

The worker never touches a widget: it only emits ``batch_ready`` with plain numpy data.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Iterator

from PySide6.QtCore import QObject, QThread, Signal, Slot

# Every QThread we start, so tests can prove none is left running.
LIVE_THREADS: weakref.WeakSet[QThread] = weakref.WeakSet()


class GeneratorWorker(QObject):
    """Iterates a generator in its thread; stops between batches when asked."""

    batch_ready = Signal(object)
    failed = Signal(str)
    finished = Signal(bool)  # True when the generator ran to its end, False when stopped

    def __init__(self, make_batches: Callable[[], Iterator]) -> None:
        super().__init__()
        self._make_batches = make_batches
        self._stop = threading.Event()

    def request_stop(self) -> None:
        """Ask the worker to stop after the batch it is computing (thread-safe)."""
        self._stop.set()

    @Slot()
    def work(self) -> None:
        completed = False
        try:
            batches = self._make_batches()
            try:
                # Emit every batch the generator produced, even when a stop arrived while it
                # was computed: the simulation has advanced by it, so dropping it loses data.
                for batch in batches:
                    self.batch_ready.emit(batch)
                    if self._stop.is_set():
                        break
                else:
                    completed = True
            finally:
                close = getattr(batches, "close", None)
                if close is not None:
                    close()
        except Exception as exc:
            self.failed.emit(f"{type(exc).__name__}: {exc}")
        self.finished.emit(completed)


class WorkerThread(QObject):
    """Owns one QThread running one GeneratorWorker; safe to stop and wait from the GUI.

    ``finished(completed)`` is emitted in the GUI thread once the QThread has really ended,
    never earlier: whoever releases the thread on it cannot destroy a running QThread (which
    aborts the process: "QThread: Destroyed while thread is still running").
    """

    batch_ready = Signal(object)
    failed = Signal(str)
    finished = Signal(bool)

    def __init__(
        self,
        make_batches: Callable[[], Iterator],
        parent: QObject | None = None,
        name: str = "lrviz-engine",
    ):
        super().__init__(parent)
        self._thread = QThread()
        self._thread.setObjectName(name)
        LIVE_THREADS.add(self._thread)
        self._completed = False
        self._worker = GeneratorWorker(make_batches)
        self._worker.moveToThread(self._thread)
        self._thread.started.connect(self._worker.work)
        self._worker.batch_ready.connect(self.batch_ready)
        self._worker.failed.connect(self.failed)
        self._worker.finished.connect(self._worker_done)
        self._worker.finished.connect(self._thread.quit)
        self._thread.finished.connect(self._thread_ended)
        self._ended = False

    def start(self) -> None:
        self._thread.start()

    def _worker_done(self, completed: bool) -> None:
        self._completed = completed

    def _thread_ended(self) -> None:
        if self._ended:
            return
        self._ended = True
        self._thread.wait(1000)  # "finished" comes just before the thread returns
        self.finished.emit(self._completed)

    def stop(self, wait_ms: int = 5000) -> bool:
        """Ask the worker to stop and wait for its thread to end. True if it ended."""
        self._worker.request_stop()
        if self._thread.isRunning():
            self._thread.quit()
            ended = self._thread.wait(wait_ms)
        else:
            ended = True
        if ended:
            self._thread_ended()  # the queued signal may not have been delivered yet
        return ended

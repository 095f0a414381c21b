"""One way to run a job: a generator in a worker thread, its results back in the GUI thread.

Every tool (the simulation, the range test, log loading) runs its work through a
:class:`JobRunner`. It owns what each of them used to write on its own:

- **stale batches**: a job started later supersedes the current one (``exclusive``), and
  batches of a superseded job never reach the tool, even when they were already queued;
- **pause**: :meth:`JobRunner.halt` stops the current job's thread but keeps its batches (the
  tool resumes with a new job over the same engine);
- **clean retirement**: a thread is released only once it has really ended (Qt aborts the
  process when a running ``QThread`` is destroyed), never from the worker's own "finished";
- **shutdown**: stop and wait for every thread the runner started (the window closing).

The worker never touches a widget: it only emits plain data (see :mod:`ui.worker`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from PySide6.QtCore import QObject

from .worker import WorkerThread


class JobRunner(QObject):
    """Start, halt and retire jobs for one tool.

    ``start(make_batches, on_batch, on_failed=None, on_finished=None, exclusive=True,
    fresh=True)``
    runs ``make_batches()`` (a generator factory) in a worker thread; ``on_batch(batch)`` is
    called in the GUI thread for each batch of a job that is still current,
    ``on_failed(message)`` once if it raised, ``on_finished(completed)`` once its thread has
    ended (``completed``: it ran to its end). An exclusive start supersedes the current job;
    a non-exclusive one (log loading) runs beside the others. ``fresh=False`` continues the
    current job's generation: a paused simulation resumed over the same engine keeps the
    batches its halted thread had already sent.
    """

    def __init__(self, name: str = "lrviz-engine", parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self._current: WorkerThread | None = None
        self._generation = 0  # batches of an earlier exclusive job are stale
        self._threads: set[WorkerThread] = set()  # every thread not yet ended

    @property
    def busy(self) -> bool:
        """A job of this runner is still running (or its thread has not ended yet)."""
        return bool(self._threads)

    @property
    def running(self) -> bool:
        """The current exclusive job is running."""
        return self._current is not None

    def stream(
        self,
        source,
        on_batch: Callable[[object], None],
        on_failed: Callable[[str], None] | None = None,
        on_finished: Callable[[bool], None] | None = None,
        batch_iterations: int = 5000,
        batch_seconds: float = 0.03,
    ) -> None:
        """Start ``source.run(batch_iterations=…, batch_seconds=…)`` (a range test, a search,
        a check: anything yielding batches that way) as the current job; a batch at most
        every ``batch_iterations`` iterations or ``batch_seconds``, whichever comes first."""
        self.start(
            lambda: source.run(batch_iterations=batch_iterations, batch_seconds=batch_seconds),
            on_batch,
            on_failed,
            on_finished,
        )

    def start(
        self,
        make_batches: Callable[[], Iterator],
        on_batch: Callable[[object], None],
        on_failed: Callable[[str], None] | None = None,
        on_finished: Callable[[bool], None] | None = None,
        exclusive: bool = True,
        fresh: bool = True,
    ) -> None:
        if exclusive:
            self.halt()
            if fresh:
                self._generation += 1
        generation = self._generation
        # Not a child of the runner: a runner deleted while an ended thread's deleteLater was
        # still queued made Qt delete that thread twice (segfault). The set keeps it alive.
        thread = WorkerThread(make_batches, name=self.name)

        def current() -> bool:
            return not exclusive or generation == self._generation

        thread.batch_ready.connect(lambda batch: current() and on_batch(batch))
        if on_failed is not None:
            thread.failed.connect(lambda message: current() and on_failed(message))
        thread.finished.connect(
            lambda completed, t=thread: self._ended(t, completed, current(), on_finished)
        )
        self._threads.add(thread)
        if exclusive:
            self._current = thread
        thread.start()

    def halt(self) -> None:
        """Stop the current job between batches and wait for its thread (batches it already
        emitted still arrive: a paused simulation keeps them)."""
        thread, self._current = self._current, None
        if thread is not None:
            thread.stop()

    def supersede(self) -> None:
        """Halt the current job and make every batch it still has in flight stale."""
        self.halt()
        self._generation += 1

    def shutdown(self, wait_ms: int = 5000) -> None:
        """Stop every job and wait for every thread (the window is closing)."""
        self.supersede()
        for thread in list(self._threads):
            thread.stop(wait_ms)

    def _ended(self, thread: WorkerThread, completed: bool, current: bool, on_finished) -> None:
        # The QThread has ended (WorkerThread emits finished only then): safe to release.
        self._threads.discard(thread)
        if thread is self._current:
            self._current = None
        thread.deleteLater()
        if current and on_finished is not None:
            on_finished(completed)

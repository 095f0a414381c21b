"""Start, pause, resume and stop a simulation; collect its batches for the views.

The runner lives in the GUI thread. It keeps the :class:`~lrviz.engine.Simulation` between
pauses (the engine resumes where it stopped) and drops batches of a superseded run.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QObject, Signal, Slot

from lrviz.engine import Batch, Simulation
from lrviz.run_store import RunStore
from lrviz.simulation_config import SimulationConfig
from ui.worker import WorkerThread

# The ~30 ms limit sets the pace: a fast engine must not flood the GUI with tiny batches.
BATCH_ITERATIONS = 5000
BATCH_SECONDS = 0.03


class SimulationRunner(QObject):
    """The GUI-side owner of one simulation at a time.

    Signals
    -------
    started(object)      a new RunStore, when a simulation starts
    progressed(int, int, float)  iterations done, total, iterations per second
    state_changed(str)   "running", "paused", "finished", "stopped", "failed"
    failed(str)          a one-line message
    """

    started = Signal(object)
    progressed = Signal(int, int, float)
    state_changed = Signal(str)
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.simulation: Simulation | None = None
        self.store: RunStore | None = None
        self.config: SimulationConfig | None = None
        self.state = "idle"
        self._thread: WorkerThread | None = None
        self._retired: list[WorkerThread] = []
        self._rate_mark: tuple[float, int] | None = None
        self._rate = 0.0
        self._generation = 0  # batches of an earlier start() are stale and dropped

    # --- commands -------------------------------------------------------------------------
    def start(self, config: SimulationConfig) -> None:
        """Stop whatever runs and start ``config`` from iteration 0."""
        self._halt_thread()
        simulation = config.build()
        self._generation += 1
        self.config = config
        self.simulation = simulation
        self.store = RunStore(config.lrs, config.iterations, simulation.objective.has_accuracy)
        self.started.emit(self.store)
        self._launch()

    def pause(self) -> None:
        if self.state == "running":
            self._halt_thread()
            self._set_state("paused")

    def resume(self) -> None:
        if self.state == "paused" and self.simulation is not None and not self.simulation.done:
            self._launch()

    def stop(self) -> None:
        if self.state in ("running", "paused"):
            self._halt_thread()
            self._set_state("stopped")

    def shutdown(self) -> None:
        """Stop and wait for every thread this runner started (window closing)."""
        self._halt_thread()
        for thread in self._retired:
            thread.stop()
        self._retired.clear()

    def is_running(self) -> bool:
        return self.state == "running"

    # --- internals ------------------------------------------------------------------------
    def _launch(self) -> None:
        simulation = self.simulation
        thread = WorkerThread(
            lambda: simulation.run(batch_iterations=BATCH_ITERATIONS, batch_seconds=BATCH_SECONDS),
            parent=self,
        )
        generation = self._generation
        # Batches a paused thread emitted before it stopped still belong to this run; only a
        # new start() makes them stale.
        thread.batch_ready.connect(lambda batch, g=generation: self._on_batch(g, batch))
        thread.failed.connect(lambda message, t=thread: self._on_failed(t, message))
        thread.finished.connect(lambda completed, t=thread: self._on_finished(t, completed))
        self._thread = thread
        self._rate_mark = (time.perf_counter(), simulation.iteration)
        self._set_state("running")
        thread.start()

    def _halt_thread(self) -> None:
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.stop()
            self._retired.append(thread)
        self._prune_retired()

    def _prune_retired(self) -> None:
        alive = []
        for thread in self._retired:
            if thread.is_running():
                alive.append(thread)
            else:
                thread.deleteLater()
        self._retired = alive

    def _on_batch(self, generation: int, batch: Batch) -> None:
        if generation != self._generation or self.store is None:
            return  # a batch from a run that was replaced
        self.store.append(batch)
        now = time.perf_counter()
        if self._rate_mark is not None:
            t0, i0 = self._rate_mark
            if now - t0 >= 0.25:
                self._rate = (batch.stop - i0) / (now - t0)
                self._rate_mark = (now, batch.stop)
        self.progressed.emit(self.store.count, self.store.capacity, self._rate)
        if batch.done and self.state in ("running", "paused"):
            self._set_state("finished")

    def _on_failed(self, thread: WorkerThread, message: str) -> None:
        if thread is self._thread:
            self.failed.emit(message)
            self._set_state("failed")

    @Slot()
    def _on_finished(self, thread: WorkerThread, completed: bool) -> None:
        # The state follows the batches (the last one says done); here only tidy up.
        if thread is self._thread:
            self._thread = None
            self._retired.append(thread)

    def _set_state(self, state: str) -> None:
        self.state = state
        self.state_changed.emit(state)

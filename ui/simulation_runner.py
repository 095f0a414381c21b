"""Start, pause, resume and stop a simulation; collect its batches for the views.

The runner lives in the GUI thread. It keeps the :class:`~lrviz.engine.Simulation` between
pauses (the engine resumes where it stopped) and drops batches of a superseded run.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QObject, Signal

from lrviz.engine import Batch, Simulation
from lrviz.engine_process import RemoteSimulation
from lrviz.limits import check_simulation, history_bytes
from lrviz.run_store import MEMORY_BUDGET, RunStore
from lrviz.simulation_config import SimulationConfig

from .jobs import JobRunner

# The ~30 ms limit sets the pace: a fast engine must not flood the GUI with tiny batches.
BATCH_ITERATIONS = 5000
BATCH_SECONDS = 0.03
#: Runs x iterations x dimensions from which the engine runs in a child process (about two
#: seconds of work). Below it a thread is quicker (a child takes ~0.4 s to start); above it
#: the engine thread would share the interpreter lock with the GUI thread and freeze the
#: window for up to a second at a time (docs/benchmarks.md, "Window responsiveness").
PROCESS_WORK = 100_000_000


def engine_work(simulation: Simulation) -> int:
    """How much a simulation computes, in runs x iterations x dimensions."""
    return simulation.runs * simulation.iterations * max(simulation.objective.dim, 1)


class SimulationRunner(QObject):
    """The GUI-side owner of one simulation at a time.

    Signals
    -------
    started(object)      a new RunStore, when a simulation starts
    progressed(int, int, float)  iterations done, total, iterations per second
    state_changed(str)   "running", "paused", "finished", "stopped", "failed"
    failed(str)          a one-line message
    """

    #: bytes of history a run keeps at full resolution (beyond it, every k-th iteration; the
    #: panels draw screen-resolution envelopes either way)
    memory_budget = MEMORY_BUDGET
    #: work (:func:`engine_work`) from which the engine runs in a child process
    process_work = PROCESS_WORK

    started = Signal(object)
    progressed = Signal(int, int, float)
    state_changed = Signal(str)
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.simulation: Simulation | RemoteSimulation | None = None
        self.store: RunStore | None = None
        self.config: SimulationConfig | None = None
        self.state = "idle"
        self.jobs = JobRunner("lrviz-engine", self)
        self._rate_mark: tuple[float, int] | None = None
        self._rate = 0.0

    # --- commands -------------------------------------------------------------------------
    def start(self, config: SimulationConfig) -> None:
        """Stop whatever runs and start ``config`` from iteration 0. Raises
        :class:`lrviz.limits.SizeError` (a ValueError-like LrvizError) for a run past the
        limits the command line applies, before anything is allocated."""
        check_simulation(
            config, history_bytes=min(history_bytes(config), self.memory_budget) * 2
        )  # x2: the store's history and its screen-resolution envelopes, generously
        self.jobs.supersede()  # batches of the old run are stale from here
        self._close_remote()
        simulation = config.build()
        # A 2-D problem's runs are drawn walking its loss surface: keep their positions.
        simulation.record_weights = simulation.objective.dim == 2
        if engine_work(simulation) >= self.process_work:
            simulation = RemoteSimulation(config, simulation, simulation.record_weights)
        self.config = config
        self.simulation = simulation
        self.store = RunStore(
            config.lrs,
            config.iterations,
            simulation.objective.has_accuracy,
            budget=self.memory_budget,
            envelopes=True,
            trajectories=simulation.record_weights,
            names=config.run_names(),
            sharpness_every=config.sharpness_every,
            optimizers=None if config.optimizers is None else list(config.optimizers),
        )
        self.started.emit(self.store)
        self._launch()

    def pause(self) -> None:
        if self.state == "running":
            self._interrupt_remote()
            self.jobs.halt()
            self._set_state("paused")

    def resume(self) -> None:
        if self.state == "paused" and self.simulation is not None and not self.simulation.done:
            self._launch()

    def stop(self) -> None:
        if self.state in ("running", "paused"):
            self._interrupt_remote()
            self.jobs.halt()
            self._close_remote()
            self._set_state("stopped")

    def shutdown(self) -> None:
        """Stop and wait for every thread (and engine process) this runner started (window
        closing)."""
        self.jobs.shutdown()
        self._close_remote()

    # --- session state (ui.session) -------------------------------------------------------
    def get_state(self) -> dict:
        """The simulation that was run, as its configuration (a session's "simulation")."""
        from lrviz.session import simulation_dict

        return {"run": None if self.config is None else simulation_dict(self.config)}

    def check_state(self, state: dict) -> None:
        """Raise ValueError for a saved simulation that could not run (too big, unknown)."""
        from lrviz.session import simulation_config

        if state.get("run") is not None:
            config = simulation_config(state["run"], "run")
            check_simulation(config, history_bytes=min(history_bytes(config), self.memory_budget))

    def set_state(self, state: dict) -> None:
        """Run the saved simulation again (the engine is deterministic: the same curves)."""
        from lrviz.session import simulation_config

        if state.get("run") is None:
            self.stop()
            return
        self.start(simulation_config(state["run"], "run"))

    # --- internals ------------------------------------------------------------------------
    def _launch(self) -> None:
        simulation = self.simulation
        # start() superseded the old run; a resume continues this one, whose halted thread's
        # batches still belong to it (fresh=False keeps them current).
        self._rate_mark = (time.perf_counter(), simulation.iteration)
        self._set_state("running")
        self.jobs.start(
            lambda: simulation.run(batch_iterations=BATCH_ITERATIONS, batch_seconds=BATCH_SECONDS),
            self._on_batch,
            self._on_failed,
            fresh=False,
        )

    def _on_batch(self, batch: Batch) -> None:
        if self.store is None or batch.stop > self.store.capacity:
            return
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

    def _interrupt_remote(self) -> None:
        if isinstance(self.simulation, RemoteSimulation):
            self.simulation.interrupt()

    def _close_remote(self) -> None:
        """End the engine process of the current run, if it has one (its thread has ended)."""
        if isinstance(self.simulation, RemoteSimulation):
            self.simulation.close()

    def _on_failed(self, message: str) -> None:
        self.failed.emit(message)
        self._set_state("failed")

    def _set_state(self, state: str) -> None:
        self.state = state
        self.state_changed.emit(state)

"""A simulation that runs in a child process and streams its batches back.

A desktop app's engine thread and its GUI thread share one interpreter lock: every call the
GUI thread makes into Qt hands the lock to the engine and waits for it back, so a long run in
the same process froze the window for up to a second at a time and slowed the engine down
besides (docs/benchmarks.md, "Window responsiveness"). In a child process the engine has an
interpreter of its own; the parent only reads finished batches from a pipe (waiting on a pipe
holds no lock).

:class:`RemoteSimulation` answers what the app asks of a :class:`~lrviz.engine.Simulation`
(``iteration``, ``done``, ``objective``, ``run``): ``run()`` yields the child's batches in
order, and stopping it between batches pauses the child, which keeps its simulation; calling
``run()`` again resumes it, and no batch is lost (one may still be on its way: it comes first).
The child computes at most :data:`AHEAD` batches the parent has not read yet, so a paused
simulation stays paused and memory stays bounded.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Iterator

from .engine import Batch
from .errors import LrvizError

#: Batches the child may compute before the parent has read them: 2 keeps the engine busy
#: while the parent takes the previous one, and bounds what a pause leaves in flight.
AHEAD = 2
#: Seconds to wait for a killed child to be reaped.
REAP_SECONDS = 2.0


class EngineProcessError(LrvizError):
    """The engine in the child process failed (its message) or ended without a word."""


class RemoteSimulation:
    """``config``'s simulation (a :class:`~lrviz.simulation_config.SimulationConfig`), run
    in a child process.

    ``local`` is the same configuration built in this process (the caller builds it anyway
    for the objective and the sizes); it is never advanced here. ``run(batch_iterations,
    batch_seconds)`` takes the batch sizes of the first call (the child's generator is made
    once). :meth:`close` ends the child; call it when the simulation is no longer wanted.
    """

    def __init__(self, config, local, record_weights: bool = False) -> None:
        self.objective = local.objective
        self.runs = local.runs
        self.iterations = local.iterations
        self.record_weights = record_weights
        self.iteration = 0  # iterations received (the child may be up to AHEAD batches on)
        self._done = local.done
        self._config = config
        self._conn = None
        self._process = None
        self._asked = 0  # batches asked for and not received yet
        self._interrupted = threading.Event()
        # Held by the stream reading the pipe: a resume's stream waits for an interrupted
        # one to notice and go (see run).
        self._reading = threading.Lock()

    def interrupt(self) -> None:
        """Make a running ``run()`` return at once, even while it waits for the child's next
        batch (which stays in the pipe for the resume): a pause must not wait for a batch
        that a loaded machine may take seconds to compute (thread-safe)."""
        self._interrupted.set()

    @property
    def done(self) -> bool:
        return self._done

    def run(self, batch_iterations: int = 50, batch_seconds: float = 0.03) -> Iterator[Batch]:
        """The child's batches, in order, until the simulation is done. Closing the
        generator between batches pauses the child.

        One stream reads the pipe at a time: a resume that starts before the interrupted
        stream has noticed (it looks every 50 ms) waits for it, and clears the interruption
        only then. Clearing it at once let the paused stream read on beside the new one:
        two threads on one pipe took each other's batches, and one could wait forever for
        a message the other had read."""
        with self._reading:
            self._interrupted.clear()
            yield from self._stream(batch_iterations, batch_seconds)

    def _stream(self, batch_iterations: int, batch_seconds: float) -> Iterator[Batch]:
        if self._process is None and not self._done:
            self._start(batch_iterations, batch_seconds)
        while not self._done and not self._interrupted.is_set():
            while self._asked < AHEAD:
                self._conn.send("next")
                self._asked += 1
            while not self._conn.poll(0.05):
                if self._interrupted.is_set():
                    return
                if not self._process.is_alive() and not self._conn.poll(0):
                    break  # _receive reports it
            kind, payload = self._receive()
            self._asked -= 1
            if kind == "failed":
                self._done = True
                raise EngineProcessError(payload)
            if kind == "end":
                self._done = True
                return
            self.iteration = payload.stop
            self._done = payload.done
            yield payload

    def close(self) -> None:
        """End the child now. It holds nothing worth saving (the batches it sent are the
        record), and killing it is instant where asking it to finish its batch and shut its
        interpreter down kept the window waiting."""
        process, self._process = self._process, None
        self._done = True
        if process is None:
            return
        if process.is_alive():
            process.kill()
        process.join(REAP_SECONDS)
        self._conn.close()

    @property
    def alive(self) -> bool:
        """The child process is still running."""
        return self._process is not None and self._process.is_alive()

    def _start(self, batch_iterations: int, batch_seconds: float) -> None:
        # spawn, not fork: the parent is a GUI with threads, and a forked copy of a process
        # with threads can deadlock on a lock another thread held at the fork.
        context = multiprocessing.get_context("spawn")
        self._conn, child_end = context.Pipe()
        self._process = context.Process(
            target=_serve,
            args=(child_end, self._config, self.record_weights, batch_iterations, batch_seconds),
            name="lrviz-engine",
            daemon=True,
        )
        self._process.start()
        child_end.close()

    def _receive(self):
        try:
            return self._conn.recv()
        except (EOFError, OSError) as exc:
            self._done = True
            code = self._process.exitcode if self._process is not None else None
            raise EngineProcessError(
                f"the engine process ended unexpectedly (exit code {code})"
            ) from exc


def _serve(conn, config, record_weights: bool, batch_iterations: int, batch_seconds: float):
    """The child: build the simulation, then compute a batch each time the parent asks."""
    try:
        # A session of its own: Linux's scheduler shares the cores between sessions first
        # (autogroups), so on a busy machine the engine and the window no longer split one
        # share between them (the window's threads slowed the run, and the run the window).
        os.setsid()
    except (AttributeError, OSError):  # not on this system: as it is
        pass
    try:
        simulation = config.build()
        simulation.record_weights = record_weights
        batches = simulation.run(batch_iterations=batch_iterations, batch_seconds=batch_seconds)
        while conn.recv() == "next":
            batch = next(batches, None)
            if batch is None:
                conn.send(("end", None))
                return
            conn.send(("batch", batch))
            if batch.done:
                return
    except (EOFError, BrokenPipeError):
        return  # the parent has gone: nothing to tell
    except Exception as exc:  # the parent shows it as the run's failure, in one line
        try:
            conn.send(("failed", f"{type(exc).__name__}: {exc}"))
        except (OSError, ValueError):
            pass

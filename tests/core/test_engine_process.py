"""A simulation run in a child process: the same batches as in this process, paused and
resumed without losing one, failures reported in one line."""

from __future__ import annotations

import os
import types

import numpy as np
import pytest

from lrviz.engine_process import EngineProcessError, RemoteSimulation
from lrviz.simulation_config import SimulationConfig


def _config(iterations: int = 3000) -> SimulationConfig:
    return SimulationConfig(
        objective="quadratic", lrs=np.geomspace(1e-3, 0.3, 6), iterations=iterations, dim=5
    )


def _remote(config) -> RemoteSimulation:
    return RemoteSimulation(config, config.build())


def test_the_child_streams_the_same_batches_as_the_engine_here():
    config = _config()
    remote = _remote(config)
    try:
        batches = list(remote.run(batch_iterations=400, batch_seconds=1e9))
    finally:
        remote.close()
    here = list(config.build().run(batch_iterations=400, batch_seconds=1e9))
    assert remote.done and remote.iteration == 3000
    assert [b.start for b in batches] == [b.start for b in here]
    np.testing.assert_array_equal(
        np.concatenate([b.loss for b in batches]), np.concatenate([b.loss for b in here])
    )
    np.testing.assert_array_equal(batches[-1].diverged_at, here[-1].diverged_at)
    assert batches[-1].done


def test_closing_the_stream_pauses_and_run_resumes_without_losing_a_batch():
    config = _config()
    remote = _remote(config)
    try:
        first = []
        stream = remote.run(batch_iterations=300, batch_seconds=1e9)
        for batch in stream:
            first.append(batch)
            if len(first) == 2:
                break
        stream.close()  # what the worker does on pause
        assert not remote.done and remote.iteration == 600 and remote.alive
        rest = list(remote.run(batch_iterations=300, batch_seconds=1e9))  # resume
    finally:
        remote.close()
    np.testing.assert_array_equal(_losses(first + rest), _headless_losses(config))
    assert [b.start for b in first + rest] == list(range(0, 3000, 300))


def _losses(batches) -> np.ndarray:
    return np.concatenate([b.loss for b in batches])


def _headless_losses(config) -> np.ndarray:
    """The same run in this process, batched as the child batches it."""
    return _losses(config.build().run(batch_iterations=300, batch_seconds=1e9))


class _FailsInTheChild:
    """A configuration whose simulation cannot be built (only the child builds it)."""

    def build(self):
        raise ValueError("no such objective 'nowhere'")


def _local_stub():
    return types.SimpleNamespace(objective=None, runs=1, iterations=10, done=False)


def test_a_failure_in_the_child_is_one_line_here():
    remote = RemoteSimulation(_FailsInTheChild(), _local_stub())
    try:
        with pytest.raises(EngineProcessError, match="ValueError: no such objective 'nowhere'"):
            list(remote.run())
    finally:
        remote.close()
    assert remote.done


def test_a_child_that_dies_is_reported_not_waited_for():
    remote = _remote(_config(iterations=10_000_000))
    try:
        stream = remote.run(batch_iterations=100)
        next(stream)
        remote._process.kill()
        with pytest.raises(EngineProcessError, match="ended unexpectedly"):
            for _ in stream:
                pass
    finally:
        remote.close()


def test_close_ends_the_child():
    remote = _remote(_config(iterations=10_000_000))
    stream = remote.run(batch_iterations=100)
    next(stream)
    stream.close()
    assert remote.alive
    remote.close()
    assert not remote.alive and remote.done


def test_an_interrupted_stream_ends_at_once_and_resumes_without_losing_a_batch():
    """A pause interrupts the relay even while it waits for the child's next batch."""
    config = _config()
    remote = _remote(config)
    try:
        stream = remote.run(batch_iterations=300, batch_seconds=1e9)
        first = [next(stream)]
        remote.interrupt()
        first += list(stream)  # ends without waiting for the next batch (0 or 1 arrive)
        assert not remote.done
        rest = list(remote.run(batch_iterations=300, batch_seconds=1e9))
    finally:
        remote.close()
    np.testing.assert_array_equal(_losses(first + rest), _headless_losses(config))


def test_a_resume_never_reads_the_pipe_while_the_interrupted_stream_still_does():
    """A pause interrupts the stream waiting for the child's next batch; a resume started
    before that stream had noticed cleared the interruption, so the paused stream read on
    beside the new one: two threads reading one pipe took each other's batches (and could
    block in a read whose message the other had taken: the window test's resume then never
    finished). The new stream waits for the old one to go, which sees its interruption."""
    import threading

    config = SimulationConfig(
        objective="quadratic", lrs=np.geomspace(1e-3, 0.3, 64), iterations=10**8, dim=200
    )
    remote = _remote(config)
    old_batches, errors = [], []
    first = threading.Event()

    def paused_reader() -> None:  # the job thread a pause halts
        try:
            for batch in remote.run(batch_iterations=10**8, batch_seconds=0.4):
                old_batches.append(batch)
                first.set()
        except Exception as exc:  # the test reports it
            errors.append(exc)

    thread = threading.Thread(target=paused_reader)
    thread.start()
    try:
        assert first.wait(60)
        remote.interrupt()  # pause ...
        resumed = remote.run()  # ... and resume at once, before the old stream polls again
        batch = next(resumed)
        resumed.close()
        thread.join(30)
        assert not thread.is_alive() and not errors
        assert old_batches[-1].stop == batch.start  # nothing taken twice, nothing lost
    finally:
        remote.close()
        thread.join(30)


@pytest.mark.skipif(not hasattr(os, "getsid"), reason="sessions are a POSIX idea")
def test_the_child_runs_in_a_session_of_its_own():
    """Linux shares the cores between sessions first: in the app's session, the engine and
    the window's threads split one share of a busy machine between them."""
    config = _config(iterations=10**7)
    remote = _remote(config)
    try:
        next(remote.run(batch_iterations=100, batch_seconds=1e9))
        assert os.getsid(remote._process.pid) != os.getsid(0)
    finally:
        remote.close()

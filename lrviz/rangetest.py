"""Leslie Smith's learning-rate range test on a simulated problem.

One run trains while its learning rate ramps from ``min_lr`` to ``max_lr`` (exponentially,
like fastai, torch-lr-finder and Lightning, or linearly, like Smith's paper), one step per
iteration. The loss (and accuracy, on classifiers) of every iteration is recorded; the test
stops early once the smoothed loss exceeds ``stop_factor`` times its best, exactly as the
LR finders do.

The test is a thin layer over :class:`lrviz.engine.Simulation` and
:class:`lrviz.schedules.RangeRamp`. :meth:`RangeTest.run` streams the engine's batches so a
worker can plot the curve as it grows; :meth:`RangeTest.result` returns the curve recorded so
far at any moment::

    test = RangeTest(SimulationConfig(objective="mlp", optimizer="adam", batch_size=32))
    for batch in test.run():
        ...  # batch.loss[:, 0], batch.lr[:, 0]: the new points
    result = test.result()
    suggestion = result.suggest()
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from lrviz.engine import Batch
from lrviz.schedules import RangeRamp
from lrviz.simulation_config import SimulationConfig
from lrviz.smoothing import debiased_ema
from lrviz.suggest import Suggestion, suggest

#: Weight of the debiased EMA used for the displayed curve and the early stop. 0.98 is what
#: fastai and Lightning use (torch-lr-finder uses 0.95); with 100 iterations it lags by about
#: a sixth of the ramp, which is why :func:`lrviz.suggest.suggest` smooths on its own.
DEFAULT_SMOOTHING = 0.98
DEFAULT_MIN_LR = 1e-7
DEFAULT_MAX_LR = 1.0
DEFAULT_ITERATIONS = 100
DEFAULT_STOP_FACTOR = 4.0


@dataclass(frozen=True)
class RangeTestResult:
    """The curve of a (possibly unfinished) range test.

    Attributes
    ----------
    lr : ndarray (n,)
        Learning rate of each recorded iteration.
    loss : ndarray (n,)
        Raw loss at each iteration (before the step taken with ``lr``). The last value is
        the one that triggered the early stop, when the test stopped early.
    smoothed : ndarray (n,)
        Debiased EMA of ``loss`` with weight ``smoothing`` (NaN where the loss is not finite).
    accuracy : ndarray (n,) or None
        Minibatch accuracy, for classifiers.
    stopped_early : bool
        True when the loss diverged before the ramp reached ``max_lr``.
    stop_lr : float or None
        The lr at which the test stopped early.
    min_lr, max_lr : float
        The ramp's range.
    iterations : int
        Planned length of the ramp.
    mode : str
        ``"exp"`` or ``"linear"``.
    smoothing : float
        EMA weight of ``smoothed``.
    done : bool
        False while the test is still running.
    """

    lr: np.ndarray
    loss: np.ndarray
    smoothed: np.ndarray
    accuracy: np.ndarray | None
    stopped_early: bool
    stop_lr: float | None
    min_lr: float
    max_lr: float
    iterations: int
    mode: str
    smoothing: float
    done: bool

    def suggest(self, **options) -> Suggestion:
        """Suggested learning rates from the raw curve; options go to :func:`suggest`."""
        return suggest(self.lr, self.loss, **options)

    def curve_dict(self) -> dict:
        """``{"lr", "loss", "smoothed", "accuracy"}`` as JSON-ready lists (NaN -> None)."""
        return {
            "lr": _json_list(self.lr),
            "loss": _json_list(self.loss),
            "smoothed": _json_list(self.smoothed),
            "accuracy": None if self.accuracy is None else _json_list(self.accuracy),
        }

    def to_dict(self) -> dict:
        """The curve and the test's settings, JSON-ready."""
        return {
            "min_lr": self.min_lr,
            "max_lr": self.max_lr,
            "iterations": self.iterations,
            "mode": self.mode,
            "smoothing": self.smoothing,
            "recorded": int(self.lr.size),
            "stopped_early": self.stopped_early,
            "stop_lr": self.stop_lr,
            "curve": self.curve_dict(),
        }


class RangeTest:
    """An LR range test of the problem ``config`` describes.

    Parameters
    ----------
    config : SimulationConfig, optional
        Objective, optimizer, their options and the seed. Its ``lrs``, ``iterations`` and
        ``divergence_factor`` are ignored: the test uses one run and the parameters below.
    min_lr, max_lr : float
        The ramp's range, ``0 < min_lr < max_lr`` (default 1e-7 to 1).
    iterations : int
        Length of the ramp, at least 2 (default 100, like fastai).
    mode : str
        ``"exp"`` (geometric ramp, the default) or ``"linear"``.
    stop_factor : float or None
        Stop once the smoothed loss exceeds this multiple of its best (default 4). None:
        only a non-finite loss stops the test.
    smoothing : float in [0, 1)
        Weight of the debiased EMA used for the early stop and ``result().smoothed``
        (default 0.98).
    """

    def __init__(
        self,
        config: SimulationConfig | None = None,
        min_lr: float = DEFAULT_MIN_LR,
        max_lr: float = DEFAULT_MAX_LR,
        iterations: int = DEFAULT_ITERATIONS,
        mode: str = "exp",
        stop_factor: float | None = DEFAULT_STOP_FACTOR,
        smoothing: float = DEFAULT_SMOOTHING,
    ) -> None:
        if not (np.isfinite(min_lr) and np.isfinite(max_lr)):
            raise ValueError("range test: min and max lr must be finite")
        self.ramp = RangeRamp(float(min_lr), float(max_lr), int(iterations), mode)
        if not 0.0 <= smoothing < 1.0:
            raise ValueError(f"range test: smoothing must be in [0, 1), got {smoothing}")
        if stop_factor is not None and not stop_factor > 1:
            raise ValueError(f"range test: stop factor must be above 1, got {stop_factor}")
        self.config = dataclasses.replace(
            config or SimulationConfig(),
            lrs=np.array([float(min_lr)]),
            iterations=int(iterations),
            divergence_factor=stop_factor,
        )
        self.smoothing = float(smoothing)
        self.stop_factor = stop_factor
        self.simulation = self.config.build(schedule=self.ramp, divergence_smoothing=self.smoothing)
        n = self.ramp.iterations
        self._lr = np.full(n, np.nan)
        self._loss = np.full(n, np.nan)
        self._accuracy = np.full(n, np.nan) if self.simulation.objective.has_accuracy else None
        self._count = 0

    @property
    def iterations(self) -> int:
        return self.ramp.iterations

    @property
    def count(self) -> int:
        """Iterations recorded so far."""
        return self._count

    @property
    def done(self) -> bool:
        return self.simulation.done

    def run(self, batch_iterations: int = 50, batch_seconds: float = 0.03) -> Iterator[Batch]:
        """Advance the test, yielding the engine's batches (one run: column 0).

        Each batch is recorded before it is yielded, so :meth:`result` includes it.
        Stopping the iteration pauses the test; calling :meth:`run` again resumes it.
        """
        for batch in self.simulation.run(batch_iterations, batch_seconds):
            self._record(batch)
            yield batch

    def run_to_end(self) -> RangeTestResult:
        """Run the whole test without streaming and return its result."""
        for _ in self.run(batch_iterations=max(self.iterations, 1), batch_seconds=3600.0):
            pass
        return self.result()

    def _record(self, batch: Batch) -> None:
        self._count = max(self._count, record_batch(batch, self._lr, self._loss, self._accuracy))

    def result(self) -> RangeTestResult:
        """The curve recorded so far (copies: safe to keep while the test goes on)."""
        n = self._count
        diverged_at = int(self.simulation.diverged_at[0])
        if diverged_at >= 0:
            n = min(n, diverged_at + 1)
        lr = self._lr[:n].copy()
        loss = self._loss[:n].copy()
        stopped = diverged_at >= 0
        return RangeTestResult(
            lr=lr,
            loss=loss,
            smoothed=debiased_ema(loss, self.smoothing),
            accuracy=None if self._accuracy is None else self._accuracy[:n].copy(),
            stopped_early=stopped,
            stop_lr=float(lr[-1]) if stopped and n else None,
            min_lr=self.ramp.min_lr,
            max_lr=self.ramp.max_lr,
            iterations=self.iterations,
            mode=self.ramp.mode,
            smoothing=self.smoothing,
            done=self.done,
        )


def record_batch(
    batch: Batch, lr: np.ndarray, loss: np.ndarray, accuracy: np.ndarray | None
) -> int:
    """Copy a range test's batch (its single run, column 0) into curve arrays of length
    ``iterations``; returns the number of iterations the arrays now hold (``batch.stop``).

    Shared by :class:`RangeTest` and the app, which keeps its own arrays in the GUI thread
    rather than reading the test's while the worker writes them."""
    rows = slice(batch.start, batch.stop)
    lr[rows] = batch.lr[:, 0]
    loss[rows] = batch.loss[:, 0]
    if accuracy is not None and batch.accuracy is not None:
        accuracy[rows] = batch.accuracy[:, 0]
    return batch.stop


def _json_list(values: np.ndarray) -> list[float | None]:
    return [float(v) if np.isfinite(v) else None for v in np.asarray(values, dtype=np.float64)]

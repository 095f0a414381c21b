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
import math
import numbers
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

import numpy as np

from lrviz.engine import Batch
from lrviz.lr_format import format_lr
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
RAMP_MODES = ("exp", "linear")

#: What each setting is called where :meth:`RangeTestSpec.check` reports it; the command line
#: passes its flags instead.
SETTING_NAMES = {
    "min_lr": "min λ",
    "max_lr": "max λ",
    "iterations": "iterations",
    "mode": "ramp",
    "stop_factor": "stop factor",
    "smoothing": "smoothing",
}


@dataclass(frozen=True)
class RangeTestSpec:
    """One description of a range test: the app's form fills it, ``lrviz rangetest`` parses
    it from flags, :meth:`build` runs it, and its result and the saved range carry it.

    Attributes
    ----------
    config : SimulationConfig
        Objective, optimizer, their options and the seed. Its ``lrs``, ``iterations`` and
        ``divergence_factor`` are ignored: the test uses one run and the settings below.
    min_lr, max_lr : float
        The ramp's range, ``0 < min_lr < max_lr``.
    iterations : int
        Length of the ramp, at least 2.
    mode : str
        ``"exp"`` (geometric ramp) or ``"linear"``.
    stop_factor : float or None
        Stop once the smoothed loss exceeds this multiple of its best; None: only a
        non-finite loss stops the test.
    smoothing : float in [0, 1)
        Weight of the debiased EMA used for the early stop and the smoothed curve.
    """

    config: SimulationConfig = field(default_factory=SimulationConfig)
    min_lr: float = DEFAULT_MIN_LR
    max_lr: float = DEFAULT_MAX_LR
    iterations: int = DEFAULT_ITERATIONS
    mode: str = "exp"
    stop_factor: float | None = DEFAULT_STOP_FACTOR
    smoothing: float = DEFAULT_SMOOTHING

    def check(self, names: Mapping[str, str] | None = None) -> None:
        """Raise ValueError naming the first inconsistent setting (``names`` maps a setting
        to what the user calls it, default :data:`SETTING_NAMES`)."""
        name = {**SETTING_NAMES, **(names or {})}
        for key in ("min_lr", "max_lr"):
            value = getattr(self, key)
            ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
            if not (ok and math.isfinite(value) and value > 0):
                raise ValueError(f"{name[key]} must be positive and finite, got {value!r}")
        if not self.max_lr > self.min_lr:
            raise ValueError(
                f"{name['max_lr']} ({format_lr(self.max_lr)}) must be above "
                f"{name['min_lr']} ({format_lr(self.min_lr)})"
            )
        if not self.iterations >= 2:
            raise ValueError(
                f"{name['iterations']} must be at least 2 for a range test, got {self.iterations}"
            )
        if self.mode not in RAMP_MODES:
            raise ValueError(f"{name['mode']} must be 'exp' or 'linear', got {self.mode!r}")
        if self.stop_factor is not None and not self.stop_factor > 1:
            raise ValueError(f"{name['stop_factor']} must be above 1, got {self.stop_factor}")
        if not 0.0 <= self.smoothing < 1.0:
            raise ValueError(f"{name['smoothing']} must be in [0, 1), got {self.smoothing}")

    def check_limits(self) -> None:
        """Raise :class:`lrviz.limits.SizeError` if the test is too big to run here."""
        from lrviz.limits import check_range_test

        check_range_test(self.config, self.min_lr, self.max_lr, self.iterations)

    def build(self) -> RangeTest:
        """The range test, not started. Raises ValueError for inconsistent settings."""
        return RangeTest(self)

    def to_dict(self) -> dict:
        """JSON-ready description (``lrviz rangetest --json``'s ``range_test``, the saved
        range's ``range_test``)."""
        return {
            "objective": self.config.objective,
            "optimizer": self.config.optimizer,
            "batch_size": self.config.batch_size,
            # the typed function, when the objective is one
            **(
                {"expr": self.config.expr, "start": self.config.start}
                if self.config.objective == "expr"
                else {}
            ),
            "seed": self.config.seed,
            "min_lr": float(self.min_lr),
            "max_lr": float(self.max_lr),
            "iterations": int(self.iterations),
            "mode": self.mode,
            "stop_factor": None if self.stop_factor is None else float(self.stop_factor),
            "smoothing": float(self.smoothing),
        }


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
    spec : RangeTestSpec
        The test's settings (``min_lr``, ``max_lr``, ``iterations``, ``mode`` and
        ``smoothing``, the EMA weight of ``smoothed``, are read through to it).
    done : bool
        False while the test is still running.
    """

    lr: np.ndarray
    loss: np.ndarray
    smoothed: np.ndarray
    accuracy: np.ndarray | None
    stopped_early: bool
    stop_lr: float | None
    spec: RangeTestSpec
    done: bool

    min_lr = property(lambda self: self.spec.min_lr, doc="The ramp's first λ.")
    max_lr = property(lambda self: self.spec.max_lr, doc="The ramp's last λ.")
    iterations = property(lambda self: self.spec.iterations, doc="Planned length of the ramp.")
    mode = property(lambda self: self.spec.mode, doc='``"exp"`` or ``"linear"``.')
    smoothing = property(lambda self: self.spec.smoothing, doc="EMA weight of ``smoothed``.")

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

    def describe(self) -> dict:
        """The test's settings and how far it went, JSON-ready (``lrviz rangetest --json``'s
        ``range_test``)."""
        return {
            **self.spec.to_dict(),
            "recorded": int(self.lr.size),
            "stopped_early": self.stopped_early,
            "stop_lr": self.stop_lr,
        }

    def to_dict(self) -> dict:
        """The curve and the test's settings, JSON-ready."""
        return {**self.describe(), "curve": self.curve_dict()}


class RangeTest:
    """An LR range test of the problem ``config`` describes.

    Parameters
    ----------
    config : SimulationConfig or RangeTestSpec, optional
        Objective, optimizer, their options and the seed. Its ``lrs``, ``iterations`` and
        ``divergence_factor`` are ignored: the test uses one run and the parameters below.
        A :class:`RangeTestSpec` stands for all the parameters (the others are ignored).
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
        config: SimulationConfig | RangeTestSpec | None = None,
        min_lr: float = DEFAULT_MIN_LR,
        max_lr: float = DEFAULT_MAX_LR,
        iterations: int = DEFAULT_ITERATIONS,
        mode: str = "exp",
        stop_factor: float | None = DEFAULT_STOP_FACTOR,
        smoothing: float = DEFAULT_SMOOTHING,
    ) -> None:
        if isinstance(config, RangeTestSpec):
            self.spec = config
        else:
            self.spec = RangeTestSpec(
                config or SimulationConfig(),
                min_lr=min_lr,
                max_lr=max_lr,
                iterations=iterations,
                mode=mode,
                stop_factor=stop_factor,
                smoothing=smoothing,
            )
        spec = self.spec
        spec.check()
        self.ramp = RangeRamp(
            float(spec.min_lr), float(spec.max_lr), int(spec.iterations), spec.mode
        )
        self.config = dataclasses.replace(
            spec.config,
            lrs=np.array([float(spec.min_lr)]),
            iterations=int(spec.iterations),
            divergence_factor=spec.stop_factor,
        )
        self.smoothing = float(spec.smoothing)
        self.stop_factor = spec.stop_factor
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
            spec=self.spec,
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

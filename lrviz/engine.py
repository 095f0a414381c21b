"""The gradient-descent engine: R runs advance together and stream out in batches.

``Simulation`` holds the state of R runs (weights, optimizer state, divergence). Its
:meth:`Simulation.run` is a generator yielding :class:`Batch` objects every
``batch_iterations`` iterations or ``batch_seconds`` seconds, whichever comes first. Closing
the generator (or simply not asking for the next batch) pauses the simulation between batches;
calling :meth:`run` again resumes from where it stopped.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from lrviz.objectives import Objective
from lrviz.optimizers import make_optimizer
from lrviz.schedules import Schedule

STOCHASTIC_SMOOTHING = 0.98  # fastai's and Lightning's LR finders smooth with this weight


@dataclass(frozen=True)
class Batch:
    """Iterations ``start .. start + n - 1`` of every run.

    Attributes
    ----------
    start : int
        Index of the first iteration in this batch.
    loss : ndarray (n, R)
        Loss at the weights each iteration starts from (what a training log records).
        NaN after a run has diverged.
    lr : ndarray (n, R)
        Learning rate used at each iteration; NaN once a run is frozen.
    accuracy : ndarray (n, R) or None
        Classification accuracy on the iteration's batch, for classifiers.
    diverged_at : ndarray (R,) of int
        Iteration at which each run diverged so far, -1 if it has not.
    weights : ndarray (n, R, dim) or None
        The weights each iteration starts from, when the simulation records them.
    done : bool
        True on the last batch: all iterations ran or every run diverged.
    """

    start: int
    loss: np.ndarray
    lr: np.ndarray
    accuracy: np.ndarray | None
    diverged_at: np.ndarray
    weights: np.ndarray | None
    done: bool

    @property
    def stop(self) -> int:
        return self.start + self.loss.shape[0]


class Simulation:
    """R gradient-descent runs of one objective and optimizer, one learning rate each.

    Parameters
    ----------
    objective : Objective
    optimizer : str
        ``"sgd"``, ``"momentum"``, ``"nesterov"`` or ``"adam"``.
    lrs : array (R,)
        Base learning rate of each run.
    iterations : int
        How many iterations each run takes at most.
    seed : int
        Seeds the minibatch order, which every run shares.
    schedule : Schedule, optional
        Maps (iteration, base lrs) to the lrs used; constant by default.
    divergence_factor : float or None
        A run diverges when its (optionally smoothed) loss exceeds this multiple of its best,
        or becomes non-finite. None: only non-finite losses count.
    divergence_smoothing : float in [0, 1) or None
        Weight of the debiased EMA applied to the loss before the divergence test (0: raw).
        None (default) picks 0 for deterministic objectives and 0.98 for minibatch ones,
        whose raw loss routinely jumps past 4x its luckiest batch without diverging.
    record_weights : bool
        Keep the weights of every iteration in the batches (for 2-D trajectories).
    optimizer_options : dict
        Passed to :func:`lrviz.optimizers.make_optimizer`.
    """

    def __init__(
        self,
        objective: Objective,
        optimizer: str,
        lrs,
        iterations: int,
        seed: int = 0,
        schedule: Schedule | None = None,
        divergence_factor: float | None = 4.0,
        divergence_smoothing: float | None = None,
        record_weights: bool = False,
        optimizer_options: dict | None = None,
    ) -> None:
        self.lrs = np.atleast_1d(np.asarray(lrs, dtype=np.float64))
        if self.lrs.ndim != 1 or self.lrs.size == 0:
            raise ValueError("need at least one learning rate")
        if not np.all(np.isfinite(self.lrs) & (self.lrs > 0)):
            raise ValueError("learning rates must be positive and finite")
        if iterations < 1:
            raise ValueError(f"iterations must be at least 1, got {iterations}")
        if divergence_factor is not None and not divergence_factor > 1:
            raise ValueError(f"divergence factor must be above 1, got {divergence_factor}")
        if divergence_smoothing is None:
            divergence_smoothing = STOCHASTIC_SMOOTHING if objective.stochastic else 0.0
        if not 0.0 <= divergence_smoothing < 1.0:
            raise ValueError(f"divergence smoothing must be in [0, 1), got {divergence_smoothing}")
        self.objective = objective
        self.runs = self.lrs.size
        self.iterations = int(iterations)
        self.schedule = schedule or Schedule()
        self.divergence_factor = divergence_factor
        self.divergence_smoothing = float(divergence_smoothing)
        self.record_weights = record_weights
        self.optimizer = make_optimizer(
            optimizer, self.runs, objective.dim, **(optimizer_options or {})
        )
        self.weights = np.tile(objective.initial_point(), (self.runs, 1))
        self.iteration = 0
        self.diverged_at = np.full(self.runs, -1, dtype=np.int64)
        self.best = np.full(self.runs, np.inf)
        self._ema = np.zeros(self.runs)
        self._ema_count = 0
        self._batches = objective.batches(np.random.default_rng(seed))

    @property
    def done(self) -> bool:
        return self.iteration >= self.iterations or bool(np.all(self.diverged_at >= 0))

    @property
    def active(self) -> np.ndarray:
        return self.diverged_at < 0

    def run(self, batch_iterations: int = 50, batch_seconds: float = 0.03) -> Iterator[Batch]:
        """Advance until done, yielding a batch every ``batch_iterations`` or ``batch_seconds``."""
        if batch_iterations < 1:
            raise ValueError("batch_iterations must be at least 1")
        while not self.done:
            yield self._advance(batch_iterations, batch_seconds)

    def _advance(self, max_iterations: int, max_seconds: float) -> Batch:
        n_max = min(max_iterations, self.iterations - self.iteration)
        runs, dim = self.runs, self.objective.dim
        loss = np.full((n_max, runs), np.nan)
        lr = np.full((n_max, runs), np.nan)
        accuracy = np.full((n_max, runs), np.nan) if self.objective.has_accuracy else None
        weights = np.full((n_max, runs, dim), np.nan) if self.record_weights else None
        start = self.iteration
        deadline = time.perf_counter() + max_seconds
        n = 0
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            while n < n_max:
                self._step(n, loss, lr, accuracy, weights)
                n += 1
                if self.done or time.perf_counter() >= deadline:
                    break
        return Batch(
            start=start,
            loss=loss[:n],
            lr=lr[:n],
            accuracy=None if accuracy is None else accuracy[:n],
            diverged_at=self.diverged_at.copy(),
            weights=None if weights is None else weights[:n],
            done=self.done,
        )

    def _step(self, row, loss_out, lr_out, acc_out, weights_out) -> None:
        active = self.active
        rows: np.ndarray | slice = slice(None) if active.all() else np.flatnonzero(active)
        t = self.iteration
        batch = next(self._batches)
        w = self.weights[rows]
        if weights_out is not None:
            weights_out[row, rows] = w
        evaluation = self.objective.evaluate(w, batch)
        current = evaluation.loss
        lrs = self.schedule(t, self.lrs)[rows]
        loss_out[row, rows] = current
        lr_out[row, rows] = lrs
        if acc_out is not None and evaluation.accuracy is not None:
            acc_out[row, rows] = evaluation.accuracy

        diverged = self._diverged(current, rows)
        self.iteration = t + 1
        if diverged.any():
            # A diverged run is frozen where it stands: no step, no further maths.
            index = np.arange(self.runs)[rows]
            self.diverged_at[index[diverged]] = t
            keep = ~diverged
            index, w, grad, lrs = index[keep], w[keep], evaluation.grad[keep], lrs[keep]
            if index.size == 0:
                return
            rows = index
        else:
            grad = evaluation.grad
        self.optimizer.select(rows)
        self.weights[rows] = self.optimizer.step(w, grad, lrs)

    def _diverged(self, current: np.ndarray, rows) -> np.ndarray:
        finite = np.isfinite(current)
        if self.divergence_factor is None:
            return ~finite
        if self.divergence_smoothing > 0.0:
            beta = self.divergence_smoothing
            # Frozen runs keep their average; the debiasing count is shared because all
            # active runs have seen the same number of iterations.
            ema = beta * self._ema[rows] + (1.0 - beta) * np.where(finite, current, 0.0)
            self._ema[rows] = ema
            self._ema_count += 1
            watched = ema / (1.0 - beta**self._ema_count)
        else:
            watched = current
        best = self.best[rows]
        blown = watched > self.divergence_factor * best
        self.best[rows] = np.where(finite, np.minimum(best, watched), best)
        return ~finite | blown

"""The gradient-descent engine: R runs advance together and stream out in batches.

``Simulation`` holds the state of R runs (weights, optimizer state, divergence). Its
:meth:`Simulation.run` is a generator yielding :class:`Batch` objects every
``batch_iterations`` iterations or ``batch_seconds`` seconds, whichever comes first. Closing
the generator (or simply not asking for the next batch) pauses the simulation between batches;
calling :meth:`run` again resumes from where it stopped.

How it stays at the speed of the maths: every step works in place on preallocated arrays
(the objective's workspace, the optimizer's state, the divergence test's buffers), so a step
allocates nothing. A run that diverges is frozen by a mask (``where=``) for the rest of its
batch; between batches the frozen runs are dropped from the working arrays, so they cost
nothing afterwards, and no step gathers or scatters rows. Each run's final and best loss are
kept as the batches stream, so a summary needs no history.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from lrviz.objectives import Objective
from lrviz.optimizers import make_optimizer
from lrviz.schedules import Schedule

STOCHASTIC_SMOOTHING = 0.98  # fastai's and Lightning's LR finders smooth with this weight

#: Most bytes one batch's arrays may take. A batch is cut shorter than ``batch_iterations``
#: when its (iterations, runs) arrays would pass this, so the engine's memory stays
#: O(runs x dim) whatever the caller asks for.
BATCH_BYTES = 64 * 2**20


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

    Attributes
    ----------
    final_loss, best_loss : ndarray (R,)
        Each run's loss at its last recorded iteration (where it diverged, for a diverged
        run) and its lowest finite loss so far; NaN before any data (``best_loss`` also when
        a run has no finite loss). Kept up to date at every batch.
    final_accuracy : ndarray (R,) or None
        Accuracy at the same iteration as ``final_loss``, for classifiers.
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
        # 0-d arrays: a ufunc takes them ~200 ns faster than Python floats, same arithmetic.
        self._factor = np.array(np.nan if divergence_factor is None else divergence_factor)
        self._beta = np.array(self.divergence_smoothing)
        self._one_minus_beta = np.array(1.0 - self.divergence_smoothing)
        self.optimizer = make_optimizer(
            optimizer, self.runs, objective.dim, **(optimizer_options or {})
        )
        self.iteration = 0
        self.diverged_at = np.full(self.runs, -1, dtype=np.int64)
        self.final_loss = np.full(self.runs, np.nan)
        self.final_accuracy = np.full(self.runs, np.nan) if objective.has_accuracy else None
        self._lowest_loss = np.full(self.runs, np.inf)
        self._live_count = self.runs
        self._ema_count = 0
        self._batches = objective.batches(np.random.default_rng(seed))

        # Per-run state of every run ...
        self._all_weights = np.tile(objective.initial_point(), (self.runs, 1))
        self._all_best = np.full(self.runs, np.inf)
        self._all_ema = np.zeros(self.runs)
        # ... and the working arrays the steps update: the runs that were live at the last
        # batch boundary (all of them, and the same arrays, until one diverges).
        self._index = np.arange(self.runs)
        self._w, self._best, self._ema = self._all_weights, self._all_best, self._all_ema
        self._base_lrs = self.lrs
        self._live = np.ones(self.runs, dtype=bool)
        self._frozen = 0  # working runs frozen since the last batch boundary
        self._frozen_in_batch: list[tuple[int, np.ndarray]] = []
        self._allocate_buffers()

    # --- state -------------------------------------------------------------------------

    @property
    def done(self) -> bool:
        return self.iteration >= self.iterations or self._live_count == 0

    @property
    def active(self) -> np.ndarray:
        return self.diverged_at < 0

    @property
    def live_count(self) -> int:
        """How many runs have not diverged."""
        return self._live_count

    @property
    def weights(self) -> np.ndarray:
        """(R, dim): every run's current weights (a diverged run's where it froze)."""
        self._store_working_state()
        return self._all_weights

    @property
    def best(self) -> np.ndarray:
        """(R,): the best (smoothed, if smoothing) loss each run's divergence test compares to."""
        self._store_working_state()
        return self._all_best

    @property
    def best_loss(self) -> np.ndarray:
        return np.where(np.isfinite(self._lowest_loss), self._lowest_loss, np.nan)

    def summaries(self) -> list[dict]:
        """One dict per run: lr, final_loss, best_loss, diverged, diverged_at (and
        final_accuracy, for classifiers), JSON-ready: non-finite numbers become None. The
        same records as :meth:`lrviz.run_store.RunStore.summaries` of the streamed batches."""
        best = self.best_loss
        out = []
        for i in range(self.runs):
            diverged = bool(self.diverged_at[i] >= 0)
            row = {
                "lr": float(self.lrs[i]),
                "final_loss": _finite_or_none(self.final_loss[i]),
                "best_loss": _finite_or_none(best[i]),
                "diverged": diverged,
                "diverged_at": int(self.diverged_at[i]) if diverged else None,
            }
            if self.final_accuracy is not None:
                row["final_accuracy"] = _finite_or_none(self.final_accuracy[i])
            out.append(row)
        return out

    # --- running -----------------------------------------------------------------------

    def run(self, batch_iterations: int = 50, batch_seconds: float = 0.03) -> Iterator[Batch]:
        """Advance until done, yielding a batch every ``batch_iterations`` or ``batch_seconds``."""
        if batch_iterations < 1:
            raise ValueError("batch_iterations must be at least 1")
        while not self.done:
            yield self._advance(batch_iterations, batch_seconds)

    def _advance(self, max_iterations: int, max_seconds: float) -> Batch:
        if self._frozen:
            self._drop_frozen_runs()
        width, dim = self._index.size, self.objective.dim
        n_max = min(max_iterations, self.iterations - self.iteration, self._rows_per_batch())
        # np.empty: every row a step reaches is written whole (frozen runs fixed at the end).
        loss = np.empty((n_max, width))
        lr = np.empty((n_max, width))
        accuracy = np.empty((n_max, width)) if self.final_accuracy is not None else None
        weights = np.empty((n_max, width, dim)) if self.record_weights else None
        start = self.iteration
        deadline = time.perf_counter() + max_seconds
        n = 0
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            while n < n_max:
                self._step(n, loss, lr, accuracy, weights)
                n += 1
                if self._frozen == width or time.perf_counter() >= deadline:
                    break
        arrays = [a if a is None else a[:n] for a in (loss, lr, accuracy, weights)]
        self._finish_batch(*arrays)
        loss, lr, accuracy, weights = (self._all_runs(a) for a in arrays)
        return Batch(
            start=start,
            loss=loss,
            lr=lr,
            accuracy=accuracy,
            diverged_at=self.diverged_at.copy(),
            weights=weights,
            done=self.done,
        )

    def _step(self, row, loss_out, lr_out, acc_out, weights_out) -> None:
        t = self.iteration
        batch = next(self._batches)
        w = self._w
        if weights_out is not None:
            weights_out[row] = w
        evaluation = self.objective.evaluate_into(w, batch, self._workspace)
        current = evaluation.loss
        lrs = self.schedule(t, self._base_lrs)
        loss_out[row] = current
        lr_out[row] = lrs
        if acc_out is not None:
            acc_out[row] = np.nan if evaluation.accuracy is None else evaluation.accuracy
        self.iteration = t + 1
        count = self._count_diverging(current)
        if count:
            self._freeze(count, t, row)
        if self._frozen == w.shape[0]:
            return  # every working run is frozen: no step to take
        # A diverged run is frozen where it stands: no step, no change of optimizer state.
        live = self._live if self._frozen else None
        self.optimizer.update(w, evaluation.grad, self._lr_rows(lrs), live)

    def _lr_rows(self, lrs: np.ndarray) -> np.ndarray:
        """The lrs repeated along each row, (width, dim): ufuncs run about twice as fast on
        that as on a broadcast (width, 1) column. A constant schedule returns the base lrs
        themselves, whose rows are made once per working set."""
        if lrs is self._base_lrs:
            return self._base_lr_rows
        if self._lr_buffer is None:
            self._lr_buffer = np.empty_like(self._base_lr_rows)
        np.copyto(self._lr_buffer, lrs[:, None])
        return self._lr_buffer

    def _count_diverging(self, current: np.ndarray) -> int:
        """How many live working runs diverge at this iteration; updates each run's best.

        A run is healthy while its loss is finite and its watched (raw or smoothed) loss is
        not above ``divergence_factor`` times its best. The common case, nothing frozen and
        nothing diverging, takes no masked (``where=``) operation, the slow part of a step.
        """
        live = self._live if self._frozen else None
        finite = np.isfinite(current, out=self._finite)
        healthy = finite
        if self.divergence_factor is not None:
            watched = current
            if self.divergence_smoothing > 0.0:
                watched = self._smoothed(current, finite, live)
            threshold = np.multiply(self._best, self._factor, out=self._threshold)
            healthy = np.less_equal(watched, threshold, out=self._healthy)
            np.logical_and(healthy, finite, out=healthy)
        self._healthy_now = healthy
        if live is None:
            count = healthy.size - int(np.count_nonzero(healthy))
        else:
            count = int(np.count_nonzero(self._diverging_mask()))
        if self.divergence_factor is not None:
            if live is None and count == 0:
                np.minimum(self._best, watched, out=self._best)  # every loss was finite
            else:
                improving = (
                    finite if live is None else np.logical_and(finite, live, out=self._improving)
                )
                np.minimum(self._best, watched, out=self._best, where=improving)
        return count

    def _diverging_mask(self) -> np.ndarray:
        """The live working runs the last divergence test found unhealthy."""
        diverging = np.logical_not(self._healthy_now, out=self._diverging)
        if self._frozen:
            np.logical_and(diverging, self._live, out=diverging)
        return diverging

    def _smoothed(self, current, finite, live) -> np.ndarray:
        """Debiased EMA of the loss, non-finite values counted as 0. Frozen runs keep their
        average; the debiasing count is shared because all live runs have seen the same
        number of iterations."""
        part = np.multiply(current, self._one_minus_beta, out=self._smoothing_part)
        if np.count_nonzero(finite) < finite.size:
            part[~finite] = 0.0
        decayed = np.multiply(self._ema, self._beta, out=self._smoothed_buffer)
        if live is None:
            np.add(decayed, part, out=self._ema)
        else:
            np.add(decayed, part, out=self._ema, where=live)
        self._ema_count += 1
        # A Python float, as always: numpy's vectorized power may round the last bit apart.
        debias = 1.0 - self.divergence_smoothing**self._ema_count
        return np.divide(self._ema, debias, out=self._smoothed_buffer)

    def _freeze(self, count: int, t: int, row: int) -> None:
        positions = np.flatnonzero(self._diverging_mask())
        self.diverged_at[self._index[positions]] = t
        self._live[positions] = False
        self._frozen += count
        self._live_count -= count
        self._frozen_in_batch.append((row, positions))

    def _finish_batch(self, loss, lr, accuracy, weights) -> None:
        """Blank what frozen runs 'recorded' after freezing, and update the per-run outcome."""
        n = loss.shape[0]
        last = np.full(self._index.size, n - 1)
        for row, positions in self._frozen_in_batch:
            for array in (loss, lr, accuracy, weights):
                if array is not None:
                    array[row + 1 :, positions] = np.nan
            last[positions] = row
        self._frozen_in_batch = []
        columns = np.arange(self._index.size)
        self.final_loss[self._index] = loss[last, columns]
        if accuracy is not None:
            self.final_accuracy[self._index] = accuracy[last, columns]
        lowest = np.min(loss, axis=0, where=np.isfinite(loss), initial=np.inf)
        self._lowest_loss[self._index] = np.minimum(self._lowest_loss[self._index], lowest)

    def _all_runs(self, array: np.ndarray | None) -> np.ndarray | None:
        """A working (n, width, ...) array as (n, R, ...), NaN for runs no longer worked on."""
        if array is None or self._index.size == self.runs:
            return array
        full = np.full((array.shape[0], self.runs, *array.shape[2:]), np.nan)
        full[:, self._index] = array
        return full

    # --- working arrays ----------------------------------------------------------------

    def _drop_frozen_runs(self) -> None:
        """Shrink the working arrays to the live runs (once a batch at most, so a diverged
        run costs a copy once, not a gather and a scatter every step)."""
        self._store_working_state()
        keep = self._live
        self._index = self._index[keep]
        self._w, self._best, self._ema = self._w[keep], self._best[keep], self._ema[keep]
        self._base_lrs = self.lrs[self._index]
        self.optimizer.keep(keep)
        self._live = np.ones(self._index.size, dtype=bool)
        self._frozen = 0
        self._allocate_buffers()

    def _store_working_state(self) -> None:
        if self._w is not self._all_weights:
            self._all_weights[self._index] = self._w
            self._all_best[self._index] = self._best
            self._all_ema[self._index] = self._ema

    def _allocate_buffers(self) -> None:
        width = self._index.size
        self._workspace = self.objective.workspace(width)
        self._finite = np.empty(width, dtype=bool)
        self._healthy = np.empty(width, dtype=bool)
        self._diverging = np.empty(width, dtype=bool)
        self._improving = np.empty(width, dtype=bool)
        self._threshold = np.empty(width)
        self._smoothing_part = np.empty(width)
        self._smoothed_buffer = np.empty(width)
        dim = self.objective.dim
        self._base_lr_rows = np.repeat(self._base_lrs[:, None], dim, axis=1)
        self._lr_buffer: np.ndarray | None = None

    def _rows_per_batch(self) -> int:
        per_run = 2 + (self.final_accuracy is not None) + self.objective.dim * self.record_weights
        return max(1, BATCH_BYTES // (8 * self.runs * per_run))


def _finite_or_none(value) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None

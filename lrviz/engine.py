"""The gradient-descent engine: R runs advance together and stream out in batches.

``Simulation`` holds the state of R runs (weights, optimizer state, divergence). Its
:meth:`Simulation.run` is a generator yielding :class:`Batch` objects every
``batch_iterations`` iterations or ``batch_seconds`` seconds, whichever comes first. Closing
the generator (or simply not asking for the next batch) pauses the simulation between batches;
calling :meth:`run` again resumes from where it stopped.

How it stays at the speed of the maths: every step works in place on preallocated arrays
(the objective's workspace, the optimizer's state and scratch, the divergence test's
buffers), so a step allocates nothing; the working arrays hold the live runs only. On the
iteration a run diverges it is frozen by a mask (``where=``) and dropped from the working
arrays, one copy then instead of a gather and a scatter every step, so each iteration
computes exactly the runs that were live when it started, whatever the batching. Each run's
final and best loss are kept as the batches stream, so a summary needs no history.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from lrviz.objectives import Objective
from lrviz.optimizers import make_optimizer
from lrviz.schedules import Schedule
from lrviz.sharpness import SharpnessTracker, objective_gradient

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
    sharpness : tuple (iterations (k,), values (k, R)) or None
        The top Hessian eigenvalue measured in this batch, when the simulation tracks it
        (``sharpness_every``), at the weights those iterations started from; NaN for runs
        not measured (diverged).
    lr_clips : ndarray (R, 2) of int or None
        For optimizers that adapt λ with a guard (hypergradient descent): how many steps
        each run's λ was raised to its floor and cut to its ceiling so far.
    """

    start: int
    loss: np.ndarray
    lr: np.ndarray
    accuracy: np.ndarray | None
    diverged_at: np.ndarray
    weights: np.ndarray | None
    done: bool
    sharpness: tuple[np.ndarray, np.ndarray] | None = None
    lr_clips: np.ndarray | None = None

    @property
    def stop(self) -> int:
        return self.start + self.loss.shape[0]


class Simulation:
    """R gradient-descent runs of one objective and optimizer, one learning rate each.

    Parameters
    ----------
    objective : Objective
    optimizer : str or sequence of str
        One of :data:`lrviz.optimizers.OPTIMIZERS`: ``"sgd"``, ``"momentum"``, ``"nesterov"``,
        ``"adam"``, or one that adapts its own λ (``"sgd-hd"``, ``"sgdn-hd"``, ``"adam-hd"``,
        ``"dog"``), whose λ actually used is what the batches record. One name per run
        gives each run its own (:class:`lrviz.optimizers.PerRunOptimizers`).
    lrs : array (R,)
        Base learning rate of each run.
    iterations : int
        How many iterations each run takes at most.
    seed : int
        Seeds the minibatch order, which every run shares.
    schedule : Schedule, optional
        Maps (iteration, base lrs) to the lrs used; constant by default. A schedule that
        cycles momentum (1cycle, the cyclical policies) also sets the momentum of
        ``"momentum"`` and ``"nesterov"`` and Adam's β1 before every step, as PyTorch's
        ``OneCycleLR`` and ``CyclicLR`` do (``cycles_momentum`` says whether it applied).
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
    sharpness_every : int or None
        Measure each live run's sharpness (top eigenvalue of the full-data loss Hessian,
        :class:`lrviz.sharpness.SharpnessTracker`) every this many iterations, starting at
        0; None: never. Each measurement costs a few to ``sharpness_max_iterations``
        Hessian-vector products (two gradient evaluations each).

    Attributes
    ----------
    final_loss, best_loss : ndarray (R,)
        Each run's loss at its last recorded iteration (where it diverged, for a diverged
        run) and its lowest finite loss so far; NaN before any data (``best_loss`` also when
        a run has no finite loss). Kept up to date at every batch.
    final_accuracy : ndarray (R,) or None
        Accuracy at the same iteration as ``final_loss``, for classifiers.
    final_lr : ndarray (R,)
        The λ in use at the same iteration as ``final_loss`` (the last finite one recorded);
        NaN before any.
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
        sharpness_every: int | None = None,
        sharpness_max_iterations: int = 30,
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
        self.final_lr = np.full(self.runs, np.nan)
        # An optimizer that picks its own λ (hypergradient descent, DoG) says which it used.
        self._adapts_lr = bool(getattr(self.optimizer, "adapts_lr", False))
        self.cycles_momentum = bool(getattr(self.schedule, "cycles_momentum", False)) and hasattr(
            self.optimizer, "set_momentum"
        )
        if self.cycles_momentum and getattr(self.schedule, "runs", 1) != 1:
            raise ValueError("a momentum cycle must be the same for every run (run_schedule)")
        self._momenta: np.ndarray | None = None  # this batch's momentum per row, when cycled
        self.sharpness_every = sharpness_every
        self._sharpness = None
        if sharpness_every is not None:
            self._sharpness = SharpnessTracker(
                self.runs, objective.dim, sharpness_every, max_iterations=sharpness_max_iterations
            )
            self._full_gradient = objective_gradient(objective)
        self._measured: list[tuple[int, np.ndarray, np.ndarray]] = []  # this batch's
        self._clips = (
            np.zeros((self.runs, 2), dtype=np.int64)
            if hasattr(self.optimizer, "low_clips")
            else None
        )
        self._lowest_loss = np.full(self.runs, np.inf)
        self._live_count = self.runs
        self._ema_count = 0
        rounding = float(getattr(objective, "loss_rounding", 0.0))
        self._loss_floor = np.array(rounding) if rounding > 0 else None
        self._batches = objective.batches(np.random.default_rng(seed))

        # Per-run state of every run ...
        self._all_weights = np.tile(objective.initial_point(), (self.runs, 1))
        self._all_best = np.full(self.runs, np.inf)
        self._all_ema = np.zeros(self.runs)
        # ... and the working arrays the steps update: the runs still live (all of them, and
        # the same arrays, until one diverges).
        self._index = np.arange(self.runs)
        self._w, self._best, self._ema = self._all_weights, self._all_best, self._all_ema
        self._base_lrs = self.lrs
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

    def stop_runs(self, runs) -> None:
        """End the runs ``runs`` (indices) here, between batches: like a diverged run they
        keep their final and best loss and take no more iterations (they leave the working
        arrays, so they cost nothing from now on), but they are not marked diverged: a
        search stops them because they were worse, not because they blew up. Their columns
        of later batches are NaN. Stopping every live run ends the simulation."""
        stop = np.zeros(self.runs, dtype=bool)
        stop[np.asarray(runs, dtype=np.int64)] = True
        keep = ~stop[self._index]
        count = keep.size - int(np.count_nonzero(keep))
        if count == 0:
            return
        self._live_count -= count
        self._drop_runs(keep)

    def run(self, batch_iterations: int = 50, batch_seconds: float = 0.03) -> Iterator[Batch]:
        """Advance until done, yielding a batch every ``batch_iterations`` or ``batch_seconds``."""
        if batch_iterations < 1:
            raise ValueError("batch_iterations must be at least 1")
        while not self.done:
            yield self._advance(batch_iterations, batch_seconds)

    def _advance(self, max_iterations: int, max_seconds: float) -> Batch:
        n_max = min(max_iterations, self.iterations - self.iteration, self._rows_per_batch())
        recorder = _BatchRecorder(
            n_max,
            self.runs,
            self.objective.dim,
            self.final_accuracy is not None,
            self.record_weights,
        )
        recorder.begin(0, self._index)
        start = self.iteration
        if self.cycles_momentum:
            # One vectorized call per batch instead of one per step.
            self._momenta = self.schedule.momentum(np.arange(start, start + n_max))[:, 0]
        deadline = time.perf_counter() + max_seconds
        n = 0
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            while n < n_max:
                self._step(n, recorder)
                n += 1
                if self._live_count == 0 or time.perf_counter() >= deadline:
                    break
        self._record_outcome(recorder.end(n))
        self._store_clips()
        return Batch(
            start=start,
            loss=recorder.loss[:n],
            lr=recorder.lr[:n],
            accuracy=None if recorder.accuracy is None else recorder.accuracy[:n],
            diverged_at=self.diverged_at.copy(),
            weights=None if recorder.weights is None else recorder.weights[:n],
            done=self.done,
            sharpness=self._take_sharpness(),
            lr_clips=None if self._clips is None else self._clips.copy(),
        )

    def _measure_sharpness(self, t: int) -> None:
        """Sharpness of the working runs at the weights iteration ``t`` starts from."""
        estimate = self._sharpness.measure(t, self._full_gradient, self._w, rows=self._index)
        self._measured.append((t, self._index, estimate.value))

    def _take_sharpness(self) -> tuple[np.ndarray, np.ndarray] | None:
        if self._sharpness is None:
            return None
        values = np.full((len(self._measured), self.runs), np.nan)
        for row, (_t, index, measured) in enumerate(self._measured):
            values[row, index] = measured
        iterations = np.array([t for t, _i, _v in self._measured], dtype=np.int64)
        self._measured = []
        return iterations, values

    def _store_clips(self) -> None:
        if self._clips is not None:
            self._clips[self._index, 0] = self.optimizer.low_clips
            self._clips[self._index, 1] = self.optimizer.high_clips

    def _step(self, row: int, recorder: _BatchRecorder) -> None:
        t = self.iteration
        batch = next(self._batches)
        w = self._w
        r = row - recorder.start
        if recorder.segment_weights is not None:
            recorder.segment_weights[r] = w
        if self._sharpness is not None and self._sharpness.due(t):
            self._measure_sharpness(t)
        evaluation = self.objective.evaluate_into(w, batch, self._workspace)
        current = evaluation.loss
        lrs = self.schedule(t, self._base_lrs)
        if self._momenta is not None:
            self.optimizer.set_momentum(self._momenta[row])
        recorder.segment_loss[r] = current
        recorder.segment_lr[r] = lrs
        if recorder.segment_accuracy is not None:
            accuracy = evaluation.accuracy
            recorder.segment_accuracy[r] = np.nan if accuracy is None else accuracy
        self.iteration = t + 1
        count = self._count_diverging(current)
        if count == 0:
            self.optimizer.update(w, evaluation.grad, self._lr_rows(lrs), None)
            if self._adapts_lr:
                recorder.segment_lr[r] = self.optimizer.lr_in_use
            return
        # A diverged run is frozen where it stands (no step, no change of optimizer state)
        # and leaves the working arrays before the next iteration.
        healthy = self._healthy_now.copy()
        self.diverged_at[self._index[~healthy]] = t
        self._live_count -= count
        if count < healthy.size:
            self.optimizer.update(w, evaluation.grad, self._lr_rows(lrs), healthy)
        if self._adapts_lr:
            # A frozen run did not step: its λ stays the one it last used.
            recorder.segment_lr[r] = self.optimizer.lr_in_use
        self._record_outcome(recorder.end(row + 1))
        self._store_clips()
        self._drop_runs(healthy)
        recorder.begin(row + 1, self._index)

    def _count_diverging(self, current: np.ndarray) -> int:
        """How many working runs diverge at this iteration; updates each run's best.

        A run is healthy while its loss is finite and its watched (raw or smoothed) loss is
        not above ``divergence_factor`` times its best. The common case, nothing diverging,
        takes no masked (``where=``) operation, the slow kind.
        """
        finite = np.isfinite(current, out=self._finite)
        healthy = finite
        if self.divergence_factor is not None:
            watched = current
            if self.divergence_smoothing > 0.0:
                watched = self._smoothed(current, finite)
            threshold = np.multiply(self._best, self._factor, out=self._threshold)
            if self._loss_floor is not None:
                # A run resting at loss 0 whose loss rounds to 1e-16 next has not diverged:
                # below the loss's rounding error, nothing counts as a rise.
                np.maximum(threshold, self._loss_floor, out=threshold)
            healthy = np.less_equal(watched, threshold, out=self._healthy)
            np.logical_and(healthy, finite, out=healthy)
        self._healthy_now = healthy
        count = healthy.size - int(np.count_nonzero(healthy))
        if self.divergence_factor is not None:
            if count == 0:
                np.minimum(self._best, watched, out=self._best)  # every loss was finite
            else:
                np.minimum(self._best, watched, out=self._best, where=finite)
        return count

    def _smoothed(self, current: np.ndarray, finite: np.ndarray) -> np.ndarray:
        """Debiased EMA of the loss, non-finite values counted as 0. The debiasing count is
        shared because all live runs have seen the same number of iterations."""
        part = np.multiply(current, self._one_minus_beta, out=self._smoothing_part)
        if np.count_nonzero(finite) < finite.size:
            part[~finite] = 0.0
        decayed = np.multiply(self._ema, self._beta, out=self._smoothed_buffer)
        np.add(decayed, part, out=self._ema)
        self._ema_count += 1
        # A Python float, as always: numpy's vectorized power may round the last bit apart.
        debias = 1.0 - self.divergence_smoothing**self._ema_count
        return np.divide(self._ema, debias, out=self._smoothed_buffer)

    def _record_outcome(self, segment: _Segment) -> None:
        """Each run's final and best loss (and final accuracy and λ) from what was recorded."""
        index, loss, accuracy, lr = segment
        if loss.shape[0] == 0:
            return
        self.final_loss[index] = loss[-1]
        last_lr = lr[-1]
        known = ~np.isnan(last_lr)  # NaN: an adaptive run that has not stepped yet
        self.final_lr[index[known]] = last_lr[known]
        if accuracy is not None:
            self.final_accuracy[index] = accuracy[-1]
        lowest = np.min(loss, axis=0, where=np.isfinite(loss), initial=np.inf)
        self._lowest_loss[index] = np.minimum(self._lowest_loss[index], lowest)

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

    # --- working arrays ----------------------------------------------------------------

    def _drop_runs(self, keep: np.ndarray) -> None:
        """Shrink the working arrays to the rows ``keep`` (the runs still live)."""
        self._store_working_state()
        self._index = self._index[keep]
        self._w, self._best, self._ema = self._w[keep], self._best[keep], self._ema[keep]
        self._base_lrs = self.lrs[self._index]
        self.optimizer.keep(keep)
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
        self._threshold = np.empty(width)
        self._smoothing_part = np.empty(width)
        self._smoothed_buffer = np.empty(width)
        dim = self.objective.dim
        self._base_lr_rows = np.repeat(self._base_lrs[:, None], dim, axis=1)
        self._lr_buffer: np.ndarray | None = None

    def _rows_per_batch(self) -> int:
        per_run = 2 + (self.final_accuracy is not None) + self.objective.dim * self.record_weights
        return max(1, BATCH_BYTES // (8 * self.runs * per_run))


class _Segment(NamedTuple):
    """What a stretch of a batch recorded for the working runs ``index``: (rows, width)."""

    index: np.ndarray
    loss: np.ndarray
    accuracy: np.ndarray | None
    lr: np.ndarray


class _BatchRecorder:
    """One batch's arrays, (rows, R[, dim]), filled a row per iteration.

    While the working arrays hold every run, the steps write these rows themselves. Once runs
    have been dropped, the steps write a (rows, width) segment, spread into its runs' columns
    (NaN in the others) when the working set changes again or the batch ends: one vectorized
    ``take`` per segment instead of a scatter every step.
    """

    def __init__(self, rows: int, runs: int, dim: int, accuracy: bool, weights: bool) -> None:
        self.rows, self.runs = rows, runs
        self.loss = np.empty((rows, runs))
        self.lr = np.empty((rows, runs))
        self.accuracy = np.empty((rows, runs)) if accuracy else None
        self.weights = np.empty((rows, runs, dim)) if weights else None

    def _arrays(self) -> list[np.ndarray | None]:
        return [self.loss, self.lr, self.accuracy, self.weights]

    def begin(self, start: int, index: np.ndarray) -> None:
        """Rows from ``start`` on are iterations of the working runs ``index``."""
        self.start, self.index = start, index
        self.direct = index.size == self.runs  # every run, in order
        width = index.size
        if not self.direct:
            # Each run's column in the segment; the runs no longer worked on read an extra
            # column of NaN.
            self._columns = np.full(self.runs, width)
            self._columns[index] = np.arange(width)
        self._padded, segments = [], []
        for array in self._arrays():
            if array is None:
                padded, segment = None, None
            elif self.direct:
                padded, segment = None, array[start:]
            else:
                padded = np.empty((self.rows - start, width + 1, *array.shape[2:]))
                padded[:, width] = np.nan
                segment = padded[:, :width]
            self._padded.append(padded)
            segments.append(segment)
        self.segment_loss, self.segment_lr, self.segment_accuracy, self.segment_weights = segments

    def end(self, stop: int) -> _Segment:
        """Close the segment at row ``stop`` (exclusive) and return what it recorded."""
        count = stop - self.start
        if not self.direct:
            for array, padded in zip(self._arrays(), self._padded, strict=True):
                if array is not None:
                    np.take(
                        padded[:count],
                        self._columns,
                        axis=1,
                        out=array[self.start : stop],
                        mode="clip",
                    )
        accuracy = self.segment_accuracy
        return _Segment(
            self.index,
            self.segment_loss[:count],
            None if accuracy is None else accuracy[:count],
            self.segment_lr[:count],
        )


def _finite_or_none(value) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None

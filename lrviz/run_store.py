"""Preallocated buffers that collect a simulation's batches, and the per-run summary.

The app appends every batch the worker streams and redraws from these arrays; the command
line appends the same batches and prints :meth:`RunStore.summaries`.
"""

from __future__ import annotations

import math

import numpy as np

from lrviz.engine import Batch
from lrviz.envelope import Envelope
from lrviz.lr_format import format_lr
from lrviz.trajectories import Trajectories

#: Full-resolution history is kept up to this many bytes; a longer run keeps every k-th
#: iteration (the summaries stay exact: they are kept while streaming).
MEMORY_BUDGET = 256 * 2**20


class RunStore:
    """Loss, lr and accuracy of R runs over up to ``iterations`` iterations.

    Attributes
    ----------
    loss, lr : ndarray (rows, R)
        The history so far (:attr:`rows`: it grows with every batch): row ``k`` holds
        iteration ``k * stride``; NaN where nothing was recorded (after divergence).
        ``stride`` is 1 (every iteration) unless the run would not fit in ``budget`` bytes:
        256 runs x 50,000 iterations stay whole, 4096 runs x 10,000,000 iterations do not
        (305 GiB).
    accuracy : ndarray (rows, R) or None
    count : int
        Number of iterations recorded so far.
    diverged_at : ndarray (R,) of int
        -1 for runs that have not diverged.
    version : int
        Increases with every append: views redraw when it differs from what they drew.
    names : list of str
        A short name per run for legends ("λ = 0.02", or "sgd-hd, λ₀ = 1e-3" when the runs
        have optimizers of their own).
    optimizers : list of str or None
        Each run's optimizer, when the runs have their own (None: one for all).
    sharpness_every : int or None
        How often the simulation measures each run's sharpness (None: it does not).
    sharpness : ndarray (measurements, R) or None
        Row ``k``: the sharpness at iteration ``k * sharpness_every``; NaN where not
        measured (yet, or after a divergence).
    sharpness_count : int
        Rows of ``sharpness`` filled so far.
    lr_clips : ndarray (R, 2) of int or None
        For optimizers that adapt λ with a guard: steps each run's λ was raised to its
        floor and cut to its ceiling so far.
    """

    def __init__(
        self,
        lrs,
        iterations: int,
        has_accuracy: bool = False,
        budget: int = MEMORY_BUDGET,
        envelopes: bool = False,
        names: list[str] | None = None,
        sharpness_every: int | None = None,
        trajectories: bool = False,
        optimizers: list[str] | None = None,
    ) -> None:
        """``envelopes``: also keep loss and lr at screen resolution
        (:class:`lrviz.envelope.Envelope`, for the app's panels; the command line needs
        only the summaries). ``trajectories``: also keep each run's (x, y) from the batches'
        weights (:class:`lrviz.trajectories.Trajectories`, for 2-D problems)."""
        self.lrs = np.asarray(lrs, dtype=np.float64)
        runs = self.lrs.size
        self.iterations = int(iterations)
        arrays = 3 if has_accuracy else 2
        full = self.iterations * max(runs, 1) * 8 * arrays
        self.stride = max(1, math.ceil(full / budget))
        rows = math.ceil(self.iterations / self.stride)
        # Reserved, not written: NaN-filling the whole history up front touched every page
        # of it at once (0.9 s on the GUI thread for 256 runs x 100,000 iterations, when a
        # run started); each batch's rows are filled as it arrives (see _grow).
        self._loss = np.empty((rows, runs))
        self._lr = np.empty((rows, runs))
        self._accuracy = np.empty((rows, runs)) if has_accuracy else None
        self._filled = 0  # rows of the history written (or NaN-filled) so far
        self.count = 0
        self.diverged_at = np.full(runs, -1, dtype=np.int64)
        self.version = 0
        self.done = False
        # Kept while streaming, so they are exact whatever the stride.
        self._best = np.full(runs, np.inf)
        self._final = np.full(runs, np.nan)
        self._final_accuracy = np.full(runs, np.nan) if has_accuracy else None
        self.loss_envelope = Envelope(runs) if envelopes else None
        self.lr_envelope = Envelope(runs) if envelopes else None
        if names is not None and len(names) != runs:
            raise ValueError(f"{len(names)} names for {runs} runs")
        self.names = list(names) if names is not None else [f"λ = {format_lr(v)}" for v in self.lrs]
        self.optimizers = list(optimizers) if optimizers is not None else None
        self.sharpness_every = sharpness_every
        self.sharpness = None
        if sharpness_every is not None:
            self.sharpness = np.full((-(-self.iterations // sharpness_every), runs), np.nan)
        self.sharpness_count = 0
        self.lr_clips: np.ndarray | None = None
        self.trajectories = Trajectories(runs, self.iterations) if trajectories else None

    @property
    def runs(self) -> int:
        return self.lrs.size

    @property
    def loss(self) -> np.ndarray:
        return self._loss[: self._filled]

    @property
    def lr(self) -> np.ndarray:
        return self._lr[: self._filled]

    @property
    def accuracy(self) -> np.ndarray | None:
        return None if self._accuracy is None else self._accuracy[: self._filled]

    @property
    def history_bytes(self) -> int:
        """Bytes reserved for the history (all of it, written or not)."""
        arrays = (self._loss, self._lr, self._accuracy)
        return sum(a.nbytes for a in arrays if a is not None)

    def _grow(self, rows: int, written: int | None = None, accuracy: bool = False) -> None:
        """History rows up to ``rows`` exist (NaN until a batch writes them). A batch about
        to write rows ``[written, rows)`` of loss and lr (and of accuracy with ``accuracy``)
        leaves only the rows before them to fill: NaN-filling the rows it then overwrote
        was a third of a batch's handling on the GUI thread at 1000 runs."""
        if rows <= self._filled:
            return
        gap = rows if written is None else max(min(written, rows), self._filled)
        for history in (self._loss, self._lr, self._accuracy):
            if history is not None:
                end = rows if history is self._accuracy and not accuracy else gap
                history[self._filled : end] = np.nan
        self._filled = rows

    @property
    def capacity(self) -> int:
        """Iterations the run will have when it ends."""
        return self.iterations

    @property
    def rows(self) -> int:
        """History rows filled so far."""
        return math.ceil(self.count / self.stride)

    def history_x(self) -> np.ndarray:
        """The iteration of each filled history row."""
        return np.arange(self.rows, dtype=np.float64) * self.stride

    def append(self, batch: Batch) -> None:
        """Copy a batch into the history (every ``stride``-th iteration) and the summaries."""
        start, stop = batch.start, batch.stop
        first = -(-start // self.stride) * self.stride  # first kept iteration in the batch
        if first < stop:
            keep = slice(first - start, stop - start, self.stride)
            rows = slice(
                first // self.stride, first // self.stride + len(range(first, stop, self.stride))
            )
            accuracy = self._accuracy is not None and batch.accuracy is not None
            self._grow(rows.stop, rows.start, accuracy)
            self._loss[rows] = batch.loss[keep]
            self._lr[rows] = batch.lr[keep]
            if accuracy:
                self._accuracy[rows] = batch.accuracy[keep]
        self._summarise(batch)
        if self.loss_envelope is not None and stop > self.count:
            fresh = slice(max(self.count - start, 0), None)  # a batch seen twice adds nothing
            self.loss_envelope.add(batch.loss[fresh])
            self.lr_envelope.add(batch.lr[fresh])
        if self.trajectories is not None and batch.weights is not None:
            self.trajectories.add(start, batch.weights)
        self.count = max(self.count, stop)
        if self.sharpness is not None and batch.sharpness is not None:
            iterations, values = batch.sharpness
            rows = iterations // self.sharpness_every
            self.sharpness[rows] = values
            if rows.size:
                self.sharpness_count = max(self.sharpness_count, int(rows[-1]) + 1)
        if batch.lr_clips is not None:
            self.lr_clips = batch.lr_clips.copy()
        self.diverged_at = batch.diverged_at.copy()
        self.done = batch.done
        self.version += 1

    def sharpness_x(self) -> np.ndarray:
        """The iteration of each filled sharpness row."""
        return np.arange(self.sharpness_count, dtype=np.float64) * (self.sharpness_every or 1)

    def clipped_names(self) -> list[str]:
        """The names of the runs whose λ a guard clipped at least once."""
        if self.lr_clips is None:
            return []
        return [n for n, c in zip(self.names, self.lr_clips, strict=True) if c.any()]

    def clipped_runs(self) -> list[str]:
        """One line per run whose λ a guard clipped, e.g. "sgd-hd, λ₀ = 1e-3: λ raised to
        its floor 12 times"; empty when none was (or the optimizer has no guard)."""
        if self.lr_clips is None:
            return []
        out = []
        for name, (low, high) in zip(self.names, self.lr_clips, strict=True):
            parts = []
            if low:
                parts.append(f"raised to its floor {low:,} time{'' if low == 1 else 's'}")
            if high:
                parts.append(f"cut to its ceiling {high:,} time{'' if high == 1 else 's'}")
            if parts:
                out.append(f"{name}: λ {' and '.join(parts)}")
        return out

    def _summarise(self, batch: Batch) -> None:
        loss = batch.loss
        with np.errstate(invalid="ignore"):
            seen = np.where(np.isfinite(loss), loss, np.inf).min(axis=0, initial=np.inf)
        np.minimum(self._best, seen, out=self._best)
        n = loss.shape[0]
        at = batch.diverged_at
        # The final value: at the divergence if it happened in this batch, else the batch's
        # last row for runs still going.
        row = np.where((at >= batch.start) & (at < batch.stop), at - batch.start, n - 1)
        running = (at < 0) | ((at >= batch.start) & (at < batch.stop))
        columns = np.arange(self.runs)
        self._final = np.where(running, loss[row, columns], self._final)
        if self._final_accuracy is not None and batch.accuracy is not None:
            self._final_accuracy = np.where(
                running, batch.accuracy[row, columns], self._final_accuracy
            )

    def final_loss(self) -> np.ndarray:
        """Loss at each run's last iteration: where it diverged, or the last one recorded."""
        if self.count == 0:
            return np.full(self.runs, np.nan)
        return self._final.copy()

    def best_loss(self) -> np.ndarray:
        """Lowest finite loss of each run (NaN when it has none)."""
        return np.where(np.isfinite(self._best), self._best, np.nan)

    def final_accuracy(self) -> np.ndarray | None:
        if self._final_accuracy is None or self.count == 0:
            return None
        return self._final_accuracy.copy()

    def summaries(self) -> list[dict]:
        """One dict per run: lr, final_loss, best_loss, diverged, diverged_at (JSON-ready:
        non-finite numbers become None)."""
        final, best = self.final_loss(), self.best_loss()
        accuracy = self.final_accuracy()
        out = []
        for i in range(self.runs):
            diverged = bool(self.diverged_at[i] >= 0)
            row = {
                "lr": float(self.lrs[i]),
                "final_loss": finite_or_none(final[i]),
                "best_loss": finite_or_none(best[i]),
                "diverged": diverged,
                "diverged_at": int(self.diverged_at[i]) if diverged else None,
            }
            if accuracy is not None:
                row["final_accuracy"] = finite_or_none(accuracy[i])
            out.append(row)
        return out


def finite_or_none(value) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None

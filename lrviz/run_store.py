"""Preallocated buffers that collect a simulation's batches, and the per-run summary.

The app appends every batch the worker streams and redraws from these arrays; the command
line appends the same batches and prints :meth:`RunStore.summaries`.
"""

from __future__ import annotations

import math

import numpy as np

from lrviz.engine import Batch


class RunStore:
    """Loss, lr and accuracy of R runs over up to ``iterations`` iterations.

    Attributes
    ----------
    loss, lr : ndarray (iterations, R)
        NaN where nothing was recorded (not yet run, or after divergence).
    accuracy : ndarray (iterations, R) or None
    count : int
        Number of iterations recorded so far.
    diverged_at : ndarray (R,) of int
        -1 for runs that have not diverged.
    version : int
        Increases with every append: views redraw when it differs from what they drew.
    """

    def __init__(self, lrs, iterations: int, has_accuracy: bool = False) -> None:
        self.lrs = np.asarray(lrs, dtype=np.float64)
        runs = self.lrs.size
        self.loss = np.full((iterations, runs), np.nan)
        self.lr = np.full((iterations, runs), np.nan)
        self.accuracy = np.full((iterations, runs), np.nan) if has_accuracy else None
        self.count = 0
        self.diverged_at = np.full(runs, -1, dtype=np.int64)
        self.version = 0
        self.done = False

    @property
    def runs(self) -> int:
        return self.lrs.size

    @property
    def capacity(self) -> int:
        return self.loss.shape[0]

    def append(self, batch: Batch) -> None:
        """Copy a batch into the buffers."""
        rows = slice(batch.start, batch.stop)
        self.loss[rows] = batch.loss
        self.lr[rows] = batch.lr
        if self.accuracy is not None and batch.accuracy is not None:
            self.accuracy[rows] = batch.accuracy
        self.count = max(self.count, batch.stop)
        self.diverged_at = batch.diverged_at.copy()
        self.done = batch.done
        self.version += 1

    def final_loss(self) -> np.ndarray:
        """Loss at each run's last iteration: where it diverged, or the last one recorded."""
        if self.count == 0:
            return np.full(self.runs, np.nan)
        last = np.where(self.diverged_at >= 0, self.diverged_at, self.count - 1)
        return self.loss[last, np.arange(self.runs)]

    def best_loss(self) -> np.ndarray:
        """Lowest finite loss of each run (NaN when it has none)."""
        seen = self.loss[: self.count]
        best = np.where(np.isfinite(seen), seen, np.inf).min(axis=0, initial=np.inf)
        return np.where(np.isfinite(best), best, np.nan)

    def final_accuracy(self) -> np.ndarray | None:
        if self.accuracy is None or self.count == 0:
            return None
        last = np.where(self.diverged_at >= 0, self.diverged_at, self.count - 1)
        return self.accuracy[last, np.arange(self.runs)]

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

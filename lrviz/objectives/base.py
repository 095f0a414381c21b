"""The objective interface: losses and analytic gradients for R parameter vectors at once."""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Evaluation:
    """Loss (and gradient) of R runs at one iteration.

    Attributes
    ----------
    loss : ndarray (R,)
    grad : ndarray (R, dim)
    accuracy : ndarray (R,) or None
        Fraction of correctly classified samples in the batch, for classifiers.
    """

    loss: np.ndarray
    grad: np.ndarray
    accuracy: np.ndarray | None = None


class Objective:
    """A differentiable function of a parameter vector, evaluated for many runs at once.

    Subclasses set ``name``, ``dim`` and ``has_accuracy`` and implement
    :meth:`initial_point` and :meth:`evaluate`. Stochastic objectives also implement
    :meth:`batches`, which yields the minibatch index sequence every run shares.
    """

    name: str = "objective"
    dim: int = 0
    has_accuracy: bool = False
    stochastic: bool = False
    #: Absolute rounding error of the loss near its minimum (0: the loss is computed to full
    #: relative precision there). A loss like ``x**2 - y**2 + 1`` cancels terms of size 1, so
    #: at its minimum 0 it reads 1e-16 one step and 0 the next; the engine does not call a
    #: rise below this a divergence.
    loss_rounding: float = 0.0

    def initial_point(self) -> np.ndarray:
        """The starting parameters, shape (dim,), the same for every run."""
        raise NotImplementedError

    def evaluate(self, weights: np.ndarray, batch: np.ndarray | None = None) -> Evaluation:
        """Loss and gradient at ``weights`` of shape (R, dim), on ``batch`` (sample indices)."""
        raise NotImplementedError

    def workspace(self, runs: int) -> object | None:
        """Buffers :meth:`evaluate_into` may reuse for ``runs`` rows (None: it allocates).

        The engine evaluates R runs thousands of times a second; writing into the same
        arrays every step avoids megabytes of fresh memory (and its page faults) per step."""
        return None

    def evaluate_into(
        self, weights: np.ndarray, batch: np.ndarray | None, workspace: object | None
    ) -> Evaluation:
        """:meth:`evaluate`, into ``workspace`` (from :meth:`workspace` with as many rows as
        ``weights``) when the objective has one. The arrays returned may be the workspace's:
        they hold until the next call with the same workspace. Objectives without a workspace
        need not override this."""
        return self.evaluate(weights, batch)

    def loss_only(self, weights: np.ndarray) -> np.ndarray:
        """Full-data loss at ``weights`` (R, dim) -> (R,). Used for surfaces and final reports."""
        return self.evaluate(weights).loss

    def batches(self, rng: np.random.Generator):
        """Infinite iterator of minibatch index arrays; None means full batch every step."""
        while True:
            yield None


class DatasetObjective(Objective):
    """An objective over a dataset: inputs ``x`` and labels ``y`` of ``samples`` rows,
    trained full batch (``batch_size`` None) or on shuffled minibatches."""

    x: np.ndarray
    y: np.ndarray
    samples: int
    batch_size: int | None = None

    def batches(self, rng: np.random.Generator):
        return shuffled_minibatches(rng, self.samples, self.batch_size)

    def on_samples(self, indices) -> DatasetObjective:
        """The same model (start point, architecture) on the rows ``indices`` of the data
        only: a search screens candidates on a random part of the data first. A minibatch
        at least as large as the part becomes full batch."""
        rows = np.asarray(indices, dtype=np.int64).ravel()
        if rows.size == 0:
            raise ValueError("a part of the data needs at least one sample")
        part = copy.copy(self)
        part.x, part.y = self.x[rows], self.y[rows]
        part.samples = int(rows.size)
        if part.batch_size is not None and part.batch_size >= part.samples:
            part.batch_size = None
        part.stochastic = part.batch_size is not None
        return part


def shuffled_minibatches(rng: np.random.Generator, samples: int, batch_size: int | None):
    """Infinite iterator of minibatch index arrays: a fresh permutation every epoch, the
    incomplete last batch dropped (as ``DataLoader(drop_last=True)``). None: full batch."""
    if batch_size is None:
        while True:
            yield None
    per_epoch = samples // batch_size
    while True:
        order = rng.permutation(samples)
        for i in range(per_epoch):
            yield order[i * batch_size : (i + 1) * batch_size]

"""Logistic regression on a seeded synthetic dataset, full batch or minibatch."""

from __future__ import annotations

import numpy as np

from lrviz.objectives.base import DatasetObjective, Evaluation


def make_classification(samples: int, features: int, seed: int, noise: float = 0.1):
    """Two overlapping Gaussian classes in ``features`` dimensions.

    Returns (X, y): X of shape (samples, features + 1) with a trailing bias column of ones,
    y of shape (samples,) in {0, 1}. ``noise`` is the fraction of flipped labels.
    """
    rng = np.random.default_rng(seed)
    scales = np.geomspace(1.0, 10.0, features)  # uneven feature scales make lr choice matter
    true_w = rng.standard_normal(features)
    x = rng.standard_normal((samples, features)) * scales
    logits = (x / scales) @ true_w
    y = (logits > 0).astype(np.float64)
    flip = rng.random(samples) < noise
    y[flip] = 1.0 - y[flip]
    x = np.hstack([x, np.ones((samples, 1))])
    return x, y


class LogisticRegression(DatasetObjective):
    """Mean binary cross-entropy of a linear classifier; reports accuracy.

    Parameters
    ----------
    samples, features : int
        Dataset size.
    batch_size : int or None
        Minibatch size; None (or >= samples) means full batch.
    seed : int
        Seeds the dataset; the minibatch order is seeded by the engine.
    """

    name = "logreg"
    has_accuracy = True

    def __init__(
        self,
        samples: int = 1000,
        features: int = 10,
        batch_size: int | None = None,
        seed: int = 0,
        noise: float = 0.1,
    ):
        self.x, self.y = make_classification(samples, features, seed, noise)
        self.samples = samples
        self.dim = features + 1
        if batch_size is not None and batch_size < 1:
            raise ValueError(f"--batch-size must be at least 1, got {batch_size}")
        self.batch_size = None if batch_size is None or batch_size >= samples else int(batch_size)
        self.stochastic = self.batch_size is not None

    def initial_point(self) -> np.ndarray:
        return np.zeros(self.dim)

    def evaluate(self, weights: np.ndarray, batch: np.ndarray | None = None) -> Evaluation:
        x = self.x if batch is None else self.x[batch]
        y = self.y if batch is None else self.y[batch]
        logits = weights @ x.T  # (R, B)
        # BCE with logits, stable: log(1 + e^z) - y z
        loss = np.mean(np.logaddexp(0.0, logits) - y * logits, axis=1)
        prob = 0.5 * (1.0 + np.tanh(0.5 * logits))  # sigmoid without overflow
        grad = (prob - y) @ x / x.shape[0]
        accuracy = np.mean((logits > 0) == (y > 0.5), axis=1)
        return Evaluation(loss=loss, grad=grad, accuracy=accuracy)

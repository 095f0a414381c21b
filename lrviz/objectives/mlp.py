"""A one-hidden-layer tanh network with a softmax output on a seeded synthetic dataset.

The smallest model on which learning-rate choice behaves like it does on real networks:
non-convex, minibatch noise, a loss that plateaus at small lr and blows up at large lr. The
parameters of R runs are one (R, P) array; each row is the flattened
``(W1 (features, hidden), b1 (hidden,), W2 (hidden, classes), b2 (classes,))``.
"""

from __future__ import annotations

import numpy as np

from lrviz.objectives.base import DatasetObjective, Evaluation


def make_teacher_dataset(samples: int, features: int, classes: int, seed: int, noise: float):
    """Inputs ~ N(0, I) labelled by a random tanh "teacher" network, with label noise.

    Returns (X, y): X of shape (samples, features), y of shape (samples,) of int in
    ``[0, classes)``. ``noise`` is the fraction of labels replaced by a random class.
    """
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((samples, features))
    teacher_hidden = 2 * features + 4
    w1 = rng.standard_normal((features, teacher_hidden)) * (2.0 / np.sqrt(features))
    b1 = rng.standard_normal(teacher_hidden)
    w2 = rng.standard_normal((teacher_hidden, classes))
    scores = np.tanh(x @ w1 + b1) @ w2
    # Centre each class score so the classes come out roughly balanced.
    y = np.argmax(scores - np.median(scores, axis=0), axis=1)
    flip = rng.random(samples) < noise
    y[flip] = rng.integers(0, classes, int(flip.sum()))
    return x, y.astype(np.int64)


class MLP(DatasetObjective):
    """Mean softmax cross-entropy of a ``features -> hidden (tanh) -> classes`` network.

    Parameters
    ----------
    samples, features : int
        Dataset size.
    hidden : int
        Width of the hidden layer.
    classes : int
        Number of classes (>= 2).
    batch_size : int or None
        Minibatch size; None (or >= samples) means full batch.
    seed : int
        Seeds the dataset and the initial weights; the minibatch order is seeded by the
        engine.
    noise : float
        Fraction of labels replaced by a random class.
    """

    name = "mlp"
    has_accuracy = True

    def __init__(
        self,
        samples: int = 1000,
        features: int = 10,
        hidden: int = 32,
        classes: int = 3,
        batch_size: int | None = None,
        seed: int = 0,
        noise: float = 0.05,
    ):
        if samples < 1 or features < 1 or hidden < 1:
            raise ValueError("mlp: samples, features and hidden must be at least 1")
        if classes < 2:
            raise ValueError(f"mlp: need at least 2 classes, got {classes}")
        if batch_size is not None and batch_size < 1:
            raise ValueError(f"--batch-size must be at least 1, got {batch_size}")
        self.x, self.y = make_teacher_dataset(samples, features, classes, seed, noise)
        self.samples, self.features, self.hidden, self.classes = samples, features, hidden, classes
        self._shapes = ((features, hidden), (hidden,), (hidden, classes), (classes,))
        self._sizes = [int(np.prod(s)) for s in self._shapes]
        self._offsets = np.cumsum([0, *self._sizes])
        self.dim = int(self._offsets[-1])
        self.batch_size = None if batch_size is None or batch_size >= samples else int(batch_size)
        self.stochastic = self.batch_size is not None
        rng = np.random.default_rng([seed, 1])
        self._start = np.concatenate(
            [
                (rng.standard_normal((features, hidden)) / np.sqrt(features)).ravel(),
                np.zeros(hidden),
                (rng.standard_normal((hidden, classes)) / np.sqrt(hidden)).ravel(),
                np.zeros(classes),
            ]
        )

    def initial_point(self) -> np.ndarray:
        return self._start.copy()

    def unpack(self, weights: np.ndarray) -> list[np.ndarray]:
        """Views ``[W1 (R, F, H), b1 (R, H), W2 (R, H, C), b2 (R, C)]`` of (R, P) weights."""
        runs = weights.shape[0]
        return [
            weights[:, self._offsets[i] : self._offsets[i + 1]].reshape(runs, *shape)
            for i, shape in enumerate(self._shapes)
        ]

    def evaluate(self, weights: np.ndarray, batch: np.ndarray | None = None) -> Evaluation:
        x = self.x if batch is None else self.x[batch]  # (B, F)
        y = self.y if batch is None else self.y[batch]  # (B,)
        count = x.shape[0]
        w1, b1, w2, b2 = self.unpack(weights)
        hidden = np.tanh(np.matmul(x, w1) + b1[:, None, :])  # (R, B, H)
        logits = np.matmul(hidden, w2) + b2[:, None, :]  # (R, B, C)
        top = logits.max(axis=2, keepdims=True)
        log_prob = logits - top - np.log(np.exp(logits - top).sum(axis=2, keepdims=True))
        rows = np.arange(count)
        loss = -log_prob[:, rows, y].mean(axis=1)
        # Backpropagation of the mean cross-entropy.
        d_logits = np.exp(log_prob)
        d_logits[:, rows, y] -= 1.0
        d_logits /= count
        g_w2 = np.matmul(hidden.transpose(0, 2, 1), d_logits)
        g_b2 = d_logits.sum(axis=1)
        d_pre = np.matmul(d_logits, w2.transpose(0, 2, 1)) * (1.0 - hidden * hidden)
        g_w1 = np.matmul(x.T, d_pre)
        g_b1 = d_pre.sum(axis=1)
        runs = weights.shape[0]
        grad = np.concatenate(
            [g.reshape(runs, -1) for g in (g_w1, g_b1, g_w2, g_b2)],
            axis=1,
        )
        accuracy = (np.argmax(logits, axis=2) == y).mean(axis=1)
        return Evaluation(loss=loss, grad=grad, accuracy=accuracy)

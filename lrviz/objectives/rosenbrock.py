"""The 2-D Rosenbrock valley: a curved, badly conditioned ravine."""

from __future__ import annotations

import numpy as np

from lrviz.objectives.base import Evaluation, Objective


class Rosenbrock(Objective):
    """``f(x, y) = (a - x)^2 + b (y - x^2)^2``, minimum 0 at (a, a^2), started at (-1.2, 1)."""

    name = "rosenbrock"
    dim = 2

    def __init__(self, a: float = 1.0, b: float = 100.0, start=(-1.2, 1.0)):
        self.a = float(a)
        self.b = float(b)
        self._start = np.asarray(start, dtype=np.float64)

    def initial_point(self) -> np.ndarray:
        return self._start.copy()

    def evaluate(self, weights: np.ndarray, batch: np.ndarray | None = None) -> Evaluation:
        x = weights[:, 0]
        y = weights[:, 1]
        dx = self.a - x
        ravine = y - x * x
        loss = dx * dx + self.b * ravine * ravine
        grad = np.empty_like(weights)
        grad[:, 0] = -2.0 * dx - 4.0 * self.b * x * ravine
        grad[:, 1] = 2.0 * self.b * ravine
        return Evaluation(loss=loss, grad=grad)

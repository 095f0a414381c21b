"""The 2-D Rosenbrock valley: a curved, badly conditioned ravine."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lrviz.objectives.base import Evaluation, Objective


class Rosenbrock(Objective):
    """``f(x, y) = (a - x)^2 + b (y - x^2)^2``, minimum 0 at (a, a^2), started at (-1.2, 1)."""

    name = "rosenbrock"
    dim = 2
    #: The region a contour plot shows, and the minimum (of the default a, b).
    domain = ((-2.0, 2.0), (-1.0, 3.0))

    def __init__(self, a: float = 1.0, b: float = 100.0, start=(-1.2, 1.0)):
        self.a = float(a)
        self.b = float(b)
        self._start = np.asarray(start, dtype=np.float64)
        self.minima = ((self.a, self.a * self.a),)

    def initial_point(self) -> np.ndarray:
        return self._start.copy()

    def evaluate(self, weights: np.ndarray, batch: np.ndarray | None = None) -> Evaluation:
        return self.evaluate_into(weights, batch, self.workspace(weights.shape[0]))

    def workspace(self, runs: int) -> _Workspace:
        # The constants as 0-d arrays: a ufunc takes them ~200 ns faster than Python floats,
        # with the same arithmetic.
        constants = {"a": self.a, "b": self.b, "4b": 4.0 * self.b, "-2": -2.0, "2b": 2.0 * self.b}
        evaluation = Evaluation(loss=np.empty(runs), grad=np.empty((runs, 2)))
        return _Workspace(
            evaluation,
            evaluation.grad[:, 0],
            evaluation.grad[:, 1],
            *(np.empty(runs) for _ in range(3)),
            {name: np.array(value) for name, value in constants.items()},
        )

    def evaluate_into(
        self, weights: np.ndarray, batch: np.ndarray | None, workspace: _Workspace
    ) -> Evaluation:
        # In place, with the operations in the order of the formulas:
        # loss = dx * dx + b * ravine * ravine, grad = (-2 dx - 4 b x ravine, 2 b ravine).
        c = workspace.constants
        x, y = weights[:, 0], weights[:, 1]
        loss, grad_x, grad_y = workspace.evaluation.loss, workspace.grad_x, workspace.grad_y
        dx = np.subtract(c["a"], x, out=workspace.dx)
        ravine = np.multiply(x, x, out=workspace.ravine)
        np.subtract(y, ravine, out=ravine)
        term = workspace.term
        np.multiply(dx, dx, out=loss)
        np.multiply(c["b"], ravine, out=term)
        np.multiply(term, ravine, out=term)
        np.add(loss, term, out=loss)
        np.multiply(c["4b"], x, out=term)
        np.multiply(term, ravine, out=term)
        np.subtract(np.multiply(c["-2"], dx, out=grad_x), term, out=grad_x)
        np.multiply(c["2b"], ravine, out=grad_y)
        return workspace.evaluation


@dataclass(frozen=True)
class _Workspace:
    evaluation: Evaluation
    grad_x: np.ndarray  # views of the evaluation's gradient columns
    grad_y: np.ndarray
    dx: np.ndarray
    ravine: np.ndarray
    term: np.ndarray
    constants: dict[str, np.ndarray]

"""n-D quadratic bowl 0.5 w^T A w with a chosen largest curvature and condition number."""

from __future__ import annotations

import numpy as np

from lrviz.objectives.base import Evaluation, Objective


class Quadratic(Objective):
    """``f(w) = 0.5 * w^T A w`` with eigenvalues log-spaced from L/K to L.

    Plain gradient descent converges for every lr below 2/L and diverges above it.

    Parameters
    ----------
    dim : int
        Number of parameters.
    curvature : float
        Largest eigenvalue L of A.
    condition : float
        Condition number K = L / smallest eigenvalue (>= 1).
    seed : int
        Seeds the random rotation of A's eigenbasis and the starting point.
    start : sequence of float, optional
        The starting point (dim numbers); default: a random point of norm sqrt(dim).
    """

    name = "quadratic"

    def __init__(
        self,
        dim: int = 2,
        curvature: float = 10.0,
        condition: float = 1.0,
        seed: int = 0,
        start=None,
    ):
        if dim < 1:
            raise ValueError(f"--dim must be at least 1, got {dim}")
        if not (curvature > 0 and np.isfinite(curvature)):
            raise ValueError(f"--curvature must be positive and finite, got {curvature}")
        if not (condition >= 1 and np.isfinite(condition)):
            raise ValueError(f"--condition must be finite and at least 1, got {condition}")
        self.dim = int(dim)
        self.curvature = float(curvature)
        self.condition = float(condition)
        rng = np.random.default_rng(seed)
        # geomspace(a, b, 1) is [a]: in 1-D the only eigenvalue must be L, not L/K.
        self.eigenvalues = np.geomspace(curvature / condition, curvature, self.dim)
        if self.dim == 1:
            self.eigenvalues = np.array([self.curvature])
        if self.dim > 1:
            q, _ = np.linalg.qr(rng.standard_normal((self.dim, self.dim)))
        else:
            q = np.ones((1, 1))
        self.matrix = (q * self.eigenvalues) @ q.T
        self.matrix = 0.5 * (self.matrix + self.matrix.T)
        point = rng.standard_normal(self.dim)
        self._start = point / np.linalg.norm(point) * np.sqrt(self.dim)
        if start is not None:
            # Checked against dim by the simulation config, which names the option.
            self._start = np.asarray(start, dtype=np.float64).reshape(-1)

    @property
    def smallest_curvature(self) -> float:
        """μ, the smallest eigenvalue of A (L / condition)."""
        return float(self.eigenvalues.min())

    def initial_point(self) -> np.ndarray:
        return self._start.copy()

    def evaluate(self, weights: np.ndarray, batch: np.ndarray | None = None) -> Evaluation:
        return self.evaluate_into(weights, batch, self.workspace(weights.shape[0]))

    def workspace(self, runs: int) -> Evaluation:
        """The evaluation's own arrays, filled in place by :meth:`evaluate_into`."""
        return Evaluation(loss=np.empty(runs), grad=np.empty((runs, self.dim)))

    def evaluate_into(
        self, weights: np.ndarray, batch: np.ndarray | None, workspace: Evaluation
    ) -> Evaluation:
        grad = np.matmul(weights, self.matrix, out=workspace.grad)
        loss = np.einsum("rd,rd->r", grad, weights, out=workspace.loss)
        loss *= 0.5
        return workspace

"""Sharpness, the top eigenvalue of the loss Hessian, for R runs at once.

Gradient descent with step λ is stable on a quadratic only while the sharpness stays below
2/λ; Cohen et al. (2021, "Gradient Descent on Neural Networks Typically Occurs at the Edge
of Stability") found that on networks it climbs to 2/λ and hovers there. This module
measures it by power iteration on Hessian-vector products.

Hessian-vector products come from the objective's gradients by central differences,
Hv ≈ (∇f(w + h v) − ∇f(w − h v)) / 2h with |v| = 1 and h = ε^(1/3) · max(1, |w|) (ε the
float64 machine epsilon, so h ≈ 6e-6 at unit scale). The error is h²/6 times the third
derivative along v (zero on a quadratic, where only rounding remains: about ε^(2/3) ≈ 4e-11
relative to |∇f|/|w|) plus the rounding of the gradients, ε |∇f| / h. On well-scaled
problems that is a relative error of 1e-9 .. 1e-7 in the eigenvalue. An exact ``hvp`` can
be passed instead when an objective has one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

Gradient = Callable[[np.ndarray], np.ndarray]  # (n, dim) weights -> (n, dim) gradients
HessianVectorProduct = Callable[[np.ndarray, np.ndarray], np.ndarray]  # (w, v) -> Hv

FD_STEP = np.finfo(np.float64).eps ** (1.0 / 3.0)  # balances truncation against rounding


@dataclass(frozen=True)
class SharpnessEstimate:
    """Top Hessian eigenvalue of each run.

    Attributes
    ----------
    value : ndarray (R,)
        The largest (most positive) eigenvalue.
    vector : ndarray (R, dim)
        Its unit eigenvector estimate: pass it back as ``start`` to warm-start the next
        measurement a few steps later.
    iterations : ndarray (R,) of int
        Hessian-vector products each run took (both power iterations, when a negative
        eigenvalue dominated).
    converged : ndarray (R,) of bool
        The Rayleigh quotient settled to ``tol`` within ``max_iterations``.
    """

    value: np.ndarray
    vector: np.ndarray
    iterations: np.ndarray
    converged: np.ndarray


def objective_gradient(objective, batch: np.ndarray | None = None) -> Gradient:
    """The gradient of ``objective`` on ``batch`` (None: the full data) as a function."""

    def gradient(weights: np.ndarray) -> np.ndarray:
        return np.array(objective.evaluate(weights, batch).grad, dtype=np.float64)

    return gradient


def finite_difference_hvp(gradient: Gradient) -> HessianVectorProduct:
    """Hv by central differences of ``gradient``, both sides in one call of 2n rows."""

    def hvp(weights: np.ndarray, vectors: np.ndarray) -> np.ndarray:
        h = FD_STEP * np.maximum(1.0, np.linalg.norm(weights, axis=1))[:, None]
        both = gradient(np.concatenate([weights + h * vectors, weights - h * vectors]))
        n = weights.shape[0]
        return (both[:n] - both[n:]) / (2.0 * h)

    return hvp


def top_hessian_eigenvalue(
    gradient: Gradient | None,
    weights: np.ndarray,
    *,
    hvp: HessianVectorProduct | None = None,
    start: np.ndarray | None = None,
    max_iterations: int = 100,
    tol: float = 1e-10,
    seed: int = 0,
) -> SharpnessEstimate:
    """Largest Hessian eigenvalue at each row of ``weights`` (R, dim).

    Power iteration finds the eigenvalue of largest magnitude. Where that is negative (a
    saddle, or a non-convex network), a second power iteration on H − λ_neg I, whose
    eigenvalues λ − λ_neg are all at least 0, finds the largest one.

    Parameters
    ----------
    gradient : callable or None
        (n, dim) weights -> (n, dim) gradients, e.g. :func:`objective_gradient`. Used for
        finite-difference Hessian-vector products unless ``hvp`` is given.
    hvp : callable, optional
        Exact Hessian-vector products ``hvp(weights, vectors)``.
    start : ndarray (R, dim), optional
        Starting vectors (a previous estimate's ``vector``); random unit vectors otherwise.
    max_iterations : int
        Hessian-vector products per power iteration at most.
    tol : float
        A run stops once its Rayleigh quotient changes by at most ``tol`` times its size.
    seed : int
        Seeds the random starting vectors.
    """
    weights = np.atleast_2d(np.asarray(weights, dtype=np.float64))
    if hvp is None:
        if gradient is None:
            raise ValueError("need a gradient or a Hessian-vector product")
        hvp = finite_difference_hvp(gradient)
    if max_iterations < 1:
        raise ValueError(f"max_iterations must be at least 1, got {max_iterations}")
    runs, dim = weights.shape
    rng = np.random.default_rng(seed)
    if start is None:
        start = rng.standard_normal((runs, dim))
    vectors = _unit(np.array(start, dtype=np.float64))
    shift = np.zeros(runs)
    dominant, vectors, used, converged = _power_iteration(
        hvp, weights, vectors, shift, max_iterations, tol
    )
    value = dominant
    negative = np.flatnonzero(dominant < 0)
    if negative.size:
        shift = dominant[negative]
        # Not from the negative eigenvector: H − λ_neg I maps it to 0.
        fresh = _unit(rng.standard_normal((negative.size, dim)))
        top, top_vectors, more, top_converged = _power_iteration(
            hvp, weights[negative], fresh, shift, max_iterations, tol
        )
        value = dominant.copy()
        value[negative] = top + shift
        vectors[negative] = top_vectors
        used[negative] += more
        converged[negative] &= top_converged
    return SharpnessEstimate(value=value, vector=vectors, iterations=used, converged=converged)


def _power_iteration(hvp, weights, vectors, shift, max_iterations, tol):
    """Dominant eigenvalue of H − shift·I per row; runs stop one by one as they settle."""
    runs = weights.shape[0]
    value = np.zeros(runs)
    used = np.zeros(runs, dtype=np.int64)
    converged = np.zeros(runs, dtype=bool)
    vectors = vectors.copy()
    active = np.arange(runs)
    for _ in range(max_iterations):
        v = vectors[active]
        product = hvp(weights[active], v) - shift[active, None] * v
        rayleigh = np.einsum("rd,rd->r", v, product)  # v has unit length
        used[active] += 1
        settled = np.abs(rayleigh - value[active]) <= tol * np.abs(rayleigh)
        settled &= used[active] > 1  # the first quotient has nothing to compare with
        norms = np.linalg.norm(product, axis=1)
        # H v = 0: v is in the null space and 0 is the dominant eigenvalue of this row.
        flat = norms == 0.0
        value[active] = rayleigh
        moving = ~flat
        vectors[active[moving]] = product[moving] / norms[moving, None]
        done = settled | flat
        converged[active[done]] = True
        active = active[~done]
        if active.size == 0:
            break
    return value, vectors, used, converged


def _unit(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    if np.any(norms == 0):
        raise ValueError("starting vectors must not be zero")
    return vectors / norms


class SharpnessTracker:
    """Sharpness of R runs every ``every`` iterations, each measurement warm-started from
    the last one's eigenvectors (a few Hessian-vector products instead of dozens).

    The engine calls :meth:`due` each iteration and, when due, :meth:`measure` with the
    weights of the runs still going; ``history`` keeps (iteration, runs, values).
    """

    def __init__(
        self,
        runs: int,
        dim: int,
        every: int,
        max_iterations: int = 30,
        tol: float = 1e-6,
        seed: int = 0,
    ):
        if every < 1:
            raise ValueError(f"sharpness interval must be at least 1, got {every}")
        self.every, self.max_iterations, self.tol = int(every), int(max_iterations), float(tol)
        self.seed = seed
        self._vectors = _unit(np.random.default_rng(seed).standard_normal((runs, dim)))
        self.history: list[tuple[int, np.ndarray, np.ndarray]] = []

    def due(self, iteration: int) -> bool:
        return iteration % self.every == 0

    def measure(
        self, iteration: int, gradient: Gradient, weights: np.ndarray, rows=None
    ) -> SharpnessEstimate:
        """Sharpness of runs ``rows`` (indices into the R runs; None: all) at ``weights``."""
        rows = np.arange(self._vectors.shape[0]) if rows is None else np.asarray(rows)
        estimate = top_hessian_eigenvalue(
            gradient,
            weights,
            start=self._vectors[rows],
            max_iterations=self.max_iterations,
            tol=self.tol,
            seed=self.seed + len(self.history) + 1,
        )
        self._vectors[rows] = estimate.vector
        self.history.append((int(iteration), rows.copy(), estimate.value.copy()))
        return estimate


def stability_limit(lr) -> np.ndarray:
    """2/λ: the sharpness above which gradient descent with step λ is unstable."""
    return 2.0 / np.asarray(lr, dtype=np.float64)

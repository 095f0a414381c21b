"""What theory says about λ, for the problems where it says something exact.

On a quadratic ``f(w) = ½ wᵀAw + bᵀw + c`` with curvatures (eigenvalues of A) between μ > 0
and L, plain gradient descent with a constant λ contracts the error along each eigenvector by
``|1 - λ h|`` per step: every run converges for λ < 2/L and diverges above it (the stability
limit), and the slowest direction contracts fastest at λ = 2/(μ + L), where the two extreme
directions contract equally, by (L - μ)/(L + μ): the best constant step.

:func:`theory_lrs` returns those λ for an objective, or None where they do not hold (not a
quadratic, not convex, another optimizer, a schedule).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from lrviz.objectives.base import Objective
from lrviz.objectives.expression import ExpressionObjective
from lrviz.objectives.quadratic import Quadratic

#: Formulas up to this many coordinates are checked for being quadratic (a dim x dim
#: Hessian at a few points): a typed formula has at most a handful.
MAX_CHECKED_DIM = 16
#: Relative spread of the Hessian across points still counted as constant.
HESSIAN_TOLERANCE = 1e-6


@dataclass(frozen=True)
class TheoryLrs:
    """The λ theory names for plain gradient descent on a convex quadratic.

    Attributes
    ----------
    largest_curvature : float
        L, the largest eigenvalue of the Hessian.
    smallest_curvature : float
        μ, the smallest (> 0).
    stability_limit : float
        2/L: constant λ below it converge, above it diverge.
    best_constant : float
        2/(μ + L): the constant λ of the fastest worst-case convergence.
    """

    largest_curvature: float
    smallest_curvature: float

    @property
    def stability_limit(self) -> float:
        return 2.0 / self.largest_curvature

    @property
    def best_constant(self) -> float:
        return 2.0 / (self.smallest_curvature + self.largest_curvature)

    @property
    def contraction(self) -> float:
        """The error's worst contraction per step at the best constant λ: (L - μ)/(L + μ)."""
        mu, big = self.smallest_curvature, self.largest_curvature
        return (big - mu) / (big + mu)

    def lines(self) -> list[tuple[float, str]]:
        """(λ, label) of each line to draw on a loss vs λ plot. (On a round bowl, μ = L, the
        best step 1/L reaches the minimum in one step.)"""
        limit, best = self.stability_limit, self.best_constant
        return [(limit, f"2/L = {limit:.3g}"), (best, f"2/(μ+L) = {best:.3g}")]

    def descriptions(self) -> list[str]:
        """A sentence per line of :meth:`lines`, for tooltips."""
        return [
            f"Stability limit 2/L (L = {self.largest_curvature:.4g}): plain gradient descent "
            "converges below this λ and diverges above it",
            f"Best constant step 2/(μ+L) (μ = {self.smallest_curvature:.4g}): the fastest "
            "worst-case convergence of any constant λ",
        ]


def theory_lrs(
    objective: Objective, optimizer: str = "sgd", schedule: object | None = None
) -> TheoryLrs | None:
    """The theory λ of ``objective`` under plain SGD with a constant λ, or None.

    Known for :class:`~lrviz.objectives.quadratic.Quadratic` (L = curvature, μ = L/condition)
    and for typed formulas that are convex quadratics (``x**2 + 10*y**2``), whose Hessian is
    found from the exact gradient. None for other objectives, for a Hessian that is not
    positive definite, for other optimizers (momentum, Adam, adaptive λ: other limits) and
    under a schedule (``schedule`` not None: λ changes)."""
    if optimizer != "sgd" or schedule is not None:
        return None
    if isinstance(objective, Quadratic):
        return TheoryLrs(objective.curvature, objective.smallest_curvature)
    if isinstance(objective, ExpressionObjective) and objective.dim <= MAX_CHECKED_DIM:
        hessian = constant_hessian(objective)
        if hessian is None:
            return None
        curvatures = np.linalg.eigvalsh(hessian)
        small, big = float(curvatures[0]), float(curvatures[-1])
        if not (small > HESSIAN_TOLERANCE * big and math.isfinite(big)):
            return None  # flat or saddle-shaped directions: no best constant step
        return TheoryLrs(big, small)
    return None


def constant_hessian(objective: Objective, points: np.ndarray | None = None) -> np.ndarray | None:
    """The Hessian of ``objective`` if it is the same at every point (a quadratic), else None.

    Central differences of the exact gradient, which are exact (to rounding) for a quadratic,
    whose gradient is linear; compared at a few points spread around the start."""
    dim = objective.dim
    if points is None:
        start = objective.initial_point()
        rng = np.random.default_rng(0)
        scale = max(1.0, float(np.max(np.abs(start))))
        points = start + scale * rng.uniform(-1.5, 1.5, size=(3, dim))
        points = np.vstack([start, points])
    step = 1e-3 * max(1.0, float(np.max(np.abs(points))))
    shifts = step * np.eye(dim)
    hessians = []
    for point in points:
        rows = np.vstack([point + shifts, point - shifts])
        grad = objective.evaluate(rows).grad  # exact: no noise without a batch
        h = (grad[:dim] - grad[dim:]) / (2.0 * step)
        hessians.append(0.5 * (h + h.T))
    stack = np.array(hessians)
    if not np.all(np.isfinite(stack)):
        return None
    size = max(float(np.max(np.abs(stack))), 1e-300)
    if float(np.max(np.abs(stack - stack[0]))) > HESSIAN_TOLERANCE * size:
        return None
    return stack[0]


__all__ = ["TheoryLrs", "constant_hessian", "theory_lrs"]

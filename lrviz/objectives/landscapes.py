"""Classic 2-D test landscapes: Beale, Himmelblau, Rastrigin and a saddle.

Each is a function of (x, y) with an exact gradient, evaluated for R runs at once, and says
where it is worth looking: :attr:`Landscape.domain` (the region a contour plot shows) and
:attr:`Landscape.minima` (its global minima, all of loss 0). Every loss is at least 0 with its
minimum at 0: the engine's divergence test (a loss above a multiple of the run's best) only
means something for losses that do not go below zero.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from lrviz.objectives.base import Evaluation, Objective

#: 64 rounding errors of a number of size 1.
ROUNDING = 64.0 * float(np.finfo(np.float64).eps)

#: ((x_min, x_max), (y_min, y_max))
Domain = tuple[tuple[float, float], tuple[float, float]]


class Landscape(Objective):
    """A 2-D objective ``f(x, y)`` with a default start, a domain to view and known minima.

    Subclasses set :attr:`default_start`, :attr:`domain`, :attr:`minima` and implement
    :meth:`loss_and_grad`.

    Parameters
    ----------
    start : (float, float), optional
        Where every run starts; default :attr:`default_start`.
    """

    dim = 2
    default_start: tuple[float, float] = (0.0, 0.0)
    domain: Domain = ((-1.0, 1.0), (-1.0, 1.0))
    minima: tuple[tuple[float, float], ...] = ()
    #: A line saying what the landscape shows (for tooltips).
    description: str = ""

    def __init__(self, start: Sequence[float] | None = None) -> None:
        point = np.asarray(self.default_start if start is None else start, dtype=np.float64)
        point = point.reshape(-1)
        if point.size != 2:
            raise ValueError(
                f"the start point of {self.name} needs 2 coordinates (x, y), got {point.size}"
            )
        if not np.all(np.isfinite(point)):
            raise ValueError("the start point must be finite numbers")
        self._start = point

    def initial_point(self) -> np.ndarray:
        return self._start.copy()

    def loss_and_grad(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Loss (R,) and gradient (R, 2) at the points (x[i], y[i])."""
        raise NotImplementedError

    def evaluate(self, weights: np.ndarray, batch: np.ndarray | None = None) -> Evaluation:
        weights = np.asarray(weights, dtype=np.float64)
        loss, grad = self.loss_and_grad(weights[:, 0], weights[:, 1])
        return Evaluation(loss=loss, grad=grad)

    def loss_only(self, weights: np.ndarray) -> np.ndarray:
        weights = np.asarray(weights, dtype=np.float64)
        return self.loss(weights[..., 0], weights[..., 1])

    def loss(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """The loss alone, at points of any shape (contour grids)."""
        return self.loss_and_grad(np.ravel(x), np.ravel(y))[0].reshape(np.shape(x))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(start={self._start.tolist()})"


def _gradient(gx: np.ndarray, gy: np.ndarray) -> np.ndarray:
    return np.stack([gx, gy], axis=1)


class Beale(Landscape):
    """``(1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2``, minimum 0 at (3, 0.5).

    Flat basins next to walls that rise like y^6: a λ that crosses the flat part is thrown
    out by the first wall it meets."""

    name = "beale"
    default_start = (1.0, 1.4)
    domain = ((-4.5, 4.5), (-4.5, 4.5))
    minima = ((3.0, 0.5),)
    description = "Flat basins between steep walls; minimum at (3, 0.5)"

    def loss_and_grad(self, x, y):
        y2 = y * y
        y3 = y2 * y
        t1 = 1.5 - x + x * y
        t2 = 2.25 - x + x * y2
        t3 = 2.625 - x + x * y3
        loss = t1 * t1 + t2 * t2 + t3 * t3
        gx = 2.0 * (t1 * (y - 1.0) + t2 * (y2 - 1.0) + t3 * (y3 - 1.0))
        gy = 2.0 * x * (t1 + 2.0 * y * t2 + 3.0 * y2 * t3)
        return loss, _gradient(gx, gy)


class Himmelblau(Landscape):
    """``(x^2 + y - 11)^2 + (x + y^2 - 7)^2``: four minima of loss 0; where a run ends
    depends on where it starts and on its λ."""

    name = "himmelblau"
    default_start = (-0.5, 0.5)
    domain = ((-5.0, 5.0), (-5.0, 5.0))
    minima = (
        (3.0, 2.0),
        (-2.805118086952745, 3.131312518250573),
        (-3.779310253377747, -3.283185991286170),
        (3.584428340330492, -1.848126526964404),
    )
    description = "Four minima of loss 0: which one a run finds depends on its λ"

    def loss_and_grad(self, x, y):
        a = x * x + y - 11.0
        b = x + y * y - 7.0
        loss = a * a + b * b
        gx = 4.0 * x * a + 2.0 * b
        gy = 2.0 * a + 4.0 * y * b
        return loss, _gradient(gx, gy)


class Rastrigin(Landscape):
    """``2A + x^2 - A cos(2πx) + y^2 - A cos(2πy)``, A = 10: a bowl covered in local minima,
    the global one 0 at the origin. Small λ stop in the nearest dip; larger ones hop over
    the ripples, until they are too large for the bowl's curvature 2 + 4π²A."""

    name = "rastrigin"
    default_start = (2.3, -1.7)
    domain = ((-5.12, 5.12), (-5.12, 5.12))
    minima = ((0.0, 0.0),)
    description = "A bowl covered in local minima; the global one at the origin"
    amplitude = 10.0
    loss_rounding = 4.0 * amplitude * ROUNDING  # 2A - A cos - A cos cancels terms of size 4A

    def loss_and_grad(self, x, y):
        a, tau = self.amplitude, 2.0 * math.pi
        loss = 2.0 * a + x * x - a * np.cos(tau * x) + y * y - a * np.cos(tau * y)
        gx = 2.0 * x + tau * a * np.sin(tau * x)
        gy = 2.0 * y + tau * a * np.sin(tau * y)
        return loss, _gradient(gx, gy)


class Saddle(Landscape):
    """``x^2 - y^2 + y^4/4 + 1``: a saddle point at the origin between two minima of loss 0
    at (0, ±√2). Started on the ridge (y near 0), gradient descent slides down in x quickly
    and then waits at the saddle until y's tiny offset has grown."""

    name = "saddle"
    default_start = (1.5, 0.01)
    domain = ((-2.0, 2.0), (-2.0, 2.0))
    minima = ((0.0, math.sqrt(2.0)), (0.0, -math.sqrt(2.0)))
    description = "A saddle at the origin between minima at (0, ±√2)"
    loss_rounding = 2.0 * ROUNDING  # -y² + y⁴/4 + 1 cancels terms of size 2

    def loss_and_grad(self, x, y):
        y2 = y * y
        loss = x * x - y2 + 0.25 * y2 * y2 + 1.0
        gx = 2.0 * x
        gy = y * (y2 - 2.0)
        return loss, _gradient(gx, gy)


LANDSCAPES: dict[str, type[Landscape]] = {
    cls.name: cls for cls in (Beale, Himmelblau, Rastrigin, Saddle)
}

__all__ = ["LANDSCAPES", "Beale", "Himmelblau", "Landscape", "Rastrigin", "Saddle"]

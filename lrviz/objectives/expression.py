"""A user's formula as an objective: exact gradients, a start point, optional gradient noise.

``ExpressionObjective("x**2 + 10*y**2", start=(1, 1))`` behaves like every other objective:
:meth:`evaluate` takes the weights of R runs, shape (R, dim), and returns their losses and
exact gradients (see :mod:`lrviz.expressions`). :data:`PRESETS` holds formulas that show one
idea each; the app's function box and ``--preset`` on the command line read them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from lrviz.expressions import Formula, parse_formula
from lrviz.objectives.base import Evaluation, Objective

#: ((x_min, x_max),) in 1-D, ((x_min, x_max), (y_min, y_max)) in 2-D.
Domain = tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class ExpressionPreset:
    """A ready-made formula with the start point and view that show its idea."""

    label: str
    formula: str
    start: tuple[float, ...]
    domain: Domain
    gradient_noise: float
    description: str


#: Presets by the name ``--preset`` takes. Every loss is at least 0 with its minimum at 0:
#: the engine calls a run diverged when its loss exceeds a multiple of its best, which only
#: means something for losses that do not go below zero.
PRESETS: dict[str, ExpressionPreset] = {
    "bowl": ExpressionPreset(
        label="Ill-conditioned bowl",
        formula="x**2 + 25*y**2",
        start=(2.0, 1.0),
        domain=((-2.5, 2.5), (-2.5, 2.5)),
        gradient_noise=0.0,
        description="Curvatures 2 and 50: plain GD diverges above λ = 2/50 = 0.04, while x "
        "crawls at that λ; the zig-zag along y is the condition number at work.",
    ),
    "saddle": ExpressionPreset(
        label="Saddle",
        formula="x**2 - y**2 + 0.25*y**4 + 1",
        start=(1.5, 0.01),
        domain=((-2.0, 2.0), (-2.0, 2.0)),
        gradient_noise=0.0,
        description="A saddle at the origin between minima at y = ±√2: runs started near "
        "the ridge slow down by the saddle and leave it only as fast as y's tiny offset "
        "grows.",
    ),
    "cliff": ExpressionPreset(
        label="Cliff",
        formula="0.5*y**2 + 0.05*(x + 2)**2 + 3*sigmoid(25*x)",
        start=(2.0, 1.0),
        domain=((-4.0, 4.0), (-3.0, 3.0)),
        gradient_noise=0.0,
        description="A plateau (x > 0) ending in a steep wall at x = 0: the gradient there "
        "is about 19, so a λ that crawls on the plateau throws the run far past the wall.",
    ),
    "rosenbrock": ExpressionPreset(
        label="Rosenbrock's valley",
        formula="(1 - x)**2 + 100*(y - x**2)**2",
        start=(-1.2, 1.0),
        domain=((-2.0, 2.0), (-1.0, 3.0)),
        gradient_noise=0.0,
        description="A curved, narrow valley: fast down into it, then a long crawl along "
        "its floor to the minimum at (1, 1).",
    ),
    "noisy-bowl": ExpressionPreset(
        label="Noisy bowl",
        formula="0.5*(x**2 + y**2)",
        start=(2.0, 2.0),
        domain=((-2.5, 2.5), (-2.5, 2.5)),
        gradient_noise=0.5,
        description="A round bowl with Gaussian noise (σ = 0.5) added to every gradient: "
        "a large λ gets down fast but jitters at a high floor, a small one settles lower.",
    ),
}
DEFAULT_PRESET = "bowl"


class ExpressionObjective(Objective):
    """The loss given by a formula in ``x``, ``x, y`` or ``w[0] … w[n-1]``.

    Parameters
    ----------
    expr : str or Formula, optional
        The formula. Default: the :data:`DEFAULT_PRESET` with its start and domain.
    start : sequence of float, optional
        The start point, one number per coordinate. Default 1.0 for each.
    gradient_noise : float
        Standard deviation of Gaussian noise added to each coordinate of the gradient (the
        loss stays exact). The noise of one iteration is the same for every run, like a
        minibatch every run shares, so runs differ only by their learning rate; it is drawn
        from the simulation's seeded generator through :meth:`batches`.
    domain : ((lo, hi),) or ((lo, hi), (lo, hi)), optional
        The region a contour plot shows; default: a square around the origin and the start.
    """

    name = "expr"

    def __init__(
        self,
        expr: str | Formula | None = None,
        start: Sequence[float] | None = None,
        gradient_noise: float = 0.0,
        domain: Domain | None = None,
    ) -> None:
        if expr is None:
            preset = PRESETS[DEFAULT_PRESET]
            expr = preset.formula
            start = preset.start if start is None else start
            domain = preset.domain if domain is None else domain
        self.formula = expr if isinstance(expr, Formula) else parse_formula(expr)
        self.dim = self.formula.dim
        self._start = self._checked_start(start)
        noise = float(gradient_noise)
        if not (math.isfinite(noise) and noise >= 0):
            raise ValueError(f"gradient noise must be finite and at least 0, got {gradient_noise}")
        self.gradient_noise = noise
        self.stochastic = noise > 0
        #: False when the domain is the default square (a contour plot may look further)
        self.domain_given = domain is not None
        self.domain = self._checked_domain(domain)
        # The formula may cancel terms (x**2 - y**2 + 1): take the loss's size at the start
        # as the size of what cancels, for the engine's divergence test.
        with np.errstate(all="ignore"):
            at_start = abs(float(self.formula.value(self._start[None, :])[0]))
        self.loss_rounding = 64.0 * float(np.finfo(np.float64).eps) * at_start
        if not math.isfinite(self.loss_rounding):
            self.loss_rounding = 0.0

    @classmethod
    def from_preset(cls, name: str) -> ExpressionObjective:
        """The objective of preset ``name`` (a key of :data:`PRESETS`)."""
        try:
            preset = PRESETS[name]
        except KeyError:
            raise ValueError(
                f"unknown preset {name!r}; choose one of {', '.join(sorted(PRESETS))}"
            ) from None
        return cls(preset.formula, preset.start, preset.gradient_noise, preset.domain)

    def initial_point(self) -> np.ndarray:
        return self._start.copy()

    def evaluate(self, weights: np.ndarray, batch: np.ndarray | None = None) -> Evaluation:
        loss, grad = self.formula.value_and_grad(weights)
        if batch is not None:
            # ``batch`` is this iteration's noise draw from :meth:`batches`, shape (dim,).
            grad += batch
        return Evaluation(loss=loss, grad=grad)

    def loss_only(self, weights: np.ndarray) -> np.ndarray:
        return self.formula.value(weights)  # no backward pass: contours are cheaper

    def batches(self, rng: np.random.Generator):
        """One noise vector per iteration, shared by every run (None when noiseless)."""
        while True:
            if self.gradient_noise > 0:
                yield self.gradient_noise * rng.standard_normal(self.dim)
            else:
                yield None

    def _checked_start(self, start) -> np.ndarray:
        if start is None:
            return np.ones(self.dim)
        point = np.asarray(start, dtype=np.float64).reshape(-1)
        if point.size != self.dim:
            names = ", ".join(self.formula.variables)
            raise ValueError(
                f"the start point has {point.size} coordinate{'s' * (point.size != 1)} but "
                f"the formula has {self.dim} ({names})"
            )
        if not np.all(np.isfinite(point)):
            raise ValueError("the start point must be finite numbers")
        return point

    def _checked_domain(self, domain) -> Domain | None:
        if domain is None:
            return default_domain(self._start) if self.dim <= 2 else None
        ranges = tuple((float(lo), float(hi)) for lo, hi in domain)
        if len(ranges) != self.dim:
            raise ValueError(f"the domain needs one (low, high) range per coordinate ({self.dim})")
        for lo, hi in ranges:
            if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
                raise ValueError(f"a domain range needs finite low < high, got ({lo}, {hi})")
        return ranges

    def __repr__(self) -> str:
        return f"ExpressionObjective({self.formula.text!r}, start={self._start.tolist()})"


def default_domain(start: np.ndarray) -> Domain:
    """A square (or interval) centred on the origin that holds the start point with a margin:
    half-width 1.5 |start|_max, at least 2."""
    half = max(2.0, 1.5 * float(np.max(np.abs(start))))
    return tuple((-half, half) for _ in range(start.size))


__all__ = ["DEFAULT_PRESET", "PRESETS", "ExpressionObjective", "ExpressionPreset"]

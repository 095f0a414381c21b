"""One-click experiments of the Lab: a simulation, and what each of its runs shows.

:func:`effect_of_learning_rate` is the classic picture: four λ on a 2-D quadratic, chosen
from its curvatures, side by side: too low crawls, a good one converges cleanly, a high one
bounces across the valley and a too high one diverges. The others tour the 2-D landscapes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from lrviz.objectives.landscapes import LANDSCAPES
from lrviz.objectives.quadratic import Quadratic
from lrviz.simulation_config import SimulationConfig
from lrviz.theory import theory_lrs


@dataclass(frozen=True)
class LabPreset:
    """A simulation of the Lab, with a caption per run (one plot per run when
    ``side_by_side``)."""

    key: str
    title: str
    description: str
    config: SimulationConfig
    captions: tuple[str, ...]
    side_by_side: bool = True


def effect_of_learning_rate(
    curvature: float = 10.0, condition: float = 5.0, iterations: int = 60, seed: int = 0
) -> LabPreset:
    """Four λ on ``½ wᵀAw`` (curvatures L = ``curvature`` and μ = L / ``condition``):

    - too low, 0.1/L: the steep direction settles, the shallow one crawls (1 - 0.1/K a step);
    - good, 1/L: the steep direction is solved in one step, no zig-zag, the shallow one
      shrinks by 1 - μ/L a step;
    - high, 0.9 · 2/L: the steep direction flips sign every step (factor 1 - 1.8 = -0.8):
      the run bounces across the valley while it converges;
    - too high, 1.1 · 2/L: the bounce grows (factor -1.2): divergence.

    The start is 1.5 along the shallow direction and 1 along the steep one, so both show.
    """
    bowl = Quadratic(dim=2, curvature=curvature, condition=condition, seed=seed)
    theory = theory_lrs(bowl)
    limit, big = theory.stability_limit, theory.largest_curvature
    values, vectors = np.linalg.eigh(bowl.matrix)
    shallow, steep = vectors[:, int(np.argmin(values))], vectors[:, int(np.argmax(values))]
    start = 1.5 * shallow + 1.0 * steep
    lrs = np.array([0.1 / big, 1.0 / big, 0.9 * limit, 1.1 * limit])
    config = SimulationConfig(
        objective="quadratic",
        optimizer="sgd",
        lrs=lrs,
        iterations=iterations,
        dim=2,
        curvature=curvature,
        condition=condition,
        seed=seed,
        start=tuple(float(v) for v in start),
    )
    return LabPreset(
        key="effect-of-lr",
        title="Effect of the learning rate",
        description=(
            f"Four λ on a quadratic bowl with curvatures L = {big:g} and μ = "
            f"{theory.smallest_curvature:g}: 0.1/L crawls, 1/L converges cleanly, 0.9 × 2/L "
            "bounces across the valley, 1.1 × 2/L diverges (plain gradient descent diverges "
            f"above 2/L = {limit:g})."
        ),
        config=config,
        captions=("too low: slow crawl", "good: clean", "high: bouncing", "too high: diverges"),
    )


def landscape_tour(
    name: str, lrs, iterations: int, description: str, title: str | None = None
) -> LabPreset:
    """Four λ of plain gradient descent on the 2-D objective ``name``, side by side."""
    if title is None:
        title = LANDSCAPES[name].__name__ if name in LANDSCAPES else name
    config = SimulationConfig(
        objective=name,
        optimizer="sgd",
        lrs=np.asarray(lrs, dtype=np.float64),
        iterations=iterations,
    )
    return LabPreset(name, title, description, config, captions=())


#: key -> (button text, factory)
LAB_PRESETS: dict[str, tuple[str, Callable[[], LabPreset]]] = {
    "effect-of-lr": ("Effect of the learning rate", effect_of_learning_rate),
    "rosenbrock": (
        "Rosenbrock's valley",
        lambda: landscape_tour(
            "rosenbrock",
            [2e-4, 8e-4, 2e-3, 3e-3],
            2000,
            "Down into the curved valley fast, then a long crawl along its floor towards "
            "(1, 1): after 2,000 steps 2e-4 is still far up the valley, 2e-3 nearly there, "
            "and 3e-3 is thrown out by the steep walls.",
            title="Rosenbrock's valley",
        ),
    ),
    "saddle": (
        "Saddle point",
        lambda: landscape_tour(
            "saddle",
            [2e-3, 7e-3, 0.05, 0.45],
            300,
            "Started on the ridge, every run slides down to the saddle at the origin and "
            "waits there until the tiny offset in y has grown: after 300 steps 2e-3 is still "
            "waiting, 7e-3 has just left, 0.05 and 0.45 have reached the minimum at (0, √2) "
            "(its curvature is 4: stable below λ = 0.5).",
        ),
    ),
    "rastrigin": (
        "Rastrigin's ripples",
        lambda: landscape_tour(
            "rastrigin",
            [2e-3, 6e-3, 1e-2, 2e-2],
            300,
            "A bowl covered in ripples: a small λ stops in the nearest dip, at (2, -2); "
            "larger ones hop from ripple to ripple without settling, and 2e-2 flies off.",
        ),
    ),
}


def lab_preset(key: str) -> LabPreset:
    """The preset called ``key`` (a key of :data:`LAB_PRESETS`)."""
    try:
        return LAB_PRESETS[key][1]()
    except KeyError:
        raise ValueError(
            f"unknown lab preset {key!r}; choose one of {', '.join(LAB_PRESETS)}"
        ) from None


__all__ = ["LAB_PRESETS", "LabPreset", "effect_of_learning_rate", "lab_preset"]

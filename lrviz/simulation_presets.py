"""Ready-made simulations that each show one idea, for the Simulate form's Examples.

Each preset is a :class:`SimulationConfig` and the panel that tells its story. They live in
the core so they can be tested (and run from a script) without the app.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from lrviz.adaptive_lr import HYPERGRADIENT_PRESETS, PAPER_INITIAL_LR
from lrviz.simulation_config import SimulationConfig


@dataclass(frozen=True)
class SimulationPreset:
    """A named simulation.

    Attributes
    ----------
    label : str
        What the Examples list shows.
    description : str
        One or two sentences: what to look at.
    build : callable () -> SimulationConfig
    panel : str
        The plot that tells the story ("lr_vs_iteration", "sharpness", ...).
    """

    label: str
    description: str
    build: Callable[[], SimulationConfig]
    panel: str


def compare_adaptive() -> SimulationConfig:
    """A hand-picked λ, hypergradient descent and DoG on one problem.

    Full-batch logistic regression, 300 iterations. The hand-picked λ = 0.05 is the best
    constant SGD λ there (a sweep of 12 λ from 0.01 to 30: 0.043 and 0.089 end lowest, at
    0.4329; from 0.79 up SGD diverges). The HD runs start from the paper's λ₀ = 1e-3 with
    its MNIST β (1e-3 for SGD-HD, 1e-7 for Adam-HD); SGD at that λ₀ shows where HD started
    from; DoG needs no λ at all. Measured: SGD-HD raises its λ to 0.023 and ends at 0.4333,
    DoG grows its λ from 3e-7 to 0.032 and ends at 0.4337, SGD at 1e-3 at 0.4808.
    """
    runs = (
        ("sgd", 0.05),  # the hand-picked λ
        ("sgd", PAPER_INITIAL_LR),
        ("sgd-hd", PAPER_INITIAL_LR),
        ("adam", PAPER_INITIAL_LR),
        ("adam-hd", PAPER_INITIAL_LR),
        ("dog", 1.0),  # DoG's multiplier: 1 is the paper's DoG
    )
    return SimulationConfig(
        objective="logreg",
        optimizer="sgd",
        optimizers=tuple(name for name, _lr in runs),
        lrs=np.array([lr for _name, lr in runs]),
        iterations=300,
        samples=1000,
        features=10,
        batch_size=None,
        hypergrad_lr=dict(HYPERGRADIENT_PRESETS["paper-mnist"]),
        seed=0,
    )


def edge_of_stability() -> SimulationConfig:
    """Full-batch gradient descent on the MLP at four λ, sharpness every 10 iterations.

    Measured with this configuration (sharpness / (2/λ)): at λ = 2 it climbs from 0.85 to
    1 by iteration 160 and stays at 0.94 .. 1.16 until iteration 480; at λ = 4 and 8 it
    starts above 2/λ (1.7 and 3.4), is pushed down to it and hovers just above (0.92 ..
    1.55 from iteration 200 to 440); at λ = 1 it climbs from 0.42 to 0.59, its 2/λ out of
    reach. Later it falls again as the cross-entropy loss shrinks, as Cohen et al. report
    for that loss.
    """
    return SimulationConfig(
        objective="mlp",
        optimizer="sgd",
        lrs=np.array([1.0, 2.0, 4.0, 8.0]),
        iterations=600,
        samples=1000,
        features=10,
        batch_size=None,
        divergence_factor=None,
        sharpness_every=10,
        seed=0,
    )


SIMULATION_PRESETS: dict[str, SimulationPreset] = {
    "compare-adaptive": SimulationPreset(
        "Compare: hand-picked λ vs HD vs DoG",
        "Logistic regression: SGD at a hand-picked λ = 0.05 and at 1e-3, SGD-HD and "
        "Adam-HD starting from λ₀ = 1e-3 (the paper's β), Adam, and DoG, which picks its "
        "own λ. Watch λ vs iteration: HD and DoG find their way up to near the hand-picked "
        "λ.",
        compare_adaptive,
        "lr_vs_iteration",
    ),
    "edge-of-stability": SimulationPreset(
        "Edge of stability: sharpness meets 2/λ",
        "Full-batch gradient descent on the MLP at λ = 1, 2, 4, 8, the sharpness (top "
        "Hessian eigenvalue) measured every 10 iterations: it meets 2/λ (dashed) and hovers "
        "there, except at λ = 1, whose 2/λ is out of reach.",
        edge_of_stability,
        "sharpness",
    ),
}

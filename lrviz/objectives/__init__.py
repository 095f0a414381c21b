"""Objectives with analytic gradients, evaluated for many runs at once.

``OBJECTIVES`` maps the command-line name to a factory taking keyword options; unknown
options are ignored so one option set can serve every objective.
"""

from __future__ import annotations

import inspect

from lrviz.objectives.base import DatasetObjective, Evaluation, Objective
from lrviz.objectives.expression import ExpressionObjective
from lrviz.objectives.landscapes import Beale, Himmelblau, Rastrigin, Saddle
from lrviz.objectives.logreg import LogisticRegression
from lrviz.objectives.mlp import MLP
from lrviz.objectives.quadratic import Quadratic
from lrviz.objectives.rosenbrock import Rosenbrock

OBJECTIVES: dict[str, type[Objective]] = {
    "quadratic": Quadratic,
    "rosenbrock": Rosenbrock,
    "beale": Beale,
    "himmelblau": Himmelblau,
    "rastrigin": Rastrigin,
    "saddle": Saddle,
    "logreg": LogisticRegression,
    "mlp": MLP,
    "expr": ExpressionObjective,
}


def make_objective(name: str, **options) -> Objective:
    """Build the objective called ``name`` from the options it accepts (others ignored)."""
    try:
        cls = OBJECTIVES[name]
    except KeyError:
        raise ValueError(
            f"unknown objective {name!r}; choose one of {', '.join(sorted(OBJECTIVES))}"
        ) from None
    accepted = inspect.signature(cls.__init__).parameters
    kwargs = {k: v for k, v in options.items() if k in accepted and v is not None}
    return cls(**kwargs)


__all__ = ["OBJECTIVES", "DatasetObjective", "Evaluation", "Objective", "make_objective"]

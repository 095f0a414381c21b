"""Learning-rate schedules: the lr each run uses at each iteration.

A schedule is called with the iteration index and the runs' base learning rates (R,) and
returns the learning rates (R,) to use at that iteration. New schedules (step, cosine,
cyclical, 1cycle) only need to implement ``__call__``.
"""

from __future__ import annotations

import numpy as np


class Schedule:
    """Constant learning rate: each run keeps its base lr."""

    name = "constant"

    def __call__(self, iteration: int, base_lrs: np.ndarray) -> np.ndarray:
        return base_lrs


class RangeRamp(Schedule):
    """Leslie Smith's LR range test ramp from ``min_lr`` to ``max_lr`` over ``iterations``.

    ``mode="exp"`` spaces the lrs geometrically (fastai, torch-lr-finder, Lightning);
    ``mode="linear"`` spaces them evenly (Smith's paper). Every run gets the same lr; base lrs
    are ignored.
    """

    name = "range"

    def __init__(self, min_lr: float, max_lr: float, iterations: int, mode: str = "exp"):
        if not (min_lr > 0 and max_lr > min_lr):
            raise ValueError(f"need 0 < min lr < max lr, got {min_lr:g} and {max_lr:g}")
        if iterations < 2:
            raise ValueError(f"a range test needs at least 2 iterations, got {iterations}")
        if mode not in ("exp", "linear"):
            raise ValueError(f"ramp mode must be 'exp' or 'linear', got {mode!r}")
        self.min_lr, self.max_lr, self.iterations, self.mode = min_lr, max_lr, iterations, mode

    def lr_at(self, iteration: int | np.ndarray) -> float | np.ndarray:
        frac = np.minimum(np.asarray(iteration, dtype=np.float64) / (self.iterations - 1), 1.0)
        if self.mode == "exp":
            return self.min_lr * (self.max_lr / self.min_lr) ** frac
        return self.min_lr + (self.max_lr - self.min_lr) * frac

    def __call__(self, iteration: int, base_lrs: np.ndarray) -> np.ndarray:
        return np.full(base_lrs.shape, float(self.lr_at(iteration)))

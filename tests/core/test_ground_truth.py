"""Ground truth: does the suggested lr train well? Checked by actually training.

For a small MLP (lrviz's ``mlp`` objective: 10 inputs, 32 tanh units, 3 classes, 1000 samples,
minibatches of 32) and each optimizer:

1. run a range test with fastai's defaults (100 steps, exponential ramp from 1e-7 to 10,
   stop at 4x the best smoothed loss) and read it with :func:`lrviz.suggest.suggest`;
2. train from the same start at 34 constant lrs from 1e-4 to 30 (six per decade, one
   vectorized :class:`~lrviz.engine.Simulation`, no early stop) for 500 steps, twice with
   different minibatch orders, and take the lr whose full-data loss at the end is lowest on
   average: the best lr for that budget. Runs that end non-finite or above the initial
   loss failed to train;
3. require the suggested lr within 3x of the best lr, and the recommended max lr below the
   smallest lr above the best whose training failed.

Nothing here is tuned to the test: the protocol is fastai's, the seeds were not used while
the suggestion rule was designed, and the best lr comes from training alone.
"""

from __future__ import annotations

import numpy as np
import pytest

from lrviz.engine import Simulation
from lrviz.objectives import make_objective
from lrviz.rangetest import RangeTest
from lrviz.simulation_config import SimulationConfig

BATCH = 32
BUDGET = 500
ORDERS = (0, 1)
LRS = np.geomspace(1e-4, 30.0, 34)


def train_at_constant_lrs(objective, optimizer: str) -> tuple[np.ndarray, np.ndarray]:
    """Mean final full-data loss per lr (inf for a failed run) and the initial loss."""
    with np.errstate(all="ignore"):
        initial = float(objective.loss_only(objective.initial_point()[None])[0])
        finals = []
        for order in ORDERS:
            sim = Simulation(objective, optimizer, LRS, BUDGET, seed=order, divergence_factor=None)
            for _ in sim.run(batch_iterations=BUDGET, batch_seconds=3600.0):
                pass
            final = objective.loss_only(sim.weights)
            finals.append(np.where(np.isfinite(final) & (final < initial), final, np.inf))
        return np.mean(finals, axis=0), initial


def ground_truth(seed: int, optimizer: str) -> dict:
    config = SimulationConfig(objective="mlp", optimizer=optimizer, batch_size=BATCH, seed=seed)
    objective = make_objective("mlp", batch_size=BATCH, seed=seed)
    final, initial = train_at_constant_lrs(objective, optimizer)
    best_index = int(np.argmin(final))
    failed_above = LRS[best_index:][~np.isfinite(final[best_index:])]
    test = RangeTest(config, min_lr=1e-7, max_lr=10.0, iterations=100)
    suggestion = test.run_to_end().suggest()
    return {
        "best_lr": float(LRS[best_index]),
        "best_loss": float(final[best_index]),
        "initial_loss": initial,
        "fails_from": float(failed_above[0]) if failed_above.size else np.inf,
        "suggestion": suggestion,
    }


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@pytest.mark.parametrize("seed", [21, 22])
def test_the_suggested_lr_trains_within_3x_of_the_best_constant_lr(seed, optimizer):
    gt = ground_truth(seed, optimizer)
    s = gt["suggestion"]
    report = (
        f"mlp/{optimizer}/seed {seed}: best lr {gt['best_lr']:.3g} (loss {gt['best_loss']:.3f} "
        f"from {gt['initial_loss']:.3f}), training fails from {gt['fails_from']:.3g}; "
        f"suggested {s.suggested_lr}, range {s.min_lr} .. {s.max_lr}, methods {s.methods}, "
        f"warnings {s.warnings}"
    )
    assert s.suggested_lr is not None, report
    ratio = s.suggested_lr / gt["best_lr"]
    assert 1 / 3 <= ratio <= 3, report
    assert s.max_lr < gt["fails_from"], report
    # The search really found an interior optimum, or the comparison would mean nothing.
    assert LRS[0] < gt["best_lr"] < gt["fails_from"], report

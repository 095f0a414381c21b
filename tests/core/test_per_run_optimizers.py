"""Each run its own optimizer (the "hand-picked λ vs HD vs DoG" comparison, issue 12): every
run trains exactly as it would alone, the λ each used is recorded, and the runs whose λ the
hypergradient guard clipped are named."""

from __future__ import annotations

import numpy as np
import pytest

from lrviz.optimizers import PerRunOptimizers, make_optimizer
from lrviz.run_store import RunStore
from lrviz.simulation_config import SimulationConfig

OPTIMIZERS = ("sgd", "sgd-hd", "dog", "momentum", "sgd-hd", "adam-hd")
LRS = (0.02, 2e-4, 1.0, 0.01, 1e-3, 1e-3)


def config(optimizers=OPTIMIZERS, lrs=LRS, **options):
    base = dict(
        objective="logreg",
        samples=400,
        features=8,
        batch_size=32,
        iterations=150,
        hypergrad_lr=1e-3,
        seed=4,
    )
    base.update(options)
    return SimulationConfig(lrs=np.array(lrs), optimizers=tuple(optimizers), **base)


def streamed(cfg: SimulationConfig):
    simulation = cfg.build()
    batches = list(simulation.run(batch_iterations=11))
    return (
        simulation,
        np.concatenate([b.loss for b in batches]),
        np.concatenate([b.lr for b in batches]),
    )


def test_every_run_trains_as_it_would_alone():
    _sim, loss, lr = streamed(config())
    for run, (name, value) in enumerate(zip(OPTIMIZERS, LRS, strict=True)):
        alone = SimulationConfig(**{**config().__dict__, "optimizers": None})
        alone.optimizer, alone.lrs = name, np.array([value])
        _s, alone_loss, alone_lr = streamed(alone)
        np.testing.assert_allclose(loss[:, run], alone_loss[:, 0], rtol=1e-12, err_msg=name)
        np.testing.assert_allclose(lr[:, run], alone_lr[:, 0], rtol=1e-12, err_msg=name)


def test_the_lr_recorded_is_the_one_each_optimizer_used():
    _sim, _loss, lr = streamed(config())
    np.testing.assert_array_equal(lr[:, 0], 0.02)  # the hand-picked λ stays
    assert np.ptp(lr[:, 1]) > 0 and np.ptp(lr[:, 2]) > 0  # HD and DoG move theirs
    assert lr[0, 2] < 1e-3  # DoG starts from a tiny distance, whatever its multiplier


def test_a_run_diverging_leaves_the_others_as_they_were():
    lrs = (0.02, 2e-4, 1.0, 500.0)
    names = ("sgd", "sgd-hd", "dog", "sgd")
    simulation, loss, _ = streamed(config(names, lrs, batch_size=None))
    assert simulation.diverged_at[3] >= 0 and np.all(simulation.diverged_at[:3] == -1)
    _s, alone, _ = streamed(config(names[:3], lrs[:3], batch_size=None))
    np.testing.assert_allclose(loss[:, :3], alone, rtol=1e-12)


def test_exploding_hypergradient_is_clipped_and_named():
    cfg = SimulationConfig(
        objective="quadratic",
        lrs=np.array([0.01, 1e-3, 1e-3]),
        optimizers=("sgd", "sgd-hd", "sgd-hd"),
        hypergrad_lr=50.0,  # far too high: λ shoots past its ceiling (1e4 λ₀), then below 0
        iterations=60,
        divergence_factor=None,
    )
    simulation = cfg.build()
    store = RunStore(cfg.lrs, cfg.iterations, names=cfg.run_names())
    for batch in simulation.run(batch_iterations=7):
        store.append(batch)
        assert batch.lr_clips.shape == (3, 2)
    assert store.lr_clips[0].tolist() == [0, 0]
    assert store.lr_clips[1:, 1].min() > 0
    lines = store.clipped_runs()
    assert len(lines) == 2 and lines[0].startswith("sgd-hd, λ₀ = 1e-3: λ raised to its floor")
    assert "times and cut to its ceiling" in lines[0]
    np.testing.assert_array_less(store.lr[:, 1], 1e-3 * 1e4 * (1 + 1e-12))


def test_run_names():
    assert config().run_names() == [
        "sgd, λ = 0.02",
        "sgd-hd, λ₀ = 2e-4",
        "dog",
        "momentum, λ = 0.01",
        "sgd-hd, λ₀ = 1e-3",
        "adam-hd, λ₀ = 1e-3",
    ]
    assert SimulationConfig(lrs=np.array([0.1, 3e-3])).run_names() == ["λ = 0.1", "λ = 3e-3"]


def test_one_optimizer_per_run_or_a_clear_error():
    with pytest.raises(ValueError, match="2 optimizers for 3 learning rates"):
        config(("sgd", "dog"), (0.1, 0.2, 0.3)).build()
    with pytest.raises(ValueError, match="give one per run"):
        make_optimizer(["sgd"], 2, 3)
    assert isinstance(make_optimizer(["sgd", "dog"], 2, 3), PerRunOptimizers)

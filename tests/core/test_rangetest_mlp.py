"""The ``mlp`` objective the range test and the ground-truth test train."""

from __future__ import annotations

import numpy as np
import pytest

from lrviz.objectives import OBJECTIVES, make_objective
from lrviz.objectives.mlp import MLP


@pytest.fixture(scope="module")
def small() -> MLP:
    return make_objective("mlp", samples=60, features=4, hidden=5, classes=3, seed=2)


def test_registered_and_sized(small):
    assert OBJECTIVES["mlp"] is MLP
    assert small.dim == 4 * 5 + 5 + 5 * 3 + 3
    assert small.has_accuracy and not small.stochastic
    assert make_objective("mlp", batch_size=16).stochastic


def test_gradient_matches_finite_differences(small):
    rng = np.random.default_rng(0)
    w = small.initial_point()[None] + 0.3 * rng.standard_normal((2, small.dim))
    grad = small.evaluate(w).grad
    eps = 1e-6
    numeric = np.empty_like(w)
    for j in range(small.dim):
        step = np.zeros(small.dim)
        step[j] = eps
        numeric[:, j] = (small.evaluate(w + step).loss - small.evaluate(w - step).loss) / (2 * eps)
    np.testing.assert_allclose(grad, numeric, atol=1e-7)


def test_runs_are_independent_rows(small):
    rng = np.random.default_rng(1)
    w = small.initial_point()[None] + 0.5 * rng.standard_normal((4, small.dim))
    together = small.evaluate(w, np.arange(10))
    for r in range(4):
        alone = small.evaluate(w[r : r + 1], np.arange(10))
        assert together.loss[r] == pytest.approx(alone.loss[0], rel=1e-12)
        np.testing.assert_allclose(together.grad[r], alone.grad[0], rtol=1e-12, atol=1e-15)
        assert together.accuracy[r] == alone.accuracy[0]


def test_starts_at_chance_level_and_can_learn(small):
    start = small.evaluate(small.initial_point()[None])
    assert start.loss[0] == pytest.approx(np.log(3), rel=0.3)
    w = small.initial_point()[None]
    for _ in range(300):
        w = w - 0.5 * small.evaluate(w).grad
    end = small.evaluate(w)
    assert end.loss[0] < 0.6 * start.loss[0] and end.accuracy[0] > start.accuracy[0]


def test_the_dataset_and_start_are_seeded():
    a, b = make_objective("mlp", seed=4), make_objective("mlp", seed=4)
    np.testing.assert_array_equal(a.x, b.x)
    np.testing.assert_array_equal(a.initial_point(), b.initial_point())
    assert not np.array_equal(a.x, make_objective("mlp", seed=5).x)
    assert np.all(np.bincount(a.y, minlength=3) > 200)  # roughly balanced classes


def test_minibatches_cover_each_epoch_once():
    objective = make_objective("mlp", samples=100, batch_size=30)
    batches = objective.batches(np.random.default_rng(0))
    epoch = np.concatenate([next(batches) for _ in range(3)])
    assert epoch.size == 90 and np.unique(epoch).size == 90


def test_huge_weights_give_non_finite_losses_without_warnings(small):
    with np.errstate(all="raise"), pytest.raises(FloatingPointError):
        small.evaluate(np.full((1, small.dim), 1e308))
    with np.errstate(all="ignore"):
        loss = small.evaluate(np.full((1, small.dim), 1e308)).loss
    assert not np.isfinite(loss[0]) or loss[0] > 1e6


@pytest.mark.parametrize(
    "options",
    [{"classes": 1}, {"hidden": 0}, {"batch_size": 0}, {"samples": 0}],
)
def test_bad_options_raise_value_error(options):
    with pytest.raises(ValueError):
        MLP(**options)

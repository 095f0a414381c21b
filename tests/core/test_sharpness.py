"""Sharpness (the top Hessian eigenvalue) by power iteration on Hessian-vector products.

Checked where the answer is known without the code under test: the quadratic (sharpness L
everywhere), logistic regression (Hessian Xᵀ diag(p(1 − p)) X / n in closed form), a saddle,
and the MLP (its Hessian from torch autograd when torch is installed, else dense finite
differences).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lrviz.objectives.logreg import LogisticRegression
from lrviz.objectives.mlp import MLP
from lrviz.objectives.quadratic import Quadratic
from lrviz.sharpness import (
    SharpnessTracker,
    objective_gradient,
    stability_limit,
    top_hessian_eigenvalue,
)


@settings(max_examples=30, deadline=None)
@given(
    dim=st.integers(1, 8),
    curvature=st.floats(1e-2, 1e4),
    condition=st.one_of(st.just(1.0), st.floats(10.0, 1e4)),
    scale=st.sampled_from([1e-3, 1.0, 100.0]),
    seed=st.integers(0, 100),
)
def test_on_the_quadratic_the_sharpness_is_L_everywhere(dim, curvature, condition, scale, seed):
    problem = Quadratic(dim=dim, curvature=curvature, condition=condition, seed=seed)
    weights = np.random.default_rng(seed).standard_normal((4, dim)) * scale
    estimate = top_hessian_eigenvalue(objective_gradient(problem), weights, max_iterations=300)
    assert estimate.converged.all()
    # finite differences are exact on a quadratic up to rounding (~1e-11 relative)
    np.testing.assert_allclose(estimate.value, curvature, rtol=1e-8)
    # the vector is the top eigenvector: A v = L v
    residual = estimate.vector @ problem.matrix - curvature * estimate.vector
    assert np.all(np.linalg.norm(residual, axis=1) <= 1e-4 * curvature)


def test_exact_hessian_vector_products_give_L_too():
    problem = Quadratic(dim=6, curvature=7.5, condition=50.0, seed=2)
    weights = np.zeros((3, 6))
    estimate = top_hessian_eigenvalue(None, weights, hvp=lambda w, v: v @ problem.matrix)
    np.testing.assert_allclose(estimate.value, 7.5, rtol=1e-9)


def test_a_slow_gap_is_reported_as_not_converged():
    """Power iteration converges like (λ2/λ1)^k: with 50 eigenvalues between 0.37 and 3.7
    (λ2/λ1 = 0.954) 20 products are not enough, and the estimate says so."""
    problem = Quadratic(dim=50, curvature=3.7, condition=10.0)
    estimate = top_hessian_eigenvalue(
        objective_gradient(problem), np.ones((1, 50)), max_iterations=20
    )
    assert not estimate.converged[0]
    assert estimate.iterations[0] == 20
    assert estimate.value[0] < 3.7  # a Rayleigh quotient is never above the top eigenvalue


def test_logistic_regression_matches_its_closed_form_hessian():
    problem = LogisticRegression(samples=300, features=6, seed=4)
    weights = np.random.default_rng(2).standard_normal((3, problem.dim)) * 0.3
    estimate = top_hessian_eigenvalue(objective_gradient(problem), weights, max_iterations=500)
    assert estimate.converged.all()
    for run in range(3):
        z = problem.x @ weights[run]
        p = 1.0 / (1.0 + np.exp(-z))
        hessian = (problem.x.T * (p * (1.0 - p))) @ problem.x / problem.x.shape[0]
        assert estimate.value[run] == pytest.approx(np.linalg.eigvalsh(hessian).max(), rel=1e-7)


def test_a_dominant_negative_eigenvalue_does_not_hide_the_top_one():
    # f = ½ wᵀ H w with eigenvalues 3 and −5, rotated: power iteration alone would give −5
    rotation = np.linalg.qr(np.random.default_rng(0).standard_normal((2, 2)))[0]
    hessian = rotation @ np.diag([3.0, -5.0]) @ rotation.T
    weights = np.random.default_rng(1).standard_normal((4, 2))
    estimate = top_hessian_eigenvalue(lambda w: w @ hessian, weights)
    np.testing.assert_allclose(estimate.value, 3.0, rtol=1e-8)
    # all negative: the top eigenvalue is the least negative one
    estimate = top_hessian_eigenvalue(lambda w: w @ (-np.diag([1.0, 4.0])), weights)
    np.testing.assert_allclose(estimate.value, -1.0, rtol=1e-8)


def small_mlp():
    problem = MLP(samples=100, features=3, hidden=4, classes=3, seed=5)
    weights = problem.initial_point()[None] + (
        np.random.default_rng(3).standard_normal((3, problem.dim)) * 0.5
    )
    return problem, weights


def test_mlp_matches_a_dense_finite_difference_hessian():
    problem, weights = small_mlp()
    gradient = objective_gradient(problem)
    estimate = top_hessian_eigenvalue(gradient, weights, max_iterations=2000)
    assert estimate.converged.all()
    for run in range(3):
        columns = []
        for j in range(problem.dim):
            e = np.zeros(problem.dim)
            e[j] = 1e-5
            columns.append(
                (gradient((weights[run] + e)[None]) - gradient((weights[run] - e)[None]))[0] / 2e-5
            )
        hessian = np.array(columns).T
        eigenvalues = np.linalg.eigvalsh((hessian + hessian.T) / 2)
        assert eigenvalues.min() < 0  # not convex: the shift is being exercised
        assert estimate.value[run] == pytest.approx(eigenvalues.max(), rel=1e-6)


def test_mlp_matches_torch_autograd_hessian():
    torch = pytest.importorskip("torch")
    problem, weights = small_mlp()
    x = torch.tensor(problem.x, dtype=torch.float64)
    y = torch.tensor(problem.y)
    f, h, c = problem.features, problem.hidden, problem.classes

    def loss(flat):
        w1 = flat[: f * h].reshape(f, h)
        b1 = flat[f * h : f * h + h]
        w2 = flat[f * h + h : f * h + h + h * c].reshape(h, c)
        b2 = flat[f * h + h + h * c :]
        logits = torch.tanh(x @ w1 + b1) @ w2 + b2
        return torch.nn.functional.cross_entropy(logits, y)

    estimate = top_hessian_eigenvalue(objective_gradient(problem), weights, max_iterations=2000)
    for run in range(3):
        flat = torch.tensor(weights[run], dtype=torch.float64)
        assert float(loss(flat)) == pytest.approx(problem.evaluate(weights[run : run + 1]).loss[0])
        hessian = torch.autograd.functional.hessian(loss, flat).numpy()
        top = np.linalg.eigvalsh(hessian).max()
        assert estimate.value[run] == pytest.approx(top, rel=1e-6)


def test_the_tracker_warm_starts_and_keeps_history():
    problem = LogisticRegression(samples=300, features=6, seed=4)
    gradient = objective_gradient(problem)
    tracker = SharpnessTracker(runs=3, dim=problem.dim, every=10, max_iterations=200, tol=1e-8)
    assert [t for t in range(35) if tracker.due(t)] == [0, 10, 20, 30]
    weights = np.random.default_rng(2).standard_normal((3, problem.dim)) * 0.3
    cold = tracker.measure(0, gradient, weights)
    nearby = weights + 1e-3
    warm = tracker.measure(10, gradient, nearby)
    assert np.all(warm.iterations < cold.iterations)
    fresh = top_hessian_eigenvalue(gradient, nearby, max_iterations=200, tol=1e-8)
    np.testing.assert_allclose(warm.value, fresh.value, rtol=1e-6)
    # a subset of runs (the others diverged): their rows only
    part = tracker.measure(20, gradient, nearby[[0, 2]], rows=[0, 2])
    np.testing.assert_allclose(part.value, fresh.value[[0, 2]], rtol=1e-6)
    assert [(t, rows.tolist()) for t, rows, _ in tracker.history] == [
        (0, [0, 1, 2]),
        (10, [0, 1, 2]),
        (20, [0, 2]),
    ]


def test_stability_limit():
    np.testing.assert_allclose(stability_limit([0.1, 0.02]), [20.0, 100.0])


def test_bad_input():
    with pytest.raises(ValueError, match="gradient or a Hessian"):
        top_hessian_eigenvalue(None, np.zeros((1, 2)))
    with pytest.raises(ValueError, match="must not be zero"):
        top_hessian_eigenvalue(lambda w: w, np.zeros((1, 2)), start=np.zeros((1, 2)))
    with pytest.raises(ValueError, match="interval"):
        SharpnessTracker(1, 2, every=0)

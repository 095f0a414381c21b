"""Objectives: analytic gradients against central finite differences, and their contracts."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lrviz.objectives import OBJECTIVES, make_objective
from lrviz.objectives.logreg import LogisticRegression
from lrviz.objectives.quadratic import Quadratic
from lrviz.objectives.rosenbrock import Rosenbrock

FD = settings(max_examples=40, deadline=None)


# 1e-5: at 1e-4, Rastrigin's third derivative (up to 2,500) made the differences' own error
# 4e-6, more than the tolerance.
def central_differences(objective, point: np.ndarray, batch=None, rel_step: float = 1e-5):
    """Central finite differences of the loss at ``point`` (dim,), all 2*dim evaluations in one
    vectorized call (which also exercises evaluating many rows at once)."""
    dim = point.size
    steps = rel_step * np.maximum(1.0, np.abs(point))
    shifts = np.diag(steps)
    rows = np.vstack([point + shifts, point - shifts])
    loss = objective.evaluate(rows, batch).loss
    return (loss[:dim] - loss[dim:]) / (2.0 * steps)


def assert_gradient_matches(objective, point, batch=None):
    evaluation = objective.evaluate(point[None, :], batch)
    analytic = evaluation.grad[0]
    numeric = central_differences(objective, point, batch)
    scale = max(1.0, float(np.abs(analytic).max()))
    np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-6 * scale)


def coordinates(dim: int, bound: float):
    return st.lists(
        st.floats(-bound, bound, allow_nan=False, allow_infinity=False),
        min_size=dim,
        max_size=dim,
    ).map(np.array)


@FD
@given(
    data=st.data(),
    dim=st.integers(1, 12),
    curvature=st.floats(0.1, 100.0),
    condition=st.floats(1.0, 1000.0),
    seed=st.integers(0, 2**16),
)
def test_quadratic_gradient_matches_finite_differences(data, dim, curvature, condition, seed):
    objective = Quadratic(dim=dim, curvature=curvature, condition=condition, seed=seed)
    point = data.draw(coordinates(dim, 10.0))
    assert_gradient_matches(objective, point)


@FD
@given(
    point=coordinates(2, 2.5),
    a=st.floats(-2.0, 2.0),
    b=st.floats(0.5, 200.0),
)
def test_rosenbrock_gradient_matches_finite_differences(point, a, b):
    assert_gradient_matches(Rosenbrock(a=a, b=b), point)


@pytest.fixture(scope="module")
def logreg():
    return LogisticRegression(samples=200, features=6, seed=3)


@FD
@given(data=st.data(), minibatch=st.booleans())
def test_logreg_gradient_matches_finite_differences(logreg, data, minibatch):
    point = data.draw(coordinates(logreg.dim, 1.0))
    batch = None
    if minibatch:
        size = data.draw(st.integers(1, 50))
        batch = np.array(data.draw(st.lists(st.integers(0, 199), min_size=size, max_size=size)))
    assert_gradient_matches(logreg, point, batch)


def test_rosenbrock_value_and_gradient_by_hand():
    # f = (1 - x)^2 + 100 (y - x^2)^2 at the classic start (-1.2, 1):
    # (2.2)^2 + 100 (1 - 1.44)^2 = 4.84 + 19.36 = 24.2
    # df/dx = -2 (1 - x) - 400 x (y - x^2) = -4.4 - 400 (-1.2)(-0.44) = -215.6
    # df/dy = 200 (y - x^2) = -88
    objective = Rosenbrock()
    evaluation = objective.evaluate(objective.initial_point()[None, :])
    assert evaluation.loss[0] == pytest.approx(24.2, rel=1e-14)
    np.testing.assert_allclose(evaluation.grad[0], [-215.6, -88.0], rtol=1e-14)
    assert objective.evaluate(np.array([[1.0, 1.0]])).loss[0] == 0.0


def test_logreg_loss_and_accuracy_match_the_textbook_formulas(logreg):
    rng = np.random.default_rng(0)
    weights = rng.normal(scale=0.05, size=(3, logreg.dim))
    evaluation = logreg.evaluate(weights)
    for r in range(3):
        z = logreg.x @ weights[r]
        p = 1.0 / (1.0 + np.exp(-z))
        expected = -np.mean(logreg.y * np.log(p) + (1 - logreg.y) * np.log(1 - p))
        assert evaluation.loss[r] == pytest.approx(expected, rel=1e-12)
        predicted = (z > 0).astype(float)
        assert evaluation.accuracy[r] == pytest.approx(np.mean(predicted == logreg.y))


def test_logreg_is_finite_far_from_the_origin(logreg):
    weights = np.full((2, logreg.dim), 1e6)
    weights[1] *= -1
    evaluation = logreg.evaluate(weights)
    assert np.all(np.isfinite(evaluation.loss)) and np.all(np.isfinite(evaluation.grad))
    assert np.all(evaluation.loss > 0)


@pytest.mark.parametrize("dim", [1, 2, 7, 30])
@pytest.mark.parametrize("condition", [1.0, 10.0, 1000.0])
def test_quadratic_has_the_requested_curvature_and_condition(dim, condition):
    q = Quadratic(dim=dim, curvature=7.5, condition=condition, seed=dim)
    eigenvalues = np.linalg.eigvalsh(q.matrix)
    # The largest eigenvalue is L whatever the dimension: 2/L is the GD stability limit.
    assert eigenvalues.max() == pytest.approx(7.5, rel=1e-12)
    if dim > 1:
        assert eigenvalues.min() == pytest.approx(7.5 / condition, rel=1e-9)
    np.testing.assert_allclose(q.matrix, q.matrix.T, rtol=0, atol=0)
    assert np.linalg.norm(q.initial_point()) == pytest.approx(np.sqrt(dim))


@pytest.mark.parametrize(
    "options",
    [
        {"dim": 0},
        {"curvature": 0.0},
        {"curvature": -1.0},
        {"curvature": float("nan")},
        {"curvature": float("inf")},
        {"condition": 0.5},
        {"condition": float("nan")},
        {"condition": float("inf")},
    ],
)
def test_quadratic_rejects_bad_parameters_with_a_named_message(options):
    with pytest.raises(ValueError, match=f"--{next(iter(options))}"):
        Quadratic(**options)


def test_logreg_minibatches_are_seeded_epoch_permutations():
    objective = LogisticRegression(samples=100, features=3, batch_size=30)
    assert objective.stochastic and objective.has_accuracy
    stream = objective.batches(np.random.default_rng(5))
    epochs = [[next(stream) for _ in range(3)] for _ in range(2)]  # 100 // 30 = 3 per epoch
    for epoch in epochs:
        assert all(b.shape == (30,) for b in epoch)
        seen = np.concatenate(epoch)
        assert np.unique(seen).size == 90  # no sample twice within an epoch
    again = objective.batches(np.random.default_rng(5))
    for b in [b for epoch in epochs for b in epoch]:
        np.testing.assert_array_equal(next(again), b)
    other = objective.batches(np.random.default_rng(6))
    assert not np.array_equal(next(other), epochs[0][0])


def test_full_batch_objectives_yield_none():
    for objective in (Quadratic(), Rosenbrock(), LogisticRegression(samples=50, batch_size=50)):
        stream = objective.batches(np.random.default_rng(0))
        assert [next(stream) for _ in range(3)] == [None, None, None]
        assert not objective.stochastic


def test_make_objective_ignores_foreign_options_and_names_the_choices():
    q = make_objective("quadratic", dim=3, curvature=2.0, features=99, batch_size=None)
    assert isinstance(q, Quadratic) and q.dim == 3 and q.curvature == 2.0
    assert isinstance(make_objective("rosenbrock", dim=50), Rosenbrock)
    with pytest.raises(ValueError, match=r"unknown objective 'nope'.*logreg.*quadratic"):
        make_objective("nope")
    assert {"quadratic", "rosenbrock", "logreg"} <= set(OBJECTIVES)


# Small options every registered objective picks from (others are ignored by make_objective).
SMALL = {"dim": 4, "samples": 60, "features": 3, "hidden": 4, "classes": 3, "seed": 1}


@pytest.mark.parametrize("name", sorted(OBJECTIVES))
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_every_registered_objective_has_a_correct_gradient(name, data):
    """Covers objectives added later too: near the start, where runs spend their time."""
    objective = make_objective(name, **SMALL)
    start = objective.initial_point()
    offset = data.draw(coordinates(objective.dim, 0.5))
    assert_gradient_matches(objective, start + offset)


@pytest.mark.parametrize("name", sorted(OBJECTIVES))
def test_evaluating_into_a_reused_workspace_gives_what_evaluate_gives(name):
    """The engine evaluates every step into the same workspace; nothing of one call may leak
    into the next, and the numbers must be evaluate()'s exactly."""
    objective = make_objective(name, **SMALL)
    rng = np.random.default_rng(3)
    start = objective.initial_point()
    points = [start + rng.normal(scale=s, size=(5, objective.dim)) for s in (0.1, 3.0, 0.01)]
    batch = next(objective.batches(np.random.default_rng(0)))
    workspace = objective.workspace(5)
    for weights in points:
        expected = objective.evaluate(weights, batch)
        got = objective.evaluate_into(weights, batch, workspace)
        np.testing.assert_array_equal(got.loss, expected.loss)
        np.testing.assert_array_equal(got.grad, expected.grad)
        if expected.accuracy is not None:
            np.testing.assert_array_equal(got.accuracy, expected.accuracy)


def extreme_rows(dim: int) -> np.ndarray:
    rng = np.random.default_rng(11)
    rows = rng.normal(size=(64, dim)) * 10.0 ** rng.integers(-200, 200, size=(64, 1))
    return np.vstack([rows, np.full((1, dim), np.inf), np.full((1, dim), np.nan)])


def test_in_place_rosenbrock_is_bit_identical_to_its_formula():
    objective = Rosenbrock(a=1.5, b=30.0)
    w = extreme_rows(2)
    x, y = w[:, 0], w[:, 1]
    with np.errstate(all="ignore"):
        got = objective.evaluate(w)
        dx = objective.a - x
        ravine = y - x * x
        loss = dx * dx + objective.b * ravine * ravine
        grad_x = -2.0 * dx - 4.0 * objective.b * x * ravine
        grad_y = 2.0 * objective.b * ravine
    np.testing.assert_array_equal(got.loss, loss)
    np.testing.assert_array_equal(got.grad, np.stack([grad_x, grad_y], axis=1))


def test_in_place_quadratic_is_bit_identical_to_its_formula():
    objective = Quadratic(dim=7, curvature=3.0, condition=40.0, seed=2)
    w = extreme_rows(7)
    with np.errstate(all="ignore"):
        got = objective.evaluate(w)
        grad = w @ objective.matrix
        loss = 0.5 * np.einsum("rd,rd->r", grad, w)
    np.testing.assert_array_equal(got.grad, grad)
    np.testing.assert_array_equal(got.loss, loss)

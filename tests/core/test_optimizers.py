"""Optimizer maths against steps worked out by hand from torch.optim's documented algorithms.

The references below are scalar transcriptions of the pseudo-code in the docs of
``torch.optim.SGD`` and ``torch.optim.Adam`` (no numpy, no shared code with lrviz):

SGD, weight decay λ, momentum μ, dampening 0::

    g = ∇f(θ) + λθ
    b = g              at the first step,  μ b + g  afterwards
    g = g + μ b        if nesterov, else b
    θ = θ - γ g

Adam::

    g = ∇f(θ) + λθ
    m = β1 m + (1 - β1) g ;  v = β2 v + (1 - β2) g²
    θ = θ - γ (m / (1 - β1^t)) / (sqrt(v / (1 - β2^t)) + ε)
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from lrviz.engine import Simulation
from lrviz.objectives.quadratic import Quadratic
from lrviz.optimizers import OPTIMIZERS, Adam, Momentum, Optimizer, make_optimizer


def half_square_grad(w: np.ndarray) -> np.ndarray:
    """Gradient of f(w) = 0.5 * |w|^2 (each coordinate: g = w)."""
    return w.copy()


def run_optimizer(name, lrs, start, steps, **options):
    """Take ``steps`` steps of f = 0.5 |w|^2 from ``start`` for every lr; (steps + 1, R, dim)."""
    lrs = np.asarray(lrs, dtype=float)
    w = np.tile(np.asarray(start, dtype=float), (lrs.size, 1))
    optimizer = make_optimizer(name, lrs.size, w.shape[1], **options)
    path = [w.copy()]
    for _ in range(steps):
        optimizer.update(w, half_square_grad(w), lrs, None)
        path.append(w.copy())
    return np.array(path)


# --- literal numbers (all exact binary fractions, so equality is exact) -------------------


def test_sgd_literal_steps():
    # f = w²/2, γ = 0.5, w0 = 1: w <- w - 0.5 w = w / 2
    path = run_optimizer("sgd", [0.5], [1.0], 3)
    assert path[:, 0, 0].tolist() == [1.0, 0.5, 0.25, 0.125]


def test_sgd_weight_decay_literal_steps():
    # g = w + 0.5 w = 1.5 w, γ = 0.5: w <- w - 0.75 w = w / 4
    path = run_optimizer("sgd", [0.5], [1.0], 3, weight_decay=0.5)
    assert path[:, 0, 0].tolist() == [1.0, 0.25, 0.0625, 0.015625]


def test_momentum_literal_steps():
    # μ = 0.5, γ = 0.5, w0 = 1
    # t=1: g = 1,   b = 1,               w = 1 - 0.5   = 0.5
    # t=2: g = 0.5, b = 0.5 + 0.5 = 1,   w = 0.5 - 0.5 = 0
    # t=3: g = 0,   b = 0.5 + 0 = 0.5,   w = 0 - 0.25  = -0.25
    path = run_optimizer("momentum", [0.5], [1.0], 3, momentum=0.5)
    assert path[:, 0, 0].tolist() == [1.0, 0.5, 0.0, -0.25]


def test_nesterov_literal_steps():
    # μ = 0.5, γ = 0.5, w0 = 1
    # t=1: g = 1,       b = 1,                    d = 1 + 0.5       = 1.5,     w = 0.25
    # t=2: g = 0.25,    b = 0.5 + 0.25 = 0.75,    d = 0.25 + 0.375  = 0.625,   w = -0.0625
    # t=3: g = -0.0625, b = 0.375 - 0.0625 = 0.3125, d = -0.0625 + 0.15625 = 0.09375,
    #      w = -0.0625 - 0.046875 = -0.109375
    path = run_optimizer("nesterov", [0.5], [1.0], 3, momentum=0.5)
    assert path[:, 0, 0].tolist() == [1.0, 0.25, -0.0625, -0.109375]


def test_adam_first_step_is_lr_times_the_sign():
    # t=1: m̂ = g, v̂ = g², so the step is γ g / (|g| + ε) ≈ γ sign(g) whatever |g| is.
    path = run_optimizer("adam", [0.1], [3.0, -0.002], 1)
    np.testing.assert_allclose(path[1, 0], [2.9, 0.098], rtol=0, atol=1e-6)


# --- scalar references over a few steps, several runs with different lrs ---------------


def sgd_reference(lr, w0, steps, momentum=0.0, nesterov=False, weight_decay=0.0):
    w, b, out = w0, None, [w0]
    for _ in range(steps):
        g = w + weight_decay * w  # ∇(w²/2) = w
        if momentum:
            b = g if b is None else momentum * b + g
            g = g + momentum * b if nesterov else b
        w = w - lr * g
        out.append(w)
    return out


def adam_reference(lr, w0, steps, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0):
    w, m, v, out = w0, 0.0, 0.0, [w0]
    for t in range(1, steps + 1):
        g = w + weight_decay * w
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        # torch's own arrangement: step size γ / (1 - β1^t), denominator sqrt(v)/sqrt(1 - β2^t) + ε
        step_size = lr / (1 - beta1**t)
        denom = math.sqrt(v) / math.sqrt(1 - beta2**t) + eps
        w = w - step_size * m / denom
        out.append(w)
    return out


LRS = [0.01, 0.3, 1.7]
START = [1.5, -0.25, 4.0]


@pytest.mark.parametrize(
    ("name", "options", "reference"),
    [
        ("sgd", {}, lambda lr, w: sgd_reference(lr, w, 3)),
        ("momentum", {"momentum": 0.9}, lambda lr, w: sgd_reference(lr, w, 3, momentum=0.9)),
        (
            "nesterov",
            {"momentum": 0.8},
            lambda lr, w: sgd_reference(lr, w, 3, momentum=0.8, nesterov=True),
        ),
        (
            "momentum",
            {"momentum": 0.5, "weight_decay": 0.1},
            lambda lr, w: sgd_reference(lr, w, 3, momentum=0.5, weight_decay=0.1),
        ),
        ("adam", {}, lambda lr, w: adam_reference(lr, w, 3)),
        (
            "adam",
            {"beta1": 0.5, "beta2": 0.75, "eps": 1e-3, "weight_decay": 0.2},
            lambda lr, w: adam_reference(
                lr, w, 3, beta1=0.5, beta2=0.75, eps=1e-3, weight_decay=0.2
            ),
        ),
    ],
)
def test_three_steps_match_the_torch_algorithm(name, options, reference):
    path = run_optimizer(name, LRS, START, 3, **options)
    for r, lr in enumerate(LRS):
        for d, w0 in enumerate(START):
            expected = reference(lr, w0)
            np.testing.assert_allclose(path[:, r, d], expected, rtol=1e-13, atol=1e-15)


def test_engine_applies_the_optimizer_to_the_objective_gradient():
    """End to end through Simulation: f = w²/2 in 1-D (curvature 1), Nesterov μ = 0.5."""
    objective = Quadratic(dim=1, curvature=1.0, condition=5.0, seed=0)
    w0 = objective.initial_point()[0]
    assert abs(w0) == 1.0
    lrs = [0.5, 0.125]
    sim = Simulation(
        objective, "nesterov", lrs, 3, optimizer_options={"momentum": 0.5}, record_weights=True
    )
    batches = list(sim.run(batch_iterations=10, batch_seconds=60))
    weights = np.concatenate([b.weights for b in batches])[:, :, 0]
    loss = np.concatenate([b.loss for b in batches])
    for r, lr in enumerate(lrs):
        expected = sgd_reference(lr, w0, 3, momentum=0.5, nesterov=True)
        np.testing.assert_allclose(weights[:, r], expected[:3], rtol=1e-15)
        np.testing.assert_allclose(sim.weights[r, 0], expected[3], rtol=1e-15)
        np.testing.assert_allclose(loss[:, r], [0.5 * w * w for w in expected[:3]], rtol=1e-15)


def test_state_is_per_row_and_the_live_mask_limits_the_update():
    """A step with a live mask must leave the other rows' weights and momentum/moments
    untouched, and the live rows must step exactly as without a mask."""
    for name, fields in (
        ("sgd", ()),
        ("momentum", ("buffer",)),
        ("nesterov", ("buffer",)),
        ("adam", ("m", "v")),
    ):
        masked, unmasked = make_optimizer(name, 3, 2), make_optimizer(name, 3, 2)
        w = np.array([[1.0, -2.0], [0.5, 3.0], [-1.5, 0.25]])
        w_masked, w_unmasked = w.copy(), w.copy()
        for opt, weights in ((masked, w_masked), (unmasked, w_unmasked)):
            opt.update(weights, weights.copy(), np.full(3, 0.1), None)
        before = {f: getattr(masked, f).copy() for f in fields}
        frozen_weights = w_masked[1].copy()
        live = np.array([True, False, True])
        masked.update(w_masked, w_masked.copy(), np.full(3, 0.1), live)
        unmasked.update(w_unmasked, w_unmasked.copy(), np.full(3, 0.1), None)
        assert w_masked[1].tolist() == frozen_weights.tolist(), name
        np.testing.assert_array_equal(w_masked[[0, 2]], w_unmasked[[0, 2]])
        for f in fields:
            after = getattr(masked, f)
            np.testing.assert_array_equal(before[f][1], after[1])
            np.testing.assert_array_equal(after[[0, 2]], getattr(unmasked, f)[[0, 2]])


def test_keep_shrinks_the_state_to_the_rows_kept():
    for name in ("momentum", "adam"):
        full, kept = make_optimizer(name, 3, 2), make_optimizer(name, 3, 2)
        w = np.array([[1.0, -2.0], [0.5, 3.0], [-1.5, 0.25]])
        w_full, w_kept = w.copy(), w.copy()
        full.update(w_full, w_full.copy(), np.full(3, 0.1), None)
        kept.update(w_kept, w_kept.copy(), np.full(3, 0.1), None)
        kept.keep(np.array([True, False, True]))
        w_kept = w_kept[[0, 2]]
        full.update(w_full, w_full.copy(), np.full(3, 0.1), None)
        kept.update(w_kept, w_kept.copy(), np.full(2, 0.1), None)
        np.testing.assert_array_equal(w_kept, w_full[[0, 2]])


def test_update_does_not_modify_the_gradient():
    for name in OPTIMIZERS:
        opt = make_optimizer(name, 2, 3, weight_decay=0.1)
        w, grad = np.ones((2, 3)), np.full((2, 3), 0.5)
        opt.update(w, grad, np.full(2, 0.1), None)
        assert (grad == 0.5).all(), name


def test_make_optimizer_kinds_defaults_and_errors():
    assert type(make_optimizer("sgd", 2, 3)) is Optimizer
    momentum = make_optimizer("momentum", 2, 3)
    assert isinstance(momentum, Momentum) and momentum.momentum == 0.9 and not momentum.nesterov
    assert make_optimizer("nesterov", 2, 3, momentum=0.5).nesterov
    adam = make_optimizer("adam", 2, 3, momentum=0.3, beta1=None)
    assert isinstance(adam, Adam) and (adam.beta1, adam.beta2, adam.eps) == (0.9, 0.999, 1e-8)
    # the adaptive-lambda optimizers (lrviz.adaptive_lr) join these; their tests are their own
    assert {"sgd", "momentum", "nesterov", "adam"} <= set(OPTIMIZERS)
    with pytest.raises(ValueError, match="unknown optimizer 'lion'"):
        make_optimizer("lion", 1, 1)
    with pytest.raises(ValueError, match="--momentum"):
        make_optimizer("momentum", 1, 1, momentum=1.0)
    with pytest.raises(ValueError, match="--beta2"):
        make_optimizer("adam", 1, 1, beta2=1.0)

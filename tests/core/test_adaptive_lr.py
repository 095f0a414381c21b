"""Hypergradient descent and DoG against steps worked out by hand.

The references are scalar transcriptions (plain Python lists, no numpy, no lrviz code) of:

SGD-HD / SGDN-HD (Baydin et al. 2018; the authors' ``SGDHD``, dampening 0)::

    g = ∇f(w) + δ w
    λ = λ + β g·u            (u: previous direction, 0 at the first step)
    b = g (first step), μ b + g (after);  u = g (no momentum), b, or g + μ b (Nesterov)
    w = w − λ u

Adam-HD (the paper's algorithm)::

    λ = λ + β g·u ;  m, v, t as Adam ;  u = m̂ / (√v̂ + ε) ;  w = w − λ u

DoG (Ivgi et al. 2023; the authors' ``DoG``)::

    r̄ = reps_rel (1 + |x0|) at the first step, max(r̄, |x − x0|) after
    G = |g|² + ε at the first step, G + |g|² after ;  η = c r̄ / √G ;  x = x − η g
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from lrviz.adaptive_lr import (
    ADAPTIVE_OPTIMIZERS,
    CLIPPED_HIGH,
    CLIPPED_LOW,
    HYPERGRADIENT_DEFAULTS,
    HYPERGRADIENT_PRESETS,
    SGDHD,
    AdamHD,
    DoG,
    make_adaptive_optimizer,
)
from lrviz.objectives.logreg import LogisticRegression
from lrviz.objectives.quadratic import Quadratic
from lrviz.optimizers import make_optimizer

# A fixed, non-diagonal quadratic f(w) = ½ wᵀAw + cᵀw in 3-D for the transcriptions.
A = [[3.0, 0.5, -0.2], [0.5, 1.0, 0.3], [-0.2, 0.3, 0.5]]
C = [0.4, -1.0, 0.25]


def ref_grad(w):
    return [sum(A[i][j] * w[j] for j in range(3)) + C[i] for i in range(3)]


def vec_grad(w):
    return w @ np.array(A) + np.array(C)


def dot(a, b):
    return sum(x * y for x, y in zip(a, b, strict=True))


def ref_sgd_hd(w, lr, beta, steps, momentum=0.0, nesterov=False, decay=0.0):
    """(weights, λ) after every step."""
    u = [0.0] * len(w)
    b = None
    path = []
    for _ in range(steps):
        g = [gi + decay * wi for gi, wi in zip(ref_grad(w), w, strict=True)]
        lr = lr + beta * dot(g, u)
        if momentum:
            b = g if b is None else [momentum * bi + gi for bi, gi in zip(b, g, strict=True)]
            u = [gi + momentum * bi for gi, bi in zip(g, b, strict=True)] if nesterov else b
        else:
            u = g
        w = [wi - lr * ui for wi, ui in zip(w, u, strict=True)]
        path.append((w, lr))
    return path


def ref_adam_hd(w, lr, beta, steps, b1=0.9, b2=0.999, eps=1e-8):
    u = [0.0] * len(w)
    m = [0.0] * len(w)
    v = [0.0] * len(w)
    path = []
    for t in range(1, steps + 1):
        g = ref_grad(w)
        lr = lr + beta * dot(g, u)
        m = [b1 * mi + (1 - b1) * gi for mi, gi in zip(m, g, strict=True)]
        v = [b2 * vi + (1 - b2) * gi * gi for vi, gi in zip(v, g, strict=True)]
        u = [
            (mi / (1 - b1**t)) / (math.sqrt(vi / (1 - b2**t)) + eps)
            for mi, vi in zip(m, v, strict=True)
        ]
        w = [wi - lr * ui for wi, ui in zip(w, u, strict=True)]
        path.append((w, lr))
    return path


def ref_dog(x, c, steps, reps_rel=1e-6, eps=1e-8):
    x0 = list(x)
    path = []
    for t in range(steps):
        g = ref_grad(x)
        if t == 0:
            rbar = reps_rel * (1 + math.sqrt(dot(x0, x0)))
            G = dot(g, g) + eps
        else:
            d = [xi - oi for xi, oi in zip(x, x0, strict=True)]
            rbar = max(rbar, math.sqrt(dot(d, d)))
            G += dot(g, g)
        eta = c * rbar / math.sqrt(G)
        x = [xi - eta * gi for xi, gi in zip(x, g, strict=True)]
        path.append((x, eta))
    return path


def run_vectorized(optimizer, starts, lrs, steps):
    """Every run from its own start; (weights, λ in use) after every step."""
    w = np.array(starts, dtype=float)
    lrs = np.asarray(lrs, dtype=float)
    optimizer.select(slice(None))
    path = []
    for _ in range(steps):
        w = optimizer.step(w, vec_grad(w), lrs)
        path.append((w.copy(), optimizer.lr_in_use.copy()))
    return path


STARTS = [[1.0, -2.0, 0.5], [0.0, 1.0, 1.0], [-3.0, 0.2, 2.0]]


def assert_paths_match(ours, references, rel=1e-12):
    for run, reference in enumerate(references):
        for (w, lr), (ref_w, ref_lr) in zip(ours, reference, strict=True):
            assert lr[run] == pytest.approx(ref_lr, rel=rel, abs=1e-300)
            np.testing.assert_allclose(w[run], ref_w, rtol=rel, atol=1e-14)


# --- literal numbers ----------------------------------------------------------------------


def test_sgd_hd_literal_steps():
    # f = w²/2 (g = w), λ0 = 0.1, β = 0.01, w0 = 1
    # 1: h = 0          λ = 0.1         w = 1 − 0.1·1 = 0.9
    # 2: h = 0.9·1      λ = 0.109       w = 0.9 − 0.109·0.9 = 0.8019
    # 3: h = 0.8019·0.9 λ = 0.1162171   w = 0.8019 · (1 − 0.1162171) = 0.70870550...
    optimizer = SGDHD(1, 1, hypergrad_lr=0.01)
    optimizer.select(slice(None))
    w = np.array([[1.0]])
    lrs, ws = [], []
    for _ in range(3):
        w = optimizer.step(w, w.copy(), np.array([0.1]))
        lrs.append(optimizer.lr_in_use[0])
        ws.append(w[0, 0])
    assert lrs == pytest.approx([0.1, 0.109, 0.1162171], rel=1e-14)
    assert ws == pytest.approx([0.9, 0.8019, 0.8019 * (1 - 0.1162171)], rel=1e-14)


def test_dog_literal_steps():
    # f = w²/2, w0 = 1, reps_rel = 1e-6, eps = 0, c = 1
    # 1: r̄ = 1e-6·(1 + 1) = 2e-6, G = 1, η = 2e-6, w1 = 1 − 2e-6
    # 2: |w1 − w0| = 2e-6 = r̄, G = 1 + w1², η = 2e-6 / √G, w2 = w1 (1 − η)
    optimizer = DoG(1, 1, reps_rel=1e-6, eps=0.0)
    optimizer.select(slice(None))
    w = np.array([[1.0]])
    w = optimizer.step(w, w.copy(), np.array([1.0]))
    assert optimizer.lr_in_use[0] == pytest.approx(2e-6, rel=1e-14)
    w1 = 1 - 2e-6
    assert w[0, 0] == pytest.approx(w1, rel=1e-14)
    w = optimizer.step(w, w.copy(), np.array([1.0]))
    eta2 = 2e-6 / math.sqrt(1 + w1 * w1)
    assert optimizer.lr_in_use[0] == pytest.approx(eta2, rel=1e-12)
    assert w[0, 0] == pytest.approx(w1 * (1 - eta2), rel=1e-14)


# --- against the transcriptions, many runs at once ----------------------------------------


@pytest.mark.parametrize(
    "momentum, nesterov, decay",
    [(0.0, False, 0.0), (0.0, False, 0.1), (0.9, True, 0.0), (0.5, False, 0.05)],
)
def test_sgd_hd_and_sgdn_hd_match_the_transcription(momentum, nesterov, decay):
    lrs, beta, steps = [0.01, 0.05, 0.2], 1e-3, 60
    optimizer = SGDHD(
        3,
        3,
        beta,
        momentum=momentum,
        nesterov=nesterov,
        weight_decay=decay,
        min_lr_factor=None,
        max_lr_factor=None,
    )
    ours = run_vectorized(optimizer, STARTS, lrs, steps)
    refs = [
        ref_sgd_hd(s, lr, beta, steps, momentum, nesterov, decay)
        for s, lr in zip(STARTS, lrs, strict=True)
    ]
    assert_paths_match(ours, refs, rel=1e-10)


def test_adam_hd_matches_the_transcription():
    lrs, beta, steps = [1e-3, 1e-2, 5e-2], 1e-4, 80
    optimizer = AdamHD(3, 3, beta, min_lr_factor=None, max_lr_factor=None)
    ours = run_vectorized(optimizer, STARTS, lrs, steps)
    refs = [ref_adam_hd(s, lr, beta, steps) for s, lr in zip(STARTS, lrs, strict=True)]
    assert_paths_match(ours, refs, rel=1e-10)


def test_dog_matches_the_transcription():
    cs, steps = [1.0, 0.5, 2.0], 80
    ours = run_vectorized(DoG(3, 3), STARTS, cs, steps)
    refs = [ref_dog(s, c, steps) for s, c in zip(STARTS, cs, strict=True)]
    assert_paths_match(ours, refs, rel=1e-10)


def test_the_hypergradient_is_the_derivative_of_the_loss_in_lr():
    """λ_t − λ_{t−1} = −β d f(w_{t−1} − λ u_{t−1}) / dλ, the derivative by central differences."""
    problem = LogisticRegression(samples=200, features=5, seed=3)
    beta = 1e-3  # larger β drives λ from 0.5 to its floor within 6 steps on this problem
    optimizer = SGDHD(1, problem.dim, beta, momentum=0.9, nesterov=True)
    optimizer.select(slice(None))
    w = np.full((1, problem.dim), 0.3)
    lr0 = np.array([0.5])
    for _ in range(5):
        before, lr_before = w.copy(), optimizer.lr_in_use.copy()
        w = optimizer.step(w, problem.evaluate(w).grad, lr0)
    direction = optimizer.previous_direction.copy()  # u of the last step
    lr_last = optimizer.lr_in_use[0]
    assert np.allclose(w, before - lr_last * direction)
    delta = 1e-5
    f_plus = problem.evaluate(before - (lr_last + delta) * direction).loss[0]
    f_minus = problem.evaluate(before - (lr_last - delta) * direction).loss[0]
    derivative = (f_plus - f_minus) / (2 * delta)
    optimizer.step(w, problem.evaluate(w).grad, lr0)
    assert np.isfinite(lr_before).all()
    assert optimizer.low_clips[0] == optimizer.high_clips[0] == 0
    assert abs(optimizer.lr_in_use[0] - lr_last) > 1e-3  # a real change of λ, not noise
    assert optimizer.lr_in_use[0] - lr_last == pytest.approx(-beta * derivative, rel=1e-6)


def base_step(optimizer, weights, grad, lr):
    """One step of a lrviz.optimizers optimizer through whichever interface it has: the
    in-place ``update`` that module is moving to, or ``select`` + ``step``."""
    if hasattr(optimizer, "update"):
        weights = weights.copy()
        optimizer.update(weights, grad, lr, None)
        return weights
    optimizer.select(slice(None))
    return optimizer.step(weights, grad, lr)


@pytest.mark.parametrize(
    "hd, plain, options",
    [
        ("sgd-hd", "sgd", {}),
        ("sgdn-hd", "nesterov", {"momentum": 0.9}),
        ("adam-hd", "adam", {}),
    ],
)
def test_with_beta_zero_hd_is_its_base_optimizer(hd, plain, options):
    lrs = np.array([1e-3, 3e-2, 0.1])
    w_hd = w_plain = np.array(STARTS)
    adaptive = make_adaptive_optimizer(hd, 3, 3, hypergrad_lr=0.0, **options)
    base = make_optimizer(plain, 3, 3, **options)
    adaptive.select(slice(None))
    for _ in range(40):
        w_hd = adaptive.step(w_hd, vec_grad(w_hd), lrs)
        w_plain = base_step(base, w_plain, vec_grad(w_plain), lrs)
    np.testing.assert_allclose(w_hd, w_plain, rtol=1e-13, atol=1e-15)
    np.testing.assert_array_equal(adaptive.lr_in_use, lrs)


# --- what it is for -----------------------------------------------------------------------


def test_sgd_hd_recovers_from_a_lr_100x_too_small_where_sgd_crawls():
    problem = Quadratic(dim=10, curvature=10.0, condition=10.0, seed=1)
    start = np.tile(problem.initial_point(), (1, 1))
    lr = np.array([0.1 / 100])  # 1/L is 0.1
    hd = make_adaptive_optimizer("sgd-hd", 1, 10)  # β: the authors' default 1e-6
    hd.select(slice(None))
    w_hd = w_sgd = start
    for _ in range(300):
        w_hd = hd.step(w_hd, problem.evaluate(w_hd).grad, lr)
        w_sgd = w_sgd - lr[:, None] * problem.evaluate(w_sgd).grad  # plain SGD
    loss_start = problem.evaluate(start).loss[0]
    loss_hd, loss_sgd = problem.evaluate(w_hd).loss[0], problem.evaluate(w_sgd).loss[0]
    assert hd.lr_in_use[0] > 5 * lr[0]  # it raised λ
    assert loss_sgd > 0.01 * loss_start  # plain SGD is still crawling (2.5% of the start)
    assert loss_hd < 0.01 * loss_sgd  # HD got far further from the same start (~0.1%)
    assert hd.low_clips[0] == hd.high_clips[0] == 0


def test_dog_needs_no_lr_on_a_quadratic():
    problem = Quadratic(dim=10, curvature=10.0, condition=10.0, seed=1)
    w = np.tile(problem.initial_point(), (1, 1))
    loss_start = problem.evaluate(w).loss[0]
    dog = DoG(1, 10)
    dog.select(slice(None))
    etas = []
    for _ in range(300):
        w = dog.step(w, problem.evaluate(w).grad, np.ones(1))
        etas.append(dog.lr_in_use[0])
    assert etas[0] < 1e-5  # it starts tiny (r_ε) ...
    assert max(etas) > 1e4 * etas[0]  # ... grows by itself to a useful step ...
    assert problem.evaluate(w).loss[0] < 1e-3 * loss_start  # ... and converges


# --- guards -------------------------------------------------------------------------------


def test_a_lr_pushed_below_the_floor_is_clipped_and_reported():
    # f = w²/2 with λ0 = 1.9 (just stable): the iterates flip sign, g·u < 0, and a large β
    # drives λ below zero in one step without the guard.
    optimizer = SGDHD(1, 1, hypergrad_lr=10.0)
    optimizer.select(slice(None))
    w = np.array([[1.0]])
    for _ in range(2):
        w = optimizer.step(w, w.copy(), np.array([1.9]))
    # step 2: h = (−0.9)(1) = −0.9, λ = 1.9 − 9 < 0 → floor 1.9e-4
    assert optimizer.lr_in_use[0] == pytest.approx(1.9e-4)
    assert optimizer.clipped[0] == CLIPPED_LOW and optimizer.low_clips[0] == 1
    assert optimizer.clip_messages() == ["λ was raised to its floor 1 time"]
    unguarded = SGDHD(1, 1, hypergrad_lr=10.0, min_lr_factor=None)
    unguarded.select(slice(None))
    w = np.array([[1.0]])
    for _ in range(2):
        w = unguarded.step(w, w.copy(), np.array([1.9]))
    assert unguarded.lr_in_use[0] == pytest.approx(1.9 - 9.0)  # gradient ascent
    assert unguarded.clipped[0] == 0


def test_an_exploding_lr_is_cut_to_the_ceiling_and_reported():
    optimizer = SGDHD(2, 1, hypergrad_lr=1e3, max_lr_factor=100.0)
    optimizer.select(slice(None))
    w = np.array([[10.0], [0.0]])  # the second run sits at the minimum: h = 0, never clipped
    for _ in range(3):
        w = optimizer.step(w, w.copy(), np.array([1e-3, 1e-3]))
    assert optimizer.lr_in_use[0] == pytest.approx(0.1)  # 100 × λ0
    assert optimizer.clipped.tolist() == [CLIPPED_HIGH, 0]
    assert optimizer.high_clips.tolist() == [2, 0]
    assert optimizer.clip_messages() == ["λ was cut to its ceiling 2 times", None]


def test_a_non_finite_hypergradient_counts_as_exploding():
    optimizer = SGDHD(1, 1, hypergrad_lr=1.0)
    optimizer.select(slice(None))
    w = optimizer.step(np.array([[1.0]]), np.array([[1.0]]), np.array([0.1]))
    with np.errstate(invalid="ignore"):
        optimizer.step(w, np.array([[np.nan]]), np.array([0.1]))
    assert optimizer.clipped[0] == CLIPPED_HIGH
    assert optimizer.lr_in_use[0] == pytest.approx(0.1 * 1e4)


# --- as the engine drives them ------------------------------------------------------------


@pytest.mark.parametrize("name", ADAPTIVE_OPTIMIZERS)
def test_a_subset_of_rows_advances_alone(name):
    """The engine freezes diverged runs and steps only the others: the state of a frozen run
    must not move, and the others must follow the same path as if they ran alone."""
    lrs = np.array([0.01, 0.02, 0.03])
    together = make_adaptive_optimizer(name, 3, 3, hypergrad_lr=1e-3)
    w = np.array(STARTS)
    together.select(slice(None))
    for _ in range(5):
        w = together.step(w, vec_grad(w), lrs)
    frozen_lr = together.lr_in_use[1]
    rows = np.array([0, 2])
    for _ in range(10):
        together.select(rows)
        w[rows] = together.step(w[rows], vec_grad(w[rows]), lrs[rows])
    assert together.lr_in_use[1] == frozen_lr
    for run in (0, 2):
        alone = make_adaptive_optimizer(name, 1, 3, hypergrad_lr=1e-3)
        alone.select(slice(None))
        v = np.array(STARTS[run : run + 1], dtype=float)
        for _ in range(15):
            v = alone.step(v, vec_grad(v), lrs[run : run + 1])
        np.testing.assert_allclose(w[run], v[0], rtol=1e-13)
        assert alone.lr_in_use[0] == pytest.approx(together.lr_in_use[run], rel=1e-13)


def test_factory_defaults_and_presets():
    assert make_adaptive_optimizer("sgd-hd", 1, 2).hypergrad_lr == 1e-6
    assert make_adaptive_optimizer("adam-hd", 1, 2).hypergrad_lr == 1e-8
    sgdn = make_adaptive_optimizer("sgdn-hd", 1, 2, momentum=None)
    assert (sgdn.momentum, sgdn.nesterov, sgdn.name) == (0.9, True, "sgdn-hd")
    assert HYPERGRADIENT_PRESETS["code-default"] == HYPERGRADIENT_DEFAULTS
    assert HYPERGRADIENT_PRESETS["paper-mnist"] == {
        "sgd-hd": 1e-3,
        "sgdn-hd": 1e-3,
        "adam-hd": 1e-7,
    }
    assert make_adaptive_optimizer("dog", 1, 2, reps_rel=1e-4).reps_rel == 1e-4


@pytest.mark.parametrize(
    "name, options, message",
    [
        ("sgd-hd", {"hypergrad_lr": -1.0}, "--hypergrad-lr must be at least 0"),
        ("sgdn-hd", {"momentum": 1.0}, "--momentum must be in"),
        ("adam-hd", {"beta1": 1.0}, "--beta1 must be in"),
        ("sgd-hd", {"min_lr_factor": 2.0}, "must contain the starting"),
        ("dog", {"reps_rel": 0.0}, "--reps-rel must be positive"),
        ("sgd-hd", {"weight_decay": -1.0}, "--weight-decay"),
        ("adagrad-hd", {}, "unknown optimizer"),
    ],
)
def test_bad_options(name, options, message):
    with pytest.raises(ValueError, match=message):
        make_adaptive_optimizer(name, 1, 2, **options)


@pytest.mark.parametrize("name", ADAPTIVE_OPTIMIZERS)
def test_in_place_update_with_a_live_mask_and_keep(name):
    """The in-place interface: ``update(weights, grad, lr, live)`` steps the live rows only,
    ``keep(mask)`` drops frozen runs; the survivors carry on exactly as with select/step."""
    lrs = np.array([0.01, 0.02, 0.03])
    in_place = make_adaptive_optimizer(name, 3, 3, hypergrad_lr=1e-3)
    by_rows = make_adaptive_optimizer(name, 3, 3, hypergrad_lr=1e-3)
    w = np.array(STARTS)
    v = w.copy()
    live = np.array([True, False, True])
    for step in range(12):
        mask = None if step < 4 else live
        frozen = w[1].copy()
        # the engine passes each run's lr repeated along its row, (n, dim): alternate forms
        lr_given = lrs if step % 2 else np.repeat(lrs[:, None], 3, axis=1)
        in_place.update(w, vec_grad(w), lr_given, mask)
        if mask is not None:
            np.testing.assert_array_equal(w[1], frozen)
        rows = np.arange(3) if mask is None else np.flatnonzero(mask)
        by_rows.select(rows)
        v[rows] = by_rows.step(v[rows], vec_grad(v[rows]), lrs[rows])
    np.testing.assert_array_equal(w, v)
    in_place.keep(live)
    assert in_place.runs == 2 and in_place.lr_in_use.shape == (2,)
    w = w[live]
    for _ in range(5):
        in_place.update(w, vec_grad(w), lrs[live], None)
        by_rows.select(np.flatnonzero(live))
        v[live] = by_rows.step(v[live], vec_grad(v[live]), lrs[live])
    np.testing.assert_array_equal(w, v[live])
    np.testing.assert_array_equal(in_place.lr_in_use, by_rows.lr_in_use[live])


@pytest.mark.parametrize("name", ADAPTIVE_OPTIMIZERS)
def test_the_engine_drives_them_unchanged(name):
    """The glue the engine needs is make_optimizer returning these: here the optimizer it
    built is swapped for one of them, and a run that diverges is frozen and dropped
    (``keep``) while the others carry on."""
    from lrviz.engine import Simulation

    problem = Quadratic(dim=5, curvature=10.0, condition=10.0)
    lrs = np.array([1e-3, 3e-3, 1e300])  # the last one's loss overflows (Adam's steps too)
    # only a non-finite loss counts as divergence: the 4x-best rule would also flag the
    # transient overshoot of momentum, which is not what this test is about
    simulation = Simulation(problem, "sgd", lrs, iterations=300, divergence_factor=None)
    simulation.optimizer = make_adaptive_optimizer(name, 3, problem.dim)
    batches = list(simulation.run(batch_iterations=50, batch_seconds=60.0))
    diverged_at = batches[-1].diverged_at
    final = np.concatenate([b.loss for b in batches])[-1]
    start = problem.evaluate(problem.initial_point()[None]).loss[0]
    if name == "dog":  # DoG reads lr as its multiplier c: 1e300 is far too much
        assert diverged_at[2] >= 0
        return
    assert diverged_at.tolist()[:2] == [-1, -1] and diverged_at[2] > 0
    assert np.all(final[:2] < start)
    # the diverged run was dropped from the optimizer's state; the survivors' λ moved
    assert simulation.optimizer.runs == 2
    assert np.all(simulation.optimizer.lr_in_use != lrs[:2])

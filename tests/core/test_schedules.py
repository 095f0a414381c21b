"""Learning-rate policies against reference formulas, at every iteration of long runs.

The references below are scalar, written from the formulas PyTorch documents for its
schedulers (no numpy, no code shared with lrviz). Where PyTorch writes a float formula the
cyclical reference uses the integer position in the cycle instead, an independent
derivation of the same numbers. Agreement is a relative error of at most 1e-12.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lrviz.schedules import (
    POLICIES,
    Constant,
    Cosine,
    CosineRestarts,
    Cyclic,
    Exponential,
    OneCycle,
    PeakScaled,
    Policy,
    RangeRamp,
    Schedule,
    Step,
    Warmup,
    make_schedule,
    run_schedule,
)

REL = 1e-12
ITERATIONS = 3000

# --- references ---------------------------------------------------------------------------


def ref_step(t, base, step_size, gamma):
    return base * gamma ** (t // step_size)


def ref_exponential(t, base, gamma):
    return base * gamma**t


def ref_cosine(t, base, total, minimum):
    return minimum + (base - minimum) * (1 + math.cos(math.pi * t / total)) / 2


def ref_cosine_restarts(t, base, period, mult, minimum):
    since, length = t, period
    while since >= length:  # walk the restarts one period at a time
        since -= length
        length *= mult
    return minimum + (base - minimum) * (1 + math.cos(math.pi * since / length)) / 2


def ref_cyclic(t, base, peak, up, down, mode, gamma, m_lo=0.8, m_hi=0.9):
    """(lr, momentum): integer position in the cycle; up then down, both linear."""
    cycle, position = divmod(t, up + down)
    height = position / up if position <= up else (up + down - position) / down
    scale = {"triangular": 1.0, "triangular2": 0.5**cycle, "exp_range": gamma**t}[mode]
    return base + (peak - base) * height * scale, m_hi - (m_hi - m_lo) * height * scale


def ref_one_cycle(t, peak, total, pct=0.3, anneal="cos", three_phase=False, m_lo=0.85, m_hi=0.95):
    """(lr, momentum) as OneCycleLR's documented phases (div_factor 25, final 1e4)."""
    start = peak / 25
    low = start / 1e4
    if three_phase:
        phases = [
            (pct * total - 1, start, peak, m_hi, m_lo),
            (2 * pct * total - 2, peak, start, m_lo, m_hi),
            (total - 1, start, low, m_hi, m_hi),
        ]
    else:
        phases = [(pct * total - 1, start, peak, m_hi, m_lo), (total - 1, peak, low, m_lo, m_hi)]
    t = min(t, total - 1)
    begin = 0.0
    for i, (end, lr0, lr1, m0, m1) in enumerate(phases):
        if t <= end or i == len(phases) - 1:
            f = (t - begin) / (end - begin)
            if anneal == "cos":
                w = (1 + math.cos(math.pi * f)) / 2  # weight of the phase's start value
                return lr1 + (lr0 - lr1) * w, m1 + (m0 - m1) * w
            return lr0 + (lr1 - lr0) * f, m0 + (m1 - m0) * f
        begin = end
    raise AssertionError("unreachable")


# --- helpers ------------------------------------------------------------------------------


def assert_matches(ours: np.ndarray, reference: list[float], rel: float = REL) -> None:
    reference = np.asarray(reference, dtype=np.float64)
    assert ours.shape == reference.shape
    scale = np.maximum(np.abs(reference), np.finfo(float).tiny)
    worst = np.max(np.abs(ours - reference) / scale)
    assert worst <= rel, f"largest relative error {worst:.3g}"


T = np.arange(ITERATIONS)
lrs = st.floats(1e-6, 10.0)
gammas = st.floats(0.5, 1.0)
counts = st.integers(1, 400)
SETTINGS = settings(max_examples=25, deadline=None)


# --- every policy against its reference ---------------------------------------------------


def test_constant():
    assert_matches(Constant(0.03).lr(T)[:, 0], [0.03] * ITERATIONS)


@SETTINGS
@given(base=lrs, step_size=counts, gamma=st.floats(0.05, 1.0))
def test_step(base, step_size, gamma):
    ours = Step(base, step_size, gamma).lr(T)[:, 0]
    assert_matches(ours, [ref_step(t, base, step_size, gamma) for t in range(ITERATIONS)])


@SETTINGS
@given(base=lrs, gamma=st.floats(0.995, 1.0))
def test_exponential(base, gamma):
    ours = Exponential(base, gamma).lr(T)[:, 0]
    assert_matches(ours, [ref_exponential(t, base, gamma) for t in range(ITERATIONS)])


@SETTINGS
@given(base=lrs, total=st.integers(1, 2000), min_fraction=st.floats(0.0, 0.5))
def test_cosine_and_its_rise_past_total_steps(base, total, min_fraction):
    minimum = base * min_fraction
    ours = Cosine(base, total, minimum).lr(T)[:, 0]
    expected = [ref_cosine(t, base, total, minimum) for t in range(ITERATIONS)]
    # where the reference is exactly 0 (t = total, no floor) ours must be 0 up to rounding
    assert np.allclose(ours, expected, rtol=REL, atol=REL * base)
    nonzero = np.abs(expected) > 1e-9 * base
    assert_matches(ours[nonzero], np.asarray(expected)[nonzero].tolist())


@SETTINGS
@given(base=lrs, period=st.integers(1, 300), mult=st.integers(1, 3), min_fraction=st.floats(0, 0.5))
def test_cosine_warm_restarts(base, period, mult, min_fraction):
    minimum = base * min_fraction
    ours = CosineRestarts(base, period, mult, minimum).lr(T)[:, 0]
    expected = [ref_cosine_restarts(t, base, period, mult, minimum) for t in range(ITERATIONS)]
    assert_matches(ours, expected)


def test_cosine_restarts_restart_exactly_at_the_period_boundaries():
    schedule = CosineRestarts(1.0, 10, 2)
    restarts = [0, 10, 30, 70, 150, 310]  # periods 10, 20, 40, 80, 160, ...
    np.testing.assert_array_equal(schedule.lr(restarts)[:, 0], 1.0)
    # the iteration before a restart is the last one of its period: (1 + cos(π (n-1)/n)) / 2
    lengths = np.diff(restarts)
    expected = (1 + np.cos(np.pi * (lengths - 1) / lengths)) / 2
    np.testing.assert_allclose(schedule.lr(np.array(restarts[1:]) - 1)[:, 0], expected)


@SETTINGS
@given(
    base=st.floats(1e-5, 1.0),
    ratio=st.floats(1.5, 100.0),
    up=counts,
    down=st.one_of(st.none(), counts),
    mode=st.sampled_from(["triangular", "triangular2", "exp_range"]),
    gamma=st.floats(0.99, 1.0),
)
def test_cyclical(base, ratio, up, down, mode, gamma):
    peak = base * ratio
    schedule = Cyclic(base, peak, up, down, mode=mode, gamma=gamma)
    expected = [ref_cyclic(t, base, peak, up, down or up, mode, gamma) for t in range(ITERATIONS)]
    assert_matches(schedule.lr(T)[:, 0], [lr for lr, _ in expected])
    assert_matches(schedule.momentum(T)[:, 0], [m for _, m in expected])


def test_cyclical_defaults_are_pytorchs():
    schedule = make_schedule("triangular", base_lr=0.01, max_lr=0.1)
    assert (schedule.step_size, schedule.step_size_down, schedule.gamma) == (2000, 2000, 1.0)
    assert schedule.cycles_momentum
    assert (schedule.base_momentum[0], schedule.max_momentum[0]) == (0.8, 0.9)
    # peak at step_size, back at base after a full cycle
    assert schedule.lr([0, 2000, 4000])[:, 0].tolist() == pytest.approx([0.01, 0.1, 0.01])
    assert schedule.momentum([0, 2000])[:, 0].tolist() == pytest.approx([0.9, 0.8])


def test_triangular2_halves_the_amplitude_each_cycle():
    schedule = Cyclic(1.0, 3.0, 5, mode="triangular2")
    peaks = schedule.lr([5, 15, 25, 35])[:, 0]
    np.testing.assert_allclose(peaks - 1.0, [2.0, 1.0, 0.5, 0.25], rtol=REL)


@SETTINGS
@given(
    peak=lrs,
    total=st.integers(2, ITERATIONS),
    pct=st.floats(0.0, 1.0),
    anneal=st.sampled_from(["cos", "linear"]),
    three_phase=st.booleans(),
)
def test_one_cycle(peak, total, pct, anneal, three_phase):
    if pct * total - 1 == 0:
        return  # OneCycleLR divides by zero there; refused (tested below)
    schedule = OneCycle(peak, total, pct, anneal=anneal, three_phase=three_phase)
    expected = [ref_one_cycle(t, peak, total, pct, anneal, three_phase) for t in range(ITERATIONS)]
    assert_matches(schedule.lr(T)[:, 0], [lr for lr, _ in expected])
    assert_matches(schedule.momentum(T)[:, 0], [m for _, m in expected])


def test_one_cycle_defaults_and_landmarks():
    schedule = make_schedule("1cycle", max_lr=0.4, total_steps=1000)
    assert (schedule.pct_start, schedule.div_factor, schedule.final_div_factor) == (0.3, 25, 1e4)
    assert schedule.anneal == "cos" and not schedule.three_phase and schedule.cycles_momentum
    lr = schedule.lr([0, 299, 999, 1500])[:, 0]
    np.testing.assert_allclose(lr, [0.4 / 25, 0.4, 0.4 / 25 / 1e4, 0.4 / 25 / 1e4], rtol=REL)
    np.testing.assert_allclose(schedule.momentum([0, 299, 999])[:, 0], [0.95, 0.85, 0.95])


def test_one_cycle_three_phase_comes_back_to_the_start_before_annealing():
    schedule = OneCycle(1.0, 100, three_phase=True)
    np.testing.assert_allclose(schedule.lr([0, 29, 58, 99])[:, 0], [0.04, 1.0, 0.04, 4e-6])


def test_one_cycle_refuses_an_empty_warm_up():
    with pytest.raises(ValueError, match="warm-up phase has no length"):
        OneCycle(0.1, 10, pct_start=0.1)


@SETTINGS
@given(
    steps=st.integers(1, 300),
    start_factor=st.floats(0.0, 1.0),
    inner=st.sampled_from(["step", "cosine", "triangular", "1cycle"]),
)
def test_warm_up_leads_linearly_into_any_policy(steps, start_factor, inner):
    params = {
        "step": dict(base_lr=0.1, step_size=50, gamma=0.5),
        "cosine": dict(base_lr=0.1, total_steps=1000),
        "triangular": dict(base_lr=0.01, max_lr=0.1, step_size=100),
        "1cycle": dict(max_lr=0.1, total_steps=1000),
    }[inner]
    references = {
        "step": lambda t: (ref_step(t, 0.1, 50, 0.5), None),
        "cosine": lambda t: (ref_cosine(t, 0.1, 1000, 0.0), None),
        "triangular": lambda t: ref_cyclic(t, 0.01, 0.1, 100, 100, "triangular", 1.0),
        "1cycle": lambda t: ref_one_cycle(t, 0.1, 1000),
    }
    reference = references[inner]
    schedule = make_schedule(inner, warmup_steps=steps, warmup_start_factor=start_factor, **params)
    assert isinstance(schedule, Warmup)
    first_lr, first_m = reference(0)
    expected_lr, expected_m = [], []
    for t in range(ITERATIONS):
        if t < steps:
            expected_lr.append(first_lr * (start_factor + (1 - start_factor) * t / steps))
            expected_m.append(first_m)
        else:
            lr, m = reference(t - steps)
            expected_lr.append(lr)
            expected_m.append(m)
    ours = schedule.lr(T)[:, 0]
    if start_factor == 0:
        assert ours[0] == 0.0
        assert_matches(ours[1:], expected_lr[1:])
    else:
        assert_matches(ours, expected_lr)
    if schedule.cycles_momentum:
        assert_matches(schedule.momentum(T)[:, 0], expected_m)
    else:
        assert schedule.momentum(T) is None


# --- many runs at once --------------------------------------------------------------------


@pytest.mark.parametrize(
    "policy, params",
    [
        ("constant", dict(base_lr=[0.1, 0.2, 0.3])),
        ("step", dict(base_lr=[0.1, 0.2, 0.3], step_size=10)),
        ("exponential", dict(base_lr=[0.1, 0.2, 0.3], gamma=0.99)),
        ("cosine", dict(base_lr=[0.1, 0.2, 0.3], total_steps=50, min_lr=[0.0, 0.01, 0.02])),
        ("cosine_restarts", dict(base_lr=[0.1, 0.2, 0.3], restart_period=7, period_mult=2)),
        ("triangular", dict(base_lr=0.01, max_lr=[0.1, 0.2, 0.3], step_size=9)),
        ("triangular2", dict(base_lr=[0.01, 0.02, 0.03], max_lr=0.5, step_size=9)),
        ("exp_range", dict(base_lr=0.01, max_lr=[0.1, 0.2, 0.3], step_size=9, gamma=0.99)),
        ("1cycle", dict(max_lr=[0.1, 0.2, 0.3], total_steps=80, base_momentum=[0.8, 0.85, 0.9])),
    ],
)
def test_per_run_parameters_give_each_run_its_own_schedule(policy, params):
    together = make_schedule(policy, warmup_steps=5, **params)
    t = np.arange(200)
    assert together.runs == 3
    lr = together.lr(t)
    assert lr.shape == (200, 3)
    for run in range(3):
        alone = make_schedule(
            policy,
            warmup_steps=5,
            **{k: (v[run] if isinstance(v, list) else v) for k, v in params.items()},
        )
        assert alone.runs == 1
        np.testing.assert_array_equal(lr[:, run], alone.lr(t)[:, 0])
        if together.cycles_momentum:
            np.testing.assert_array_equal(together.momentum(t)[:, run], alone.momentum(t)[:, 0])


def test_a_single_iteration_gives_one_value_per_run():
    schedule = Step([0.1, 0.2], 3)
    assert schedule.lr(4).shape == (2,)
    np.testing.assert_allclose(schedule.lr(4), [0.01, 0.02])


def test_the_engine_call_broadcasts_a_shared_schedule_to_every_run():
    schedule = Cosine(0.5, 10)
    base = np.array([1.0, 2.0, 3.0, 4.0])
    np.testing.assert_allclose(schedule(5, base), np.full(4, 0.25))
    per_run = Cosine([0.5, 1.0, 1.5, 2.0], 10)
    np.testing.assert_allclose(per_run(10, base), np.zeros(4), atol=1e-16)
    with pytest.raises(ValueError, match="3 runs"):
        Cosine([0.5, 1.0, 1.5], 10)(0, base)


@pytest.mark.parametrize(
    "policy, params, scaled",
    [
        ("cosine", dict(base_lr=0.2, total_steps=40, min_lr=0.02), ["base_lr", "min_lr"]),
        ("triangular", dict(base_lr=0.01, max_lr=0.1, step_size=5), ["base_lr", "max_lr"]),
        ("1cycle", dict(max_lr=0.3, total_steps=50, three_phase=True), ["max_lr"]),
        ("step", dict(step_size=7), []),  # no peak given: the reference run's λ is 1
    ],
)
def test_run_schedule_makes_each_runs_lr_the_peak(policy, params, scaled):
    """A run of λ r follows the policy with every λ parameter scaled by r / peak."""
    schedule = run_schedule(policy, warmup_steps=3, **params)
    assert isinstance(schedule, PeakScaled)
    base = np.array([0.5, 1e-3, 2.0])
    t = np.arange(120)
    ours = schedule.lr(t, base)
    peak = params.get("max_lr", params.get("base_lr", 1.0))
    for run, r in enumerate(base):
        alone = dict(params)
        for key in scaled:
            alone[key] = params[key] * r / peak
        if not scaled:
            alone["base_lr"] = r
        expected = make_schedule(policy, warmup_steps=3, **alone).lr(t)[:, 0]
        np.testing.assert_allclose(ours[:, run], expected, rtol=REL)
        assert schedule(17, base)[run] == pytest.approx(expected[17], rel=REL)


def test_the_engine_runs_a_peak_scaled_schedule_through_dropped_runs():
    from lrviz.engine import Simulation
    from lrviz.objectives.quadratic import Quadratic

    lrs = np.array([1e-3, 0.05, 50.0])  # the last diverges at once and is dropped
    schedule = run_schedule("cosine", total_steps=60)
    simulation = Simulation(Quadratic(), "sgd", lrs, iterations=60, schedule=schedule)
    batches = list(simulation.run(batch_iterations=10, batch_seconds=60.0))
    lr = np.concatenate([b.lr for b in batches])
    assert batches[-1].diverged_at[2] >= 0 and lr.shape == (60, 3)
    factor = (1 + np.cos(np.pi * np.arange(60) / 60)) / 2
    np.testing.assert_allclose(lr[:, :2], factor[:, None] * lrs[:2], rtol=REL)


def test_peak_scaled_needs_one_run_parameters():
    with pytest.raises(ValueError, match="one-run"):
        run_schedule("cosine", base_lr=[0.1, 0.2], total_steps=5)
    with pytest.raises(ValueError, match="unknown policy"):
        run_schedule("warp")


def test_the_old_interface_still_works():
    base = np.array([0.1, 0.2])
    assert Schedule()(7, base) is base
    ramp = RangeRamp(1e-4, 1.0, 5)
    np.testing.assert_allclose(ramp(2, base), [1e-2, 1e-2])
    assert not isinstance(ramp, Policy)


# --- bad parameters -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "policy, params, message",
    [
        ("warp", {}, "unknown policy 'warp'"),
        ("step", dict(base_lr=0.1), "step needs --step-size"),
        ("triangular", {}, "triangular needs --base-lr and --max-lr"),
        ("cosine", dict(base_lr=0.1, total_steps=10, gamma=0.5), "--gamma does not apply"),
        ("step", dict(base_lr=-0.1, step_size=3), "--base-lr must be positive"),
        ("step", dict(base_lr=0.1, step_size=2.5), "--step-size must be a whole number"),
        ("exponential", dict(base_lr=0.1, gamma=0.0), "--gamma must be positive"),
        ("cosine", dict(base_lr=float("nan"), total_steps=3), "--base-lr must be finite"),
        ("1cycle", dict(max_lr=0.1, total_steps=10, pct_start=1.5), "--pct-start must be in"),
        ("1cycle", dict(max_lr=0.1, total_steps=10, anneal="cubic"), "--anneal must be"),
        ("1cycle", dict(max_lr=0.1, total_steps=10, max_momentum=1.0), "--max-momentum must"),
        ("triangular", dict(base_lr=[0.1, 0.2], max_lr=[1, 2, 3]), "disagree"),
    ],
)
def test_bad_parameters_are_one_line_value_errors(policy, params, message):
    with pytest.raises(ValueError, match=message) as info:
        make_schedule(policy, **params)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("iterations", [-1, [0, -3], 1.5, [[1, 2]]])
def test_bad_iterations(iterations):
    with pytest.raises(ValueError, match="iterations"):
        Constant(0.1).lr(iterations)


def test_every_policy_name_is_buildable():
    params = dict(
        base_lr=0.01, max_lr=0.1, step_size=5, gamma=0.9, total_steps=20, restart_period=7
    )
    for policy in POLICIES:
        builder_params = {
            "constant": ["base_lr"],
            "step": ["base_lr", "step_size", "gamma"],
            "exponential": ["base_lr", "gamma"],
            "cosine": ["base_lr", "total_steps"],
            "cosine_restarts": ["base_lr", "restart_period"],
            "triangular": ["base_lr", "max_lr", "step_size"],
            "triangular2": ["base_lr", "max_lr", "step_size"],
            "exp_range": ["base_lr", "max_lr", "step_size", "gamma"],
            "1cycle": ["max_lr", "total_steps"],
        }[policy]
        schedule = make_schedule(policy, **{k: params[k] for k in builder_params})
        assert schedule.name == policy
        assert np.all(np.isfinite(schedule.lr(np.arange(50))))

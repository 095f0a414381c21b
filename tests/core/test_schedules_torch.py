"""Learning-rate policies against PyTorch's schedulers, stepped the same number of times.

Iteration t of a lrviz policy is the λ (and momentum) in a PyTorch optimizer's parameter
group after t calls to its scheduler's ``step()``. Skipped when torch is not installed.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from lrviz.schedules import make_schedule

torch = pytest.importorskip("torch")
sched = torch.optim.lr_scheduler

STEPS = 3000
REL = 1e-12


def torch_values(build, steps: int, base_lr: float = 0.1, adam: bool = False):
    """(lr, momentum) of the only parameter group over ``steps`` scheduler steps."""
    weight = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
    if adam:
        optimizer = torch.optim.Adam([weight], lr=base_lr)
    else:
        optimizer = torch.optim.SGD([weight], lr=base_lr, momentum=0.9)
    with warnings.catch_warnings():
        # SequentialLR and LinearLR warn about deprecated epoch arguments on some versions
        warnings.simplefilter("ignore")
        scheduler = build(optimizer)
        lrs, momenta = [], []
        for _ in range(steps):
            group = optimizer.param_groups[0]
            lrs.append(group["lr"])
            momenta.append(group["betas"][0] if adam else group["momentum"])
            optimizer.step()  # no gradient: the weight stays, only the order of calls matters
            scheduler.step()
    return np.array(lrs), np.array(momenta)


def assert_close(ours, theirs, rel=REL):
    scale = np.maximum(np.abs(theirs), np.finfo(float).tiny)
    worst = float(np.max(np.abs(ours - theirs) / scale))
    assert worst <= rel, f"largest relative error {worst:.3g}"


CASES = {
    "step": (lambda o: sched.StepLR(o, 7, gamma=0.5), dict(base_lr=0.1, step_size=7, gamma=0.5)),
    "step default gamma": (lambda o: sched.StepLR(o, 100), dict(base_lr=0.1, step_size=100)),
    "exponential": (lambda o: sched.ExponentialLR(o, 0.999), dict(base_lr=0.1, gamma=0.999)),
    "cosine": (
        lambda o: sched.CosineAnnealingLR(o, 500, eta_min=1e-4),
        dict(base_lr=0.1, total_steps=500, min_lr=1e-4),
    ),
    "cosine to zero": (
        lambda o: sched.CosineAnnealingLR(o, 700),
        dict(base_lr=0.1, total_steps=700),
    ),
    "cosine_restarts": (
        lambda o: sched.CosineAnnealingWarmRestarts(o, 10, T_mult=2, eta_min=1e-4),
        dict(base_lr=0.1, restart_period=10, period_mult=2, min_lr=1e-4),
    ),
    "cosine_restarts mult 1": (
        lambda o: sched.CosineAnnealingWarmRestarts(o, 13),
        dict(base_lr=0.1, restart_period=13),
    ),
    "triangular": (
        lambda o: sched.CyclicLR(o, 0.01, 0.1, step_size_up=25),
        dict(base_lr=0.01, max_lr=0.1, step_size=25),
    ),
    "triangular2": (
        lambda o: sched.CyclicLR(o, 0.01, 0.1, 25, 40, mode="triangular2"),
        dict(base_lr=0.01, max_lr=0.1, step_size=25, step_size_down=40),
    ),
    "exp_range": (
        lambda o: sched.CyclicLR(o, 0.01, 0.1, 25, mode="exp_range", gamma=0.999),
        dict(base_lr=0.01, max_lr=0.1, step_size=25, gamma=0.999),
    ),
    "triangular default sizes": (
        lambda o: sched.CyclicLR(o, 0.01, 0.1),
        dict(base_lr=0.01, max_lr=0.1),
    ),
    "1cycle": (
        lambda o: sched.OneCycleLR(o, 0.1, total_steps=STEPS),
        dict(max_lr=0.1, total_steps=STEPS),
    ),
    "1cycle linear three-phase": (
        lambda o: sched.OneCycleLR(
            o, 0.1, total_steps=STEPS, anneal_strategy="linear", three_phase=True
        ),
        dict(max_lr=0.1, total_steps=STEPS, anneal="linear", three_phase=True),
    ),
    "1cycle odd": (
        lambda o: sched.OneCycleLR(
            o, 0.3, total_steps=997, pct_start=0.45, div_factor=10.0, final_div_factor=100.0
        ),
        dict(max_lr=0.3, total_steps=997, pct_start=0.45, div_factor=10.0, final_div_factor=100.0),
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("adam", [False, True], ids=["sgd", "adam"])
def test_policy_matches_torch(case, adam):
    build, params = CASES[case]
    policy = case.split()[0]
    steps = min(STEPS, params.get("total_steps", STEPS))
    schedule = make_schedule(policy, **params)
    theirs_lr, theirs_m = torch_values(build, steps, adam=adam)
    t = np.arange(steps)
    assert_close(schedule.lr(t)[:, 0], theirs_lr)
    if schedule.cycles_momentum:
        # momentum for SGD, β1 for Adam: the schedulers set whichever the optimizer has
        assert_close(schedule.momentum(t)[:, 0], theirs_m)
    else:
        assert schedule.momentum(t) is None


@pytest.mark.parametrize(
    "policy, build_main, params",
    [
        (
            "step",
            lambda o: sched.StepLR(o, 7, gamma=0.5),
            dict(base_lr=0.1, step_size=7, gamma=0.5),
        ),
        ("cosine", lambda o: sched.CosineAnnealingLR(o, 300), dict(base_lr=0.1, total_steps=300)),
        ("exponential", lambda o: sched.ExponentialLR(o, 0.998), dict(base_lr=0.1, gamma=0.998)),
    ],
)
def test_warm_up_matches_sequential_linear_lr(policy, build_main, params):
    def build(optimizer):
        warm = sched.LinearLR(optimizer, start_factor=0.25, total_iters=40)
        return sched.SequentialLR(optimizer, [warm, build_main(optimizer)], milestones=[40])

    schedule = make_schedule(policy, warmup_steps=40, warmup_start_factor=0.25, **params)
    theirs, _ = torch_values(build, 1000)
    assert_close(schedule.lr(np.arange(1000))[:, 0], theirs)


def test_per_run_lrs_match_one_param_group_each():
    """Three runs with their own max λ = three parameter groups of one OneCycleLR."""
    peaks = [0.05, 0.1, 0.4]
    weights = [torch.nn.Parameter(torch.zeros(1, dtype=torch.float64)) for _ in peaks]
    optimizer = torch.optim.SGD([{"params": [w]} for w in weights], lr=0.1, momentum=0.9)
    scheduler = sched.OneCycleLR(optimizer, peaks, total_steps=500, three_phase=True)
    theirs = []
    for _ in range(500):
        theirs.append([g["lr"] for g in optimizer.param_groups])
        optimizer.step()
        scheduler.step()
    ours = make_schedule("1cycle", max_lr=peaks, total_steps=500, three_phase=True)
    assert_close(ours.lr(np.arange(500)), np.array(theirs))

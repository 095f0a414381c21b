"""Schedules that cycle momentum (1cycle, CyclicLR) set the optimizer's momentum (or Adam's
β1) before every step, as PyTorch's schedulers do: checked against torch training the same
quadratic, and against the update rule written out by hand."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from lrviz.schedules import run_schedule
from lrviz.simulation_config import SimulationConfig
from tests.cli_call import call

ONECYCLE = {"policy": "1cycle", "total_steps": 120}
TRIANGULAR = {"policy": "triangular", "base_lr": 0.1, "step_size": 15}


def quadratic_config(optimizer: str, schedule: dict, lrs=(0.01, 0.03), iterations=120):
    return SimulationConfig(
        objective="quadratic",
        optimizer=optimizer,
        lrs=np.asarray(lrs),
        iterations=iterations,
        dim=6,
        curvature=10.0,
        condition=20.0,
        seed=3,
        schedule=schedule,
        divergence_factor=None,
    )


def streamed_loss(config: SimulationConfig, batch_iterations: int = 17) -> np.ndarray:
    simulation = config.build()
    return np.concatenate([b.loss for b in simulation.run(batch_iterations=batch_iterations)])


def by_hand(config: SimulationConfig, nesterov=False, adam=False) -> np.ndarray:
    """(iterations, R) losses of the update rule with the schedule's λ_t and μ_t written out:
    b = g at the first step, μ_t b + g after; Adam's bias correction with the current β1."""
    objective = config.build().objective
    schedule = config.make_schedule()
    a, w0 = objective.matrix, objective.initial_point()
    out = np.empty((config.iterations, len(config.lrs)))
    for r, base in enumerate(config.lrs):
        w, b, m, v = w0.copy(), np.zeros_like(w0), np.zeros_like(w0), np.zeros_like(w0)
        for t in range(config.iterations):
            g = a @ w
            out[t, r] = 0.5 * w @ g
            lr = float(schedule.lr(t, [base])[0])
            mu = float(schedule.momentum(t)[0])
            if adam:
                m = mu * m + (1 - mu) * g
                v = 0.999 * v + 0.001 * g * g
                m_hat, v_hat = m / (1 - mu ** (t + 1)), v / (1 - 0.999 ** (t + 1))
                w = w - lr * m_hat / (np.sqrt(v_hat) + 1e-8)
                continue
            b = g.copy() if t == 0 else mu * b + g
            w = w - lr * ((g + mu * b) if nesterov else b)
    return out


@pytest.mark.parametrize("schedule", [ONECYCLE, TRIANGULAR], ids=["1cycle", "triangular"])
@pytest.mark.parametrize("optimizer", ["momentum", "nesterov", "adam"])
def test_engine_follows_the_momentum_cycle_by_hand(optimizer, schedule):
    config = quadratic_config(optimizer, schedule)
    ours = streamed_loss(config)
    assert config.build().cycles_momentum
    expected = by_hand(config, nesterov=optimizer == "nesterov", adam=optimizer == "adam")
    np.testing.assert_allclose(ours, expected, rtol=1e-10, atol=1e-300)


def test_the_cycle_changes_the_training():
    """Not a no-op: the same runs with the momentum held at 0.9 train differently."""
    cycled = streamed_loss(quadratic_config("momentum", ONECYCLE))
    held = streamed_loss(quadratic_config("momentum", {**ONECYCLE, "cycle_momentum": False}))
    held_config = quadratic_config("momentum", {**ONECYCLE, "cycle_momentum": False})
    assert not held_config.build().cycles_momentum
    assert np.max(np.abs(cycled - held) / held) > 1e-3


def test_batching_does_not_change_the_cycle():
    config = quadratic_config("nesterov", ONECYCLE)
    np.testing.assert_array_equal(streamed_loss(config, 1), streamed_loss(config, 1000))


def test_plain_sgd_and_the_adaptive_optimizers_keep_their_own_rules():
    for name in ("sgd", "dog", "sgd-hd"):
        assert not quadratic_config(name, ONECYCLE).build().cycles_momentum


def test_a_diverging_run_does_not_disturb_the_others_cycle():
    together = quadratic_config("momentum", ONECYCLE, lrs=(0.01, 5.0))
    together.divergence_factor = 4.0
    simulation = together.build()
    loss = np.concatenate([b.loss for b in simulation.run(batch_iterations=17)])
    alone = streamed_loss(quadratic_config("momentum", ONECYCLE, lrs=(0.01,)))
    assert 0 < simulation.diverged_at[1] < 100 and simulation.diverged_at[0] == -1
    np.testing.assert_allclose(loss[:, 0], alone[:, 0], rtol=1e-12)


def test_simulate_command_line_uses_the_cycle(capsys):
    args = ["simulate", "--objective", "quadratic", "--optimizer", "momentum"]
    args += ["--lrs", "0.01,0.03", "--iterations", "120", "--dim", "6", "--condition", "20"]
    args += ["--seed", "3", "--divergence-factor", "1e300", "--json"]
    code, cycled, err = call([*args, "--schedule", "1cycle"], capsys)
    assert (code, err) == (0, "")
    code, held, _ = call([*args, "--schedule", "1cycle", "--no-cycle-momentum"], capsys)
    cycled, held = json.loads(cycled)["runs"], json.loads(held)["runs"]
    expected = by_hand(quadratic_config("momentum", ONECYCLE))
    for run, loss in zip(cycled, expected[-1], strict=True):
        assert run["final_loss"] == pytest.approx(loss, rel=1e-10)
    assert cycled[0]["final_loss"] != pytest.approx(held[0]["final_loss"], rel=1e-3)
    code, text, _ = call([*args[:-1], "--schedule", "1cycle"], capsys)
    assert "momentum cycled 0.95 → 0.85 → 0.95" in text


def test_sgd_says_the_cycle_does_not_apply(capsys):
    args = ["simulate", "--optimizer", "sgd", "--lrs", "0.01", "--iterations", "20"]
    code, text, _ = call([*args, "--schedule", "1cycle"], capsys)
    assert code == 0 and "momentum cycle not applied: sgd has no momentum" in text


# --- against PyTorch ----------------------------------------------------------------------


def torch_losses(config: SimulationConfig, scheduler: str, optimizer: str) -> np.ndarray:
    torch = pytest.importorskip("torch")
    objective = config.build().objective
    a = torch.tensor(objective.matrix)
    out = np.empty((config.iterations, len(config.lrs)))
    for r, peak in enumerate(config.lrs):
        w = torch.nn.Parameter(torch.tensor(objective.initial_point()))
        if optimizer == "adam":
            opt = torch.optim.Adam([w], lr=peak)
        else:
            opt = torch.optim.SGD([w], lr=peak, momentum=0.9, nesterov=optimizer == "nesterov")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if scheduler == "1cycle":
                sched = torch.optim.lr_scheduler.OneCycleLR(opt, peak, total_steps=120)
            else:
                sched = torch.optim.lr_scheduler.CyclicLR(opt, 0.1 * peak, peak, step_size_up=15)
            for t in range(config.iterations):
                opt.zero_grad()
                loss = 0.5 * w @ (a @ w)
                out[t, r] = float(loss)
                loss.backward()
                opt.step()
                sched.step()
    return out


@pytest.mark.parametrize("schedule", [ONECYCLE, TRIANGULAR], ids=["1cycle", "triangular"])
@pytest.mark.parametrize("optimizer", ["momentum", "nesterov", "adam"])
def test_engine_matches_torch_schedulers(optimizer, schedule):
    pytest.importorskip("torch")
    config = quadratic_config(optimizer, schedule)
    theirs = torch_losses(config, schedule["policy"], optimizer)
    np.testing.assert_allclose(streamed_loss(config), theirs, rtol=1e-9, atol=1e-300)


def test_schedule_momentum_is_the_one_the_optimizer_ends_with():
    config = quadratic_config("momentum", ONECYCLE, iterations=60)
    simulation = config.build()
    for _ in simulation.run(batch_iterations=7):
        pass
    expected = run_schedule("1cycle", total_steps=120).momentum(59)[0]
    assert simulation.optimizer.momentum == pytest.approx(expected, rel=1e-12)

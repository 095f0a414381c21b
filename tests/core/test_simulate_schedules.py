"""simulate under a learning-rate schedule and with the optimizers that adapt λ (issue 12):
the λ each iteration used is in the batches, and every run reports the one it ended with."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lrviz.optimizers import OPTIMIZERS
from lrviz.schedules import make_schedule, run_schedule
from lrviz.simulation_config import SimulationConfig
from tests.cli_call import call


def simulate_json(capsys, *args) -> list[dict]:
    code, out, err = call(["simulate", *args, "--json"], capsys)
    assert (code, err) == (0, "")
    return json.loads(out)["runs"]


def batch_lrs(config: SimulationConfig, batch_iterations: int = 7):
    """The simulation, run to the end, and (iterations, R): the λ each run used at each
    iteration, as the batches streamed it."""
    simulation = config.build()
    rows = [b.lr for b in simulation.run(batch_iterations=batch_iterations)]
    return simulation, np.concatenate(rows)


def test_cosine_final_lr_is_the_schedules_value_at_the_last_iteration(capsys):
    lrs = [0.001, 0.01, 0.05]
    runs = simulate_json(
        capsys, "--schedule", "cosine", "--lrs", "0.001,0.01,0.05", "--iterations", "40"
    )
    expected = run_schedule("cosine", total_steps=40).lr(39, lrs)
    assert [r["lr"] for r in runs] == lrs
    for r, value in zip(runs, expected, strict=True):
        assert not r["diverged"]
        assert r["final_lr"] == pytest.approx(value, rel=1e-12)
    # Annealed to a small fraction of each run's peak, not the constant λ.
    assert all(r["final_lr"] < 0.01 * r["lr"] for r in runs)
    # Every existing key is still there.
    assert {"lr", "final_loss", "best_loss", "diverged", "diverged_at"} <= set(runs[0])


def test_cosine_with_a_floor_and_warmup_from_the_command_line(capsys):
    runs = simulate_json(
        capsys,
        *("--schedule", "cosine", "--lrs", "0.02", "--iterations", "30"),
        *("--min-lr", "0.1", "--warmup-steps", "5"),
    )
    policy = make_schedule("cosine", base_lr=1.0, min_lr=0.1, total_steps=25, warmup_steps=5)
    assert runs[0]["final_lr"] == pytest.approx(0.02 * policy.lr(29)[0], rel=1e-12)


def test_step_schedule_lr_in_the_batches_is_make_schedules_lr():
    lrs = np.array([1e-3, 1e-2, 0.05])
    spec = {"policy": "step", "step_size": 6, "gamma": 0.5}
    config = SimulationConfig(lrs=lrs, iterations=45, schedule=spec)
    simulation, lr = batch_lrs(config)
    assert lr.shape == (45, 3)
    assert not (simulation.diverged_at >= 0).any()
    expected = make_schedule("step", base_lr=lrs, step_size=6, gamma=0.5).lr(range(45))
    np.testing.assert_allclose(lr, expected, rtol=1e-12)
    np.testing.assert_allclose(simulation.final_lr, expected[-1], rtol=1e-12)


def test_triangular_run_peaks_at_its_own_lr(capsys):
    runs = simulate_json(
        capsys,
        *("--schedule", "triangular", "--base-lr", "0.01", "--max-lr", "0.1"),
        *("--step-size", "5", "--lrs", "0.05", "--iterations", "20"),
    )
    # t = 19: 0.8 of the way back down a cycle from 0.005 to 0.05
    assert runs[0]["final_lr"] == pytest.approx(0.005 + 0.045 * 0.2, rel=1e-12)


def test_a_diverged_runs_final_lr_is_the_lr_at_its_divergence():
    lrs = np.array([0.01, 0.5])  # quadratic, L = 10: 0.5 diverges at once
    config = SimulationConfig(
        lrs=lrs, iterations=30, schedule={"policy": "exponential", "gamma": 0.9}
    )
    simulation, lr = batch_lrs(config, batch_iterations=4)
    t = int(simulation.diverged_at[1])
    assert t >= 0 and simulation.diverged_at[0] == -1
    assert np.isnan(lr[t + 1 :, 1]).all()
    assert simulation.final_lr[1] == pytest.approx(0.5 * 0.9**t, rel=1e-12)
    assert simulation.final_lr[0] == pytest.approx(0.01 * 0.9**29, rel=1e-12)


@pytest.mark.parametrize(
    "name, base, beta",
    [("sgd-hd", "sgd", 1e-5), ("sgdn-hd", "nesterov", 1e-6), ("adam-hd", "adam", 1e-4)],
)
def test_hypergradient_changes_lr_and_the_batches_record_it(name, base, beta):
    # Started far too small on an ill-conditioned quadratic (L = 10, μ = 1): hypergradient
    # descent raises λ, and gets further than its base optimizer at the same start.
    start = np.array([1e-4, 2e-4])
    options = dict(lrs=start, iterations=60, condition=10.0, divergence_factor=None)
    config = SimulationConfig(optimizer=name, hypergrad_lr=beta, **options)
    simulation, lr = batch_lrs(config)
    assert lr.shape == (60, 2) and np.isfinite(lr).all()
    np.testing.assert_allclose(lr[0], start, rtol=1e-12)  # no previous direction yet
    assert (lr[-1] > 10 * start).all()
    assert (np.abs(np.diff(lr, axis=0)) > 0).any(axis=0).all()  # λ moves from step to step
    np.testing.assert_allclose(lr[-1], simulation.optimizer.lr_in_use, rtol=1e-12)
    np.testing.assert_allclose(simulation.final_lr, lr[-1], rtol=1e-12)
    plain = SimulationConfig(optimizer=base, **options).build()
    for _ in plain.run():
        pass
    assert (simulation.final_loss < plain.final_loss).all()


def test_hypergrad_lr_reaches_the_optimizer_from_the_command_line(capsys):
    args = ("--optimizer", "sgd-hd", "--lrs", "1e-4", "--iterations", "40", "--condition", "10")
    still = simulate_json(capsys, *args, "--hypergrad-lr", "0")[0]
    default = simulate_json(capsys, *args)[0]  # β = 1e-6, the authors' default
    faster = simulate_json(capsys, *args, "--hypergrad-lr", "1e-5")[0]
    assert still["final_lr"] == pytest.approx(1e-4, rel=1e-12)  # β = 0: plain SGD
    assert 1e-4 < default["final_lr"] < faster["final_lr"]
    assert faster["final_loss"] < default["final_loss"] < still["final_loss"]


@pytest.mark.parametrize("name", OPTIMIZERS)
@pytest.mark.parametrize("schedule", [(), ("--schedule", "cosine")])
def test_every_optimizer_reports_final_lr(capsys, name, schedule):
    runs = simulate_json(
        capsys, "--optimizer", name, "--lrs", "1e-3,0.01,5", "--iterations", "25", *schedule
    )
    for r in runs:
        assert "final_lr" in r
        assert r["final_lr"] is not None and r["final_lr"] > 0, r
    if name in ("sgd", "momentum", "nesterov", "adam") and not schedule:
        assert [r["final_lr"] for r in runs] == [r["lr"] for r in runs]


def test_text_output_has_a_final_lr_column(capsys):
    code, out, err = call(
        ["simulate", "--schedule", "cosine", "--lrs", "0.01", "--iterations", "10"], capsys
    )
    assert (code, err) == (0, "")
    assert "cosine schedule" in out and "final lr" in out


@pytest.mark.parametrize(
    "args, message",
    [
        (("--schedule", "bogus"), "invalid choice: 'bogus'"),
        (("--schedule", "step"), "step needs --step-size"),
        (("--schedule", "cosine", "--gamma", "0.5"), "--gamma does not apply to cosine"),
        (("--schedule", "step", "--step-size", "5", "--gamma", "x"), "'x' is not a number"),
        (("--schedule", "triangular", "--base-lr", "0.01", "--max-lr", "-1"), "--max-lr must be"),
        (("--schedule", "exponential", "--gamma", "0"), "--gamma must be positive"),
        (("--schedule", "triangular", "--max-lr", "0.1"), "triangular needs --base-lr"),
        (("--schedule", "cosine", "--warmup-steps", "200"), "--warmup-steps leaves no"),
        (("--gamma", "0.5"), "--gamma needs --schedule"),
        (("--warmup-steps", "3"), "--warmup-steps needs --schedule"),
        (("--hypergrad-lr", "1e-3"), "--hypergrad-lr needs --optimizer"),
        (("--optimizer", "sgd-hd", "--hypergrad-lr", "-1"), "--hypergrad-lr must be at least 0"),
    ],
)
def test_bad_schedules_and_options_are_one_line_errors(capsys, args, message):
    code, out, err = call(["simulate", "--iterations", "200", *args], capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("lrviz simulate: error: "), err
    assert message in err


def test_rangetest_offers_only_the_optimizers_that_use_the_lr_they_are_given(capsys):
    code, out, err = call(["rangetest", "--optimizer", "sgd-hd"], capsys)
    assert out == ""
    assert code == 2 and err.count("\n") == 1 and "invalid choice: 'sgd-hd'" in err

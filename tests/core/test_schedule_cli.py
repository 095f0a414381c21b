"""The headless ``schedule`` command: its JSON, its defaults, and one-line errors."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from cli_call import call

from lrviz.schedules import make_schedule

ROOT = Path(__file__).resolve().parents[2]


def schedule_json(capsys, *args) -> dict:
    code, out, err = call(["schedule", *args, "--json"], capsys)
    assert (code, err) == (0, "")
    return json.loads(out)


def test_step_prints_lr_only(capsys):
    data = schedule_json(
        capsys, "--policy", "step", "--base-lr", "0.5", "--step-size", "2", "--iterations", "5"
    )
    assert data == {"lr": pytest.approx([0.5, 0.5, 0.05, 0.05, 0.005], rel=1e-12)}
    assert set(data) == {"lr"}


def test_cyclical_prints_momentum_too_and_can_leave_it_alone(capsys):
    args = ["--policy", "triangular", "--base-lr", "0.1", "--max-lr", "0.5", "--step-size", "2"]
    data = schedule_json(capsys, *args, "--iterations", "5")
    assert data["lr"] == pytest.approx([0.1, 0.3, 0.5, 0.3, 0.1], rel=1e-12)
    assert data["momentum"] == pytest.approx([0.9, 0.85, 0.8, 0.85, 0.9], rel=1e-12)
    plain = schedule_json(capsys, *args, "--iterations", "5", "--no-cycle-momentum")
    assert set(plain) == {"lr"} and plain["lr"] == data["lr"]


def test_one_cycle_anneals_to_the_last_iteration_by_default(capsys):
    data = schedule_json(capsys, "--policy", "1cycle", "--max-lr", "1", "--iterations", "100")
    lr, momentum = np.array(data["lr"]), np.array(data["momentum"])
    assert lr.size == momentum.size == 100
    assert lr[0] == pytest.approx(1 / 25) and lr.max() == pytest.approx(1.0)
    assert int(np.argmax(lr)) == 29  # pct_start 0.3 of 100 steps
    assert lr[-1] == pytest.approx(1 / 25 / 1e4)
    assert (momentum[0], momentum.min(), momentum[-1]) == pytest.approx((0.95, 0.85, 0.95))


def test_cosine_with_warm_up_reaches_its_floor_at_the_last_iteration(capsys):
    data = schedule_json(
        capsys,
        *("--policy", "cosine", "--base-lr", "0.2", "--min-lr", "0.01"),
        *("--warmup-steps", "10", "--iterations", "110"),
    )
    lr = np.array(data["lr"])
    np.testing.assert_allclose(lr[:10], 0.2 * np.arange(10) / 10, rtol=1e-12)
    assert lr[10] == pytest.approx(0.2)
    # 100 cosine steps after the warm-up: the last printed iteration is the 99th of them
    expected_last = 0.01 + 0.19 * (1 + math.cos(math.pi * 99 / 100)) / 2
    assert lr[-1] == pytest.approx(expected_last, rel=1e-12)


@pytest.mark.parametrize(
    "args, policy, params",
    [
        (["--policy", "constant", "--base-lr", "0.1"], "constant", dict(base_lr=0.1)),
        (
            ["--policy", "exponential", "--base-lr", "0.1", "--gamma", "0.99"],
            "exponential",
            dict(base_lr=0.1, gamma=0.99),
        ),
        (
            ["--policy", "cosine_restarts", "--base-lr", "0.1", "--restart-period", "7"],
            "cosine_restarts",
            dict(base_lr=0.1, restart_period=7),
        ),
        (
            [*("--policy", "triangular2", "--base-lr", "0.01", "--max-lr", "0.1"), "--step-size=4"],
            "triangular2",
            dict(base_lr=0.01, max_lr=0.1, step_size=4),
        ),
        (
            [
                *("--policy", "exp_range", "--base-lr", "0.01", "--max-lr", "0.1"),
                *("--step-size", "4", "--gamma", "0.99", "--step-size-down", "6"),
            ],
            "exp_range",
            dict(base_lr=0.01, max_lr=0.1, step_size=4, gamma=0.99, step_size_down=6),
        ),
        (
            [
                *("--policy", "1cycle", "--max-lr", "0.1", "--total-steps", "40"),
                *("--three-phase", "--anneal", "linear", "--pct-start", "0.25"),
                *("--div-factor", "10", "--final-div-factor", "100"),
                *("--base-momentum", "0.8", "--max-momentum", "0.9"),
            ],
            "1cycle",
            dict(
                max_lr=0.1,
                total_steps=40,
                three_phase=True,
                anneal="linear",
                pct_start=0.25,
                div_factor=10,
                final_div_factor=100,
                base_momentum=0.8,
                max_momentum=0.9,
            ),
        ),
    ],
)
def test_every_policy_prints_what_the_core_computes(capsys, args, policy, params):
    data = schedule_json(capsys, *args, "--iterations", "40")
    schedule = make_schedule(policy, **params)
    assert data["lr"] == schedule.lr(np.arange(40))[:, 0].tolist()
    if schedule.cycles_momentum:
        assert data["momentum"] == schedule.momentum(np.arange(40))[:, 0].tolist()
    else:
        assert "momentum" not in data


def test_text_output_is_a_table(capsys):
    code, out, err = call(
        ["schedule", "--policy", "step", "--base-lr", "1", "--step-size", "1", "--iterations", "3"],
        capsys,
    )
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].split() == ["iteration", "lr"]
    assert [line.split() for line in lines[1:]] == [["0", "1"], ["1", "0.1"], ["2", "0.01"]]


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["--policy", "step", "--base-lr", "0.1"], "--iterations"),
        (["--policy", "warp", "--iterations", "3"], "invalid choice: 'warp'"),
        (["--policy", "step", "--base-lr", "0.1", "--iterations", "3"], "step needs --step-size"),
        (["--policy", "exponential", "--base-lr", "0.1", "--iterations", "3"], "needs --gamma"),
        (["--policy", "triangular", "--iterations", "3"], "needs --base-lr and --max-lr"),
        (
            ["--policy", "cosine", "--base-lr", "0.1", "--gamma", "0.5", "--iterations", "3"],
            "--gamma does not apply to cosine",
        ),
        (["--policy", "constant", "--base-lr", "-1", "--iterations", "3"], "must be positive"),
        (["--policy", "constant", "--base-lr", "abc", "--iterations", "3"], "not a number"),
        (["--policy", "constant", "--base-lr", "nan", "--iterations", "3"], "must be finite"),
        (["--policy", "constant", "--base-lr", "1", "--iterations", "0"], "at least 1"),
        (["--policy", "constant", "--base-lr", "1", "--iterations", "2.5"], "whole number"),
        (
            ["--policy", "1cycle", "--max-lr", "1", "--iterations", "10", "--pct-start", "0.1"],
            "warm-up phase has no length",
        ),
        (
            ["--policy", "1cycle", "--max-lr", "1", "--iterations", "5", "--warmup-steps", "5"],
            "no iterations for the policy",
        ),
        (
            ["--policy", "step", "--base-lr", "1", "--step-size", "0", "--iterations", "5"],
            "--step-size must be a whole number of at least 1",
        ),
        (
            [
                *("--policy", "step", "--base-lr", "1", "--step-size", "2", "--iterations", "5"),
                *("--warmup-steps", "2", "--warmup-start-factor", "2"),
            ],
            "--warmup-start-factor must be in [0, 1]",
        ),
        (
            [
                *("--policy", "step", "--base-lr", "1", "--step-size", "2", "--iterations", "5"),
                *("--warmup-start-factor", "0.5"),
            ],
            "--warmup-start-factor needs --warmup-steps",
        ),
    ],
)
def test_bad_arguments_exit_2_with_exactly_one_line_on_stderr(capsys, args, fragment):
    code, out, err = call(["schedule", *args, "--json"], capsys)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and fragment in err
    assert "Traceback" not in err


# main.py ends in sys.exit(main()): an exit hook reports the modules it loaded.
HEADLESS_WRAPPER = """
import atexit, json, runpy, sys
loaded = lambda: sorted({m.split(".")[0] for m in sys.modules})
atexit.register(lambda: sys.stderr.write(json.dumps(loaded())))
sys.argv = ["main.py", *sys.argv[1:]]
runpy.run_path("main.py", run_name="__main__")
"""


def test_main_py_schedule_is_headless():
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    argv = ["schedule", "--policy", "1cycle", "--max-lr", "0.1", "--iterations", "20", "--json"]
    result = subprocess.run(
        [sys.executable, "-c", HEADLESS_WRAPPER, *argv],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    data = json.loads(result.stdout)
    assert len(data["lr"]) == len(data["momentum"]) == 20
    modules = set(json.loads(result.stderr))
    assert "lrviz" in modules and "numpy" in modules
    assert not modules & {"PySide6", "shiboken6", "pyqtgraph", "ui", "torch"}

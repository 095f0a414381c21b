"""``simulate`` and ``rangetest`` with ``--objective expr``: the same JSON as every objective,
results that match theory, and bad or unsafe formulas refused with exit 2 and one line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from cli_call import call

from lrviz.objectives.expression import PRESETS

ROOT = Path(__file__).resolve().parents[2]
RUN_KEYS = {"lr", "final_loss", "best_loss", "diverged", "diverged_at", "final_lr"}


def simulate_json(capsys, *args) -> list[dict]:
    code, out, err = call(["simulate", "--objective", "expr", *args, "--json"], capsys)
    assert (code, err) == (0, ""), err
    data = json.loads(out)
    assert set(data) == {"runs"}
    return data["runs"]


def test_json_has_the_same_shape_as_every_objective(capsys):
    runs = simulate_json(
        capsys, "--expr", "x**2 + 10*y**2", "--start", "1,1", "--lrs", "0.01,0.05,0.2"
    )
    assert [r["lr"] for r in runs] == [0.01, 0.05, 0.2]
    for r in runs:
        assert set(r) == RUN_KEYS
    code, out, _ = call(["simulate", "--lrs", "0.01,0.05,0.2", "--json"], capsys)
    assert code == 0 and set(json.loads(out)["runs"][0]) == RUN_KEYS  # the built-in's keys


def test_x_squared_at_lr_half_reaches_zero_in_one_step(capsys):
    (run,) = simulate_json(capsys, "--expr", "x**2", "--start", "3", "--lrs", "0.5")
    assert run["final_loss"] == 0.0 and run["best_loss"] == 0.0
    assert run["diverged"] is False


@pytest.mark.parametrize("a", [0.5, 4.0, 50.0])
def test_a_x_squared_splits_at_lr_1_over_a(capsys, a):
    lrs = np.geomspace(0.01 / a, 100.0 / a, 41)  # 1/a itself is the 21st: not strictly above
    runs = simulate_json(
        capsys,
        "--expr",
        f"{a}*x**2",
        "--start",
        "1",
        "--lrs",
        ",".join(repr(float(v)) for v in lrs),
        "--iterations",
        "300",
    )
    diverged = np.array([r["diverged"] for r in runs])
    np.testing.assert_array_equal(diverged, lrs > 1.0 / a * (1 + 1e-9))
    # below the limit: loss_t = a (1 - 2 a lr)^(2t); the last one recorded is t = 299
    slow = runs[0]
    expected = a * (1.0 - 2.0 * a * lrs[0]) ** (2 * 299)
    assert slow["final_loss"] == pytest.approx(expected, rel=1e-9)


def test_n_dimensional_formula_with_start(capsys):
    runs = simulate_json(
        capsys, "--expr", "w[0]**2 + 2*w[1]**2 + 3*w[2]**2", "--start", "1,-1,2", "--lrs", "0.1"
    )
    # each coordinate contracts by (1 - 2 c lr): 0.8, 0.6, 0.4 per step, 200 steps
    assert runs[0]["final_loss"] < 1e-30 and runs[0]["best_loss"] == runs[0]["final_loss"]


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_every_preset_runs_and_text_output_names_the_objective(capsys, preset):
    code, out, err = call(
        ["simulate", "--objective", "expr", "--preset", preset, "--lrs", "1e-3:0.1:4"], capsys
    )
    assert (code, err) == (0, "")
    assert out.splitlines()[0].startswith("expr / sgd, 200 iterations, 4 learning rates")


def test_preset_values_can_be_overridden(capsys):
    base = simulate_json(capsys, "--preset", "bowl", "--lrs", "0.01")
    moved = simulate_json(capsys, "--preset", "bowl", "--start=-2,1", "--lrs", "0.01")
    assert base[0]["final_loss"] == pytest.approx(moved[0]["final_loss"], rel=1e-12)  # mirror
    other = simulate_json(capsys, "--preset", "bowl", "--expr", "x**2 + y**2", "--lrs", "0.01")
    assert other[0]["final_loss"] != base[0]["final_loss"]


def test_gradient_noise_is_seeded(capsys):
    args = ("--preset", "noisy-bowl", "--lrs", "0.1,0.5", "--iterations", "50")
    first = simulate_json(capsys, *args, "--seed", "3")
    again = simulate_json(capsys, *args, "--seed", "3")
    other = simulate_json(capsys, *args, "--seed", "4")
    assert first == again and first != other
    quiet = simulate_json(capsys, *args, "--gradient-noise", "0")
    noisy = simulate_json(capsys, *args)
    assert quiet != noisy


def test_rangetest_accepts_a_formula(capsys):
    code, out, err = call(
        [
            "rangetest",
            "--objective",
            "expr",
            "--expr",
            "x**2 + 10*y**2",
            "--start",
            "1,1",
            "--json",
        ],
        capsys,
    )
    assert (code, err) == (0, "")
    data = json.loads(out)
    assert {"range_test", "curve", "suggested_lr"} <= set(data)
    assert data["range_test"]["objective"] == "expr"
    # Plain GD on curvature 20 is unstable above lr 2/20 = 0.1: the test stops past that
    # (its smoothed loss lags the raw one) and suggests a stable lr below it.
    assert data["range_test"]["stopped_early"] is True
    assert data["range_test"]["stop_lr"] > 0.1
    assert data["suggested_lr"] < 0.1


# --- refusals: exit 2, one line on stderr, nothing on stdout ----------------------------------


@pytest.mark.parametrize(
    ("formula", "words"),
    [
        ("__import__('os').system('echo hi')", "column 1: unknown name '__import__'"),
        ("().__class__", "column 2:"),
        ("x.real", "column 2: attribute access"),
        ("x[0]", "column 2: subscripts"),
        ("lambda: 0", "column 1: unknown name 'lambda'"),
        ("9**9**9", "column 4: the exponent"),
        ("(" * 300 + "x" + ")" * 300, "column 41: the formula is nested too deeply"),
        ("x+" * 3000 + "x", "column 2001: the formula is longer than 2000"),
        ("x^2", "column 2: '^' is not a power"),
        ("x +", "column 4: the formula ends"),
        ("x\n+1", "column 2: the formula must be on one line"),
        ("", "column 1: the formula is empty"),
    ],
)
def test_bad_formulas_exit_2_with_one_line_naming_the_column(capsys, formula, words):
    code, out, err = call(["simulate", "--objective", "expr", "--expr", formula], capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.endswith("\n")
    assert err.startswith("lrviz simulate: error: formula, ")
    assert words in err
    assert len(err) < 400


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--expr", "x**2"], "--expr needs --objective expr (got --objective quadratic)"),
        (["--preset", "saddle"], "--preset needs --objective expr"),
        (["--gradient-noise", "1"], "--gradient-noise needs --objective expr"),
        (
            ["--objective", "logreg", "--start", "1,1"],
            "--start does not apply to --objective logreg",
        ),
        (["--objective", "expr", "--expr", "x", "--start", "1,2"], "2 coordinates but the"),
        (["--objective", "expr", "--start", "1,a"], "'1,a' is not a comma-separated list"),
        (["--objective", "expr", "--start", "1,inf"], "must be finite numbers"),
        (["--objective", "expr", "--gradient-noise", "-1"], "gradient noise must be finite"),
        (["--objective", "expr", "--preset", "nope"], "invalid choice: 'nope'"),
        (["--objective", "rosenbrock", "--start", "0,0,0"], "3 coordinates but rosenbrock"),
        (["--objective", "expr", "--expr", "-x**2"], "expected one argument"),
    ],
)
def test_bad_expression_options_exit_2_with_one_line(capsys, argv, words):
    code, out, err = call(["simulate", *argv], capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and words in err


def test_a_leading_minus_works_with_an_equals_sign(capsys):
    (run,) = simulate_json(capsys, "--expr=-x + x**2 + 1", "--start=-1", "--lrs", "0.1")
    assert run["final_loss"] == pytest.approx(0.75, rel=1e-9)  # the minimum, at x = 0.5


def test_rosenbrock_takes_a_start_point(capsys):
    code, out, _ = call(
        ["simulate", "--objective", "rosenbrock", "--start", "1,1", "--lrs", "1e-3", "--json"],
        capsys,
    )
    assert code == 0 and json.loads(out)["runs"][0]["final_loss"] == 0.0  # the minimum


def test_as_a_program_an_unsafe_formula_exits_2_with_one_line_and_no_traceback(tmp_path):
    target = tmp_path / "created"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    result = subprocess.run(
        [
            sys.executable,
            "main.py",
            "simulate",
            "--objective",
            "expr",
            "--expr",
            f"__import__('os').system('touch {target}')",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "column 1: unknown name '__import__'" in result.stderr
    assert not target.exists()

"""The headless ``simulate`` command: JSON output, argument errors, and no Qt."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from cli_call import call

from lrviz import __version__

ROOT = Path(__file__).resolve().parents[2]
QT_MODULES = ("PySide6", "shiboken6", "pyqtgraph", "ui")


def simulate_json(capsys, *args) -> list[dict]:
    code, out, err = call(["simulate", *args, "--json"], capsys)
    assert (code, err) == (0, "")
    return json.loads(out)["runs"]


def test_json_has_one_record_per_lr_with_the_documented_keys(capsys):
    runs = simulate_json(capsys, "--lrs", "1e-3,0.1,5", "--iterations", "30")
    assert [r["lr"] for r in runs] == [1e-3, 0.1, 5.0]
    for r in runs:
        # the documented keys, and final_lr (issue 12: the λ in use at the last iteration)
        assert set(r) == {"lr", "final_loss", "best_loss", "diverged", "diverged_at", "final_lr"}
    slow, good, bad = runs
    # quadratic, L = 10, dim 2, condition 1, |w0|² = 2: loss_t = 10 (1 - 10 lr)^(2t)
    assert slow["final_loss"] == pytest.approx(10 * 0.99**58, rel=1e-9)
    assert good["final_loss"] == 0.0 or good["final_loss"] < 1e-30
    assert good["best_loss"] == good["final_loss"]
    assert (slow["diverged"], slow["diverged_at"]) == (False, None)
    # lr 5: loss 10 * 49^(2t) is above 4x the start at t = 1
    assert (bad["diverged"], bad["diverged_at"]) == (True, 1)
    assert bad["best_loss"] == pytest.approx(10.0)


def test_the_default_grid_splits_exactly_at_2_over_L(capsys):
    runs = simulate_json(capsys, "--lrs", "1e-4:10:64", "--curvature", "10")
    lrs = np.array([r["lr"] for r in runs])
    np.testing.assert_allclose(lrs, np.geomspace(1e-4, 10, 64), rtol=1e-12)
    diverged = np.array([r["diverged"] for r in runs])
    np.testing.assert_array_equal(diverged, lrs > 0.2)
    assert diverged.sum() == 22  # 0.2 lies between the 42nd and 43rd lr
    for r in runs:
        if not r["diverged"]:
            assert r["final_loss"] < 10.0  # the loss at the start


def test_other_objectives_optimizers_and_accuracy(capsys):
    runs = simulate_json(
        capsys,
        "--objective",
        "logreg",
        "--optimizer",
        "adam",
        "--batch-size",
        "32",
        "--samples",
        "200",
        "--lrs",
        "1e-3:1:4",
        "--iterations",
        "40",
    )
    assert len(runs) == 4
    for r in runs:
        assert 0.0 <= r["final_accuracy"] <= 1.0
    runs = simulate_json(capsys, "--objective", "rosenbrock", "--lrs", "1e-4,1e6")
    assert runs[0]["diverged"] is False and runs[1]["diverged_at"] == 1
    assert runs[0]["final_loss"] < 24.2


def test_text_output_is_a_table(capsys):
    code, out, err = call(["simulate", "--lrs", "0.01,1", "--iterations", "5"], capsys)
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].startswith("quadratic / sgd, 5 iterations, 2 learning rates")
    assert "diverged at 1" in lines[-1] and lines[-2].endswith("ok")


def test_same_arguments_same_output(capsys):
    args = ("--objective", "logreg", "--batch-size", "16", "--samples", "100", "--seed", "3")
    assert simulate_json(capsys, *args) == simulate_json(capsys, *args)
    assert simulate_json(capsys, *args) != simulate_json(capsys, *args[:-1], "4")


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--lrs", "1:2"], "argument --lrs: learning rates '1:2': expected A:B:N"),
        (["--lrs", "0.1,-1"], "'-1' must be positive"),
        (["--lrs"], "expected one argument"),
        (["--iterations", "0"], "argument --iterations"),
        (["--iterations", "ten"], "'ten' is not a whole number"),
        (["--objective", "nope"], "invalid choice: 'nope'"),
        (["--optimizer", "lion"], "invalid choice: 'lion'"),
        (["--batch-size", "0"], "--batch-size"),
        (["--frobnicate"], "unrecognized arguments: --frobnicate"),
        (["--divergence-factor", "1"], "--divergence-factor must be above 1"),
        (["--divergence-factor", "nan"], "--divergence-factor must be above 1"),
        (["--curvature", "-3"], "--curvature must be positive"),
        (["--curvature", "inf"], "--curvature must be positive and finite"),
        (["--condition", "0.5"], "--condition"),
        (["--condition", "inf"], "--condition"),
        (["--optimizer", "momentum", "--momentum", "1"], "--momentum must be in [0, 1)"),
        (["--dim", "-2"], "argument --dim"),
        (["--seed", "-1"], "lrviz simulate: error:"),
    ],
)
def test_bad_arguments_exit_2_with_exactly_one_line_on_stderr(capsys, args, fragment):
    code, out, err = call(["simulate", *args, "--json"], capsys)
    assert code == 2
    assert out == ""
    assert err.endswith("\n") and err.count("\n") == 1, err
    assert err.startswith("lrviz")
    assert fragment in err
    message = err.split("error: ", 1)[1]
    assert not message.startswith(("'", '"')), "the message is printed, not its repr"
    assert "Traceback" not in err


def test_version(capsys):
    code, out, err = call(["--version"], capsys)
    assert (code, out, err) == (0, f"lrviz {__version__}\n", "")


def test_no_sub_command_prints_help(capsys):
    code, out, _ = call([], capsys)
    assert code == 0 and "simulate" in out


# --- as a program: python main.py ... ---------------------------------------------------


def run_program(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def imported_by(importtime_stderr: str) -> set[str]:
    """Top-level module names from ``python -X importtime`` output."""
    names = set()
    for line in importtime_stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            module = line.rsplit("|", 1)[1].strip()
            if module and module != "imported package":
                names.add(module.split(".")[0])
    return names


def test_importtime_parsing_sees_qt_when_it_is_imported():
    """Positive control: the check below would notice PySide6 and pyqtgraph being imported."""
    result = run_program("-X", "importtime", "-c", "import pyqtgraph, PySide6.QtCore")
    assert result.returncode == 0, result.stderr[-2000:]
    assert {"PySide6", "shiboken6", "pyqtgraph"} <= imported_by(result.stderr)


def test_main_py_simulate_prints_json_and_never_imports_qt():
    result = run_program(
        "-X",
        "importtime",
        "main.py",
        "simulate",
        "--lrs",
        "1e-4:10:8",
        "--iterations",
        "50",
        "--json",
    )
    assert result.returncode == 0, result.stderr[-2000:]
    runs = json.loads(result.stdout)["runs"]
    assert len(runs) == 8 and runs[0]["lr"] == 1e-4
    modules = imported_by(result.stderr)
    assert "lrviz" in modules and "numpy" in modules  # the parsing works
    assert not modules & set(QT_MODULES)


WRAPPER = """
import json, runpy, sys
sys.argv = ["main.py", *sys.argv[1:]]
try:
    runpy.run_path("main.py", run_name="__main__")
except SystemExit as exc:
    code = exc.code
else:
    code = 0
loaded = sorted({m.split(".")[0] for m in sys.modules})
sys.stderr.write("\\nMODULES " + json.dumps({"code": code, "modules": loaded}) + "\\n")
"""


@pytest.mark.parametrize(
    "argv",
    [
        ["simulate", "--lrs", "0.01,0.1", "--iterations", "20", "--json"],
        ["simulate", "--objective", "logreg", "--batch-size", "8", "--iterations", "5"],
        ["--version"],
        ["simulate", "--lrs", "bad"],
    ],
)
def test_headless_commands_leave_qt_out_of_sys_modules(argv):
    result = run_program("-c", WRAPPER, *argv)
    report = json.loads(result.stderr.rsplit("MODULES ", 1)[1])
    assert report["code"] == (2 if "bad" in argv else 0)
    assert "lrviz" in report["modules"]
    assert not set(report["modules"]) & set(QT_MODULES)
    if "bad" in argv:
        assert result.stderr.split("\nMODULES")[0].count("\n") == 1

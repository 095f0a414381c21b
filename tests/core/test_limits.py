"""Size limits: absurd sizes are refused up front, in one line with exit code 2, by the same
check the app's forms can call; sizes that fit still run."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from cli_call import call

from lrviz import limits
from lrviz.limits import (
    MAX_WORK,
    SizeError,
    check_range_test,
    check_simulation,
    history_bytes,
    simulation_bytes,
    simulation_work,
)
from lrviz.simulation_config import SimulationConfig

ROOT = Path(__file__).resolve().parents[2]
GIB = 2**30


def assert_refused_in_one_line(capsys, argv, fragment):
    start = time.perf_counter()
    code, out, err = call(argv, capsys)
    assert time.perf_counter() - start < 10, "refused up front, not after trying"
    assert (code, out) == (2, "")
    assert err.startswith(f"lrviz {argv[0]}: error: ") and err.count("\n") == 1, err
    assert fragment in err
    assert "Traceback" not in err and "MemoryError" not in err
    return err


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        # were: "not a whole number" (1e8), a 20-line MemoryError traceback (100000000)
        (["simulate", "--iterations", "1e8"], "--iterations 100,000,000: more than the limit"),
        (["simulate", "--iterations", "100000000"], "more than the limit of 10,000,000"),
        # was: MemoryError asking for 7.28 TiB
        (["simulate", "--dim", "1e6"], "--dim 1,000,000: more than the limit of 4,096"),
        (["simulate", "--dim", "1000000", "--json"], "--dim 1,000,000"),
        # was: 3 GB allocated, then running for many minutes
        (["rangetest", "--iterations", "1e8"], "more than the limit of 1,000,000 for a range"),
        (["rangetest", "--iterations", "100000000", "--json"], "--iterations 100,000,000"),
        # was: "Out of range float values are not JSON compliant: inf"
        (["rangetest", "--min-lr", "1e-300", "--max-lr", "1e300", "--json"], "--min-lr 1e-300"),
        (["rangetest", "--min-lr", "1e-300", "--max-lr", "1e300"], "the learning rates a range"),
        (["rangetest", "--max-lr", "1e101"], "--max-lr 1e+101 is outside 1e-100 .. 1e+100"),
        # runs x dim that cannot fit in memory, and runs x dim^2 x iterations of arithmetic
        (["simulate", "--lrs", "1e-4:1:100000", "--dim", "4000"], "GiB of memory"),
        (["simulate", "--lrs", "1e-4:1:4096", "--dim", "4096", "--iterations", "10000"], "1e+"),
        (["simulate", "--objective", "logreg", "--samples", "1e9"], "--samples 1,000,000,000"),
        (["simulate", "--objective", "mlp", "--features", "20000"], "--features 20,000"),
        (["rangetest", "--objective", "quadratic", "--dim", "5000"], "--dim 5,000"),
    ],
)
def test_absurd_sizes_are_refused_up_front_in_one_line(capsys, argv, fragment):
    assert_refused_in_one_line(capsys, argv, fragment)


def test_a_size_that_does_not_fit_in_memory_names_what_it_needs(capsys, monkeypatch):
    monkeypatch.setattr(limits, "memory_budget", lambda: 256 * 2**20)
    argv = ["simulate", "--lrs", "1e-4:1:4096", "--dim", "1000", "--iterations", "2"]
    # 4096 x 1000 weights, gradients, optimizer state (10 x 31 MiB) and the 1000 x 1000 matrix
    err = assert_refused_in_one_line(capsys, argv, "would need about 413.")
    assert "MiB of memory, more than the 256.0 MiB allowed" in err


def test_the_refusal_is_one_line_from_the_program_too():
    """As a program: no traceback, exit 2, in well under the time a MemoryError took."""
    result = subprocess.run(
        [sys.executable, "main.py", "simulate", "--iterations", "100000000", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "limit of 10,000,000" in result.stderr


def test_scientific_notation_is_a_whole_number(capsys):
    code, out, err = call(["simulate", "--iterations", "1e2", "--lrs", "0.01", "--json"], capsys)
    assert (code, err) == (0, "")
    assert json.loads(out)["runs"][0]["final_loss"] is not None
    for text in ("2.5", "1e400", "nan", "1e-3"):
        code, _, err = call(["simulate", "--iterations", text], capsys)
        assert code == 2 and ("whole number" in err or "at least 1" in err), err


def test_simulate_streams_instead_of_allocating_iterations_x_runs(capsys):
    """simulate used to keep every iteration of every run (RunStore): 10 million iterations
    of 4096 runs asked for 2 x 305 GiB before the first step. Runs that all diverge at once
    now finish at once."""
    argv = ["simulate", "--lrs", "1e3:1e4:4096", "--iterations", "10000000", "--json"]
    code, out, err = call(argv, capsys)
    assert (code, err) == (0, "")
    runs = json.loads(out)["runs"]
    assert len(runs) == 4096 and all(r["diverged_at"] == 1 for r in runs)


def test_limits_hold_at_their_edges():
    budget = 64 * GIB
    edge = SimulationConfig(lrs=np.geomspace(1e-4, 1, 4), iterations=limits.MAX_ITERATIONS)
    check_simulation(edge, memory_budget=budget)
    with pytest.raises(SizeError, match="--iterations 10,000,001"):
        check_simulation(
            dataclasses.replace(edge, iterations=limits.MAX_ITERATIONS + 1), memory_budget=budget
        )
    quadratic = SimulationConfig(dim=limits.MAX_DIM, lrs=np.array([0.01]), iterations=10)
    check_simulation(quadratic, memory_budget=budget)
    with pytest.raises(SizeError, match="--dim 4,097"):
        check_simulation(dataclasses.replace(quadratic, dim=limits.MAX_DIM + 1))
    # options an objective ignores are not checked
    check_simulation(dataclasses.replace(quadratic, objective="rosenbrock", dim=10**9))
    low, high = limits.RANGE_TEST_LR_BOUNDS
    check_range_test(SimulationConfig(), low, high, limits.MAX_RANGE_TEST_ITERATIONS)
    with pytest.raises(SizeError, match="--min-lr"):
        check_range_test(SimulationConfig(), low / 10, 1.0, 100)


def test_the_memory_estimate_grows_with_what_a_simulation_holds():
    small = SimulationConfig(lrs=np.ones(16), dim=10)
    assert simulation_bytes(dataclasses.replace(small, lrs=np.ones(1600))) > 50 * (
        simulation_bytes(small) - simulation_bytes(dataclasses.replace(small, lrs=np.ones(1)))
    )
    # the quadratic's matrix: dim^2; runs x dim for the engine's state
    big = dataclasses.replace(small, dim=1000)
    assert simulation_bytes(big) > 5 * 8 * 1000**2
    assert simulation_bytes(dataclasses.replace(big, lrs=np.ones(4096))) > 10 * 8 * 4096 * 1000
    # the engine's memory does not grow with iterations past one batch
    long = dataclasses.replace(small, iterations=10**7)
    assert simulation_bytes(long) == simulation_bytes(dataclasses.replace(long, iterations=10**6))
    # a caller's full history does
    assert history_bytes(long) == 10**7 * 16 * 8 * 3
    assert history_bytes(long, record_weights=True) == 10**7 * 16 * 8 * 13


@pytest.mark.parametrize("objective", ["quadratic", "rosenbrock", "logreg", "mlp", "expr"])
def test_every_objective_has_an_estimate_and_ordinary_sizes_pass(objective):
    expr = "x**2 + y**2" if objective == "expr" else None
    config = SimulationConfig(objective=objective, expr=expr)
    check_simulation(config)
    assert 0 < simulation_work(config) < MAX_WORK
    assert simulation_bytes(config) > 0

"""``lrviz sweep``: the coarse-to-fine search on the command line (issue 11)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from cli_call import call

from lrviz.search import LrSearch, SearchSettings
from lrviz.simulation_config import SimulationConfig

ROOT = Path(__file__).resolve().parents[2]


def sweep_json(capsys, *args) -> dict:
    code, out, err = call(["sweep", *args, "--json"], capsys)
    assert (code, err) == (0, "")
    return json.loads(out)


def test_json_has_exactly_the_issues_keys_and_finds_2_over_mu_plus_L(capsys):
    data = sweep_json(
        capsys, "--objective", "quadratic", "--curvature", "20", "--condition", "10",
        "--dim", "3", "--iterations", "150",
    )  # fmt: skip
    assert set(data) == {"best_lr", "bracket", "stages", "iterations_spent", "grid_cost"}
    for stage in data["stages"]:
        assert set(stage) == {"lrs", "scores", "pruned"}
    theory = 2 / (2 + 20)
    assert theory / 1.25 <= data["best_lr"] <= theory * 1.25
    low, high = data["bracket"]
    assert low <= data["best_lr"] <= high and high / low <= 1.25
    assert data["iterations_spent"] < data["grid_cost"]
    # The coarse stage: one λ per decade of the default range 1e-7 .. 1.
    assert data["stages"][0]["lrs"] == pytest.approx([10.0**k for k in range(-7, 1)])
    assert None in data["stages"][0]["scores"]  # λ = 1 diverged


def test_the_flags_reach_the_search_and_the_numbers_are_the_libraries(capsys):
    args = [
        "--objective", "logreg", "--samples", "300", "--features", "4", "--optimizer",
        "momentum", "--range", "1e-5:10", "--stages", "3", "--per-stage", "5", "--eta", "2",
        "--subset", "0.5", "--iterations", "80", "--criterion", "area", "--seed", "3",
    ]  # fmt: skip
    data = sweep_json(capsys, *args)
    config = SimulationConfig(
        objective="logreg", samples=300, features=4, optimizer="momentum", seed=3, iterations=80
    )
    settings = SearchSettings(
        min_lr=1e-5, max_lr=10.0, stages=3, per_stage=5, eta=2.0, subset=0.5, criterion="area"
    )
    assert data == LrSearch(config, settings).run_to_end().to_dict()
    assert len(data["stages"]) <= 3
    assert data["stages"][0]["lrs"][0] == pytest.approx(1e-5)
    assert data["stages"][0]["lrs"][-1] == pytest.approx(10.0)
    assert sweep_json(capsys, *args) == data  # seeded: the same numbers again


def test_typed_formulas_and_presets(capsys):
    data = sweep_json(
        capsys, "--objective", "expr", "--expr", "x**2 + 4*y**2", "--iterations", "80"
    )
    theory = 2 / (2 + 8)
    assert theory / 1.25 <= data["best_lr"] <= theory * 1.25
    preset = sweep_json(capsys, "--objective", "expr", "--preset", "bowl", "--iterations", "80")
    assert preset["best_lr"] == pytest.approx(2 / (2 + 50), rel=0.25)


def test_budget_bounds_what_is_spent(capsys):
    data = sweep_json(capsys, "--budget", "1200", "--iterations", "100")
    assert data["iterations_spent"] <= 1200


def test_text_output_reads_as_a_report(capsys):
    code, out, err = call(["sweep", "--iterations", "60"], capsys)
    assert (code, err) == (0, "")
    assert "stage 1 (coarse)" in out and "stage 2 (fine)" in out
    assert "best λ" in out and "run-iterations" in out and "log grid" in out


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--range", "1:0.1"], "need 0 < A < B"),
        (["--range", "abc"], "not A:B"),
        (["--range", "1e-300:1e300"], "200 decades"),
        (["--eta", "1"], "must be above 1"),
        (["--subset", "0"], "must be in (0, 1]"),
        (["--per-stage", "0"], "must be at least 1"),
        (["--criterion", "median"], "invalid choice"),
        (["--budget", "10"], "cannot pay for the coarse stage"),
        (["--dim", "100000"], "limit of 4,096"),
        (["--objective", "expr", "--expr", "x**"], "formula"),
        (["--iterations", "20000000"], "more than the limit"),
    ],
)
def test_errors_are_one_line_on_stderr_with_exit_code_2(capsys, args, says):
    code, out, err = call(["sweep", *args], capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and says in err, err


def test_subprocess_never_imports_qt():
    code = (
        "import sys; from lrviz.cli import main; rc = main(); "
        "qt = ('PySide6', 'pyqtgraph', 'shiboken6', 'ui'); "
        "bad = [m for m in sys.modules if m.split('.')[0] in qt]; "
        "sys.stderr.write(repr(bad)); sys.exit(rc)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, "sweep", "--iterations", "40", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == "[]"
    assert set(json.loads(proc.stdout)) >= {"best_lr", "bracket"}

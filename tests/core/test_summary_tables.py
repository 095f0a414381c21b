"""A sweep's summary table (one row per λ, every row at the same step) opens as the sweep it
is, not as one point: the bug was that ``lr,steps,final_val_loss`` with ``steps`` 300 on
every row kept only the last row (a repeated step keeps its last value)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from lrviz.cli import main
from lrviz.loaders import load
from lrviz.loaders.model import ColumnMapping
from lrviz.log_views import sweep_points

SWEEP = (
    Path(__file__).resolve().parents[1]
    / "fixtures"
    / "lr_truth"
    / "sweeps"
    / "d01_mlp32_iris_adagrad_sweep.csv"
)


def rows_of(path: Path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_a_per_lr_summary_opens_as_one_run_per_lr():
    rows = rows_of(SWEEP)
    assert len(rows) == 25 and {r["steps"] for r in rows} == {"300"}  # the shape of the bug
    log = load(SWEEP)
    assert len(log.runs) == 25
    lrs = [float(r["lr"]) for r in rows]
    assert [run.params["lr"] for run in log.runs] == lrs
    assert all(run.params["steps"] == 300.0 for run in log.runs)
    for run, row in zip(log.runs, rows, strict=True):
        loss = run.get("final_val_loss")
        assert loss.role == "loss" and loss.x.tolist() == [300.0]
        assert loss.y.tolist() == [float(row["final_val_loss"])]
        assert run.get("lr") is None  # λ is the run's parameter, as a trial's is
    points = sweep_points(log.runs)
    assert points["lr"].size == 25  # every λ on loss vs λ
    np.testing.assert_allclose(points["lr"], sorted(lrs))


def test_inspect_lists_every_lr_and_reads_the_sweep(capsys):
    assert main(["inspect", str(SWEEP), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["format"] == "csv" and len(out["runs"]) == 25
    assert out["runs"][0]["name"] == "lr=1e-5" and out["runs"][0]["params"]["lr"] == 1e-05
    assert out["sweep"]["lrs"] == 25 and 1e-5 <= out["sweep"]["best_lr"] <= 10


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_seeds_of_one_lr_are_runs_of_their_own(tmp_path):
    log = load(
        write(
            tmp_path / "runs.csv",
            "lr,seed,steps,final_val_loss\n0.1,1,50,0.5\n0.1,2,50,0.6\n0.01,1,50,0.7\n",
        )
    )
    assert [r.name for r in log.runs] == ["lr=0.1", "lr=0.1 #2", "lr=0.01"]
    assert [r.get("seed").y[0] for r in log.runs] == [1.0, 2.0, 1.0]


@pytest.mark.parametrize(
    "text",
    [
        "step,lr,loss\n0,0.1,2.0\n1,0.1,1.5\n2,0.2,1.0\n",  # a training log: steps advance
        "step,lr,loss\n5,0.1,2.0\n5,0.1,1.5\n",  # one λ at one step: a resumed log, one point
        "lr,loss\n0.1,2.0\n0.2,1.5\n",  # no step column: rows are the index axis, as before
    ],
)
def test_other_tables_read_as_before(tmp_path, text):
    log = load(write(tmp_path / "log.csv", text))
    assert len(log.runs) == 1


def test_a_mapping_that_chooses_x_is_followed(tmp_path):
    path = write(tmp_path / "s.csv", "lr,steps,final_loss\n0.1,9,0.5\n0.2,9,0.4\n")
    assert len(load(path).runs) == 2
    mapped = load(path, ColumnMapping(x="steps", lr="lr", loss="final_loss"))
    assert len(mapped.runs) == 1  # the user's reading, one point as they asked


def test_a_mapping_naming_the_loss_makes_it_each_rows_main_loss(tmp_path):
    path = write(tmp_path / "s.csv", "lr,steps,a_loss,b_loss\n0.1,9,0.5,5\n0.2,9,0.4,4\n")
    log = load(path, ColumnMapping(lr="lr", loss="b_loss"))
    assert [r.find("loss").name for r in log.runs] == ["b_loss", "b_loss"]

"""``lrviz inspect``: JSON round trip of every fixture, text summary, errors, no Qt."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from lrviz.cli import main
from lrviz.loaders import load

ROOT = Path(__file__).resolve().parents[2]
LOGS = ROOT / "tests" / "fixtures" / "logs"
CASES = [
    ("lightning_logs/version_0/metrics.csv", "lightning-csv"),
    ("lightning_logs", "lightning-dir"),
    ("keras/training.log.csv", "keras-csv"),
    ("keras/semicolon.csv", "keras-csv"),
    ("keras/crcrlf.csv", "keras-csv"),
    ("keras/history.csv", "keras-history-csv"),
    ("fastai/history.csv", "fastai-csv"),
    ("hf/trainer_state.json", "hf-trainer-state"),
    ("hf_output", "hf-trainer-state"),
    ("tensorboard/run-version_0-tag-train_loss.csv", "tensorboard-csv"),
    ("tb_torch/events.out.tfevents.1700000100.host.1.0", "tensorboard-events"),
    ("tb_torch", "tensorboard-dir"),
    ("tb_keras", "tensorboard-dir"),
    ("wandb/wandb_export.csv", "wandb-csv"),
    ("ultralytics/v8_padded/results.csv", "ultralytics-csv"),
    ("ultralytics/v11/results.csv", "ultralytics-csv"),
    ("ultralytics/yolov5/results.csv", "ultralytics-csv"),
    ("detectron2/metrics.json", "detectron2-json"),
    ("mmengine/vis_data/scalars.json", "mmengine-json"),
    ("mmcv/20230101_120000.log.json", "mmcv-json"),
    ("lr_finder/lr_find.csv", "lr-finder-csv"),
    ("lr_finder/lr_find_index.csv", "lr-finder-csv"),
    ("plain/metrics.tsv", "csv"),
    ("plain/quirks.csv", "csv"),
    ("plain/partial.csv", "csv"),
    ("sweep", "sweep-dir"),
]


def run_json(capsys, path) -> dict:
    assert main(["inspect", str(path), "--json"]) == 0
    out = capsys.readouterr().out
    return json.loads(out, parse_constant=lambda c: pytest.fail(f"bare {c} in JSON"))


def same(a, b) -> bool:
    if b is None or (isinstance(b, float) and not math.isfinite(b)):
        return a is None
    return a == b


@pytest.mark.parametrize(("rel", "fmt"), CASES)
def test_json_round_trip(capsys, rel, fmt):
    data = run_json(capsys, LOGS / rel)
    assert {"format", "runs"} <= set(data) <= {"format", "runs", "sweep", "skipped"}
    assert data["format"] == fmt
    log = load(LOGS / rel)
    assert [r["name"] for r in data["runs"]] == [r.name for r in log.runs]
    for jr, run in zip(data["runs"], log.runs, strict=True):
        assert set(jr) == {"name", "params", "series"}
        assert [s["name"] for s in jr["series"]] == [s.name for s in run.series]
        for js, s in zip(jr["series"], run.series, strict=True):
            assert set(js) == {"name", "role", "x", "points", "first", "last"}
            assert (js["role"], js["x"], js["points"]) == (s.role, s.x_axis, len(s))
            assert same(js["first"][0], float(s.x[0])) and same(js["first"][1], float(s.y[0]))
            assert same(js["last"][0], float(s.x[-1])) and same(js["last"][1], float(s.y[-1]))


def test_json_for_a_lightning_run(capsys):
    data = run_json(capsys, LOGS / "lightning_logs/version_0/metrics.csv")
    run = data["runs"][0]
    assert run["params"]["lr"] == 0.1
    loss = next(s for s in run["series"] if s["name"] == "train_loss")
    assert loss == {
        "name": "train_loss",
        "role": "loss",
        "x": "step",
        "points": 4,
        "first": [49.0, 2.2897543907165527],
        "last": [199.0, 1.2345678806304932],
    }


def test_non_finite_values_are_null(capsys):
    data = run_json(capsys, LOGS / "lr_finder/lr_find.csv")
    loss = next(s for s in data["runs"][0]["series"] if s["role"] == "loss")
    assert loss["points"] == 9  # the nan at the end is a point...
    assert loss["last"] == [8.0, None]  # ...written as null


def test_text_summary(capsys):
    assert main(["inspect", str(LOGS / "sweep")]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].startswith("sweep-dir: ") and lines[0].endswith("(4 runs)")
    assert "lr=0.001" in out and "loss" in out


@pytest.mark.parametrize("rel", ["plain/bad_row.csv", "does/not/exist.csv"])
def test_unreadable_input_exits_2_with_one_line(capsys, rel):
    assert main(["inspect", str(LOGS / rel)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("lrviz inspect: error: ")
    assert captured.err.count("\n") == 1


def test_subprocess_never_imports_qt():
    code = (
        "import sys; from lrviz.cli import main; rc = main(); "
        "qt = ('PySide6', 'pyqtgraph', 'shiboken6', 'ui'); "
        "bad = [m for m in sys.modules if m.split('.')[0] in qt]; "
        "sys.stderr.write(repr(bad)); sys.exit(rc)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, "inspect", str(LOGS / "lightning_logs"), "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == "[]"
    assert json.loads(proc.stdout)["format"] == "lightning-dir"

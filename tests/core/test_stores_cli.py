"""``lrviz inspect`` on stores: the same JSON shape as for logs, one run per trial; one-line
errors with exit code 2; no Qt."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from lrviz.cli import main
from lrviz.commands.inspect import summary
from lrviz.stores import open_store

ROOT = Path(__file__).resolve().parents[2]
STORES = ROOT / "tests" / "fixtures" / "stores"
STUDY_DB = STORES / "optuna" / "study.db"
MLFLOW_DB = STORES / "mlflow" / "mlflow.db"
MLRUNS = STORES / "mlflow" / "mlruns"


def inspect_json(capsys, *argv) -> dict:
    assert main(["inspect", *map(str, argv), "--json"]) == 0
    return json.loads(capsys.readouterr().out, parse_constant=lambda c: pytest.fail(f"bare {c}"))


def fails_in_one_line(capsys, *argv) -> str:
    assert main(["inspect", *map(str, argv)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("lrviz inspect: error: ")
    return lines[0]


def check_shape(data: dict, fmt: str, log) -> None:
    assert {"format", "runs"} <= set(data) <= {"format", "runs", "sweep"} and data["format"] == fmt
    assert [r["name"] for r in data["runs"]] == [r.name for r in log.runs]
    for jr, run in zip(data["runs"], log.runs, strict=True):
        assert set(jr) == {"name", "params", "series"}
        assert [s["name"] for s in jr["series"]] == [s.name for s in run.series]
        for js, s in zip(jr["series"], run.series, strict=True):
            assert set(js) == {"name", "role", "x", "points", "first", "last"}
            assert (js["role"], js["x"], js["points"]) == (s.role, s.x_axis, len(s))
    assert data == json.loads(json.dumps(summary(log)))


@pytest.mark.parametrize("store", [MLFLOW_DB, MLRUNS, f"sqlite:///{MLFLOW_DB}", MLRUNS.as_uri()])
def test_mlflow_json(capsys, store):
    data = inspect_json(capsys, store)
    check_shape(data, "mlflow", open_store(store))
    assert len(data["runs"]) == 6
    failed = next(r for r in data["runs"] if r["name"] == "lr-sweep/lr=1")
    assert failed["params"]["state"] == "failed" and failed["params"]["diverged"] is True
    loss = next(s for s in failed["series"] if s["name"] == "train_loss")
    assert loss["last"] == [55.0, None]  # inf printed as null


def test_mlflow_experiment_option(capsys):
    data = inspect_json(capsys, MLFLOW_DB, "--study", "other")
    assert [r["name"] for r in data["runs"]] == ["adam"]
    assert data["runs"][0]["params"]["lr"] == 0.003


def test_optuna_json(capsys):
    pytest.importorskip("optuna", reason='the optuna extra: pip install "lrviz[optuna]"')
    url = f"sqlite:///{STUDY_DB}"
    data = inspect_json(capsys, url, "--study", "lr-sweep")
    check_shape(data, "optuna", open_store(url, study="lr-sweep"))
    assert [r["name"] for r in data["runs"]] == [f"trial {n}" for n in range(11)]
    assert data["runs"][3]["params"]["state"] == "pruned"
    whole = inspect_json(capsys, STUDY_DB)
    assert len(whole["runs"]) == 16 and whole["runs"][0]["name"] == "lr-sweep/trial 0"
    chosen = inspect_json(capsys, STUDY_DB, "--study", "lr-sweep", "--lr-param", "weight_decay")
    assert chosen["runs"][0]["params"]["lr"] == 0.0001


def test_a_store_of_several_studies_is_read_per_study(capsys):
    """study.db holds lr-sweep (11 trials), multi-objective (3) and lr-init (2): the best λ
    is each study's own, never one reading across trials of different studies (which took
    lr-init's and multi-objective's λs as more points of lr-sweep: "9 of 11 λs trained")."""
    pytest.importorskip("optuna", reason='the optuna extra: pip install "lrviz[optuna]"')
    sweep = inspect_json(capsys, STUDY_DB)["sweep"]
    assert [r["study"] for r in sweep["sweeps"]] == ["lr-sweep", "multi-objective", "lr-init"]
    assert [r["lrs"] for r in sweep["sweeps"]] == [10, 3, 2]
    alone = inspect_json(capsys, STUDY_DB, "--study", "lr-sweep")["sweep"]
    assert "sweeps" not in alone and alone["study"] == "lr-sweep"
    # The headline is the biggest study's reading, the same as opening that study alone.
    assert sweep["study"] == "lr-sweep" and sweep["lrs"] == alone["lrs"] == 10
    assert sweep["best_lr"] == pytest.approx(alone["best_lr"], rel=1e-12)
    assert sweep["why"] == alone["why"] and sweep["why"].startswith("8 of 10 λs trained")
    assert main(["inspect", str(STUDY_DB)]) == 0
    lines = [x for x in capsys.readouterr().out.splitlines() if x.startswith("best lr across")]
    assert [x.split(":")[0] for x in lines] == [
        "best lr across trials of lr-sweep",
        "best lr across trials of multi-objective",
        "best lr across trials of lr-init",
    ]


def test_text_summary_of_a_store(capsys):
    assert main(["inspect", str(MLRUNS), "--study", "other"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"mlflow: {MLRUNS} (1 run)") and "adam  lr=0.003" in out


def test_errors(capsys, tmp_path):
    assert "no such SQLite file" in fails_in_one_line(capsys, f"sqlite:///{tmp_path}/none.db")
    assert "no experiment 'x' here" in fails_in_one_line(capsys, MLRUNS, "--study", "x")
    cut = tmp_path / "mlflow.db"
    cut.write_bytes(MLFLOW_DB.read_bytes()[:150_000])
    assert str(cut) in fails_in_one_line(capsys, cut)
    other = tmp_path / "other.db"
    shutil.copy(STUDY_DB, other)
    assert "neither" not in fails_in_one_line(capsys, other, "--study", "x")


def test_missing_optuna_error(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "optuna", None)
    line = fails_in_one_line(capsys, f"sqlite:///{STUDY_DB}")
    assert line.endswith('needs the optuna extra: pip install "lrviz[optuna]"')


def test_store_inspect_never_imports_qt():
    code = (
        "import sys; from lrviz.cli import main; "
        f"rc = main(['inspect', {str(MLFLOW_DB)!r}, '--json']); "
        "qt = ('PySide6', 'pyqtgraph', 'shiboken6', 'ui'); "
        "assert not [m for m in sys.modules if m.split('.')[0] in qt], 'Qt imported'; "
        "sys.exit(rc)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["format"] == "mlflow"

"""Stores without optional packages: finding them, MLflow's SQLite and mlruns/ stores read with
the standard library and compared with what MLflow's own client read back from the same files
(``expected-*.json``, written by tests/fixtures/stores/make_stores.py), the trial → run mapping.
"""

from __future__ import annotations

import hashlib
import json
import math
import shutil
import sqlite3
import sys
from pathlib import Path

import numpy as np
import pytest

from lrviz.errors import LrvizError
from lrviz.loaders import load
from lrviz.log_views import sweep_points
from lrviz.stores import find_lr_key, is_store, list_studies, open_store
from lrviz.stores.locate import MLFLOW_FILES, MLFLOW_SQLITE, OPTUNA, hide_password, locate
from lrviz.stores.model import run_params, text_param

STORES = Path(__file__).resolve().parents[1] / "fixtures" / "stores"
MLFLOW_DB = STORES / "mlflow" / "mlflow.db"
MLRUNS = STORES / "mlflow" / "mlruns"
STUDY_DB = STORES / "optuna" / "study.db"
DBL_MAX = sys.float_info.max


def expected(name: str) -> dict:
    return json.loads((STORES / "mlflow" / name).read_text())


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def keep_last_by_step(history: list) -> tuple[list, list]:
    """What a metric history means per step: the value logged last (latest timestamp)."""
    last: dict[int, float] = {}
    for step, _stamp, value in sorted(history, key=lambda h: h[1]):
        last[step] = value
    steps = sorted(last)
    return steps, [last[s] for s in steps]


def same_floats(a, b) -> bool:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return a.shape == b.shape and bool(np.all((a == b) | (np.isnan(a) & np.isnan(b))))


# --- finding stores -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "kind"),
    [
        (str(STUDY_DB), OPTUNA),
        (f"sqlite:///{STUDY_DB}", OPTUNA),
        (str(MLFLOW_DB), MLFLOW_SQLITE),
        (f"sqlite:///{MLFLOW_DB}", MLFLOW_SQLITE),
        (str(MLRUNS), MLFLOW_FILES),
        (MLRUNS.as_uri(), MLFLOW_FILES),
        ("postgresql://user@db.example/optuna", OPTUNA),
        ("mysql+pymysql://user@db.example/optuna", OPTUNA),
    ],
)
def test_locate_tells_the_kind(given, kind):
    assert locate(given).kind == kind
    assert is_store(given)


def test_relative_sqlite_url_and_file_uri(monkeypatch):
    monkeypatch.chdir(STORES)
    assert locate("sqlite:///optuna/study.db").path == "optuna/study.db"
    assert locate("file:mlflow/mlruns").kind == MLFLOW_FILES
    assert locate("mlflow/mlflow.db").kind == MLFLOW_SQLITE


def test_postgres_spelling_and_hidden_password():
    where = locate("postgres://me:secret@db.example:5432/optuna")
    assert where.url == "postgresql://me:secret@db.example:5432/optuna"
    assert "secret" not in where.display and where.display.startswith("postgresql://me:***@")
    assert hide_password("postgresql://me@host/db") == "postgresql://me@host/db"


def test_logs_and_plain_folders_are_not_stores(tmp_path):
    logs = STORES.parent / "logs"
    assert not is_store(logs / "lightning_logs" / "version_0" / "metrics.csv")
    assert not is_store(logs / "sweep")
    assert not is_store(STORES / "raytune")
    plain = tmp_path / "other.db"
    sqlite3.connect(plain).execute("CREATE TABLE t (x)").connection.close()
    assert not is_store(plain)
    assert not is_store(tmp_path / "missing.db")


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("sqlite://", "names a file"),
        ("sqlite:///:memory:", "in-memory"),
        ("sqlite:///{tmp}/missing.db", "no such SQLite file"),
        ("sqlite:///{tmp}/other.db", "neither an Optuna study storage nor an MLflow store"),
    ],
)
def test_bad_sqlite_urls_say_why(tmp_path, url, words):
    sqlite3.connect(tmp_path / "other.db").execute("CREATE TABLE t (x)").connection.close()
    url = url.format(tmp=tmp_path)
    assert is_store(url)  # a database URL is meant as a store: opening it says what is wrong
    with pytest.raises(LrvizError, match=words):
        open_store(url)
    assert not (tmp_path / "missing.db").exists()


def test_not_a_store_path_is_refused():
    with pytest.raises(LrvizError, match="not an Optuna study storage or MLflow tracking store"):
        open_store(STORES / "raytune")


def test_missing_optuna_names_the_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "optuna", None)  # import optuna now raises ImportError
    with pytest.raises(LrvizError) as err:
        open_store(STUDY_DB)
    assert 'pip install "lrviz[optuna]"' in str(err.value)
    assert str(STUDY_DB) in str(err.value) and "\n" not in str(err.value)


# --- the trial -> run mapping -----------------------------------------------------------------


def test_lr_key_choice():
    assert find_lr_key({"optimizer.lr": 0.1, "lr": 0.01}) == "lr"
    assert find_lr_key({"learning_rate": "3e-4", "momentum": 0.9}) == "learning_rate"
    assert find_lr_key({"lr_init": 0.001}) == "lr_init"
    assert find_lr_key({"config/lr": 0.2, "batch": 8}) == "config/lr"
    assert find_lr_key({"lr": "adam"}) is None  # text is not a λ
    assert find_lr_key({"lr": 0.1, "wd": 1e-4}, chosen="wd") == "wd"
    assert find_lr_key({"lr": 0.1}, chosen="missing") is None


def test_run_params_keep_clashing_hyperparameters():
    params = run_params(
        {"state": "warm", "learning_rate": 0.003, "lr": 7, "value_0": 1},
        {"state": "complete", "diverged": False},
        lr_param="learning_rate",
    )
    assert params["lr"] == 0.003 and params["params.lr"] == 7
    assert params["state"] == "complete" and params["params.state"] == "warm"
    assert params["params.value_0"] == 1 and "value_0" not in params


def test_text_params_read_back_as_logged():
    assert [text_param(t) for t in ("32", "-1", "0.001", "1e-4", "True", "False", "sgd")] == [
        32,
        -1,
        0.001,
        1e-4,
        True,
        False,
        "sgd",
    ]
    assert math.isnan(text_param("nan"))


# --- MLflow, both stores, against MLflow's own reading ----------------------------------------


@pytest.mark.parametrize(
    ("store", "oracle"), [(MLFLOW_DB, "expected-sqlite.json"), (MLRUNS, "expected-mlruns.json")]
)
def test_mlflow_store_matches_mlflows_own_client(store, oracle):
    truth = expected(oracle)
    log = open_store(store)
    assert log.format == "mlflow" and log.study is None
    assert log.studies == ["Default", "lr-sweep", "other"]
    expected_runs = {(exp, r["run_id"]): r for exp, runs in truth.items() for r in runs}
    got = {(r.params["experiment"], r.params["run_id"]): r for r in log.runs}
    assert set(got) == set(expected_runs)  # deleted run and deleted experiment left out
    for key, want in expected_runs.items():
        run = got[key]
        assert run.name == f"{key[0]}/{want['name']}"
        assert (
            run.params["state"]
            == {
                "FINISHED": "complete",
                "FAILED": "failed",
                "KILLED": "killed",
                "RUNNING": "running",
            }[want["status"]]
        )
        assert run.params["diverged"] is (want["status"] == "FAILED")
        for k, v in want["params"].items():
            assert run.params[k] == text_param(v)
        for metric, history in want["metrics"].items():
            steps, values = keep_last_by_step(history)
            # MLflow's SQL store holds inf as ±DBL_MAX and its client returns that; lrviz
            # gives back the inf that was logged.
            values = [math.copysign(math.inf, v) if abs(v) == DBL_MAX else v for v in values]
            series = run.get(metric)
            assert series.x_axis == "step"
            assert series.x.tolist() == steps
            assert same_floats(series.y, values)
        stamps = {}
        for history in want["metrics"].values():
            for step, stamp, _ in history:
                stamps[step] = max(stamps.get(step, stamp), stamp)
        wall = run.get("wall_time")
        assert wall.role == "time" and wall.x.tolist() == sorted(stamps)
        start = want["start_time"]
        assert wall.y == pytest.approx([(stamps[s] - start) / 1000.0 for s in sorted(stamps)])


def test_sql_store_oracle_really_holds_dbl_max_for_inf():
    runs = expected("expected-sqlite.json")["lr-sweep"]
    diverged = next(r for r in runs if r["name"] == "lr=1")
    assert DBL_MAX in [v for _, _, v in diverged["metrics"]["train_loss"]]
    files = next(r for r in expected("expected-mlruns.json")["lr-sweep"] if r["name"] == "lr=1")
    assert math.inf in [v for _, _, v in files["metrics"]["train_loss"]]


@pytest.mark.parametrize("store", [MLFLOW_DB, MLRUNS])
def test_mlflow_details(store):
    runs = {r.name: r for r in open_store(store, study="lr-sweep").runs}
    assert sorted(runs) == ["lr=0.001", "lr=0.003 (running)", "lr=0.01", "lr=0.1", "lr=1"]
    resumed = runs["lr=0.01"].get("train_loss")
    assert resumed.y[resumed.x.tolist().index(5)] == 0.777  # logged again later: kept
    assert runs["lr=0.01"].params["lr"] == 0.01 and runs["lr=0.01"].params["batch_size"] == 32
    diverged = runs["lr=1"].get("train_loss")
    assert math.isnan(diverged.y[diverged.x.tolist().index(21)])
    assert diverged.y[-1] == math.inf
    assert runs["lr=0.1"].params["state"] == "killed" and not runs["lr=0.1"].params["diverged"]
    assert runs["lr=0.1"].get("train_loss").x.tolist() == [0, 1, 2, 3, 5, 8, 13]
    assert runs["lr=0.003 (running)"].params["state"] == "running"
    assert runs["lr=0.01"].find("loss").name == "train_loss"


@pytest.mark.parametrize("store", [MLFLOW_DB, MLRUNS])
def test_mlflow_experiment_choice_and_lr_param(store):
    other = open_store(store, study="other")
    assert other.study == "other" and [r.name for r in other.runs] == ["adam"]
    assert other.runs[0].params["lr"] == 0.003 and other.runs[0].params["learning_rate"] == 0.003
    chosen = open_store(store, study="lr-sweep", lr_param="batch_size")
    assert {r.params.get("lr") for r in chosen.runs} == {32, None}  # the running run has none
    with pytest.raises(LrvizError, match=r"no experiment 'nope' here; experiments: Default, "):
        open_store(store, study="nope")
    assert [(s.name, s.runs) for s in list_studies(store)] == [
        ("Default", 0),
        ("lr-sweep", 5),
        ("other", 1),
    ]


def test_both_mlflow_stores_read_alike():
    a = {r.name: r for r in open_store(MLFLOW_DB).runs}
    b = {r.name: r for r in open_store(MLRUNS).runs}
    assert sorted(a) == sorted(b)
    for name, run in a.items():
        other = b[name]
        assert {k: v for k, v in run.params.items() if k != "run_id"} == {
            k: v for k, v in other.params.items() if k != "run_id"
        }
        assert [s.name for s in run.series] == [s.name for s in other.series]
        for s in run.series:
            assert same_floats(s.x, other.get(s.name).x) and same_floats(s.y, other.get(s.name).y)


def test_mlflow_sweep_feeds_loss_against_lr():
    log = open_store(MLFLOW_DB, study="lr-sweep")
    points = sweep_points(log.runs)
    assert points["lr"].tolist() == [0.001, 0.003, 0.01, 0.1, 1.0]


def test_mlflow_sqlite_is_opened_read_only(tmp_path):
    copy = tmp_path / "mlflow.db"
    shutil.copy(MLFLOW_DB, copy)
    before = (digest(copy), copy.stat().st_mtime_ns)
    open_store(copy)
    list_studies(copy)
    assert (digest(copy), copy.stat().st_mtime_ns) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mlflow.db"]  # no journal left


def test_mlflow_store_that_is_not_readable(tmp_path):
    broken = tmp_path / "mlflow.db"
    data = MLFLOW_DB.read_bytes()
    broken.write_bytes(data[:200_000])  # cut short: pages missing
    with pytest.raises(LrvizError) as err:
        open_store(broken)
    assert str(broken) in str(err.value) and "\n" not in str(err.value)


def test_empty_mlruns_folder_opens_empty(tmp_path):
    root = tmp_path / "mlruns" / "0"
    root.mkdir(parents=True)
    shutil.copy(MLRUNS / "0" / "meta.yaml", root / "meta.yaml")
    log = open_store(tmp_path / "mlruns")
    assert log.runs == [] and log.studies == ["Default"] and log.study == "Default"


def test_ray_tune_folder_is_a_sweep_folder():
    """Ray Tune's trial folders (params.json, progress.csv, result.json, as ray[tune] 2.60
    wrote them) open as a sweep with the existing folder reader."""
    log = load(STORES / "raytune")
    assert log.format == "sweep-dir"
    assert sorted(r.params["lr"] for r in log.runs) == [0.001, 0.01, 0.1, 1.0]
    for run in log.runs:
        loss = run.find("loss")
        assert loss.name == "loss" and len(loss) == 8
    table = sweep_points(log.runs)
    assert table["lr"].tolist() == [0.001, 0.01, 0.1, 1.0]
    assert table["diverged"][-1]  # λ = 1 diverged

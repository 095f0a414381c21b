"""Optuna studies through Optuna's own API, compared with what Optuna read back from the same
file when it wrote it (``expected.json`` from tests/fixtures/stores/make_stores.py). Needs the
optuna extra; skipped without it."""

from __future__ import annotations

import hashlib
import json
import math
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from lrviz.errors import LrvizError
from lrviz.log_views import sweep_points
from lrviz.stores import list_studies, open_backend, open_store

optuna = pytest.importorskip("optuna", reason='the optuna extra: pip install "lrviz[optuna]"')

STORES = Path(__file__).resolve().parents[1] / "fixtures" / "stores"
STUDY_DB = STORES / "optuna" / "study.db"
EXPECTED = json.loads((STORES / "optuna" / "expected.json").read_text())
STATES = {
    "COMPLETE": "complete",
    "PRUNED": "pruned",
    "FAIL": "failed",
    "RUNNING": "running",
    "WAITING": "waiting",
}


def same_floats(a, b) -> bool:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return a.shape == b.shape and bool(np.all((a == b) | (np.isnan(a) & np.isnan(b))))


@pytest.mark.parametrize("study", list(EXPECTED))
def test_every_trial_as_optuna_reads_it(study):
    want = EXPECTED[study]
    log = open_store(f"sqlite:///{STUDY_DB}", study=study)
    assert log.format == "optuna" and log.study == study
    assert [r.name for r in log.runs] == [f"trial {t['number']}" for t in want["trials"]]
    roles = ["loss" if d == "MINIMIZE" else "metric" for d in want["directions"]]
    for run, trial in zip(log.runs, want["trials"], strict=True):
        p = run.params
        assert p["trial"] == trial["number"] and p["study"] == study
        assert p["state"] == STATES[trial["state"]]
        assert p["diverged"] is (trial["state"] in ("PRUNED", "FAIL"))
        for k, v in trial["params"].items():
            assert p[k] == v and type(p[k]) is type(v)  # categorical choices decoded
        steps = [s for s, _ in trial["intermediate_values"]]
        curve = run.get("intermediate")
        if steps:
            assert curve.role == roles[0] and curve.x.tolist() == steps
            assert same_floats(curve.y, [v for _, v in trial["intermediate_values"]])
        else:
            assert curve is None
        values = trial["values"]
        if values is None:
            assert not any(k == "value" or k.startswith("value_") for k in p)
            continue
        names = ["value"] if len(values) == 1 else [f"value_{i}" for i in range(len(values))]
        for name, value, role in zip(names, values, roles, strict=True):
            assert p[name] == value
            point = run.get(name)
            assert point.role == role and point.y.tolist() == [value]
            assert point.x.tolist() == [steps[-1] if steps else 0]


def test_lr_sweep_states_and_divergence():
    runs = open_store(STUDY_DB, study="lr-sweep").runs
    by_state: dict[str, list[float]] = {}
    for r in runs:
        by_state.setdefault(r.params["state"], []).append(r.params.get("lr"))
    assert by_state == {
        "complete": [0.01, 0.003, 0.03],
        "pruned": [0.0001, 0.1, 0.0003, 0.3],
        "failed": [0.05, 1.0],
        "running": [0.002],
        "waiting": [None],  # enqueued: its params are not set until a worker starts it
    }
    blown_up = next(r for r in runs if r.params.get("lr") == 1.0).get("intermediate")
    assert blown_up.y[-1] == math.inf  # reported inf, then a NaN objective: failed
    assert runs[0].find("loss").name == "intermediate"


def test_all_studies_when_several_and_none_chosen():
    log = open_store(STUDY_DB)
    assert log.study is None and log.studies == ["lr-sweep", "multi-objective", "lr-init"]
    assert len(log.runs) == sum(len(s["trials"]) for s in EXPECTED.values())
    assert log.runs[0].name == "lr-sweep/trial 0"
    assert [(s.name, s.runs) for s in list_studies(STUDY_DB)] == [
        ("lr-sweep", 11),
        ("multi-objective", 3),
        ("lr-init", 2),
    ]


def test_lr_under_other_names_or_chosen():
    multi = open_store(STUDY_DB, study="multi-objective")
    assert [r.params["lr"] for r in multi.runs] == [0.001, 0.01, 0.1]  # from learning_rate
    assert multi.runs[0].get("value_1").role == "metric"  # maximized
    init = open_store(STUDY_DB, study="lr-init")
    assert [r.params["lr"] for r in init.runs] == [0.001, 0.01]  # from lr_init
    assert init.runs[0].find("loss").name == "value"  # no intermediate values: the objective
    chosen = open_store(STUDY_DB, study="lr-sweep", lr_param="weight_decay")
    assert chosen.runs[0].params["lr"] == 1e-4 and chosen.runs[0].params["params.lr"] == 0.01


def test_unknown_study_lists_the_studies():
    with pytest.raises(LrvizError, match="no study 'x' here; studies: lr-sweep, multi-objective"):
        open_store(STUDY_DB, study="x")


def test_study_feeds_loss_against_lr():
    points = sweep_points(open_store(STUDY_DB, study="lr-sweep").runs)
    # every trial with a λ and a curve, pruned and failed ones included (marked diverged)
    assert points["lr"].tolist() == [0.0001, 0.0003, 0.002, 0.003, 0.01, 0.03, 0.05, 0.1, 0.3, 1.0]


def test_storage_is_opened_read_only(tmp_path):
    copy = tmp_path / "study.db"
    shutil.copy(STUDY_DB, copy)
    before = hashlib.sha256(copy.read_bytes()).hexdigest(), copy.stat().st_mtime_ns
    open_store(copy)
    backend = open_backend(copy, study="lr-sweep")
    try:
        running = next(r for r in backend.read(None).values() if r[1].params["state"] == "running")
        trial_id = running[0][2]
        with pytest.raises(optuna.exceptions.StorageInternalError) as err:
            # what a careless write would do: the database itself refuses it
            backend.storage.set_trial_intermediate_value(trial_id, 99, 1.0)
        assert "readonly database" in str(err.value.__cause__)
    finally:
        backend.close()
    assert (hashlib.sha256(copy.read_bytes()).hexdigest(), copy.stat().st_mtime_ns) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["study.db"]


def test_file_name_with_url_characters(tmp_path):
    odd = tmp_path / "my study #1 ?%.db"
    shutil.copy(STUDY_DB, odd)
    assert len(open_store(odd, study="lr-init").runs) == 2


def test_sqlite_with_optuna_tables_but_no_version_info(tmp_path):
    fake = tmp_path / "fake.db"
    con = sqlite3.connect(fake)
    con.executescript("CREATE TABLE studies (study_id INTEGER); CREATE TABLE trials (x);")
    con.close()
    with pytest.raises(LrvizError, match="not an Optuna study storage"):
        open_store(fake)


def test_unreachable_server_is_one_line_not_a_hang():
    pytest.importorskip("psycopg", reason="PostgreSQL driver (the optuna extra)")
    # Port 1 on the loopback: refused at once.
    with pytest.raises(LrvizError) as err:
        open_store("postgresql://nobody@127.0.0.1:1/nothing")
    text = str(err.value)
    assert "cannot open the storage" in text and "\n" not in text


def runs_as_data(log) -> list:
    return [
        (r.name, r.params, [(s.name, s.role, s.x.tolist(), s.y.tolist()) for s in r.series])
        for r in log.runs
    ]


def test_row_reader_and_optunas_reader_agree(monkeypatch):
    """Trials are read as rows (fast); Optuna's own reader is the fallback. Both give the same
    runs, and the fixture really goes through the row reader."""
    import sqlalchemy.exc

    from lrviz.stores import optuna_store

    def no_fallback(*_):
        raise AssertionError("fell back to Optuna's reader")

    with monkeypatch.context() as m:
        m.setattr(optuna_store.OptunaStudies, "_trials_by_optuna", no_fallback)
        fast = runs_as_data(open_store(STUDY_DB))

    def broken(*_args, **_kwargs):
        raise sqlalchemy.exc.OperationalError("SELECT", {}, Exception("no such column"))

    monkeypatch.setattr(optuna_store, "read_trials", broken)
    slow = runs_as_data(open_store(STUDY_DB))
    assert len(fast) == 16
    assert repr(fast) == repr(slow)  # repr: NaN == NaN, and int vs float told apart

"""Following stores live: the real libraries write to a copy of a fixture while lrviz polls it
(from a worker thread, as the app does); every trial/run is reported once as added, changes
as updates, and what lrviz ends with equals what the library reads back.

The mlruns/ case without MLflow appends to the files exactly as MLflow writes them, to check a
point cut off mid-line is read once it is complete; the rest needs optuna / mlflow and skips
without them."""

from __future__ import annotations

import shutil
import threading
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from lrviz.stores import StoreChanges, StoreWatcher

STORES = Path(__file__).resolve().parents[1] / "fixtures" / "stores"


def copy_mlruns(to: Path) -> None:
    """Copy the mlruns/ fixture with the empty folders MLflow made for each run: git keeps no
    empty folder, and from a clean clone MLflow reports a run without them as not found."""
    shutil.copytree(STORES / "mlflow" / "mlruns", to)
    for meta in to.rglob("meta.yaml"):
        if meta.parent.parent != to:  # a run's meta.yaml, not an experiment's
            for folder in ("artifacts", "metrics", "params", "tags"):
                (meta.parent / folder).mkdir(exist_ok=True)


def poll_in_thread(watcher: StoreWatcher) -> StoreChanges:
    """One poll on a worker thread, as the app does it (no Qt needed, nothing shared)."""
    out: list = []

    def work():
        try:
            out.append(watcher.poll())
        except BaseException as exc:  # handed back to the test thread
            out.append(exc)

    thread = threading.Thread(target=work)
    thread.start()
    thread.join(timeout=60)
    assert out, "poll did not return"
    if isinstance(out[0], BaseException):
        raise out[0]
    return out[0]


class Tally:
    """Everything the polls reported, to check nothing came twice or went missing."""

    def __init__(self) -> None:
        self.added: Counter = Counter()
        self.updated: Counter = Counter()

    def take(self, changes: StoreChanges) -> StoreChanges:
        for key in changes.added:
            assert key not in self.added, f"{key} added twice"
            self.added[key] += 1
        for key in changes.updated:
            assert key in self.added, f"{key} updated before it was added"
            self.updated[key] += 1
        return changes


# --- mlruns/ without MLflow -----------------------------------------------------------------


def test_mlruns_points_appended_and_cut_mid_line(tmp_path):
    root = tmp_path / "mlruns"
    shutil.copytree(STORES / "mlflow" / "mlruns", root)
    watcher = StoreWatcher(root, study="lr-sweep")
    tally = Tally()
    first = tally.take(poll_in_thread(watcher))
    assert len(first.added) == 5 and not first.updated
    assert not poll_in_thread(watcher)  # nothing changed: nothing reported

    running = next(k for k, r in watcher.runs.items() if r.params["state"] == "running")
    metric = next(root.glob(f"*/{running}/metrics/train_loss"))
    with open(metric, "a") as f:
        f.write("1700000000020 0.5 20\n1700000000030 0.4")  # the second point half-written
    changes = tally.take(poll_in_thread(watcher))
    assert list(changes.updated) == [running] and not changes.added
    assert changes.updated[running].get("train_loss").x.tolist() == [0, 4, 9, 20]
    with open(metric, "a") as f:
        f.write("5 30\n")
    changes = tally.take(poll_in_thread(watcher))
    loss = changes.updated[running].get("train_loss")
    assert loss.x.tolist() == [0, 4, 9, 20, 30] and loss.y[-1] == 0.45

    # A new run folder, as MLflow lays it out.
    source = metric.parents[1]
    new = source.parent / "0123456789abcdef0123456789abcdef"
    shutil.copytree(source, new)
    meta = (new / "meta.yaml").read_text().replace(source.name, new.name)
    (new / "meta.yaml").write_text(meta)
    changes = tally.take(poll_in_thread(watcher))
    assert list(changes.added) == [new.name] and not changes.updated
    assert set(watcher.runs) == set(tally.added) and len(watcher.data.runs) == 6


# --- MLflow's own client writing ------------------------------------------------------------


# MLflow's SQL store (the writer here, not lrviz) still uses a loader SQLAlchemy 2.1 deprecates.
@pytest.mark.filterwarnings("ignore:The ``noload`` loader strategy is deprecated")
@pytest.mark.parametrize("kind", ["sqlite", "mlruns"])
def test_mlflow_writing_while_watched(tmp_path, kind, monkeypatch):
    mlflow = pytest.importorskip("mlflow", reason="mlflow writes the store (pip install mlflow)")
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # MLflow 3 keeps mlruns/ behind it
    monkeypatch.chdir(tmp_path)  # artifact folders land here
    if kind == "sqlite":
        shutil.copy(STORES / "mlflow" / "mlflow.db", tmp_path / "mlflow.db")
        target, uri = tmp_path / "mlflow.db", f"sqlite:///{tmp_path / 'mlflow.db'}"
    else:
        copy_mlruns(tmp_path / "mlruns")
        target, uri = tmp_path / "mlruns", (tmp_path / "mlruns").as_uri()
    client = mlflow.MlflowClient(tracking_uri=uri)
    exp = client.get_experiment_by_name("lr-sweep").experiment_id

    watcher = StoreWatcher(target, study="lr-sweep")
    tally = Tally()
    assert len(tally.take(poll_in_thread(watcher)).added) == 5
    running = next(k for k, r in watcher.runs.items() if r.params["state"] == "running")
    finished = next(k for k, r in watcher.runs.items() if r.name == "lr=0.001")

    client.log_metric(running, "train_loss", 0.6, timestamp=1700000000100, step=12)
    new = client.create_run(exp, run_name="lr=0.02").info.run_id
    client.log_param(new, "lr", "0.02")
    client.log_metric(new, "train_loss", 2.0, timestamp=1700000000000, step=0)
    changes = tally.take(poll_in_thread(watcher))
    assert set(changes.updated) == {running} and set(changes.added) == {new}
    assert changes.updated[running].get("train_loss").x.tolist() == [0, 4, 9, 12]
    assert changes.added[new].params["lr"] == 0.02

    client.log_metric(new, "train_loss", 1.0, timestamp=1700000001000, step=1)
    client.set_terminated(new, "FINISHED")
    client.delete_run(finished)
    changes = tally.take(poll_in_thread(watcher))
    assert set(changes.updated) == {new} and changes.removed == [finished]
    assert changes.updated[new].params["state"] == "complete"
    assert not poll_in_thread(watcher)

    truth = {
        r.info.run_id: r for r in client.search_runs([exp]) if r.info.lifecycle_stage == "active"
    }
    assert set(watcher.runs) == set(truth)
    for run_id, run in watcher.runs.items():
        for key in truth[run_id].data.metrics:
            history = client.get_metric_history(run_id, key)
            last = {m.step: m.value for m in sorted(history, key=lambda m: m.timestamp)}
            assert run.get(key).x.tolist() == sorted(last)


# --- Optuna writing ---------------------------------------------------------------------------


def assert_same_as_optuna(watcher: StoreWatcher, study) -> None:
    trials = {str(t._trial_id): t for t in study.get_trials(deepcopy=False)}
    assert set(watcher.runs) == set(trials)
    for key, trial in trials.items():
        run = watcher.runs[key]
        assert run.params["trial"] == trial.number
        assert run.params["state"] == {"COMPLETE": "complete", "PRUNED": "pruned"}.get(
            trial.state.name, run.params["state"]
        )
        steps = sorted(trial.intermediate_values)
        curve = run.get("intermediate")
        if steps:
            assert curve.x.tolist() == steps
            want = [trial.intermediate_values[s] for s in steps]
            assert np.array_equal(curve.y, want, equal_nan=True)


def test_optuna_sqlite_writing_while_watched(tmp_path):
    optuna = pytest.importorskip("optuna", reason='the optuna extra: pip install "lrviz[optuna]"')
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    shutil.copy(STORES / "optuna" / "study.db", tmp_path / "study.db")
    url = f"sqlite:///{tmp_path / 'study.db'}"
    watcher = StoreWatcher(tmp_path / "study.db", study="lr-sweep")
    tally = Tally()
    assert len(tally.take(poll_in_thread(watcher)).added) == 11

    study = optuna.load_study(study_name="lr-sweep", storage=url)
    running = next(t for t in study.get_trials() if t.state.name == "RUNNING")
    for step in (3, 4):
        study._storage.set_trial_intermediate_value(running._trial_id, step, 1.5 - 0.1 * step)
    study.tell(running.number, 1.1)
    changes = tally.take(poll_in_thread(watcher))
    assert set(changes.updated) == {str(running._trial_id)} and not changes.added
    told = changes.updated[str(running._trial_id)]
    assert told.params["state"] == "complete" and told.params["value"] == 1.1
    assert told.get("intermediate").x.tolist() == [0, 1, 2, 3, 4]

    def objective(trial):
        lr = trial.suggest_float("lr", 1e-5, 10.0, log=True)
        trial.suggest_categorical("batch_size", [16, 32, 64])
        trial.suggest_float("weight_decay", 1e-6, 1e-2, log=True)
        for step in range(3):
            trial.report(1.0 / (1 + lr * step), step)
        return 1.0 / (1 + lr * 2)

    study.optimize(objective, n_trials=3)  # the waiting trial runs first, then two new ones
    changes = tally.take(poll_in_thread(watcher))
    assert len(changes.added) == 2 and len(changes.updated) == 1
    assert not poll_in_thread(watcher)
    assert_same_as_optuna(watcher, study)
    assert all(count == 1 for count in tally.added.values())


def test_optuna_trial_that_commits_late_is_not_lost(tmp_path):
    """Two workers: one takes trial id 5, another id 6 and commits first. A poll between sees 6
    and not 5; Optuna's own cache, which re-reads only trials after the last finished one,
    would never look at 5 again. lrviz lists every trial at every poll and finds it."""
    pytest.importorskip("optuna", reason='the optuna extra: pip install "lrviz[optuna]"')
    import sqlite3

    db = tmp_path / "study.db"
    shutil.copy(STORES / "optuna" / "study.db", db)
    tables = ["trials", "trial_params", "trial_values", "trial_intermediate_values"]
    tables += ["trial_user_attributes", "trial_system_attributes"]
    con = sqlite3.connect(db)
    held = {t: con.execute(f"SELECT * FROM {t} WHERE trial_id = 5").fetchall() for t in tables}
    with con:
        for t in reversed(tables):
            con.execute(f"DELETE FROM {t} WHERE trial_id = 5")
    watcher = StoreWatcher(db)
    first = poll_in_thread(watcher)
    assert "5" not in first.added and "6" in first.added and len(first.added) == 15
    with con:  # the slow worker's transaction commits now
        for t in tables:
            for row in held[t]:
                con.execute(f"INSERT INTO {t} VALUES ({','.join('?' * len(row))})", row)
    con.close()
    late = poll_in_thread(watcher)
    assert list(late.added) == ["5"] and not late.updated
    assert late.added["5"].params["trial"] == 4 and late.added["5"].params["state"] == "pruned"

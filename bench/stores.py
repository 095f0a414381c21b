"""Opening and following a large Optuna study (SQLite), and what reading MLflow costs.

    python bench/stores.py            # 10,000 trials x 20 intermediate values
    python bench/stores.py --quick    # 1,000 trials (CI)
    python bench/stores.py --trials 20000 --steps 50 --repeats 5

The study: Optuna creates it (schema, study, direction); the trials' rows are then laid in
bulk exactly as Optuna writes them (Optuna's own writer takes ~15 ms a trial, 2.5 minutes for
10,000), and Optuna reads the study back to check every trial came out as generated. 5% of
the trials are left running, so the live part has trials to grow.

Figures (medians of ``--repeats``):

- open: ``lrviz.stores.open_store`` -> LogData, against Optuna's own reader
  (``optuna.load_study(...).get_trials()``, no LogData), which lrviz falls back to.
- live: a poll when nothing changed, and one after Optuna (the real writer) grew 10 running
  trials and added 10 new ones, against reading the whole study again (what a poll without
  fingerprints would cost); and building ``watcher.data`` (what the GUI thread would do with
  the result, the poll itself runs on a worker thread).
- MLflow: the import time of MLflow's client and the installed size of what reading a
  ``mlflow.db`` through it needs (mlflow-skinny + SQLAlchemy + Alembic and their
  dependencies), where installed, against lrviz's standard-library reader.

Exits 0 whatever the figures (shared CI machines are too noisy to gate on).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

FLOAT_LR = '{"name": "FloatDistribution", "attributes": {"step": null, "low": 1e-05, "high": 1.0, "log": true}}'  # noqa: E501
CATEGORICAL_BATCH = '{"name": "CategoricalDistribution", "attributes": {"choices": [16, 32, 64]}}'


def curve(lr: float, step: int) -> float:
    return 0.3 + 2.0 * math.exp(-min(lr * 60.0, 1.5) * step) + 0.1 * abs(math.log10(lr) + 2)


def build_study(path: Path, trials: int, steps: int) -> None:
    """A study of ``trials`` trials (``lr`` log-uniform, ``batch_size`` categorical), each with
    ``steps`` intermediate values; every 20th trial still running, half-way."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = optuna.storages.RDBStorage(f"sqlite:///{path}")
    optuna.create_study(study_name="bench", storage=storage, direction="minimize")
    storage.engine.dispose()
    now = datetime(2026, 1, 1).isoformat(sep=" ")
    rows_t, rows_p, rows_v, rows_i = [], [], [], []
    for n in range(trials):
        tid = n + 1
        lr = 10 ** (-5 + 5 * n / max(1, trials - 1))
        running = n % 20 == 19
        rows_t.append(
            (tid, n, 1, "RUNNING" if running else "COMPLETE", now, None if running else now)
        )
        rows_p.append((2 * n + 1, tid, "lr", lr, FLOAT_LR))
        rows_p.append((2 * n + 2, tid, "batch_size", float(n % 3), CATEGORICAL_BATCH))
        upto = steps // 2 if running else steps
        for s in range(upto):
            rows_i.append((n * steps + s + 1, tid, s, curve(lr, s), "FINITE"))
        if not running:
            rows_v.append((tid, tid, 0, curve(lr, steps - 1), "FINITE"))
    con = sqlite3.connect(path)
    with con:
        con.executemany("INSERT INTO trials VALUES (?, ?, ?, ?, ?, ?)", rows_t)
        con.executemany("INSERT INTO trial_params VALUES (?, ?, ?, ?, ?)", rows_p)
        con.executemany("INSERT INTO trial_values VALUES (?, ?, ?, ?, ?)", rows_v)
        con.executemany("INSERT INTO trial_intermediate_values VALUES (?, ?, ?, ?, ?)", rows_i)
    con.close()
    check_study(path, trials, steps)


def check_study(path: Path, trials: int, steps: int) -> None:
    """Optuna reads every trial back as generated (the bulk rows are Optuna's own layout)."""
    import optuna

    storage = optuna.storages.RDBStorage(f"sqlite:///{path}")
    got = optuna.load_study(study_name="bench", storage=storage).get_trials(deepcopy=False)
    storage.engine.dispose()
    assert len(got) == trials
    for t in got[:: max(1, trials // 50)]:
        lr = 10 ** (-5 + 5 * t.number / max(1, trials - 1))
        assert t.params == {"lr": lr, "batch_size": [16, 32, 64][t.number % 3]}
        running = t.number % 20 == 19
        assert t.state.name == ("RUNNING" if running else "COMPLETE")
        upto = steps // 2 if running else steps
        assert t.intermediate_values == {s: curve(lr, s) for s in range(upto)}


def median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def grow(path: Path, running_ids: list[int], new: int, step: int) -> None:
    """Optuna itself, as a worker would: grow some running trials, add new ones."""
    import optuna
    from optuna.distributions import FloatDistribution

    storage = optuna.storages.RDBStorage(f"sqlite:///{path}")
    for tid in running_ids:
        storage.set_trial_intermediate_value(tid, step, 0.5)
    study = optuna.load_study(study_name="bench", storage=storage)
    dist = {"lr": FloatDistribution(1e-5, 1.0, log=True)}
    for _ in range(new):
        trial = study.ask(dist)
        trial.report(1.0, 0)
    storage.engine.dispose()


def bench_optuna(trials: int, steps: int, repeats: int) -> dict:
    import optuna

    from lrviz.stores import StoreWatcher, open_store

    work = Path(tempfile.mkdtemp(prefix="lrviz-bench-"))
    try:
        path = work / "study.db"
        t0 = time.perf_counter()
        build_study(path, trials, steps)
        built = time.perf_counter() - t0
        size = path.stat().st_size

        def optuna_only():
            storage = optuna.storages.RDBStorage(f"sqlite:///{path}", skip_table_creation=True)
            optuna.load_study(study_name="bench", storage=storage).get_trials(deepcopy=False)
            storage.engine.dispose()

        open_s = median_time(lambda: open_store(path), repeats)
        optuna_s = median_time(optuna_only, repeats)

        watcher = StoreWatcher(path)
        t0 = time.perf_counter()
        first = watcher.poll()
        first_s = time.perf_counter() - t0
        assert len(first.added) == trials
        idle_s = median_time(lambda: watcher.poll(), repeats)
        running = [int(k) for k, r in watcher.runs.items() if r.params["state"] == "running"]
        changed_times = []
        for i in range(repeats):
            grow(path, running[:10], new=10, step=steps + i)
            t0 = time.perf_counter()
            changes = watcher.poll()
            changed_times.append(time.perf_counter() - t0)
            assert len(changes.updated) == 10 and len(changes.added) == 10, changes
        data_s = median_time(lambda: watcher.data, repeats)
        watcher.close()
        return {
            "trials": trials,
            "steps": steps,
            "file_bytes": size,
            "build_s": built,
            "open_s": open_s,
            "optuna_get_trials_s": optuna_s,
            "first_poll_s": first_s,
            "idle_poll_s": idle_s,
            "poll_20_changed_s": statistics.median(changed_times),
            "full_reread_s": open_s,
            "data_s": data_s,
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _closure_bytes(names: list[str]) -> tuple[int, int] | None:
    """Installed bytes and count of the distributions ``names`` and everything they require."""
    from importlib import metadata
    from importlib.metadata import PackageNotFoundError

    from packaging.requirements import Requirement

    seen: dict[str, int] = {}
    todo = list(names)
    while todo:
        name = todo.pop().lower().replace("_", "-")
        if name in seen:
            continue
        try:
            dist = metadata.distribution(name)
        except PackageNotFoundError:
            if name in (n.lower() for n in names):
                return None
            continue
        seen[name] = sum(f.size or 0 for f in dist.files or [])
        for req in dist.requires or []:
            r = Requirement(req)
            if r.marker is None or r.marker.evaluate({"extra": ""}):
                todo.append(r.name)
    return sum(seen.values()), len(seen)


def _import_seconds(statement: str) -> float | None:
    code = f"import time; t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"
    times = []
    for _ in range(3):
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        if proc.returncode != 0:
            return None
        times.append(float(proc.stdout.strip().splitlines()[-1]))
    return statistics.median(times)


def bench_mlflow(repeats: int) -> dict:
    from lrviz.stores import open_store

    fixture = ROOT / "tests" / "fixtures" / "stores" / "mlflow" / "mlflow.db"
    out: dict = {
        "stdlib_import_s": _import_seconds("import sqlite3"),
        "lrviz_open_fixture_s": median_time(lambda: open_store(fixture), repeats),
    }
    try:
        closure = _closure_bytes(["mlflow-skinny", "sqlalchemy", "alembic"])
    except ImportError:  # packaging missing: sizes unknown
        closure = None
    if closure is not None:
        out["client_bytes"], out["client_distributions"] = closure
        out["client_import_s"] = _import_seconds("from mlflow import MlflowClient")
        code = (
            "import time, tempfile, shutil, os; t = time.perf_counter(); "
            "from mlflow import MlflowClient; d = tempfile.mkdtemp(); "
            f"shutil.copy({str(fixture)!r}, d); "
            "c = MlflowClient(tracking_uri='sqlite:///' + os.path.join(d, 'mlflow.db')); "
            "runs = [r for e in c.search_experiments() for r in c.search_runs([e.experiment_id])]; "
            "[c.get_metric_history(r.info.run_id, k) for r in runs for k in r.data.metrics]; "
            "print(time.perf_counter() - t)"
        )
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        if proc.returncode == 0:
            out["client_import_and_read_fixture_s"] = float(proc.stdout.split()[-1])
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 trials (CI)")
    parser.add_argument("--trials", type=int, help="trials in the study (default 10,000)")
    parser.add_argument("--steps", type=int, default=20, help="intermediate values per trial")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    args = parser.parse_args(argv)
    trials = args.trials or (1000 if args.quick else 10_000)
    try:
        import optuna  # noqa: F401
    except ImportError:
        print('optuna is not installed (pip install "lrviz[optuna]"): Optuna figures skipped')
        optuna_figures = None
    else:
        optuna_figures = bench_optuna(trials, args.steps, args.repeats)
        f = optuna_figures
        print(
            f"Optuna study, SQLite: {f['trials']:,} trials x {f['steps']} intermediate values "
            f"({f['file_bytes'] / 1e6:.1f} MB; built in {f['build_s']:.1f} s)"
        )
        print(f"  open_store -> LogData          {f['open_s']:8.3f} s")
        print(
            f"  Optuna's own get_trials        {f['optuna_get_trials_s']:8.3f} s "
            f"({f['optuna_get_trials_s'] / max(f['open_s'], 1e-9):.0f}x open_store)"
        )
        print(f"  live: first poll (everything)  {f['first_poll_s']:8.3f} s")
        print(f"  live: poll, nothing changed    {f['idle_poll_s']:8.3f} s")
        print(f"  live: poll, 10 grown + 10 new  {f['poll_20_changed_s']:8.3f} s")
        print(
            f"  a full re-read instead         {f['full_reread_s']:8.3f} s "
            f"({f['full_reread_s'] / max(f['poll_20_changed_s'], 1e-9):.0f}x the changed poll)"
        )
        print(f"  watcher.data (GUI side)        {f['data_s']:8.3f} s")
    mlflow_figures = bench_mlflow(args.repeats)
    m = mlflow_figures
    print("MLflow mlflow.db: the standard library against MLflow's client")
    print(f"  import sqlite3                 {m['stdlib_import_s']:8.3f} s")
    print(f"  lrviz open_store (fixture)     {m['lrviz_open_fixture_s']:8.3f} s")
    if "client_bytes" in m:
        print(
            f"  mlflow-skinny + SQLAlchemy + Alembic: {m['client_bytes'] / 1e6:.0f} MB installed "
            f"in {m['client_distributions']} distributions"
        )
        if m.get("client_import_s") is not None:
            print(f"  import MlflowClient            {m['client_import_s']:8.3f} s")
        if "client_import_and_read_fixture_s" in m:
            print(
                f"  import + read fixture (client) {m['client_import_and_read_fixture_s']:8.3f} s"
            )
    else:
        print("  mlflow-skinny not installed here: client figures skipped")
    if args.json:
        print(json.dumps({"optuna": optuna_figures, "mlflow": mlflow_figures}, indent=2))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    sys.exit(main())

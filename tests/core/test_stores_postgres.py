"""A distributed Optuna study on a real PostgreSQL server, followed live.

The fixture starts a throwaway server (Debian's ``postgresql`` binaries, a temporary data
directory, 127.0.0.1 on a free port, stopped at the end). The study is created once, first:
two processes creating Optuna's schema at the same moment race. Then two worker processes add
trials to it at once, as a distributed study does, while lrviz polls it from a worker thread;
lrviz must end with every trial exactly once, equal to what Optuna reads back.

Skips, saying why, only where no server can be started here (binaries missing, no unprivileged
user to run it as); with ``LRVIZ_REQUIRE_POSTGRES=1`` (set by .ci/run, which installs the
server) that is a failure instead.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from lrviz.stores import StoreWatcher, open_backend

optuna = pytest.importorskip("optuna", reason='the optuna extra: pip install "lrviz[optuna]"')
pytest.importorskip("psycopg", reason='PostgreSQL driver: pip install "lrviz[optuna]"')

# trust: only this test's processes on 127.0.0.1 reach the server; no-sync: it is thrown away.
INITDB_OPTIONS = ("-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")
TRIALS_PER_WORKER = 12
STEPS = 6
WORKER = """
import sys, time
import optuna

url, worker, n_trials = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
optuna.logging.set_verbosity(optuna.logging.WARNING)
study = optuna.load_study(study_name="live", storage=url)


def objective(trial):
    lr = trial.suggest_float("lr", 1e-4, 1.0, log=True)
    trial.set_user_attr("worker", worker)
    loss = 2.0
    for step in range(STEPS):
        loss *= 1.0 - min(lr, 0.5) / 2
        trial.report(loss, step)
        time.sleep(0.01)  # a training step: lets lrviz see trials half-way
        if step == 2 and lr > 0.5:
            raise optuna.TrialPruned()
    return loss


study.optimize(objective, n_trials=n_trials)
""".replace("STEPS", str(STEPS))


def _unavailable(reason: str):
    if os.environ.get("LRVIZ_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"PostgreSQL required here but: {reason}")
    pytest.skip(reason)


def _server_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_version)
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).resolve().parent if initdb else None


def _version(path: str) -> tuple:
    part = path.split("/")[-3]
    return tuple(int(p) for p in part.split(".") if p.isdigit())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def postgres_url():
    bindir = _server_bin()
    if bindir is None:
        _unavailable("PostgreSQL server binaries not found (apt-get install postgresql)")
    prefix: list[str] = []
    user = None
    if os.geteuid() == 0:  # the server refuses to run as root
        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            _unavailable("running as root and there is no 'postgres' user to run the server as")
        prefix = ["runuser", "-u", "postgres", "--"]
    home = Path(tempfile.mkdtemp(prefix="lrviz-pg-"))
    data, log = home / "data", home / "server.log"
    if user is not None:
        os.chown(home, user.pw_uid, user.pw_gid)
    port = _free_port()
    run = dict(capture_output=True, text=True, timeout=120)
    try:
        init = subprocess.run(
            [*prefix, str(bindir / "initdb"), "-D", str(data), *INITDB_OPTIONS],
            **run,
        )
        if init.returncode != 0:
            _unavailable(f"initdb failed: {init.stderr.strip().splitlines()[-1:]}")
        options = f"-c listen_addresses=127.0.0.1 -p {port} -k {home} -c fsync=off"
        pg_ctl = [*prefix, str(bindir / "pg_ctl"), "-D", str(data)]
        start = subprocess.run(
            [*pg_ctl, "-l", str(log), "-o", options, "-w", "-t", "60", "start"], **run
        )
        if start.returncode != 0:
            tail = log.read_text()[-500:] if log.exists() else start.stderr
            _unavailable(f"the server did not start: {tail.strip()}")
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        if data.exists():
            subprocess.run(
                [*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
                **run,
            )
        shutil.rmtree(home, ignore_errors=True)


@contextlib.contextmanager
def writer(url: str):
    """Optuna's own storage, as a user's script opens it; its connections closed after."""
    storage = optuna.storages.RDBStorage(url)
    try:
        yield storage
    finally:
        storage.scoped_session.remove()
        storage.engine.dispose()


def test_two_workers_one_study_every_trial_once(postgres_url):
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    # Created once before the workers start: two processes creating the schema would race.
    with writer(postgres_url) as storage:
        optuna.create_study(study_name="live", storage=storage, direction="minimize")

    watcher = StoreWatcher(postgres_url, study="live")
    added: Counter = Counter()
    updated: Counter = Counter()
    polls = 0
    errors: list[str] = []
    stop = threading.Event()

    def follow():
        nonlocal polls
        while True:
            done = stop.is_set()  # read first: the poll after the workers ended is the last
            try:
                changes = watcher.poll()
            except Exception as exc:
                errors.append(repr(exc))
                return
            polls += 1
            for key in changes.added:
                added[key] += 1
            for key in changes.updated:
                if key not in added:
                    errors.append(f"trial {key} updated before it was added")
                updated[key] += 1
            if done:
                return
            time.sleep(0.05)

    follower = threading.Thread(target=follow)
    follower.start()
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, postgres_url, str(i), str(TRIALS_PER_WORKER)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(2)
    ]
    for w in workers:
        _, err = w.communicate(timeout=120)
        assert w.returncode == 0, err
    stop.set()
    follower.join(timeout=60)
    assert not follower.is_alive() and not errors, errors

    with writer(postgres_url) as storage:
        study = optuna.load_study(study_name="live", storage=storage)
        trials = {str(t._trial_id): t for t in study.get_trials(deepcopy=False)}
    assert len(trials) == 2 * TRIALS_PER_WORKER
    assert {t.user_attrs["worker"] for t in trials.values()} == {0, 1}  # both wrote
    assert set(added) == set(trials)  # nothing lost
    assert set(added.values()) == {1}  # nothing twice
    assert updated, "no trial was seen half-way: the study was not followed live"
    assert polls >= 3

    runs = watcher.runs
    assert sorted(r.params["trial"] for r in runs.values()) == sorted(
        t.number for t in trials.values()
    )
    for key, trial in trials.items():
        run = runs[key]
        assert run.params["state"] == {"COMPLETE": "complete", "PRUNED": "pruned"}[trial.state.name]
        assert run.params["lr"] == trial.params["lr"]
        steps = sorted(trial.intermediate_values)
        curve = run.get("intermediate")
        assert curve.x.tolist() == steps
        assert np.array_equal(curve.y, [trial.intermediate_values[s] for s in steps])
    assert not watcher.poll()
    watcher.close()


def test_sessions_are_read_only(postgres_url):
    with writer(postgres_url) as storage:
        optuna.create_study(study_name="read-only", storage=storage)
    backend = open_backend(postgres_url, study="read-only")
    try:
        with pytest.raises(Exception) as err:
            backend.storage.set_study_user_attr(
                backend.storage.get_study_id_from_name("read-only"), "x", 1
            )
        assert "read-only transaction" in str(err.value.__cause__ or err.value)
    finally:
        backend.close()

"""Logs and stores read in a child process (lrviz.watch_process): the same data as reading
them here, handed back in pieces; live growth, errors and a dead child handled."""

from __future__ import annotations

import gc
import multiprocessing
import os
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest

from lrviz import watch_process
from lrviz.errors import LrvizError
from lrviz.loaders import load
from lrviz.loaders.model import LogData, Run, Series
from lrviz.stores import StoreData, open_store
from lrviz.watch_process import ChildWatcher, receive_data, send_data

STUDY_DB = Path(__file__).resolve().parents[1] / "fixtures" / "stores" / "optuna" / "study.db"


def same_log(a, b) -> None:
    assert type(a) is type(b)
    assert (a.format, a.path, a.skipped) == (b.format, b.path, b.skipped)
    assert [r.name for r in a.runs] == [r.name for r in b.runs]
    for ra, rb in zip(a.runs, b.runs, strict=True):
        assert (ra.params, ra.source, ra.main) == (rb.params, rb.source, rb.main)
        assert [(s.name, s.role, s.x_axis) for s in ra.series] == [
            (s.name, s.role, s.x_axis) for s in rb.series
        ]
        for sa, sb in zip(ra.series, rb.series, strict=True):
            assert sa.x.dtype == sb.x.dtype == np.float64
            np.testing.assert_array_equal(sa.x, sb.x)
            np.testing.assert_array_equal(sa.y, sb.y)  # NaNs in the same places too


def through_a_pipe(data, progress=None):
    """``data`` sent and received as the child and the parent do (a thread sends)."""
    parent, child = multiprocessing.Pipe()
    sender = threading.Thread(target=send_data, args=(child, data))
    sender.start()
    got = receive_data(parent, progress)
    sender.join()
    return got


def test_runs_and_big_arrays_arrive_whole_in_pieces(monkeypatch):
    # Three groups of runs, arrays both inside the pickle and out of band over many pieces.
    monkeypatch.setattr(watch_process, "RUNS_PER_MESSAGE", 3)
    monkeypatch.setattr(watch_process, "PIECE_BYTES", 1000)
    rng = np.random.default_rng(0)
    runs = []
    for k in range(7):
        n = 20_000 if k == 2 else 10 + k  # one 160 kB array: out of band, 160 pieces
        y = rng.normal(size=n)
        y[::7] = np.nan
        runs.append(
            Run(
                f"trial_{k}",
                params={"lr": 10.0**-k, "state": "complete"},
                series=[Series("loss", "loss", "step", np.arange(n, dtype=float), y)],
                source=f"/logs/{k}.csv",
                main={"loss": "loss"},
            )
        )
    data = LogData("csv", runs, path="/logs", skipped=["x: not a log"])
    told = []
    got = through_a_pipe(data, told.append)
    same_log(got, data)
    assert got.runs[2].series[0].y.flags.writeable  # usable as any array of the loaders
    # how far along, told as it arrives: from 0 to all of it, never back, piece by piece
    assert told[0] == 0.0 and told[-1] == 1.0
    assert told == sorted(told)
    assert len(told) > 300  # the 320 kB of trial_2's series, 1000 bytes a piece


def test_a_big_study_arrives_as_few_objects_the_cycle_collector_walks():
    """10,000 trials arrived as 137,000 objects the cycle collector tracks (each small array
    unpickled onto a memoryview of its own, each run's and series' attributes a dict): the
    first collections after a study arrived walked them all on the GUI thread."""
    runs = [
        Run(
            f"trial_{k}",
            params={"lr": 1e-4 * 1.001**k, "state": "complete", "diverged": False},
            series=[
                Series("intermediate", "loss", "step", np.arange(20.0), np.linspace(3, 1, 20)),
                Series("value", "metric", "step", np.array([19.0]), np.array([1.0 + k])),
            ],
            source=None,
            main={"loss": "intermediate"},
        )
        for k in range(2000)
    ]
    data = StoreData("optuna", runs, "sqlite:///s.db", studies=["s"], study="s")
    gc.collect()
    was = gc.isenabled()
    gc.disable()
    try:
        before = len(gc.get_objects())
        got = through_a_pipe(data)
        made = len(gc.get_objects()) - before
    finally:
        if was:
            gc.enable()
    same_log(got, data)
    # a run (with its dict of attributes), its list of series and its two series: 5 objects
    # a trial and some slack (14 before)
    assert made < 7 * len(runs)
    series = got.runs[7].series[0]
    assert series.x.base is None and series.y.flags.writeable  # arrays of their own memory
    assert series.y.dtype is np.dtype(np.float64)  # numpy's own dtype (log_scene's cache)


def test_store_data_keeps_its_studies():
    data = StoreData("optuna", [Run("t0", {"lr": 0.1})], "s", studies=["a", "b"], study="a")
    got = through_a_pipe(data)
    same_log(got, data)
    assert (got.studies, got.study) == (["a", "b"], "a")


def test_an_empty_log_arrives_empty():
    got = through_a_pipe(LogData("csv", [], path="empty.csv"))
    assert got.runs == [] and got.path == "empty.csv"


def write_rows(path: Path, start: int, stop: int, header: bool = False) -> None:
    with open(path, "a") as f:
        if header:
            f.write("step,lr,loss\n")
        for i in range(start, stop):
            f.write(f"{i},{1e-4 * (i + 1)!r},{1.0 / (i + 1)!r}\n")


@pytest.fixture
def watcher_of():
    made = []

    def make(*args, **kwargs):
        w = ChildWatcher(*args, **kwargs)
        made.append(w)
        return w

    yield make
    for w in made:
        w.close()
        assert not w.alive


def test_a_log_read_in_a_child_is_the_log_read_here_and_grows(tmp_path, watcher_of):
    path = tmp_path / "train.csv"
    write_rows(path, 0, 5000, header=True)
    w = watcher_of(path)
    told = []
    w.progress = lambda stage, fraction: told.append((stage, fraction))
    assert w.poll() is True
    assert told[0] == ("reading", None) and told[-1] == ("taking in", 1.0)
    assert {stage for stage, _ in told} == {"reading", "taking in"}
    same_log(w.data, load(path))
    assert w.poll() is False  # nothing new: nothing sent
    write_rows(path, 5000, 5003)
    assert w.poll() is True
    loss = w.data.runs[0].find("loss")
    np.testing.assert_array_equal(loss.x, np.arange(5003.0))  # each row once, none lost
    same_log(w.data, load(path))


def test_a_line_being_written_is_held_back_and_said_so(tmp_path, watcher_of):
    path = tmp_path / "train.csv"
    write_rows(path, 0, 3, header=True)
    with open(path, "a") as f:
        f.write("3,0.1,")  # the training is writing this line
    w = watcher_of(path)
    assert w.poll() is True
    assert len(w.data.runs[0].find("loss")) == 3
    assert w.waiting is True  # the library keeps polling until it ends
    with open(path, "a") as f:
        f.write("0.25\n")
    assert w.poll() is True
    assert len(w.data.runs[0].find("loss")) == 4 and w.waiting is False


def test_a_bad_file_says_where_in_one_line_and_reads_once_fixed(tmp_path, watcher_of):
    path = tmp_path / "bad.csv"
    path.write_bytes(b"\x00\x01\x02 binary" * 100)
    w = watcher_of(path)
    with pytest.raises(LrvizError) as err:
        w.poll()
    assert str(path) in str(err.value) and "\n" not in str(err.value)
    assert w.alive  # an error of the log, not of the child: it stays
    path.unlink()
    write_rows(path, 0, 10, header=True)
    assert w.poll() is True
    assert len(w.data.runs[0].find("loss")) == 10


def test_a_child_dead_before_a_poll_is_started_again(tmp_path, watcher_of):
    path = tmp_path / "train.csv"
    write_rows(path, 0, 100, header=True)
    w = watcher_of(path)
    assert w.poll() is True
    w._process.kill()
    w._process.join()
    assert w.poll() is True  # a new child reads it all again
    same_log(w.data, load(path))


def test_a_child_dying_during_a_poll_is_an_error_then_read_again(tmp_path, watcher_of, monkeypatch):
    path = tmp_path / "train.csv"
    write_rows(path, 0, 100, header=True)
    w = watcher_of(path)
    assert w.poll() is True
    dying = w._process
    dying.kill()
    dying.join()
    monkeypatch.setattr(dying, "is_alive", lambda: True)  # it dies after the poll began
    with pytest.raises(LrvizError, match="ended unexpectedly") as err:
        w.poll()
    assert str(path) in str(err.value)
    assert len(w.data.runs[0].find("loss")) == 100  # what was read stays
    assert w.poll() is True  # a new child reads it all again
    same_log(w.data, load(path))


def test_close_while_polling_does_not_wait_for_the_poll(tmp_path, watcher_of):
    path = tmp_path / "train.csv"
    write_rows(path, 0, 10, header=True)
    w = watcher_of(path)
    w.poll()
    w._lock.acquire()  # as a poll in progress holds it
    try:
        w.close()  # kills the child instead of waiting
        w._process.join(5)
        assert not w._process.is_alive()
    finally:
        w._lock.release()


def test_a_study_read_in_a_child_is_the_study_read_here_and_grows(tmp_path, watcher_of):
    optuna = pytest.importorskip("optuna", reason='the optuna extra: pip install "lrviz[optuna]"')
    db = tmp_path / "study.db"
    shutil.copy(STUDY_DB, db)
    url = f"sqlite:///{db}"
    name = open_store(url).studies[0]
    w = watcher_of(url, store=True)
    assert w.poll() is True
    same_log(w.data, open_store(url))
    assert w.poll() is False
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.load_study(study_name=name, storage=url)
    before = len(w.data.runs)
    for value in (0.5, 0.25):
        trial = study.ask({"lr": optuna.distributions.FloatDistribution(1e-5, 1, log=True)})
        trial.report(value, 0)
        study.tell(trial, value)
    assert w.poll() is True
    names = [r.name for r in w.data.runs]
    # (Optuna's ask takes the fixture's waiting trial first: one new trial, one grown)
    assert len(names) == before + 1 and len(set(names)) == len(names)  # each trial once
    same_log(w.data, open_store(url))


def test_what_goes_to_a_child():
    assert watch_process.wants_child(0, store=True)
    assert watch_process.wants_child(watch_process.CHILD_BYTES, store=False)
    assert not watch_process.wants_child(watch_process.CHILD_BYTES - 1, store=False)


@pytest.mark.skipif(not hasattr(os, "setsid"), reason="sessions and nice are POSIX")
def test_the_child_gives_way_to_the_app(tmp_path, watcher_of):
    """A session of its own and a lower priority: the parse must not take the cores the
    window's thread needs (Linux shares them between sessions first)."""
    path = tmp_path / "train.csv"
    write_rows(path, 0, 10, header=True)
    w = watcher_of(path)
    w.poll()
    pid = w._process.pid
    assert os.getsid(pid) == pid != os.getsid(0)
    ours = os.getpriority(os.PRIO_PROCESS, 0)
    assert os.getpriority(os.PRIO_PROCESS, pid) == min(19, ours + watch_process.CHILD_NICENESS)


def appended_through_a_pipe(old, new):
    """``new`` sent as the child sends a live log's appended rows, rebuilt from ``old``
    (None: the child would send all of it)."""
    starts = watch_process.appended_from(watch_process._as_sent(old), new)
    if starts is None:
        return None
    parent, child = multiprocessing.Pipe()
    sender = threading.Thread(target=watch_process.send_appended, args=(child, new, starts))
    sender.start()
    got = watch_process.receive_appended(parent, old)
    sender.join()
    return got


def live_log(n: int, last: float = 1.0, runs: int = 2) -> LogData:
    steps = np.arange(n, dtype=float)
    made = []
    for r in range(runs):
        loss = 1.0 / (steps + 1 + r)
        loss[::97] = np.nan  # NaNs logged are NaNs kept
        if n:
            loss[-1] = last
        made.append(
            Run(
                f"run{r}",
                {"lr": 0.1},
                [
                    Series("loss", "loss", "step", steps, loss),
                    Series("lr", "lr", "step", steps, 1e-4 * (steps + 1)),
                ],
                source="train.csv",
                main={"loss": "loss"},
            )
        )
    return LogData("csv", made, path="train.csv")


def test_a_live_logs_appended_rows_are_sent_alone_and_rebuild_the_log(monkeypatch):
    """A live 10M-point log sent all its 240 MB again on every change."""
    monkeypatch.setattr(watch_process, "APPEND_BYTES", 1000)
    monkeypatch.setattr(watch_process, "PIECE_BYTES", 4096)  # copies and tails in pieces
    old = live_log(5000)
    for new in (live_log(5000), live_log(5300), live_log(5300, last=0.5)):
        got = appended_through_a_pipe(old, new)
        same_log(got, new)
        assert got.runs[0].series[0].x is not old.runs[0].series[0].x  # new arrays
        assert got.runs[0].params is not old.runs[0].params
    # appended again: the new rows are written after the last ones, in the same buffer
    # (no copy of what came before), and the log handed over before is as it was
    first = appended_through_a_pipe(old, live_log(5300))
    kept = [s.y.copy() for r in first.runs for s in r.series]
    grown = live_log(5400, last=0.25)
    for run, was in zip(grown.runs, first.runs, strict=True):
        run.series[0].y[:5300] = was.series[0].y  # (live_log ends each at `last`)
    second = appended_through_a_pipe(first, grown)
    same_log(second, grown)
    assert second.runs[1].series[0].y.base is first.runs[1].series[0].y.base
    for s, was in zip([s for r in first.runs for s in r.series], kept, strict=True):
        np.testing.assert_array_equal(s.y, was)
    # the old log's last row changed (a last line shown before it ended): sent from it
    changed_last = live_log(5300)
    changed_last.runs[1].series[0].y[4999] = 7.0
    assert watch_process.appended_from(old, changed_last)[1][0] == 4999
    same_log(appended_through_a_pipe(old, changed_last), changed_last)
    changed_last = live_log(5500)
    for run, was in zip(changed_last.runs, second.runs, strict=True):
        run.series[0].y[:5400] = was.series[0].y
    changed_last.runs[0].series[0].y[5399] = 9.0
    got = appended_through_a_pipe(second, changed_last)  # copied: the old rows stay as they were
    same_log(got, changed_last)
    assert got.runs[0].series[0].y.base is not second.runs[0].series[0].y.base
    assert second.runs[0].series[0].y[5399] == 0.25


@pytest.mark.parametrize(
    "change",
    ["row before the last", "fewer rows", "another run", "renamed series", "params", "small"],
)
def test_a_log_that_is_not_the_old_one_with_rows_appended_is_sent_whole(monkeypatch, change):
    monkeypatch.setattr(watch_process, "APPEND_BYTES", 1000)
    old = live_log(5000)
    new = live_log(5300)
    if change == "row before the last":
        new.runs[0].series[1].y[4998] = 0.0
    elif change == "fewer rows":
        new = live_log(4000)
    elif change == "another run":
        new = live_log(5300, runs=3)
    elif change == "renamed series":
        new.runs[1].series[1].name = "lr-Adam"
    elif change == "params":
        new.runs[0].params["lr"] = 0.2
    else:
        monkeypatch.setattr(watch_process, "APPEND_BYTES", 10**9)
    assert watch_process.appended_from(watch_process._as_sent(old), new) is None


def test_a_live_log_read_in_a_child_gets_only_its_new_rows(tmp_path, watcher_of, monkeypatch):
    path = tmp_path / "train.csv"
    write_rows(path, 0, 40_000, header=True)  # 1.3 MB of series: over APPEND_BYTES
    w = watcher_of(path)
    assert w.poll() is True
    appended = []
    receive = watch_process.receive_appended
    monkeypatch.setattr(
        watch_process,
        "receive_appended",
        lambda *args: appended.append(True) or receive(*args),
    )
    for stop in (40_010, 40_500):
        write_rows(path, len(w.data.runs[0].find("loss")), stop)
        assert w.poll() is True
        same_log(w.data, load(path))
    assert appended == [True, True]
    # rewritten from the start (a restarted training): read and sent whole
    path.write_text("step,lr,loss\n0,0.1,3.0\n1,0.1,2.0\n")
    assert w.poll() is True
    same_log(w.data, load(path))
    assert appended == [True, True]

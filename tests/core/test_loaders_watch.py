"""The live watcher: appended rows, partial lines, shrinking and rewritten files."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lrviz.loaders import LogWatcher, load
from lrviz.loaders.watch import SETTLED_SECONDS

HEADER = b"epoch,step,train_loss\r\n"


def append(path: Path, data: bytes) -> None:
    with open(path, "ab") as f:
        f.write(data)


def bump_mtime(path: Path) -> None:
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))


def settle(path: Path) -> None:
    """Make the file look finished: last written long ago."""
    old = time.time() - 10 * SETTLED_SECONDS
    os.utime(path, (old, old))


def steps(w: LogWatcher, name: str = "train_loss") -> list[float]:
    return w.data.runs[0].get(name).x.tolist()


def test_appended_rows_and_partial_lines_are_neither_lost_nor_doubled(tmp_path):
    p = tmp_path / "metrics.csv"
    p.write_bytes(HEADER + b"0,1,2.0\r\n0,2,1.9\r\n")
    w = LogWatcher(p)
    assert w.poll() is True
    assert steps(w) == [1, 2]
    assert w.poll() is False  # nothing new

    append(p, b"0,3,1.8\r\n0,4,1.")  # a row and half of the next
    assert w.poll() is True
    assert steps(w) == [1, 2, 3]  # the half row is not shown: "1." may be 1.75 cut short...
    assert w.data.runs[0].get("train_loss").y[-1] == 1.8

    append(p, b"75\r\n0,5")  # ...it is shown once its line ends, not duplicated
    assert w.poll() is True
    loss = w.data.runs[0].get("train_loss")
    assert loss.x.tolist() == [1, 2, 3, 4]
    assert loss.y[-1] == 1.75

    append(p, b",1.7\r\n")
    assert w.poll() is True
    assert steps(w) == [1, 2, 3, 4, 5]
    final = load(p).runs[0].get("train_loss")
    np.testing.assert_array_equal(w.data.runs[0].get("train_loss").y, final.y)


def test_many_small_appends_equal_one_load(tmp_path):
    p = tmp_path / "metrics.csv"
    p.write_bytes(HEADER)
    w = LogWatcher(p)
    w.poll()
    body = b"".join(b"%d,%d,%r\r\n" % (i // 10, i, 1.0 / (i + 1)) for i in range(300))
    for k in range(0, len(body), 37):  # cut anywhere, even inside numbers and CRLFs
        append(p, body[k : k + 37])
        w.poll()
    got = w.data.runs[0].get("train_loss")
    want = load(p).runs[0].get("train_loss")
    assert len(got) == 300
    np.testing.assert_array_equal(got.x, want.x)
    np.testing.assert_array_equal(got.y, want.y)


def test_rewritten_file_with_a_new_header_is_read_again(tmp_path):
    p = tmp_path / "metrics.csv"
    p.write_bytes(HEADER + b"0,1,2.0\r\n0,2,1.9\r\n")
    w = LogWatcher(p)
    w.poll()
    # Lightning >= 2.2: a new column appears, the whole file is rewritten with a new header.
    p.write_bytes(
        b"epoch,step,train_loss,val_loss\r\n0,1,2.0,\r\n0,2,1.9,\r\n0,2,,1.5\r\n0,3,1.8,\r\n"
    )
    bump_mtime(p)
    assert w.poll() is True
    run = w.data.runs[0]
    assert run.get("train_loss").x.tolist() == [1, 2, 3]
    assert run.get("val_loss").x.tolist() == [2]


def test_shrunk_file_is_read_again(tmp_path):
    p = tmp_path / "metrics.csv"
    p.write_bytes(HEADER + b"0,1,2.0\r\n0,2,1.9\r\n0,3,1.8\r\n")
    w = LogWatcher(p)
    w.poll()
    p.write_bytes(HEADER + b"0,1,5.0\r\n")
    bump_mtime(p)
    assert w.poll() is True
    assert w.data.runs[0].get("train_loss").y.tolist() == [5.0]


def test_file_that_starts_empty(tmp_path):
    p = tmp_path / "metrics.csv"
    p.write_bytes(b"")
    w = LogWatcher(p)
    assert w.poll() is False and w.data is None
    append(p, b"epoch,st")  # header still being written
    assert w.poll() is False and w.data is None
    append(p, b"ep,train_loss\r\n0,1,2.5\r\n")
    assert w.poll() is True
    assert steps(w) == [1]


def test_json_lines_are_followed_too(tmp_path):
    p = tmp_path / "metrics.json"
    p.write_text('{"iteration": 19, "total_loss": 2.0, "lr": 0.1}\n')
    w = LogWatcher(p)
    assert w.poll() is True
    assert w.data.format == "detectron2-json"
    append(p, b'{"iteration": 39, "total_loss": 1.5, "lr": 0.1}\n{"iteration": 59, "tot')
    assert w.poll() is True
    assert w.data.runs[0].get("total_loss").x.tolist() == [19, 39]
    append(p, b'al_loss": 1.2, "lr": 0.1}\n')
    assert w.poll() is True
    assert w.data.runs[0].get("total_loss").y.tolist() == [2.0, 1.5, 1.2]


def test_folder_watch_sees_new_versions_and_rows(tmp_path):
    v0 = tmp_path / "version_0"
    v0.mkdir()
    (v0 / "metrics.csv").write_bytes(HEADER + b"0,1,2.0\r\n")
    w = LogWatcher(tmp_path)
    assert w.poll() is True
    assert w.data.format == "lightning-dir" and len(w.data.runs) == 1
    assert w.poll() is False
    append(v0 / "metrics.csv", b"0,2,1.5\r\n")
    assert w.poll() is True
    assert steps(w) == [1, 2]
    v1 = tmp_path / "version_1"
    v1.mkdir()
    (v1 / "metrics.csv").write_bytes(HEADER + b"0,1,3.0\r\n")
    assert w.poll() is True
    assert [r.name for r in w.data.runs] == ["version_0", "version_1"]


def test_whole_file_formats_are_reloaded_when_changed(tmp_path):
    p = tmp_path / "trainer_state.json"
    p.write_text('{"log_history": [{"loss": 1.0, "step": 1}]}')
    w = LogWatcher(p)
    assert w.poll() is True
    p.write_text('{"log_history": [{"loss": 1.0, "step": 1}, {"loss": 0.5, "step": 2}]}')
    bump_mtime(p)
    assert w.poll() is True
    assert w.data.runs[0].get("loss").x.tolist() == [1, 2]
    p.write_text('{"log_history": [{"loss": 1.0, "st')  # caught mid-write: keep the last good data
    bump_mtime(p)
    assert w.poll() is False
    assert w.data.runs[0].get("loss").x.tolist() == [1, 2]


def test_empty_folder_waits_for_a_run(tmp_path):
    w = LogWatcher(tmp_path)
    assert w.poll() is False and w.data is None
    v0 = tmp_path / "lightning_logs" / "version_0"
    v0.mkdir(parents=True)
    (v0 / "metrics.csv").write_bytes(HEADER + b"0,1,2.0\r\n")
    assert w.poll() is True
    assert w.data.format == "lightning-dir"


def test_tensorboard_folder_is_read_incrementally(tmp_path):
    import importlib.util

    logs = Path(__file__).resolve().parents[1] / "fixtures" / "logs"
    spec = importlib.util.spec_from_file_location("make_fixtures", logs / "make_fixtures.py")
    enc = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(enc)

    run = tmp_path / "run"
    run.mkdir()
    path = run / "events.out.tfevents.100.host.1.0"
    records = [
        enc.event(s, float(s), [enc.scalar_value("train/loss", 1.0 / (s + 1))]) for s in range(6)
    ]
    data = enc.event_file(records)
    cut = len(enc.event_file(records[:3])) + 5  # three records and a bit of the fourth
    path.write_bytes(data[:cut])
    w = LogWatcher(tmp_path)
    assert w.poll() is True
    assert w.data.format == "tensorboard-dir"
    assert w.data.runs[0].get("train/loss").x.tolist() == [0, 1, 2]
    assert w.poll() is False
    append(path, data[cut:])
    assert w.poll() is True
    loss = w.data.runs[0].get("train/loss")
    assert loss.x.tolist() == [0, 1, 2, 3, 4, 5]
    np.testing.assert_array_equal(loss.y, load(tmp_path).runs[0].get("train/loss").y)


LOGS = Path(__file__).resolve().parents[1] / "fixtures" / "logs"
GROWING = [
    "lightning_logs/version_0/metrics.csv",
    "keras/training.log.csv",
    "keras/crcrlf.csv",
    "fastai/history.csv",
    "wandb/wandb_export.csv",
    "ultralytics/v8_padded/results.csv",
    "plain/quirks.csv",
    "detectron2/metrics.json",
    "mmengine/vis_data/scalars.json",
    "mmcv/20230101_120000.log.json",
    "tb_torch/events.out.tfevents.1700000000.host.1.0",
]


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rel=st.sampled_from(GROWING), cuts=st.lists(st.integers(0, 3000), max_size=6))
def test_written_in_pieces_equals_loaded_whole(tmp_path_factory, rel, cuts):
    data = (LOGS / rel).read_bytes()
    folder = tmp_path_factory.mktemp("grow")
    p = folder / Path(rel).name
    p.write_bytes(b"")
    w = LogWatcher(p)
    pos = 0
    for cut in [*sorted(c for c in cuts if c < len(data)), len(data)]:
        append(p, data[pos:cut])
        pos = max(pos, cut)
        w.poll()
    # A last line without a line end (wandb, quirks.csv) shows once nobody writes any more.
    settle(p)
    w.poll()
    whole = load(p)
    assert w.data is not None and w.data.format == whole.format
    for got, want in zip(w.data.runs, whole.runs, strict=True):
        assert [s.name for s in got.series] == [s.name for s in want.series]
        for a, b in zip(got.series, want.series, strict=True):
            np.testing.assert_array_equal(a.x, b.x)
            np.testing.assert_array_equal(a.y, b.y)

"""Issue 10, live watch: rewrites in place are seen (size, identity and a checksum of what was
read), no row is shown before its line ends, nothing is lost or doubled by a rewrite."""

from __future__ import annotations

import importlib.util
import os
import time
from pathlib import Path

import numpy as np
import pytest

from lrviz.errors import LrvizError
from lrviz.loaders import LogWatcher, load
from lrviz.loaders.watch import SETTLED_SECONDS

LOGS = Path(__file__).resolve().parents[1] / "fixtures" / "logs"
_spec = importlib.util.spec_from_file_location("make_fixtures", LOGS / "make_fixtures.py")
enc = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(enc)


def rewrite_in_place(path: Path, data: bytes) -> None:
    """Truncate and write again through the same inode (a training restarted into its log)."""
    ino = path.stat().st_ino
    with open(path, "r+b") as f:
        f.truncate(0)
        f.write(data)
    assert path.stat().st_ino == ino


def bump(path: Path) -> None:
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))


def settle(path: Path) -> None:
    old = time.time() - 10 * SETTLED_SECONDS
    os.utime(path, (old, old))


def values(w: LogWatcher, name: str) -> list[float]:
    return w.data.runs[0].get(name).y.tolist()


def rows(run: int, n: int) -> bytes:
    return b"".join(b"%d,%d,%r\n" % (i // 10, i, run + 1.0 / (i + 1)) for i in range(n))


def test_a_restart_into_the_same_file_longer_than_before_shows_no_old_rows(tmp_path):
    p = tmp_path / "metrics.csv"
    header = b"epoch,step,train_loss\n"
    p.write_bytes(header + rows(0, 100))
    w = LogWatcher(p)
    w.poll()
    assert values(w, "train_loss")[0] == 1.0
    # By the next poll the new run has written more than the old one had: size alone misses it.
    rewrite_in_place(p, header + rows(7, 150))
    assert w.poll() is True
    assert values(w, "train_loss") == load(p).runs[0].get("train_loss").y.tolist()
    assert min(values(w, "train_loss")) > 7


def test_a_restart_that_repeats_the_old_first_rows_is_still_seen(tmp_path):
    p = tmp_path / "metrics.csv"
    header = b"epoch,step,train_loss\n"
    same = rows(0, 50)
    p.write_bytes(header + same + rows(1, 100)[len(rows(1, 50)) :])
    w = LogWatcher(p)
    w.poll()
    # Deterministic restart: the same first 50 rows, then other values, written further.
    rewrite_in_place(p, header + same + rows(3, 200)[len(rows(3, 50)) :])
    w.poll()
    np.testing.assert_array_equal(
        w.data.runs[0].get("train_loss").y, load(p).runs[0].get("train_loss").y
    )


def test_a_restart_that_keeps_the_size_and_the_time_is_seen_at_the_next_change(tmp_path):
    p = tmp_path / "metrics.csv"
    header = b"step,train_loss\n"
    p.write_bytes(header + b"1,0.5\n2,0.4\n")
    w = LogWatcher(p)
    w.poll()
    st = os.stat(p)
    rewrite_in_place(p, header + b"1,0.9\n2,0.8\n")
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))  # same size, same time: looks unchanged
    w.poll()
    with open(p, "ab") as f:
        f.write(b"3,0.7\n")
    w.poll()
    assert values(w, "train_loss") == [0.9, 0.8, 0.7]


def test_lightnings_rewrite_in_4_kb_pieces_loses_and_doubles_nothing(tmp_path):
    p = tmp_path / "metrics.csv"
    old = b"epoch,step,train_loss\n" + rows(0, 400)
    p.write_bytes(old)
    w = LogWatcher(p)
    w.poll()
    new = b"epoch,step,train_loss,val_loss\n" + b"".join(
        b"%d,%d,%r,%s\n" % (i // 10, i, 1.0 / (i + 1), b"0.5" if i % 50 == 0 else b"")
        for i in range(400)
    )
    with open(p, "r+b") as f:
        f.truncate(0)
        for k in range(0, len(new), 4096):
            f.write(new[k : k + 4096])
            f.flush()
            bump(p)
            w.poll()  # lands in the middle of the rewrite
    w.poll()
    got = w.data.runs[0]
    want = load(p).runs[0]
    assert got.get("train_loss").x.tolist() == list(range(400))
    np.testing.assert_array_equal(got.get("train_loss").y, want.get("train_loss").y)
    assert got.get("val_loss").x.tolist() == list(range(0, 400, 50))


def test_a_line_with_all_its_cells_but_not_its_end_is_not_shown(tmp_path):
    p = tmp_path / "metrics.csv"
    p.write_bytes(b"step,loss\n1,1001938.0\n2,100193")  # the writer is mid-number
    w = LogWatcher(p)
    w.poll()
    assert values(w, "loss") == [1001938.0]  # not 100193.0
    with open(p, "ab") as f:
        f.write(b"9.0\n")
    assert w.poll() is True
    assert values(w, "loss") == [1001938.0, 1001939.0]


def test_a_finished_file_without_a_final_newline_shows_its_last_row_once_settled(tmp_path):
    p = tmp_path / "export.csv"
    p.write_bytes(b"step,loss\n1,0.5\n2,0.25")
    w = LogWatcher(p)
    w.poll()
    assert values(w, "loss") == [0.5]
    settle(p)  # nobody has written for a while: as load() reads it
    assert w.poll() is True
    assert values(w, "loss") == load(p).runs[0].get("loss").y.tolist() == [0.5, 0.25]


def test_a_settled_last_line_appears_without_the_file_changing(tmp_path, monkeypatch):
    import lrviz.loaders.watch as watch

    p = tmp_path / "export.csv"
    p.write_bytes(b"step,loss\n1,0.5\n2,0.25")
    w = LogWatcher(p)
    w.poll()
    assert values(w, "loss") == [0.5]
    monkeypatch.setattr(watch, "SETTLED_SECONDS", 0.0)
    assert w.poll() is True
    assert values(w, "loss") == [0.5, 0.25]


def test_the_watcher_says_while_it_holds_a_line_back(tmp_path, monkeypatch):
    """What the app needs to keep polling an unchanged file until its last line shows."""
    import lrviz.loaders.watch as watch

    p = tmp_path / "export.csv"
    p.write_bytes(b"step,loss\n1,0.5\n2,0.25")
    w = LogWatcher(p)
    w.poll()
    assert w.waiting  # the last line has not ended
    monkeypatch.setattr(watch, "SETTLED_SECONDS", 0.0)
    assert w.poll() and not w.waiting
    first = tmp_path / "first.csv"
    first.write_bytes(b"step,lo")  # the first line, still being written
    monkeypatch.setattr(watch, "SETTLED_SECONDS", 1e9)
    w = LogWatcher(first)
    w.poll()
    assert w.data is None and w.waiting
    first.write_bytes(b"step,loss\n1,0.5\n")
    assert w.poll() and not w.waiting
    folder = tmp_path / "runs" / "version_0"
    folder.mkdir(parents=True)
    (folder / "metrics.csv").write_bytes(b"step,train_loss\n1,0.5\n2,0.2")
    w = LogWatcher(tmp_path / "runs")
    w.poll()
    assert w.waiting
    (folder / "metrics.csv").write_bytes(b"step,train_loss\n1,0.5\n2,0.2\n")
    w.poll()
    assert not w.waiting


def test_a_whole_json_record_without_its_line_end_is_shown(tmp_path):
    p = tmp_path / "metrics.json"
    p.write_bytes(b'{"iteration": 1, "total_loss": 2.0}\n{"iteration": 2, "total_loss": 1.5}')
    w = LogWatcher(p)
    w.poll()
    assert values(w, "total_loss") == [2.0, 1.5]  # a parsed object is whole: } ends it
    with open(p, "ab") as f:
        f.write(b'\n{"iteration": 3, "total_lo')
    w.poll()
    assert values(w, "total_loss") == [2.0, 1.5]


def test_an_event_file_rewritten_in_place_is_read_again(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    p = run / "events.out.tfevents.1.host"

    def events(scale: float, n: int) -> bytes:
        return enc.event_file(
            [enc.event(s, float(s), [enc.scalar_value("loss", scale / (s + 1))]) for s in range(n)]
        )

    p.write_bytes(events(1.0, 4))
    w = LogWatcher(tmp_path)
    w.poll()
    assert w.data.runs[0].get("loss").x.tolist() == [0, 1, 2, 3]
    rewrite_in_place(p, events(8.0, 6))  # longer than before, other values
    assert w.poll() is True
    loss = w.data.runs[0].get("loss")
    assert loss.x.tolist() == [0, 1, 2, 3, 4, 5]
    np.testing.assert_allclose(loss.y, [8.0 / (s + 1) for s in range(6)], rtol=1e-6)


def test_a_followed_file_that_turns_bad_is_listed_and_the_others_followed(tmp_path):
    for v in ("version_0", "version_1"):
        (tmp_path / v).mkdir()
        (tmp_path / v / "metrics.csv").write_bytes(b"step,train_loss\n1,2.0\n")
    w = LogWatcher(tmp_path)
    w.poll()
    assert [r.name for r in w.data.runs] == ["version_0", "version_1"]
    with open(tmp_path / "version_1" / "metrics.csv", "ab") as f:
        f.write(b"2,1.5,9,9\n")  # more cells than the header names
    with open(tmp_path / "version_0" / "metrics.csv", "ab") as f:
        f.write(b"2,1.5\n")
    assert w.poll() is True
    assert [r.name for r in w.data.runs] == ["version_0"]
    assert w.data.runs[0].get("train_loss").y.tolist() == [2.0, 1.5]
    assert "version_1/metrics.csv:3:" in w.data.skipped[0]


def test_a_file_replaced_by_a_pipe_is_an_error_not_a_hang(tmp_path):
    if not hasattr(os, "mkfifo"):
        pytest.skip("no named pipes here")
    p = tmp_path / "metrics.csv"
    p.write_bytes(b"step,loss\n1,2\n")
    w = LogWatcher(p)
    w.poll()
    p.unlink()
    os.mkfifo(p)
    with pytest.raises(LrvizError, match="named pipe"):
        w.poll()


def test_a_settled_last_line_counts_with_the_rest_when_telling_text_columns(tmp_path):
    # Two numbers and two words: a numeric column when read whole (as many numbers as words);
    # the last number must not be judged apart from the rest.
    p = tmp_path / "export.csv"
    p.write_bytes(b"step,a\n0,1\n1,x\n2,y\n3,2")
    settle(p)
    w = LogWatcher(p)
    w.poll()
    want = load(p).runs[0].get("a")
    assert want.x.tolist() == [0, 3]
    got = w.data.runs[0].get("a")
    assert got.x.tolist() == want.x.tolist() and got.y.tolist() == want.y.tolist()


def test_a_json_lines_format_is_told_as_load_tells_it_when_written_in_pieces(tmp_path):
    lines = [
        b'{"lr": 0.1, "loss": 1.9, "iter": 50, "step": 50}\n',
        b'{"lr": 0.1, "loss": 1.5, "iter": 100, "step": 100}\n',
        b'{"loss": 1.2, "iteration": 150}\n',  # detectron2's key, on the third line
    ]
    p = tmp_path / "metrics.json"
    p.write_bytes(lines[0])
    w = LogWatcher(p)
    w.poll()
    for line in lines[1:]:
        with open(p, "ab") as f:
            f.write(line)
        bump(p)
        w.poll()
    assert w.data.format == load(p).format == "detectron2-json"


def test_an_old_mac_file_reads_in_the_app_as_on_the_command_line(tmp_path):
    p = tmp_path / "metrics.csv"
    p.write_bytes(b"step,loss\r1,0.5\r2,0.25\r")
    w = LogWatcher(p)
    w.poll()
    assert w.data.runs[0].get("loss").y.tolist() == load(p).runs[0].get("loss").y.tolist()
    assert load(p).runs[0].get("loss").y.tolist() == [0.5, 0.25]

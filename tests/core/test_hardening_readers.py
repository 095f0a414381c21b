"""Issue 10, readers: bad input gives LrvizError naming the file, never another exception, a
hang or a lie; special files never block; one bad file never stops the others; the app's
watcher and the command line read a file the same way; big inputs stay bounded."""

from __future__ import annotations

import importlib.util
import json
import os
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lrviz.errors import LrvizError
from lrviz.loaders import LogWatcher, list_columns, load
from lrviz.loaders.csvread import MAX_COLUMNS
from lrviz.loaders.fileio import CAP_VARIABLE, MAX_LINE_BYTES

LOGS = Path(__file__).resolve().parents[1] / "fixtures" / "logs"
_spec = importlib.util.spec_from_file_location("make_fixtures", LOGS / "make_fixtures.py")
enc = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(enc)
encode_record = enc.encode_record
_spec = importlib.util.spec_from_file_location("hostile_events", LOGS / "hostile_events.py")
hostile = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(hostile)

FUZZ = settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def same_series(a, b) -> None:
    assert a.format == b.format
    assert [r.name for r in a.runs] == [r.name for r in b.runs]
    for ra, rb in zip(a.runs, b.runs, strict=True):
        assert [s.name for s in ra.series] == [s.name for s in rb.series]
        for sa, sb in zip(ra.series, rb.series, strict=True):
            np.testing.assert_array_equal(sa.x, sb.x)
            np.testing.assert_array_equal(sa.y, sb.y)


def watched(path: Path):
    """What the app shows: it opens every log through a watcher's first poll."""
    w = LogWatcher(path)
    w.poll()
    return w.data


# --- TensorBoard: valid CRCs, wrong field types -----------------------------------------------


def tensor_value(tag: str, tensor: bytes) -> bytes:
    return enc.field_bytes(1, tag.encode()) + enc.field_bytes(8, tensor)


WRONG_WIRE_TYPES = {
    "float_val as a varint": enc.field_varint(1, 1) + enc.field_varint(5, 7),
    "float_val as 8 bytes": enc.field_varint(1, 1) + enc.field_double(5, 0.5),
    "double_val as 4 bytes": enc.field_varint(1, 2) + enc.field_fixed32(6, b"\0\0\0?"),
    "int_val as 4 bytes": enc.field_varint(1, 3) + enc.field_fixed32(7, b"\1\0\0\0"),
    "half_val as 8 bytes": enc.field_varint(1, 19) + enc.field_double(13, 1.0),
    "int64_val as 8 bytes": enc.field_varint(1, 9) + enc.field_double(10, 1.0),
}


@pytest.mark.parametrize("name", sorted(WRONG_WIRE_TYPES))
def test_an_event_field_with_the_wrong_wire_type_is_skipped_like_protobuf_does(tmp_path, name):
    events = [
        enc.event(1, 1.0, [enc.scalar_value("loss", 0.5)]),
        enc.event(1, 1.0, [tensor_value("bad", WRONG_WIRE_TYPES[name])]),
        enc.event(2, 2.0, [enc.scalar_value("loss", 0.25)]),
    ]
    p = tmp_path / "events.out.tfevents.1.host"
    p.write_bytes(enc.event_file(events))  # every CRC is valid
    log = load(p)
    run = log.runs[0]
    assert run.get("loss").y.tolist() == [0.5, 0.25]
    assert run.get("bad") is None  # not read as a number it is not
    assert list_columns(p) == ["loss"]


@st.composite
def messages(draw, layout: dict):
    """A protobuf message of ``layout``, fields sometimes of the wrong wire type (the
    generator bench/fuzz.py uses, tests/fixtures/logs/hostile_events.py)."""
    return hostile.generate_message(draw, st, layout)


@FUZZ
@given(payload=st.one_of(messages(hostile.EVENT), st.binary(max_size=80)), at=st.integers(0, 3))
def test_any_crc_valid_payload_gives_lrviz_error_with_file_and_offset(
    tmp_path_factory, payload, at
):
    # Events, summaries, values and tensors with fields of any wire type, and random bytes,
    # framed with valid CRCs among good records.
    good = [enc.event(s, float(s), [enc.scalar_value("loss", 1.0)]) for s in range(3)]
    records = [*good[:at], payload, *good[at:]]
    p = tmp_path_factory.mktemp("ev") / "events.out.tfevents.1.host"
    p.write_bytes(b"".join(encode_record(r) for r in records))
    try:
        load(p)
    except LrvizError as exc:
        assert exc.path == str(p)
        assert "at byte" in str(exc)


def test_a_bad_event_file_does_not_stop_the_other_runs(tmp_path):
    good = tmp_path / "good"
    bad = tmp_path / "bad"
    good.mkdir()
    bad.mkdir()
    ok = [enc.event(s, float(s), [enc.scalar_value("loss", 1.0 / (s + 1))]) for s in range(3)]
    (good / "events.out.tfevents.1.host").write_bytes(enc.event_file(ok))
    broken = bytearray(enc.event_file(ok))
    broken[len(broken) // 2] ^= 0x40  # a bad data CRC inside the second record
    (bad / "events.out.tfevents.1.host").write_bytes(bytes(broken))
    for log in (load(tmp_path), watched(tmp_path)):
        assert [r.name for r in log.runs] == ["good"]
        assert len(log.skipped) == 1
        assert "bad/events.out.tfevents.1.host" in log.skipped[0]
        assert "at byte" in log.skipped[0]


def test_a_bad_version_does_not_stop_the_other_versions(tmp_path):
    (tmp_path / "version_0").mkdir()
    (tmp_path / "version_1").mkdir()
    (tmp_path / "version_0" / "metrics.csv").write_text("step,train_loss\n1,2.0\n2,1.5\n")
    (tmp_path / "version_1" / "metrics.csv").write_bytes(b"\x00\x01binary\x00")
    for log in (load(tmp_path), watched(tmp_path)):
        assert [r.name for r in log.runs] == ["version_0"]
        assert "version_1/metrics.csv" in log.skipped[0] and "binary" in log.skipped[0]


def test_a_folder_where_nothing_reads_raises_the_files_error(tmp_path):
    (tmp_path / "version_0").mkdir()
    (tmp_path / "version_0" / "metrics.csv").write_bytes(b"\x00\x01binary\x00")
    with pytest.raises(LrvizError, match="binary"):
        load(tmp_path)
    with pytest.raises(LrvizError, match="binary"):
        watched(tmp_path)


# --- JSON records ---------------------------------------------------------------------------


def test_an_integer_of_5000_digits_is_an_error_with_line_and_column(tmp_path):
    p = tmp_path / "metrics.json"
    p.write_text(
        '{"iteration": 1, "total_loss": 2.0}\n'
        + '{"iteration": 2, "total_loss": '
        + "9" * 5000
        + "}\n"
        + '{"iteration": 3, "total_loss": 1.0}\n'
    )
    with pytest.raises(LrvizError) as caught:
        load(p)
    exc = caught.value
    assert (exc.path, exc.line, exc.column) == (str(p), 2, 32)
    assert "5000 digits" in str(exc)


def test_an_integer_of_5000_digits_in_a_trainer_state(tmp_path):
    p = tmp_path / "trainer_state.json"
    p.write_text('{"log_history": [\n  {"step": 1, "loss": ' + "9" * 5000 + "}\n]}\n")
    with pytest.raises(LrvizError) as caught:
        load(p)
    assert (caught.value.line, caught.value.column) == (2, 23)


@pytest.mark.parametrize("hours", ["99999999999999999999", "9" * 400, "9" * 5000])
def test_absurd_durations_are_not_numbers_and_not_a_crash(tmp_path, hours):
    p = tmp_path / "history.csv"
    p.write_text(f"epoch,train_loss,valid_loss,time\n0,1.0,2.0,{hours}:00:00\n1,0.9,1.9,00:05\n")
    run = load(p).runs[0]
    assert run.get("train_loss").y.tolist() == [1.0, 0.9]
    time_series = run.get("time")
    assert time_series is None or time_series.y.tolist() == [5.0]


_HOSTILE = st.one_of(
    st.sampled_from(["HUGE", "99999999999999999999:00:00", "9" * 400 + ":00:00", "1e999", ""]),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True),
    st.booleans(),
    st.none(),
    st.lists(st.integers(), max_size=2),
    st.text(max_size=8),
)
JSON_FIXTURES = [
    "detectron2/metrics.json",
    "mmengine/vis_data/scalars.json",
    "mmcv/20230101_120000.log.json",
    "hf/trainer_state.json",
]


@FUZZ
@given(
    rel=st.sampled_from(JSON_FIXTURES),
    picks=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 10**6), _HOSTILE), max_size=4),
)
def test_mutated_json_logs_raise_only_lrviz_errors(tmp_path_factory, rel, picks):
    text = (LOGS / rel).read_text()
    try:
        doc, lines = json.loads(text), None
    except ValueError:
        doc, lines = None, [json.loads(line) for line in text.splitlines() if line.strip()]
    records = doc["log_history"] if doc is not None else lines
    for r, k, value in picks:
        record = records[r % len(records)]
        keys = list(record)
        record[keys[k % len(keys)]] = value
    body = json.dumps(doc) if doc is not None else "\n".join(json.dumps(r) for r in lines) + "\n"
    body = body.replace('"HUGE"', "9" * 5000)
    p = tmp_path_factory.mktemp("json") / Path(rel).name
    p.write_text(body)
    try:
        log = load(p)
    except LrvizError as exc:
        assert exc.path == str(p)
        return
    for run in log.runs:
        for s in run.series:
            assert s.x.shape == s.y.shape and np.all(np.isfinite(s.x))


@FUZZ
@given(
    cell=st.sampled_from(["9" * 400 + ":00:00", "99999999999999999999:00:00", "1" * 5000, "x"]),
    row=st.integers(1, 3),
    col=st.integers(0, 3),
)
def test_mutated_fastai_history_reads(tmp_path_factory, cell, row, col):
    lines = (LOGS / "fastai" / "history.csv").read_text().splitlines()
    cells = lines[row].split(",")
    cells[col % len(cells)] = cell
    lines[row] = ",".join(cells)
    p = tmp_path_factory.mktemp("fastai") / "history.csv"
    p.write_text("\n".join(lines) + "\n")
    try:
        load(p)
    except LrvizError:
        pass


# --- special files --------------------------------------------------------------------------

needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")


@needs_fifo
@pytest.mark.parametrize("name", ["metrics.csv", "trainer_state.json", "events.out.tfevents.1.h"])
def test_a_named_pipe_is_refused_at_once_and_not_called_missing(tmp_path, name):
    p = tmp_path / name
    os.mkfifo(p)
    for read in (load, list_columns, watched):
        with pytest.raises(LrvizError) as caught:
            read(p)
        assert "named pipe" in str(caught.value)
        assert "no such file" not in str(caught.value)


@needs_fifo
def test_a_pipe_among_checkpoints_is_skipped_and_the_good_copy_read(tmp_path):
    (tmp_path / "checkpoint-1").mkdir()
    (tmp_path / "checkpoint-2").mkdir()
    os.mkfifo(tmp_path / "checkpoint-1" / "trainer_state.json")
    good = LOGS / "hf_output" / "checkpoint-6" / "trainer_state.json"
    (tmp_path / "checkpoint-2" / "trainer_state.json").write_bytes(good.read_bytes())
    for log in (load(tmp_path), watched(tmp_path)):
        assert log.format == "hf-trainer-state"
        assert log.runs[0].get("loss") is not None
        assert any("checkpoint-1/trainer_state.json: a named pipe" in s for s in log.skipped)


@needs_fifo
def test_a_pipe_named_like_an_event_file_in_a_run_folder(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    os.mkfifo(tmp_path / "a" / "events.out.tfevents.1.host")
    ok = [enc.event(s, float(s), [enc.scalar_value("loss", 1.0)]) for s in range(2)]
    (tmp_path / "b" / "events.out.tfevents.1.host").write_bytes(enc.event_file(ok))
    for log in (load(tmp_path), watched(tmp_path)):
        assert [r.name for r in log.runs] == ["b"]
        assert "named pipe" in log.skipped[0]


@needs_fifo
def test_a_folder_holding_only_a_pipe_says_so(tmp_path):
    os.mkfifo(tmp_path / "metrics.csv")
    for read in (load, watched):
        with pytest.raises(LrvizError, match=r"no training logs found.*named pipe"):
            read(tmp_path)


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero")
@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_a_log_linked_to_a_device_is_skipped_not_read_forever(tmp_path, device):
    (tmp_path / "version_0").mkdir()
    (tmp_path / "version_1").mkdir()
    os.symlink(device, tmp_path / "version_0" / "metrics.csv")
    (tmp_path / "version_1" / "metrics.csv").write_text("step,train_loss\n1,2.0\n")
    for log in (load(tmp_path), watched(tmp_path)):
        assert [r.name for r in log.runs] == ["version_1"]
        assert "a character device" in log.skipped[0]
    with pytest.raises(LrvizError, match="character device"):
        load(tmp_path / "version_0" / "metrics.csv")


# --- the size cap ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, body",
    [
        ("metrics.csv", "step,train_loss\n" + "".join(f"{i},{i * 0.5}\n" for i in range(200_000))),
        ("metrics.json", "".join(f'{{"iteration": {i}, "loss": 1.5}}\n' for i in range(60_000))),
    ],
)
def test_a_file_past_the_size_cap_is_refused_with_how_to_read_it(tmp_path, monkeypatch, name, body):
    p = tmp_path / name
    p.write_text(body)
    assert p.stat().st_size > 1 << 20
    monkeypatch.setenv(CAP_VARIABLE, "1")
    for read in (load, watched):
        with pytest.raises(LrvizError, match=rf"more than the 1 MB lrviz reads.*{CAP_VARIABLE}"):
            read(p)
    monkeypatch.setenv(CAP_VARIABLE, "8")
    assert len(load(p).runs[0].series) >= 1


def test_a_bad_size_cap_setting_is_an_error(tmp_path, monkeypatch):
    p = tmp_path / "metrics.csv"
    p.write_text("step,loss\n1,2\n")
    monkeypatch.setenv(CAP_VARIABLE, "lots")
    with pytest.raises(LrvizError, match=f"{CAP_VARIABLE} must be a positive number"):
        load(p)


def test_a_file_growing_past_the_cap_while_read_is_stopped(tmp_path):
    from lrviz.loaders.fileio import read_all

    p = tmp_path / "log.csv"
    p.write_bytes(b"x" * 1000)
    with open(p, "rb") as f:
        with open(p, "ab") as g:
            g.write(b"y" * 5000)  # appended after fstat would have been taken
        with pytest.raises(LrvizError, match="more than"):
            read_all(f, str(p), cap=4000)


# --- the app and the command line agree ---------------------------------------------------------


def test_a_header_longer_than_64_kb_opens_in_the_app_too(tmp_path):
    names = [f"a_rather_long_metric_name_number_{i}" for i in range(10_001)]
    p = tmp_path / "wide.csv"
    p.write_text("step," + ",".join(names) + "\n" + "1," + ",".join("0.5" for _ in names) + "\n")
    assert len(p.read_text().split("\n")[0]) > 65536
    cli = load(p)
    assert len(cli.runs[0].series) == 10_001
    same_series(watched(p), cli)
    assert list_columns(p)[1:] == names


@pytest.mark.parametrize("indent", [2, None])
def test_a_malformed_trainer_state_in_a_folder_is_the_same_error_in_the_app(tmp_path, indent):
    doc = json.loads((LOGS / "hf" / "trainer_state.json").read_text())
    text = json.dumps(doc, indent=indent)
    p = tmp_path / "trainer_state.json"
    p.write_text(text[: len(text) // 2])  # cut; minified, it is one line without its end
    old = time.time() - 3600
    os.utime(p, (old, old))  # a finished file, not one being written
    with pytest.raises(LrvizError) as cli:
        load(tmp_path)
    with pytest.raises(LrvizError) as app:
        watched(tmp_path)  # not an empty "csv" log
    assert str(app.value) == str(cli.value)
    assert "trainer_state.json" in str(cli.value) and "invalid JSON" in str(cli.value)


def test_a_trainer_state_being_written_shows_nothing_yet_not_an_empty_log(tmp_path):
    text = json.dumps(json.loads((LOGS / "hf" / "trainer_state.json").read_text()))
    (tmp_path / "trainer_state.json").write_text(text[: len(text) // 2])  # just written
    w = LogWatcher(tmp_path)
    assert w.poll() is False and w.data is None


def test_a_minified_trainer_state_over_64_kb_opens_in_both(tmp_path):
    history = [
        {"epoch": i / 100, "learning_rate": 1e-4, "loss": 1 / (i + 1), "step": i}
        for i in range(3000)
    ]
    p = tmp_path / "trainer_state.json"
    p.write_text(json.dumps({"best_metric": None, "global_step": 3000, "log_history": history}))
    assert p.stat().st_size > 65536 and b"\n" not in p.read_bytes()
    cli = load(p)
    assert cli.format == "hf-trainer-state"
    assert cli.runs[0].get("loss").x.tolist() == list(range(3000))
    same_series(watched(p), cli)


TEXT_FIXTURES = [
    "lightning_logs/version_0/metrics.csv",
    "keras/training.log.csv",
    "fastai/history.csv",
    "hf/trainer_state.json",
    "detectron2/metrics.json",
    "mmcv/20230101_120000.log.json",
]


@pytest.mark.parametrize("rel", TEXT_FIXTURES)
@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_with_a_byte_order_mark_reads_like_utf8(tmp_path, rel, encoding):
    src = LOGS / rel
    bom = {"utf-16-le": b"\xff\xfe", "utf-16-be": b"\xfe\xff"}.get(encoding, b"")
    p = tmp_path / src.parent.name / src.name  # same folder name: same run name
    p.parent.mkdir()
    p.write_bytes(bom + src.read_text(encoding="utf-8-sig").encode(encoding))
    want = load(src)
    for got in (load(p), watched(p)):
        same_series(got, want)
    assert list_columns(p) == list_columns(src)


# --- big inputs -----------------------------------------------------------------------------


def test_a_line_longer_than_the_limit_is_refused_with_its_line(tmp_path):
    p = tmp_path / "metrics.csv"
    with open(p, "wb") as f:
        f.write(b"step,loss\n1,")
        f.write(b"1," * (MAX_LINE_BYTES // 2 + 1))
    for read in (load, watched):
        with pytest.raises(LrvizError, match="longer than 16 MB") as caught:
            read(p)
        assert caught.value.line == 2


def test_a_first_line_longer_than_the_limit_is_refused(tmp_path):
    p = tmp_path / "metrics.json"
    p.write_bytes(b'{"a": "' + b"x" * (MAX_LINE_BYTES + 10) + b'"}\n')
    with pytest.raises(LrvizError, match="longer than 16 MB"):
        load(p)


def test_a_million_columns_are_refused_clearly(tmp_path):
    p = tmp_path / "wide.csv"
    n = 1_000_000
    p.write_text(
        ",".join(f"c{i}" for i in range(n)) + "\n" + ",".join("1" for _ in range(n)) + "\n"
    )
    with pytest.raises(LrvizError, match=f"more than the {MAX_COLUMNS:,} columns") as caught:
        load(p)
    assert caught.value.line == 1


def _peak_traced(read) -> int:
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        start = tracemalloc.get_traced_memory()[0]
        read()
        return tracemalloc.get_traced_memory()[1] - start
    finally:
        tracemalloc.stop()


def _big_json_lines(path: Path, rows: int) -> None:
    path.write_text(
        "".join(
            json.dumps({"iteration": i, "lr": 0.02, "total_loss": 1 / (i + 1), "time": 0.3}) + "\n"
            for i in range(rows)
        )
    )


def _big_state(path: Path, rows: int) -> None:
    history = [
        {"epoch": i / 1000, "grad_norm": 1.5, "learning_rate": 1e-4, "loss": 1 / (i + 1), "step": i}
        for i in range(rows)
    ]
    path.write_text(json.dumps({"global_step": rows, "log_history": history}, indent=2))


def _big_events(path: Path, rows: int) -> None:
    path.write_bytes(
        enc.event_file(
            [enc.event(s, float(s), [enc.scalar_value("loss", 1 / (s + 1))]) for s in range(rows)]
        )
    )


@pytest.mark.parametrize(
    "name, write",
    [
        ("metrics.json", _big_json_lines),
        ("trainer_state.json", _big_state),
        ("events.out.tfevents.1.host", _big_events),
    ],
)
def test_reading_costs_at_most_three_times_the_file(tmp_path, name, write):
    p = tmp_path / name
    write(p, 20_000)
    size = p.stat().st_size
    load(p)  # warm: imports, first-use caches
    peak = _peak_traced(lambda: load(p))
    assert peak <= 3 * size, f"{peak / size:.2f}x the file"


def test_inspect_says_which_files_of_a_folder_were_skipped(tmp_path, capsys):
    """Issue 10's leftover: a folder's unreadable file was left out silently by `inspect`."""

    from lrviz.cli import main

    (tmp_path / "version_0").mkdir()
    (tmp_path / "version_1").mkdir()
    (tmp_path / "version_0" / "metrics.csv").write_text("step,train_loss\n1,2.0\n2,1.5\n")
    (tmp_path / "version_1" / "metrics.csv").write_bytes(b"\x00\x01binary\x00")
    assert main(["inspect", str(tmp_path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert len(data["skipped"]) == 1 and "version_1/metrics.csv" in data["skipped"][0]
    assert main(["inspect", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "skipped 1 file: " in out and "version_1/metrics.csv" in out and "binary" in out
    assert load(tmp_path).skipped_text() == "skipped 1 file: " + data["skipped"][0]
    assert main(["inspect", str(tmp_path / "version_0"), "--json"]) == 0
    assert "skipped" not in json.loads(capsys.readouterr().out)  # only when there are some


def test_skipped_text_names_the_first_files_and_counts_the_rest():
    from lrviz.loaders.model import LogData

    log = LogData("csv", [], "x", skipped=[f"f{i}: binary" for i in range(5)])
    assert log.skipped_text(limit=2) == "skipped 5 files: f0: binary; f1: binary; and 3 more"
    assert LogData("csv", [], "x").skipped_text() is None

"""TensorBoard event files: framing, CRCs, both scalar encodings, restarts."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from lrviz.errors import LrvizError
from lrviz.loaders import load
from lrviz.loaders.tfevents import read_event_file
from lrviz.loaders.tfrecord import crc32c, crc32c_many, read_records

LOGS = Path(__file__).resolve().parents[1] / "fixtures" / "logs"
_spec = importlib.util.spec_from_file_location("make_fixtures", LOGS / "make_fixtures.py")
enc = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(enc)
encode_record = enc.encode_record


def test_crc32c_known_answer():
    assert crc32c(b"123456789") == 0xE3069283
    assert crc32c(b"") == 0


def test_vectorised_crc_matches_scalar():
    rng = np.random.default_rng(1)
    data = rng.integers(0, 256, 5000, dtype=np.uint8)
    starts = np.array([0, 10, 100, 999, 4000], dtype=np.int64)
    lengths = np.array([0, 1, 77, 1000, 1000], dtype=np.int64)
    got = crc32c_many(data, starts, lengths)
    want = [crc32c(data[s : s + n].tobytes()) for s, n in zip(starts, lengths, strict=True)]
    assert got.tolist() == want


def write_events(path: Path, events: list[bytes]) -> Path:
    path.write_bytes(enc.event_file(events))
    return path


def test_simple_value_and_tensor_scalars_in_one_file(tmp_path):
    p = write_events(
        tmp_path / "events.out.tfevents.1.host",
        [
            enc.event(0, 1.0, version="brain.Event:2"),
            enc.event(1, 2.0, [enc.scalar_value("loss", 0.5)]),
            enc.event(1, 2.0, [enc.tensor_value("acc", 0.75, with_metadata=True)]),
            enc.event(2, 3.0, [enc.tensor_value("acc", 0.8, with_metadata=False)]),
        ],
    )
    ev = read_event_file(str(p))
    assert list(ev.tags["loss"][0]) == [1] and list(ev.tags["loss"][2]) == [0.5]
    assert list(ev.tags["acc"][0]) == [1, 2]
    np.testing.assert_allclose(ev.tags["acc"][2], [0.75, 0.8], rtol=1e-6)


def test_non_scalar_plugins_are_skipped(tmp_path):
    image = enc.field_bytes(1, b"img") + enc.field_bytes(
        8, enc.field_varint(1, 1) + enc.field_bytes(5, b"\0\0\0\0")
    )
    image += enc.field_bytes(9, enc.field_bytes(1, enc.field_bytes(1, b"images")))
    p = write_events(tmp_path / "events.out.tfevents.2.host", [enc.event(1, 1.0, [image])])
    assert read_event_file(str(p)).tags == {}


def test_truncated_last_record_is_ignored(tmp_path):
    events = [enc.event(s, float(s), [enc.scalar_value("loss", 1.0 / (s + 1))]) for s in range(4)]
    data = enc.event_file(events)
    for cut in (1, 5, 13, 20):
        p = tmp_path / f"events.out.tfevents.{cut}.host"
        p.write_bytes(data[:-cut])
        assert list(read_event_file(str(p)).tags["loss"][0]) == [0, 1, 2]


def test_corrupt_record_is_an_error(tmp_path):
    events = [enc.event(s, float(s), [enc.scalar_value("loss", 1.0)]) for s in range(3)]
    data = bytearray(enc.event_file(events))
    data[len(data) // 2] ^= 0x40  # flip a bit inside the second record
    p = tmp_path / "events.out.tfevents.9.host"
    p.write_bytes(bytes(data))
    with pytest.raises(LrvizError, match="corrupt event record"):
        read_event_file(str(p))


def test_bad_length_crc_is_an_error():
    rec = bytearray(encode_record(b"x" * 10) * 2)
    rec[8] ^= 1
    with pytest.raises(LrvizError, match="bad length CRC"):
        read_records(bytes(rec))


def test_restarted_run_keeps_the_last_value_per_step(tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    write_events(
        run_dir / "events.out.tfevents.100.host.1.0",
        [enc.event(s, float(s), [enc.scalar_value("train/loss", 10.0 + s)]) for s in range(6)],
    )
    write_events(
        run_dir / "events.out.tfevents.200.host.1.0",
        [enc.event(s, float(s), [enc.scalar_value("train/loss", 20.0 + s)]) for s in range(3, 8)],
    )
    log = load(run_dir)
    assert log.format == "tensorboard-dir"
    loss = log.runs[0].find("loss")
    assert loss.x.tolist() == list(range(8))
    assert loss.y.tolist() == [10, 11, 12, 23, 24, 25, 26, 27]


def test_single_event_file_loads_as_tensorboard_events():
    log = load(LOGS / "tb_keras/validation/events.out.tfevents.1700000000.host.2.0.v2")
    assert log.format == "tensorboard-events"
    assert log.runs[0].name == "validation"

"""Readers never fail with anything but LrvizError, whatever bytes they are given."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lrviz.errors import LrvizError
from lrviz.loaders import LogWatcher, list_columns, load

LOGS = Path(__file__).resolve().parents[1] / "fixtures" / "logs"
FIXTURES = sorted(
    p
    for p in LOGS.rglob("*")
    if p.is_file() and p.suffix != ".py" and p.name not in ("params.json",)
)
SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def try_load(path: Path) -> None:
    try:
        log = load(path)
    except LrvizError:
        return
    for run in log.runs:
        for s in run.series:
            assert s.x.shape == s.y.shape


@SETTINGS
@given(
    data=st.binary(max_size=400),
    name=st.sampled_from(["log.csv", "metrics.json", "events.out.tfevents.1.h", "x"]),
)
def test_arbitrary_bytes(tmp_path_factory, data, name):
    p = tmp_path_factory.mktemp("fuzz") / name
    p.write_bytes(data)
    try_load(p)
    try:
        list_columns(p)
    except LrvizError:
        pass


@st.composite
def mutated_fixture(draw):
    src = draw(st.sampled_from(FIXTURES))
    data = bytearray(src.read_bytes())
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["flip", "insert", "delete", "truncate", "dup"]))
        if not data:
            break
        i = draw(st.integers(0, len(data) - 1))
        if op == "flip":
            data[i] = draw(st.integers(0, 255))
        elif op == "insert":
            data[i:i] = draw(
                st.sampled_from(
                    [b",", b"\n", b'"', b"\r", b"nan", b"{", b"}", b" ", b";", b"\x00", b"-", b"e"]
                )
            )
        elif op == "delete":
            del data[i : i + draw(st.integers(1, 8))]
        elif op == "truncate":
            del data[i:]
        else:
            j = draw(st.integers(0, len(data) - 1))
            data[i:i] = data[j : j + 40]
    return src, bytes(data)


@SETTINGS
@given(case=mutated_fixture())
def test_mutated_fixtures(tmp_path_factory, case):
    src, data = case
    p = tmp_path_factory.mktemp("mut") / src.name
    p.write_bytes(data)
    try_load(p)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(case=mutated_fixture(), cut=st.integers(0, 400))
def test_watcher_on_mutated_growing_file(tmp_path_factory, case, cut):
    src, data = case
    p = tmp_path_factory.mktemp("watch") / src.name
    p.write_bytes(data[:cut])
    w = LogWatcher(p)
    for chunk in (data[:cut], data[cut:]):
        if chunk is not data[:cut]:
            with open(p, "ab") as f:
                f.write(chunk)
        try:
            w.poll()
        except LrvizError:
            return

"""The session file: written atomically, read back the same, refused clearly when it is not
one this lrviz reads."""

from __future__ import annotations

import json
import os
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lrviz import session as sessions
from lrviz.session import Session, SessionError, Source
from lrviz.simulation_config import SimulationConfig


def _session() -> Session:
    config = SimulationConfig(objective="expr", expr="x**2 + 10*y**2", start=(1.0, -2.0))
    return Session(
        sources=[
            Source("/data/run/metrics.csv", watch=False, hidden_runs=["version_2"]),
            Source(
                "/data/finder.csv",
                mapping={"x": None, "lr": "rate", "loss": "l", "x_axis": "step"},
            ),
        ],
        sections={
            "simulate": {"iterations": 300},
            "simulation": {"run": sessions.simulation_dict(config)},
            "range test": {"range": [1e-3, 0.05], "ran": True},
            "inspect": {"smoothing": 0.6, "axis": "epoch"},
            "a later tool": {"nested": {"list": [1, 2.5, "x", None, True]}},
        },
        active_tool="Range test",
    )


def test_round_trip_through_a_file(tmp_path):
    path = tmp_path / "work.lrviz"
    sessions.save(path, _session())
    back = sessions.load(path)
    assert back == _session()
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["format"] == "lrviz-session" and data["version"] == sessions.SCHEMA_VERSION
    assert data["saved_by"].startswith("lrviz ")


def test_a_saved_simulation_is_the_same_simulation():
    config = SimulationConfig(
        objective="quadratic", lrs=np.geomspace(1e-3, 1.0, 7), dim=5, batch_size=None
    )
    back = sessions.simulation_config(json.loads(json.dumps(sessions.simulation_dict(config))))
    assert back.to_dict() == config.to_dict()
    np.testing.assert_array_equal(back.lrs, config.lrs)


def test_the_examples_save_and_reopen_as_they_ran():
    """Per-run optimizers, a β per optimizer and the sharpness interval come back too."""
    from lrviz.simulation_presets import SIMULATION_PRESETS

    for preset in SIMULATION_PRESETS.values():
        config = preset.build()
        text = json.dumps(sessions.simulation_dict(config))
        back = sessions.simulation_config(json.loads(text))
        assert back.to_dict() == config.to_dict()
        assert back.run_names() == config.run_names()
        assert back.optimizers == config.optimizers
        assert back.sharpness_every == config.sharpness_every


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"optimizers": ["sgd", "nadam"]}, "optimizers[1]: unknown optimizer 'nadam'"),
        ({"optimizers": "sgd"}, "optimizers: expected a list of optimizer names"),
        ({"hypergrad_lr": {"sgd-hd": "big"}}, "hypergrad_lr.sgd-hd: expected a finite number"),
        ({"sharpness_every": 0}, "sharpness_every: expected a whole number from 1"),
    ],
)
def test_bad_example_settings_are_refused_by_name(data, words):
    with pytest.raises(ValueError, match=re.escape(words)):
        sessions.simulation_config(data)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "empty file"),
        ("{", "not valid JSON"),
        ('{"format": "lrviz-session", "version": 1,\n "sources": [}', "not valid JSON"),
        ("[1, 2]", "not an lrviz session"),
        ('{"format": "something else", "version": 1}', "not an lrviz session"),
        ('{"format": "lrviz-session"}', "version: expected a whole number"),
        ('{"format": "lrviz-session", "version": "1"}', "version: expected a whole number"),
        ('{"format": "lrviz-session", "version": 1, "sources": {}}', "sources: expected a list"),
        (
            '{"format": "lrviz-session", "version": 1, "sources": [{"path": 3}]}',
            "sources[0].path",
        ),
        (
            '{"format": "lrviz-session", "version": 1, "sources": [{"path": "a", "watch": 1}]}',
            "sources[0].watch",
        ),
        (
            '{"format": "lrviz-session", "version": 1, '
            '"sources": [{"path": "a", "mapping": {"colour": "x"}}]}',
            "unknown key 'colour'",
        ),
        (
            '{"format": "lrviz-session", "version": 1, '
            '"sections": {"inspect": {"smoothing": NaN}}}',
            "NaN is not a number",
        ),
        (
            '{"format": "lrviz-session", "version": 1, "sections": {"inspect": {"smoothing": 2}}}',
            "sections.inspect.smoothing",
        ),
        (
            '{"format": "lrviz-session", "version": 1, '
            '"sections": {"simulation": {"run": {"objective": "nope"}}}}',
            "unknown objective 'nope'",
        ),
        (
            '{"format": "lrviz-session", "version": 1, '
            '"sections": {"simulation": {"run": {"lrs": [0.1, -1]}}}}',
            "learning rates must be positive",
        ),
        (
            '{"format": "lrviz-session", "version": 1, '
            '"sections": {"simulation": {"run": {"iterations": 2.5}}}}',
            "sections.simulation.run.iterations",
        ),
        (
            '{"format": "lrviz-session", "version": 1, '
            '"sections": {"range test": {"range": [0.1, 0.01]}}}',
            "min λ <= max λ",
        ),
        ('{"format": "lrviz-session", "version": 1, "sections": {"x": 3}}', "sections.x"),
    ],
)
def test_what_is_not_a_session_is_refused_with_one_clear_line(tmp_path, text, words):
    path = tmp_path / "bad.lrviz"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SessionError) as info:
        sessions.load(path)
    message = str(info.value)
    assert words in message
    assert message.startswith(str(path))
    assert "\n" not in message


def test_a_syntax_error_says_line_and_column(tmp_path):
    path = tmp_path / "bad.lrviz"
    path.write_text('{"format": "lrviz-session",\n  "version": 1,\n  "sources": [,]}\n')
    with pytest.raises(SessionError) as info:
        sessions.load(path)
    assert info.value.line == 3 and info.value.column == 15  # the comma
    assert f"{path}:3:15: not valid JSON" in str(info.value)


def test_a_future_version_names_both_versions(tmp_path):
    path = tmp_path / "new.lrviz"
    data = _session().to_dict() | {"version": sessions.SCHEMA_VERSION + 1, "saved_by": "lrviz 9"}
    path.write_text(json.dumps(data))
    with pytest.raises(SessionError) as info:
        sessions.load(path)
    message = str(info.value)
    assert "by lrviz 9" in message and f"format {sessions.SCHEMA_VERSION + 1}" in message
    assert "update lrviz" in message


def test_binary_huge_missing_and_folder_files(tmp_path):
    binary = tmp_path / "b.lrviz"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    huge = tmp_path / "h.lrviz"
    huge.write_bytes(b" " * (sessions.MAX_BYTES + 1))
    for path, words in (
        (binary, "not UTF-8"),
        (huge, "not a session file"),
        (tmp_path / "missing.lrviz", "no such file"),
        (tmp_path, "a folder"),
    ):
        with pytest.raises(SessionError, match=words):
            sessions.load(path)


def test_a_section_that_is_not_plain_json_is_never_written(tmp_path):
    bad = Session(sections={"simulate": {"x": float("nan")}})
    with pytest.raises(SessionError, match=r"sections\.simulate\.x"):
        sessions.save(tmp_path / "s.lrviz", bad)
    bad = Session(sections={"t": {"a": np.arange(3)}})
    with pytest.raises(SessionError, match="ndarray is not plain JSON"):
        sessions.dumps(bad)
    assert not list(tmp_path.iterdir())


def test_saving_replaces_a_planted_symlink_instead_of_following_it(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    link = tmp_path / "s.lrviz"
    os.symlink(victim, link)
    sessions.save(link, _session())
    assert victim.read_text() == "keep me"
    assert not link.is_symlink()
    assert sessions.load(link) == _session()


def test_a_tool_added_later_registers_its_own_check(monkeypatch):
    monkeypatch.setitem(sessions.SECTION_CHECKS, "lab", None)

    def check(section, where):
        if section.get("grid", 1) > 100:
            raise ValueError(f"{where}.grid: at most 100")

    sessions.register_section_check("lab", check)
    text = '{"format": "lrviz-session", "version": 1, "sections": {"lab": {"grid": 500}}}'
    with pytest.raises(SessionError, match=r"sections\.lab\.grid: at most 100"):
        sessions.loads(text)


plain = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**12), 10**12)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None)
@given(
    st.dictionaries(
        st.text(min_size=1, max_size=10).filter(lambda n: n not in sessions.SECTION_CHECKS),
        st.dictionaries(st.text(max_size=8), plain, max_size=4),
        max_size=4,
    ),
    st.lists(
        st.builds(
            Source,
            path=st.text(min_size=1, max_size=30).filter(lambda p: p.strip() and "\x00" not in p),
            watch=st.booleans(),
            hidden_runs=st.lists(st.text(max_size=10), max_size=3),
        ),
        max_size=3,
    ),
    st.none() | st.text(max_size=12),
)
def test_any_plain_session_reads_back_the_same(sections, sources, active):
    session = Session(sources=sources, sections=sections, active_tool=active)
    assert sessions.loads(sessions.dumps(session)) == session


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_any_text_is_a_session_or_a_session_error(text):
    try:
        sessions.loads(text)
    except SessionError as exc:
        assert "\n" not in str(exc)


@settings(max_examples=200, deadline=None)
@given(plain)
def test_any_json_value_in_any_place_is_a_session_or_a_session_error(value):
    for data in (
        {"format": "lrviz-session", "version": 1, "sources": value},
        {"format": "lrviz-session", "version": 1, "sources": [value]},
        {"format": "lrviz-session", "version": 1, "sections": {"simulation": {"run": value}}},
        {"format": "lrviz-session", "version": 1, "sections": {"range test": {"range": value}}},
        {"format": "lrviz-session", "version": 1, "active_tool": value},
    ):
        try:
            sessions.loads(json.dumps(data))
        except SessionError:
            pass

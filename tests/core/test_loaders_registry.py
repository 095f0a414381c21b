"""One format registry: each format module declares its FileFormat once; detection, loading
and the watcher look formats up there."""

from __future__ import annotations

from pathlib import Path

import pytest

from lrviz.loaders import FORMATS, LogWatcher, detect, load
from lrviz.loaders.registry import (
    FOLDER_FORMATS,
    KINDS,
    FileFormat,
    file_format,
    file_formats,
    first_match,
)

LOGS = Path(__file__).resolve().parents[1] / "fixtures" / "logs"


def test_every_format_is_declared_once_and_is_a_known_name():
    names = [f.name for f in file_formats()]
    assert len(names) == len(set(names))
    assert set(names) | set(FOLDER_FORMATS) == set(FORMATS)
    for kind in KINDS:
        fallbacks = [f for f in file_formats() if f.kind == kind and f.matches is None]
        assert len(fallbacks) <= 1, kind
    with pytest.raises(KeyError):
        file_format("no-such-format")
    from lrviz.loaders import LogData

    for name in FORMATS:
        assert LogData(name, []).format == name
    with pytest.raises(ValueError, match="unknown format"):
        LogData("no-such-format", [])
    with pytest.raises(ValueError, match="unknown kind"):
        FileFormat("x", "spreadsheet", build=print)


def test_json_lines_that_match_no_format_have_no_fallback():
    assert first_match("json-lines", [{"loss": 1.0}]) is None


@pytest.mark.parametrize(
    ("rel", "fmt"),
    [
        ("lightning_logs/version_0/metrics.csv", "lightning-csv"),
        ("keras/history.csv", "keras-history-csv"),
        ("keras/training.log.csv", "keras-csv"),
        ("lr_finder/lr_find.csv", "lr-finder-csv"),
        ("tb_torch/events.out.tfevents.1700000000.host.1.0", "tensorboard-events"),
    ],
)
def test_detection_loading_and_the_watcher_agree_through_the_registry(rel, fmt):
    path = LOGS / rel
    assert detect.detect(str(path)) == fmt
    assert load(path).format == fmt
    watcher = LogWatcher(path)
    watcher.poll()
    assert watcher.data.format == fmt

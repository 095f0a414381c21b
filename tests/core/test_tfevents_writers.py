"""TensorBoard event files written by the real writers (torch's and tensorboardX's
SummaryWriter), not by lrviz's own encoder: tests/fixtures/logs/tb_writers/make_tb_writers.py
wrote them and the values it wrote (expected.json). The live tests write fresh files with
whatever writer versions are installed, and skip when they are not."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from lrviz.loaders import LogWatcher, load

WRITERS = Path(__file__).resolve().parents[1] / "fixtures" / "logs" / "tb_writers"


def _load_writer_script():
    """The fixture script, imported by its path. Not by putting its folder on sys.path: the
    folder holds the writers' outputs in ``torch/`` and ``tensorboardx/``, and on sys.path
    ``torch/`` made ``import torch`` find an empty namespace package wherever torch is not
    installed (CI), so every torch test ran, and failed, instead of skipping."""
    spec = importlib.util.spec_from_file_location("make_tb_writers", WRITERS / "make_tb_writers.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


make_tb_writers = _load_writer_script()


def runs_by_name(log) -> dict:
    return {run.name: run for run in log.runs}


def check_against(log, expected: dict, prefix: str = "") -> None:
    runs = runs_by_name(log)
    for run_name, tags in expected.items():
        run = runs[prefix + run_name]
        for tag, points in tags.items():
            series = run.get(tag)
            assert series is not None, f"{run_name}: no series {tag!r}"
            steps, values = np.array(points).T
            np.testing.assert_array_equal(series.x, steps)
            # add_scalar stores a float32 simple_value
            np.testing.assert_allclose(series.y, values, rtol=1e-6)


def test_torch_summary_writer_files_read_back_what_was_written():
    data = json.loads((WRITERS / "expected.json").read_text())
    log = load(WRITERS / "torch")
    assert log.format == "tensorboard-dir" and log.skipped == []
    expected = {
        ("torch" if name == "torch" else name.split("/", 1)[1]): tags
        for name, tags in data["runs"].items()
        if name.startswith("torch")
    }
    check_against(log, expected)
    run = runs_by_name(log)["torch"]
    assert run.get("train/loss").role == "loss" and run.get("lr-SGD").role == "lr"
    # the histogram and the text are another plugin's: not series
    names = {s.name for r in log.runs for s in r.series}
    assert not names & {"weights", "notes"}


def test_tensorboardx_files_and_a_restart_read_back_what_was_written():
    data = json.loads((WRITERS / "expected.json").read_text())
    log = load(WRITERS / "tensorboardx")
    check_against(log, {"tensorboardx": data["runs"]["tensorboardx"]})
    # steps 3-5 were written twice: the later file's values, once each
    series = runs_by_name(log)["tensorboardx"].get("train_loss")
    assert series.x.tolist() == list(range(8))


def test_the_watcher_reads_the_writers_files_as_load_does():
    for folder in (WRITERS / "torch", WRITERS / "tensorboardx", WRITERS):
        watcher = LogWatcher(folder)
        assert watcher.poll()
        loaded, watched = load(folder), watcher.data
        assert [r.name for r in watched.runs] == [r.name for r in loaded.runs]
        for a, b in zip(watched.runs, loaded.runs, strict=True):
            assert [(s.name, s.x.tolist(), s.y.tolist()) for s in a.series] == [
                (s.name, s.x.tolist(), s.y.tolist()) for s in b.series
            ]


def have(*modules: str) -> bool:
    try:
        return all(importlib.util.find_spec(m) is not None for m in modules)
    except (ImportError, ValueError):
        return False


@pytest.mark.parametrize(
    ("writer", "modules"),
    [("torch", ("torch", "tensorboard")), ("tensorboardx", ("tensorboardX",))],
)
def test_the_installed_writers_files_read_back_what_was_written(tmp_path, writer, modules):
    """Today's writer, not the one that wrote the fixtures (CI installs tensorboardX)."""
    if not have(*modules):
        pytest.skip(f"the live {writer} writer needs {' and '.join(modules)}")
    data = make_tb_writers.main(tmp_path, writers=(writer,))
    log = load(tmp_path / writer)
    assert log.skipped == []
    expected = {
        (name.split("/", 1)[1] if "/" in name else name): tags
        for name, tags in data["runs"].items()
    }
    check_against(log, expected)


def test_no_fixture_folder_stands_in_for_torch():
    """Where torch is not installed, ``import torch`` must fail (and its tests skip), not find
    the writers' ``torch/`` output folder as a namespace package."""
    spec = importlib.util.find_spec("torch")
    if spec is not None:
        assert not any(
            Path(p).resolve().is_relative_to(WRITERS) for p in spec.submodule_search_locations or []
        )

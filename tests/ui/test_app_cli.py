"""The app's entry point in a subprocess, as reviewers and the README call it."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run(*args, timeout=180):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=ROOT,
    )


def test_screenshot_of_the_demo(tmp_path):
    target = tmp_path / "window.png"
    result = _run("--screenshot", str(target), "--demo")
    assert result.returncode == 0, result.stderr
    data = target.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert width >= 1000 and height >= 600
    assert len(data) > 30_000  # a blank window compresses to a few kB
    assert not list(tmp_path.glob(".*tmp*")), "temporary file left behind"


def test_screenshot_into_a_missing_folder_fails_with_one_line(tmp_path):
    result = _run("--screenshot", str(tmp_path / "nope" / "x.png"))
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "does not exist" in result.stderr


def test_version():
    result = _run("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("lrviz ")


def test_a_mistyped_sub_command_is_an_error_not_the_app(tmp_path):
    """Issue 8, defect 11: `main.py simualte` opened the GUI with "no such file"."""
    result = _run("simualte", "--iterations", "5", timeout=60)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "invalid choice: 'simualte'" in result.stderr
    # a file that happens to look like a word still opens as a log
    from lrviz.cli import looks_like_a_command

    (tmp_path / "suggests").write_text("lr,loss\n")
    assert not looks_like_a_command(str(tmp_path / "suggests"))
    assert not looks_like_a_command("metrics.csv") and looks_like_a_command("rangetset")


def test_help_names_the_app_options_too():
    result = _run("--help", timeout=60)
    assert result.returncode == 0
    for word in ("--demo", "--screenshot", "LOG", "simulate", "suggest"):
        assert word in result.stdout


def test_a_screenshot_of_a_missing_log_fails_at_once(tmp_path):
    """It waited 122 s, then said 'the demo did not finish in time'."""
    result = _run(
        "--screenshot", str(tmp_path / "x.png"), str(tmp_path / "missing.csv"), timeout=60
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "missing.csv: no such file" in result.stderr
    assert not (tmp_path / "x.png").exists()


def _view_names():
    from ui.views import VIEWS

    return list(VIEWS)


# One test a view: six views in one test took over pytest-timeout's 120 s on a loaded machine.
@pytest.mark.parametrize("name", _view_names())
def test_screenshot_of_each_main_view(tmp_path, name):
    target = tmp_path / f"{name}.png"
    result = _run("--screenshot", str(target), "--view", name)
    assert result.returncode == 0, result.stderr
    data = target.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 30_000


def test_a_view_that_is_not_there_is_one_line(tmp_path):
    from ui.views import PLANNED, VIEWS

    for name in [n for n in PLANNED if n not in VIEWS] + ["nonsense"]:
        result = _run("--screenshot", str(tmp_path / "x.png"), "--view", name, timeout=60)
        assert result.returncode == 2
        assert result.stderr.count("\n") == 1 and f"--view {name}" in result.stderr
    result = _run("--view", "simulate", timeout=60)  # a view is a screenshot's
    assert result.returncode == 2 and "--screenshot" in result.stderr


def test_a_screenshot_has_the_size_asked_for(tmp_path):
    """--view screenshots came out at the offscreen screen's 800 px, whatever the view needed."""
    target = tmp_path / "lab.png"
    result = _run("--screenshot", str(target), "--view", "lab", "--size", "1024x700")
    assert result.returncode == 0, result.stderr
    assert struct.unpack(">II", target.read_bytes()[16:24]) == (1024, 700)
    for bad in ("12x", "1024", "10x10", "axb"):
        result = _run("--screenshot", str(tmp_path / "x.png"), "--size", bad, timeout=60)
        assert result.returncode == 2 and result.stderr.count("\n") == 1, bad
        assert "--size" in result.stderr


def test_a_screenshot_neither_reads_nor_writes_the_users_settings(tmp_path):
    """A layout an earlier run saved squeezed loss vs λ to 100 px in every --view simulate,
    and --view logs added its demo sweep to the user's recent files."""
    config = tmp_path / "config"
    config.mkdir()
    settings = config / "lrviz.json"
    settings.write_text('{"theme": "dark", "recent": ["/nowhere/a.csv"]}\n', encoding="utf-8")
    before = settings.read_bytes()
    target = tmp_path / "logs.png"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", LRVIZ_CONFIG_DIR=str(config))
    result = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "--screenshot", str(target), "--view", "logs"],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    assert settings.read_bytes() == before
    assert sorted(p.name for p in config.iterdir()) == ["lrviz.json"]
    from PySide6.QtGui import QImage

    image = QImage(str(target))
    menu_bar = image.pixelColor(image.width() // 2, 8)  # right of the menus' names
    assert menu_bar.lightness() > 128, "the saved dark theme was applied to the screenshot"

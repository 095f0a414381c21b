"""The app's entry point in a subprocess, as reviewers and the README call it."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
from pathlib import Path

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

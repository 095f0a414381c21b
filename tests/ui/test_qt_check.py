"""The check that runs before Qt: one line saying what to install, never Qt's abort."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ui.qt_check import XCB_LIBRARIES, problem

ROOT = Path(__file__).resolve().parents[2]


def test_missing_xcb_libraries_are_named_with_their_packages():
    lacking = {"libxcb-icccm.so.4", "libxcb-keysyms.so.1"}  # what Debian 12 lacked here
    text = problem({"DISPLAY": ":0"}, "linux", loadable=lambda name: name not in lacking)
    assert text is not None and "\n" not in text
    assert "libxcb-icccm.so.4" in text and "apt-get install libxcb-icccm4 libxcb-keysyms1" in text


def test_no_problem_when_everything_loads_or_qt_is_not_xcb():
    assert problem({"DISPLAY": ":0"}, "linux", loadable=lambda name: True) is None
    assert problem({"QT_QPA_PLATFORM": "offscreen"}, "linux", loadable=lambda n: False) is None
    assert problem({"WAYLAND_DISPLAY": "wayland-0"}, "linux", loadable=lambda n: False) is None
    assert problem({}, "darwin", loadable=lambda n: False) is None
    assert "DISPLAY" in problem({}, "linux", loadable=lambda n: True)


def test_every_library_has_a_package():
    assert all(package.startswith("lib") for package in XCB_LIBRARIES.values())


def test_the_app_says_so_in_one_line_instead_of_aborting():
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "DISPLAY")}
    env.pop("WAYLAND_DISPLAY", None)
    result = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "--demo"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=ROOT,
    )
    if sys.platform.startswith("linux"):
        assert result.returncode == 2
        assert result.stderr.count("\n") == 1 and "QT_QPA_PLATFORM=offscreen" in result.stderr

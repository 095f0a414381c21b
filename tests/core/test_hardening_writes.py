"""Issue 10, files we write: atomic, never through a planted link, the file's mode kept, and
the temporaries of killed processes cleaned up; the app's settings hold strings and numbers.

The screenshot and the settings are the app's (Qt): they run in a child process, so that this
core test process never imports Qt.
"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from lrviz.export import save_bytes_atomic, save_text_atomic

ROOT = Path(__file__).resolve().parents[2]
posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX permissions and signals")


def run_python(code: str, env: dict | None = None, check: bool = True, **kw):
    full = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=full,
        capture_output=True,
        text=True,
        check=check,
        timeout=60,
        **kw,
    )


@posix_only
def test_an_existing_file_keeps_its_mode(tmp_path):
    p = tmp_path / "range.json"
    p.write_text("old")
    os.chmod(p, 0o644)
    save_text_atomic(p, "new")
    assert p.read_text() == "new"
    assert stat.S_IMODE(p.stat().st_mode) == 0o644  # mkstemp's 0600 before


@posix_only
def test_a_new_file_gets_the_umask_mode_not_0600(tmp_path):
    old = os.umask(0o022)
    try:
        save_text_atomic(tmp_path / "new.json", "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new.json").stat().st_mode) == 0o644


@posix_only
def test_temporaries_of_a_killed_save_are_removed_by_the_next_one(tmp_path):
    target = tmp_path / "range.json"
    # A save that hangs in fsync, then is killed: its temporary stays behind.
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import os, sys, time\n"
            "import lrviz.export as e\n"
            "os.fsync = lambda fd: time.sleep(600)\n"
            "e.save_text_atomic(sys.argv[1], 'x' * 1_000_000)\n",
            str(target),
        ],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        deadline = time.time() + 30
        while not [n for n in os.listdir(tmp_path) if n.endswith(".tmp")]:
            assert time.time() < deadline, "the child never started writing"
            time.sleep(0.02)
        time.sleep(0.2)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert any(n.endswith(".tmp") for n in os.listdir(tmp_path))
    save_text_atomic(target, "done")
    assert os.listdir(tmp_path) == ["range.json"]
    assert target.read_text() == "done"


@posix_only
def test_a_live_save_and_files_that_are_not_ours_are_left_alone(tmp_path):
    target = tmp_path / "range.json"
    live = tmp_path / f".range.json.lrviz-{os.getppid()}-abcdefgh.tmp"  # a running process
    live.write_text("being written")
    outside = tmp_path.parent / f"{tmp_path.name}-outside.txt"
    outside.write_text("keep me")
    link = tmp_path / ".range.json.lrviz-1-zzzzzzzz.tmp"
    os.symlink(outside, link)  # named like ours, but a link: never followed nor removed
    save_text_atomic(target, "x")
    assert live.read_text() == "being written"
    assert link.is_symlink() and outside.read_text() == "keep me"


@posix_only
def test_a_target_that_is_a_link_is_replaced_not_written_through(tmp_path):
    outside = tmp_path.parent / f"{tmp_path.name}-victim.txt"
    outside.write_text("keep me")
    target = tmp_path / "shot.png"
    os.symlink(outside, target)
    save_bytes_atomic(target, b"png")
    assert outside.read_text() == "keep me"
    assert not target.is_symlink() and target.read_bytes() == b"png"


@posix_only
def test_the_screenshot_never_follows_a_link_planted_at_a_temporary_name(tmp_path):
    victim = tmp_path.parent / f"{tmp_path.name}-victim.txt"
    victim.write_text("keep me")
    target = tmp_path / "shot.png"
    for name in (f".{target.name}.tmp.png", f".{target.name}.tmp"):  # the old fixed names
        os.symlink(victim, tmp_path / name)
    run_python(
        f"""
        from pathlib import Path
        from PySide6.QtWidgets import QApplication, QLabel
        from ui.app import save_screenshot
        app = QApplication([])
        label = QLabel("lrviz")
        label.resize(64, 32)
        save_screenshot(label, Path({str(target)!r}))
        """
    )
    assert victim.read_text() == "keep me"
    assert target.read_bytes().startswith(b"\x89PNG")
    assert sorted(os.listdir(tmp_path)) == sorted(
        ["shot.png", f".{target.name}.tmp.png", f".{target.name}.tmp"]
    )


# --- the app's settings -------------------------------------------------------------------------

_PAYLOAD_WRITER = """
import os, sys
from PySide6.QtCore import QSettings
class Evil:
    def __reduce__(self):
        return (os.system, ("touch " + sys.argv[1],))
s = QSettings(sys.argv[2], QSettings.Format.IniFormat)
s.setValue("recent", Evil())
s.setValue("other", "x")
s.sync()
"""


@posix_only
def test_a_crafted_settings_file_never_runs_code(tmp_path):
    config = tmp_path / "config"
    config.mkdir()
    marker = tmp_path / "pwned"
    # The payload as QSettings writes it: a pickled object that runs a command when loaded.
    subprocess.run(
        [sys.executable, "-c", _PAYLOAD_WRITER, str(marker), str(config / "lrviz.ini")],
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        check=True,
        timeout=60,
    )
    assert "PyObjectWrapper" in (config / "lrviz.ini").read_text(errors="replace")
    assert not marker.exists()
    out = run_python(
        """
        from ui import settings
        print(settings.recent_paths())
        settings.remember_paths(["/tmp"])
        print(settings.recent_paths())
        """,
        env={"LRVIZ_CONFIG_DIR": str(config)},
    )
    assert not marker.exists()
    assert out.stdout.splitlines() == ["[]", "['/tmp']"]


def test_settings_hold_only_strings_and_numbers(tmp_path, monkeypatch):
    monkeypatch.setenv("LRVIZ_CONFIG_DIR", str(tmp_path))
    from ui import settings

    settings.set_value("smoothing", 0.6)
    settings.set_value("theme", "dark")
    assert settings.value("smoothing") == 0.6 and settings.value("theme") == "dark"
    for bad in (object(), {"a": 1}, [object()], float("nan"), True):
        with pytest.raises(TypeError):
            settings.set_value("x", bad)
    (tmp_path / settings.FILE_NAME).write_text('{"recent": ["/a", 3, {"b": 1}], "n": [1, "x"]}')
    assert settings.recent_paths() == ["/a"]
    assert settings.value("n") == [1, "x"]


def test_an_old_ini_recent_list_is_carried_over_as_text(tmp_path, monkeypatch):
    monkeypatch.setenv("LRVIZ_CONFIG_DIR", str(tmp_path))
    from ui import settings

    (tmp_path / "lrviz.ini").write_text('[General]\nrecent=/data/a.csv, "/data/b,c.csv"\n')
    assert settings.recent_paths() == ["/data/a.csv", "/data/b,c.csv"]

"""lrviz.launch: the one way in for the installed command, ``python -m lrviz``, main.py and the
bundle. Sub-commands run headless; anything else goes to the app handed in or registered."""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lrviz import __version__, launch

ROOT = Path(__file__).resolve().parents[2]


def refuse_app(argv):
    raise AssertionError(f"the app was opened for {argv}")


def test_a_sub_command_runs_headless_and_never_opens_the_app(capsys):
    code = launch.main(["simulate", "--lrs", "0.01", "--iterations", "5", "--json"], refuse_app)
    assert code == 0
    assert json.loads(capsys.readouterr().out)["runs"]


def test_version_is_headless(capsys):
    with pytest.raises(SystemExit) as exit_:
        launch.main(["--version"], refuse_app)
    assert exit_.value.code == 0
    assert capsys.readouterr().out.strip() == f"lrviz {__version__}"


@pytest.mark.parametrize("argv", [[], ["--demo"], ["run.csv", "other.csv"], ["--screenshot", "x"]])
def test_anything_else_opens_the_app_with_the_same_arguments(argv):
    seen = []
    assert launch.main(argv, lambda a: seen.append(a) or 7) == 7
    assert seen == [argv]


def test_without_an_app_one_line_and_exit_2(monkeypatch, capsys):
    monkeypatch.setattr(launch, "registered_app", lambda: None)
    assert launch.main(["--demo"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "python main.py" in err


class FakeDistribution:
    def __init__(self, points):
        self.entry_points = points


def test_the_registered_app_is_lrviz_own_entry_point(monkeypatch):
    points = [
        importlib.metadata.EntryPoint("lrviz", "lrviz.launch:main", "console_scripts"),
        importlib.metadata.EntryPoint("window", "os.path:join", "lrviz.app"),
    ]
    asked = []

    def distribution(name):
        asked.append(name)
        return FakeDistribution(points)

    monkeypatch.setattr(importlib.metadata, "distribution", distribution)
    assert launch.registered_app() is os.path.join
    assert asked == ["lrviz"]


def test_no_registered_app_when_lrviz_is_not_installed(monkeypatch):
    def distribution(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "distribution", distribution)
    assert launch.registered_app() is None
    monkeypatch.setattr(importlib.metadata, "distribution", lambda name: FakeDistribution([]))
    assert launch.registered_app() is None


def run_python(script: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-c", script],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_windowed_build_without_streams_still_answers(tmp_path):
    """Windowed PyInstaller builds start with sys.stdout and sys.stderr set to None: a message
    must not raise (the exit code is what is left to tell)."""
    codes = tmp_path / "codes.txt"
    script = (
        "import sys\n"
        "sys.stdout = None\n"
        "sys.stderr = None\n"
        "from lrviz.launch import main\n"
        "def call(argv):\n"
        "    try:\n"
        "        return main(argv)\n"
        "    except SystemExit as exit_:\n"  # argparse's errors and --version exit
        "        return exit_.code\n"
        "codes = [call(['simulate', '--iterations', 'many']), call(['--version']),\n"
        "         call(['simulate', '--lrs', '0.01', '--iterations', '3', '--json'])]\n"
        f"open({str(codes)!r}, 'w').write(repr(codes))\n"
    )
    result = run_python(script, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert codes.read_text() == "[2, 0, 0]"


def test_python_dash_m_lrviz_runs_the_command_line(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "lrviz", "--version"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"lrviz {__version__}"


def test_headless_commands_through_main_py_import_neither_qt_nor_ui():
    script = (
        "import sys\n"
        "import main\n"
        "assert main.main(['simulate', '--lrs', '0.01', '--iterations', '3', '--json']) == 0\n"
        "print('LOADED:', sorted(m for m in sys.modules "
        "if m.split('.')[0] in ('PySide6', 'shiboken6', 'pyqtgraph', 'ui', 'lrviz_app')))\n"
    )
    result = run_python(script)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "LOADED: []"

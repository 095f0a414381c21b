"""The core package ``lrviz`` never imports Qt, pyqtgraph or the ``ui`` package.

Two independent checks: import-linter's contract from pyproject.toml, and a plain AST scan
that needs no tool (and also catches ``importlib.import_module("PySide6")``).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.import_scan import imports_of

ROOT = Path(__file__).resolve().parents[2]
CORE = ROOT / "lrviz"
# ui is the source's name of the app package, lrviz_app its installed name (setup.py).
FORBIDDEN = {"PySide6", "pyqtgraph", "shiboken6", "ui", "lrviz_app"}


def forbidden_imports(source: str, filename: str = "<source>") -> list[str]:
    """``file:line: module`` for every import of a forbidden top-level package in ``source``."""
    return imports_of(source, filename, FORBIDDEN)


def test_the_scan_recognizes_every_form_of_import():
    source = "\n".join(
        [
            "import numpy, pyqtgraph as pg",
            "from PySide6.QtCore import Qt",
            "import shiboken6",
            "from ui import app",
            "import ui.worker",
            "from lrviz_app.app import run",
            "def f():",
            "    import importlib",
            "    importlib.import_module('PySide6.QtWidgets')",
            "    __import__('pyqtgraph')",
            "from . import ui",  # relative: lrviz.ui, not the ui package
            "import uix, pyside6_helpers",
        ]
    )
    assert [line.split(": ", 1)[1] for line in forbidden_imports(source)] == [
        "pyqtgraph",
        "PySide6.QtCore",
        "shiboken6",
        "ui",
        "ui.worker",
        "lrviz_app.app",
        "PySide6.QtWidgets",
        "pyqtgraph",
    ]


def test_no_file_in_lrviz_imports_qt_pyqtgraph_or_ui():
    files = sorted(CORE.rglob("*.py"))
    assert len(files) >= 10  # the scan really looks at the package
    found = []
    for path in files:
        found += forbidden_imports(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))
    assert found == []


def lint_imports_executable() -> str:
    beside_python = Path(sys.executable).with_name("lint-imports")
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("lint-imports")
    if found is None:
        pytest.fail("lint-imports is not installed (pip install '.[test]')")
    return found


def test_import_linter_contract_is_kept():
    result = subprocess.run(
        [lint_imports_executable(), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "The lrviz core never imports Qt, pyqtgraph or ui KEPT" in output
    assert "0 broken" in output

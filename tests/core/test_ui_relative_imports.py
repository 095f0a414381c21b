"""Inside ``ui/``, modules import each other relatively.

The installed distribution ships the source's ``ui/`` under the distribution's own name (issue
15), so an absolute ``import ui…`` in it would find nothing installed, or someone else's ``ui``.
Tests and ``main.py`` keep importing ``ui`` absolutely: only the package itself is scanned.
"""

from __future__ import annotations

from pathlib import Path

from tests.import_scan import imports_of

ROOT = Path(__file__).resolve().parents[2]
UI = ROOT / "ui"


def absolute_ui_imports(source: str, filename: str = "<source>") -> list[str]:
    """``file:line: module`` for every absolute import of the ``ui`` package in ``source``."""
    return imports_of(source, filename, {"ui"})


def test_the_scan_recognizes_every_absolute_form():
    source = "\n".join(
        [
            "from ui.colors import format_lr",
            "from ui import settings",
            "import ui.worker",
            "import numpy, ui",
            "def f():",
            "    from ui.range_tool import RangeTool",
            "    importlib.import_module('ui.panels.sources')",
            "from .colors import format_lr",  # relative: fine
            "from ..jobs import JobRunner",
            "from . import settings",
            "import uix",
            "from lrviz.ui import thing",
        ]
    )
    assert [line.split(": ", 1)[1] for line in absolute_ui_imports(source)] == [
        "ui.colors",
        "ui",
        "ui.worker",
        "ui",
        "ui.range_tool",
        "ui.panels.sources",
    ]


def test_no_module_in_ui_imports_ui_absolutely():
    files = sorted(UI.rglob("*.py"))
    assert len(files) >= 20  # the scan really looks at the package
    found = []
    for path in files:
        found += absolute_ui_imports(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))
    assert found == []

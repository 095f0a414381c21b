"""LogActions is handed what it drives (library, File menu, sources, Inspect form, status
label, progress bar, host): it works without a main window, and reports through signals."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QLabel, QMainWindow, QProgressBar

from ui.forms.inspect_form import InspectForm
from ui.log_library import LogLibrary
from ui.log_window_actions import LogActions
from ui.panels.sources import SourcesPanel


@pytest.fixture
def parts(qtbot):
    host = QMainWindow()
    qtbot.addWidget(host)
    library = LogLibrary(host)
    parts = {
        "library": library,
        "file_menu": host.menuBar().addMenu("&File"),
        "sources": SourcesPanel(library),
        "form": InspectForm(),
        "status": QLabel("Ready"),
        "progress": QProgressBar(),
        "host": host,
    }
    # Children of the host, so they go with it: a parentless widget left to the garbage
    # collector can be deleted in the middle of a later test's event processing.
    for name in ("sources", "form", "status", "progress"):
        parts[name].setParent(host)
    yield parts
    library.shutdown()


def test_log_actions_work_without_a_window(qtbot, parts, tmp_path):
    suggestion = None
    actions = LogActions(**parts, shown_suggestion=lambda: suggestion)
    texts = [a.text() for a in parts["file_menu"].actions()]
    assert "&Open logs…" in texts and "&Close all logs" in texts

    actions.open_paths([tmp_path / "missing.csv"])
    assert "missing.csv: no such file" in parts["status"].text()
    assert "missing.csv" in parts["form"].message.text()

    log = tmp_path / "finder.csv"
    log.write_text("lr,loss\n" + "".join(f"{1e-5 * 1.2**i},{2 - i / 100}\n" for i in range(60)))
    library = parts["library"]
    done = qtbot.waitSignal(library.busy, check_params_cb=lambda busy: not busy, timeout=20_000)
    with qtbot.waitSignal(actions.logs_opened, timeout=20_000), done:
        actions.open_paths([log])
    assert parts["status"].text().startswith("1 log open · 1 run")
    assert parts["progress"].isHidden() and parts["progress"].maximum() != 0

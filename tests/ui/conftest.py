"""UI test fixtures: every test must leave no engine thread running."""

from __future__ import annotations

import pytest

from ui import worker


@pytest.fixture(autouse=True)
def private_settings(tmp_path, monkeypatch):
    """Recent files and other preferences go to a temp folder, never the user's."""
    monkeypatch.setenv("LRVIZ_CONFIG_DIR", str(tmp_path / "config"))


@pytest.fixture(autouse=True)
def no_running_engine_threads():
    yield
    running = [t for t in list(worker.LIVE_THREADS) if t.isRunning()]
    for thread in running:
        thread.quit()
        thread.wait(5000)
    assert not running, f"{len(running)} engine thread(s) left running after the test"


@pytest.fixture
def window(qtbot):
    from ui.main_window import MainWindow

    win = MainWindow()
    qtbot.addWidget(win)
    win.show()
    yield win
    win.close()


@pytest.fixture(autouse=True)
def no_unsaved_changes_question(monkeypatch):
    """Closing a window asks about unsaved changes; tests close windows they changed."""
    monkeypatch.setattr("ui.session.PROMPT_ON_CLOSE", False)

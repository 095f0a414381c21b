"""UI test fixtures: every test must leave no engine thread running."""

from __future__ import annotations

import gc

import pytest
from PySide6.QtCore import QCoreApplication, QEvent

from ui import worker


@pytest.fixture(scope="session", autouse=True)
def cycles_freed_in_the_gui_thread(qapp):
    """As in the app (ui/app.py): automatic collection off, a GUI-thread timer collects."""
    from ui.gui_thread_gc import GuiThreadCollector

    collector = GuiThreadCollector(qapp)
    yield
    collector.stop()


@pytest.fixture(autouse=True)
def collect_garbage_at_the_end():
    """Qt objects that only Python's cycle collector frees (a widget in a reference cycle)
    are freed here, after the test, not whenever the collector next runs: in the middle of a
    later test's event processing, where freeing one crashed the suite now and then
    (a segfault in pytest-qt's event processing, with no Python frame of ours on top)."""
    yield
    gc.collect()


@pytest.fixture(autouse=True)
def private_settings(tmp_path, monkeypatch):
    """Recent files and other preferences go to a temp folder, never the user's."""
    monkeypatch.setenv("LRVIZ_CONFIG_DIR", str(tmp_path / "config"))


@pytest.fixture(autouse=True)
def no_running_engine_threads(qapp):
    # The previous test's windows are reference cycles (signals connected to lambdas over
    # the window): collect them now, in the GUI thread before any worker starts (pytest
    # lets go of a test's fixtures only after its teardown). Left to the cyclic GC, they
    # were collected inside some worker thread (a log loader), whose destruction of the
    # window's QObjects deadlocked with the GUI thread (each held what the other needed:
    # Qt's connection mutex and the GIL) or crashed the suite.
    gc.collect()
    # pytest-qt closes the previous test's windows with deleteLater; without this their
    # deletion waited for this test's first event processing, with an engine thread already
    # running: every one of the thousands of Qt objects freed took the GIL back from the
    # engine (one switch interval each), froze the event loop for ~5 s, and queued the whole
    # run's progress behind it (a range test finished before its Stop could be clicked).
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()
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

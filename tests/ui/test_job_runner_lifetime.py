"""A JobRunner deleted right after its jobs ended must not crash the process.

Its threads used to be its Qt children: a thread's deleteLater was still queued when the
runner died and took the thread with it, so Qt deleted it a second time (a segfault in the
next event loop turn; the full test suite hit it after test_window_defects' job test). Run
in a subprocess, since a crash would take pytest with it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import gc
from PySide6.QtWidgets import QApplication
from ui.jobs import JobRunner

app = QApplication([])
for round_ in range(40):
    runner = JobRunner("lrviz-test")
    ended = []
    for _ in range(5):
        runner.start(lambda: iter(range(3)), lambda _b: None, None, ended.append, exclusive=False)
    while len(ended) < 5:
        app.processEvents()
    runner.shutdown()
    del runner  # with the ended threads' deleteLater still queued
    if round_ % 2:
        gc.collect()
    app.processEvents()
print("survived")
"""


def test_deleting_a_runner_whose_threads_just_ended():
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"exit {result.returncode}: {result.stderr[-2000:]}"
    assert result.stdout.strip() == "survived"

"""For bench/bundle.py: with ``LRVIZ_STARTUP_PROBE=1`` in the environment the app prints
``painted`` once its window has been painted the first time, and quits. The benchmark times
that line from the outside, the same way for the source app and the frozen bundle."""

from __future__ import annotations

import os
import sys

from PySide6.QtCore import QEvent, QObject, QTimer

ENV = "LRVIZ_STARTUP_PROBE"


def wanted() -> bool:
    return os.environ.get(ENV) == "1"


class FirstPaint(QObject):
    """Sees the window's first paint event. The children paint in the same pass, so the line
    is printed from the event loop's next turn, after the whole window is on screen."""

    def __init__(self, window, app) -> None:
        super().__init__(window)
        self.app = app
        self.seen = False
        window.installEventFilter(self)

    def eventFilter(self, watched, event) -> bool:
        if event.type() == QEvent.Type.Paint and not self.seen:
            self.seen = True
            QTimer.singleShot(0, self.report)
        return False

    def report(self) -> None:
        sys.stdout.write("painted\n")
        sys.stdout.flush()
        self.app.quit()

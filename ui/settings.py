"""Where lrviz keeps its preferences (recent files). Tests point it at a temp folder."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QSettings, QStandardPaths

MAX_RECENT = 10


def settings() -> QSettings:
    folder = os.environ.get("LRVIZ_CONFIG_DIR") or QStandardPaths.writableLocation(
        QStandardPaths.StandardLocation.AppConfigLocation
    )
    return QSettings(str(Path(folder) / "lrviz.ini"), QSettings.Format.IniFormat)


def recent_paths() -> list[str]:
    value = settings().value("recent", [])
    if isinstance(value, str):
        value = [value]
    return [str(v) for v in (value or [])]


def remember_paths(paths) -> list[str]:
    """Put ``paths`` at the top of the recent list (most recent first, no duplicates)."""
    recent = [str(Path(p).resolve()) for p in paths]
    recent += [p for p in recent_paths() if p not in recent]
    recent = recent[:MAX_RECENT]
    store = settings()
    store.setValue("recent", recent)
    store.sync()
    return recent

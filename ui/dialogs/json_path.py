"""Ask where to save a JSON file: the one save dialog of the tools' range exports."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QWidget


def ask_json_path(host: QWidget, title: str, default: Path) -> str | None:
    """The path the user chose (``.json`` added when missing), or None if cancelled."""
    path, _filter = QFileDialog.getSaveFileName(host, title, str(default), "JSON files (*.json)")
    if not path:
        return None
    return path if path.lower().endswith(".json") else path + ".json"

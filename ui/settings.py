"""Where lrviz keeps its preferences (recent files). Tests point it at a temp folder.

The file is JSON holding only strings and numbers (``lrviz.json``), read with ``json`` and
checked value by value. It used to be a QSettings ini file, and QSettings turns any
``@Variant(...)`` value of such a file back into a Python object by unpickling it, whichever
key is read: a crafted ``lrviz.ini`` ran code from :func:`recent_paths`. The old file is never
opened by Qt again; its recent list is carried over by reading the plain text of its
``recent=`` line.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

MAX_RECENT = 10
FILE_NAME = "lrviz.json"
_OLD_INI = "lrviz.ini"
_MAX_BYTES = 1 << 20


def config_folder() -> Path:
    folder = os.environ.get("LRVIZ_CONFIG_DIR")
    if not folder:
        from PySide6.QtCore import QStandardPaths

        folder = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppConfigLocation)
    return Path(folder)


def _plain(value):
    """``value`` if it is a string, a finite number or a list of those, else None."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return None
    if isinstance(value, int) or (isinstance(value, float) and math.isfinite(value)):
        return value
    if isinstance(value, list):
        items = [_plain(v) for v in value]
        return [v for v in items if v is not None and not isinstance(v, list)]
    return None


def _read() -> dict:
    path = config_folder() / FILE_NAME
    try:
        with open(path, "rb") as f:
            raw = f.read(_MAX_BYTES)
        data = json.loads(raw.decode("utf-8"))
    except FileNotFoundError:
        return {"recent": _old_recent()}
    except (OSError, ValueError, RecursionError):
        return {}
    if not isinstance(data, dict):
        return {}
    out = {}
    for key, value in data.items():
        plain = _plain(value)
        if isinstance(key, str) and plain is not None:
            out[key] = plain
    return out


def _write(data: dict) -> None:
    from lrviz.export import save_text_atomic

    folder = config_folder()
    folder.mkdir(parents=True, exist_ok=True)
    save_text_atomic(folder / FILE_NAME, json.dumps(data, indent=2, allow_nan=False) + "\n")


def value(key: str, default=None):
    """A stored string, number or list of them (``default`` when absent)."""
    return _read().get(key, default)


def set_value(key: str, new) -> None:
    """Store a string, a finite number or a list of them; anything else is refused."""
    plain = _plain(new)
    if plain is None or (isinstance(new, list) and len(plain) != len(new)):
        raise TypeError(f"settings hold strings and numbers only, not {type(new).__name__}")
    data = _read()
    data[key] = plain
    _write(data)


def recent_paths() -> list[str]:
    value_ = _read().get("recent", [])
    if isinstance(value_, str):
        value_ = [value_]
    if not isinstance(value_, list):
        return []
    return [v for v in value_ if isinstance(v, str)][:MAX_RECENT]


def remember_paths(paths) -> list[str]:
    """Put ``paths`` at the top of the recent list (most recent first, no duplicates)."""
    recent = [str(Path(p).resolve()) for p in paths]
    recent += [p for p in recent_paths() if p not in recent]
    recent = recent[:MAX_RECENT]
    data = _read()
    data["recent"] = recent
    _write(data)
    return recent


def _old_recent() -> list[str]:
    """The recent list of an old ``lrviz.ini``, read as text (never through QSettings).

    QSettings writes a list as ``recent=a, b`` (quoting items with commas); anything else on
    that line (``@Variant``, escapes) is dropped rather than decoded.
    """
    try:
        with open(config_folder() / _OLD_INI, encoding="utf-8", errors="replace") as f:
            lines = f.read(_MAX_BYTES).splitlines()
    except OSError:
        return []
    for line in lines:
        if not line.startswith("recent="):
            continue
        text = line[len("recent=") :].strip()
        if text.startswith("@") or "\\" in text:
            return []
        items = []
        for item in text.split(", "):
            item = item.strip()
            if len(item) >= 2 and item[0] == item[-1] == '"':
                item = item[1:-1]
            if item and '"' not in item and os.path.isabs(item):
                items.append(item)
        return items[:MAX_RECENT]
    return []

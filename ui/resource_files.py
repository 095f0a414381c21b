"""Where the app's shipped files (icons, style sheets, help pages: ``resources/``) are.

Found from this package's own location, never the current directory, so the same call works
from a source checkout (``resources/`` beside ``ui/``), installed (``lrviz_app/resources``,
see setup.py) and in the PyInstaller bundle (``ui/resources`` inside it, see
packaging/lrviz.spec).
"""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent


def resources_folder() -> Path:
    """The folder of shipped files: inside the package when installed or frozen, else the
    source checkout's ``resources/``."""
    inside = PACKAGE / "resources"
    return inside if inside.is_dir() else PACKAGE.parent / "resources"


def resource_path(name: str) -> Path:
    """The shipped file ``name`` (``"icons/open.svg"``); FileNotFoundError names the folder
    looked in, since a missing resource is a packaging mistake, not the user's."""
    path = resources_folder() / name
    if not path.exists():
        raise FileNotFoundError(f"{name} is not among the app's resources in {path.parent}")
    return path

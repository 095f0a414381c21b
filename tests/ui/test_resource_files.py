"""The app's shipped files are found from the package, never the current directory: beside
``ui/`` in the source, inside the package when installed or frozen."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest

from ui import resource_files

ROOT = Path(__file__).resolve().parents[2]


def test_the_source_checkout_finds_resources_beside_ui(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the current directory plays no part
    (tmp_path / "resources").mkdir()
    assert resource_files.resources_folder() == ROOT / "resources"
    assert resource_files.resource_path("README.md") == ROOT / "resources" / "README.md"


def load_copy(package: Path):
    """ui/resource_files.py loaded from a copy in ``package``, as it lies when installed."""
    package.mkdir(parents=True)
    shutil.copy(ROOT / "ui" / "resource_files.py", package / "resource_files.py")
    spec = importlib.util.spec_from_file_location("copied", package / "resource_files.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_installed_or_frozen_the_package_own_folder_wins(tmp_path):
    package = tmp_path / "site-packages" / "lrviz_app"
    module = load_copy(package)
    (package / "resources").mkdir()
    (package / "resources" / "guide.html").write_text("<p>λ</p>")
    (tmp_path / "site-packages" / "resources").mkdir()  # someone else's folder of that name
    assert module.resources_folder() == package / "resources"
    assert module.resource_path("guide.html").read_text() == "<p>λ</p>"


def test_a_missing_resource_names_the_folder_looked_in(tmp_path):
    module = load_copy(tmp_path / "lrviz_app")
    (tmp_path / "lrviz_app" / "resources").mkdir()
    with pytest.raises(FileNotFoundError, match=r"icons/open\.svg .*lrviz_app.resources"):
        module.resource_path("icons/open.svg")

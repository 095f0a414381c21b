"""packaging/lrviz.spec leaves out only what the app does not use, read from the spec itself
(no PyInstaller, no build): no excluded module is imported by the app's code, except the
optional Optuna extra, whose absence the app reports; and the Qt plugins the app needs stay
in while those it never loads go.

That the built bundle works is packaging/smoke.sh (run by packaging/build.sh)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.import_scan import imports_of

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "packaging" / "lrviz.spec"
APP_SOURCES = [
    ROOT / "main.py",
    *sorted((ROOT / "lrviz").rglob("*.py")),
    *sorted((ROOT / "ui").rglob("*.py")),
]
#: excluded on purpose though the app imports them: the `lrviz[optuna]` extra, imported only
#: when an Optuna study is opened (lrviz.stores.optuna_store says to install it if missing)
OPTIONAL_EXTRA = {"optuna", "sqlalchemy"}
OPTIONAL_EXTRA_FILES = {"lrviz/stores/optuna_store.py", "lrviz/stores/optuna_rows.py"}


def spec_tree() -> ast.Module:
    return ast.parse(SPEC.read_text(encoding="utf-8"), str(SPEC))


def spec_excludes() -> list[str]:
    for node in spec_tree().body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "excludes":
            return ast.literal_eval(node.value)
    raise AssertionError("the spec has no `excludes = [...]`")


def spec_function(name: str):
    """A plain function of the spec (one that needs nothing of PyInstaller), compiled alone."""
    for node in spec_tree().body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            namespace: dict = {}
            exec(compile(ast.Module([node], []), str(SPEC), "exec"), namespace)
            return namespace[name]
    raise AssertionError(f"the spec has no function {name}")


def excluded(module: str, excludes: list[str]) -> bool:
    return any(module == name or module.startswith(name + ".") for name in excludes)


def test_the_spec_excludes_what_it_says():
    excludes = spec_excludes()
    assert {"tkinter", "ssl", "_hashlib", "PySide6.QtNetwork", "pandas.tests"} <= set(excludes)


def test_no_excluded_module_is_imported_by_the_app():
    excludes = spec_excludes()
    top_levels = {name.split(".")[0] for name in excludes}
    assert len(APP_SOURCES) > 50  # the scan really looks at the app
    found = []
    for path in APP_SOURCES:
        relative = path.relative_to(ROOT).as_posix()
        for hit in imports_of(path.read_text(encoding="utf-8"), relative, top_levels):
            module = hit.split(": ", 1)[1]
            if not excluded(module, excludes):
                continue  # e.g. pandas itself, when only pandas.tests is excluded
            if module.split(".")[0] in OPTIONAL_EXTRA and relative in OPTIONAL_EXTRA_FILES:
                continue
            found.append(hit)
    assert found == [], "the bundle leaves these out, but the app imports them"


def test_the_optional_extra_is_reported_when_missing():
    """The app opens an Optuna study only with the extra installed, and says so otherwise."""
    source = (ROOT / "lrviz" / "stores" / "optuna_store.py").read_text(encoding="utf-8")
    assert "ImportError" in source and "lrviz[optuna]" in source


@pytest.mark.parametrize(
    "dest",
    [
        "PySide6/Qt/plugins/platforms/libqxcb.so",
        "PySide6/Qt/plugins/platforms/libqoffscreen.so",
        "PySide6/Qt/plugins/platforms/libqwayland.so",
        "PySide6/Qt/plugins/xcbglintegrations/libqxcb-glx-integration.so",
        "PySide6/Qt/plugins/imageformats/libqsvg.so",
        "PySide6/Qt/plugins/iconengines/libqsvgicon.so",
        "PySide6/Qt/plugins/platforminputcontexts/libcomposeplatforminputcontextplugin.so",
        "PySide6/Qt/plugins/platformthemes/libqxdgdesktopportal.so",
        "PySide6/Qt/lib/libQt6Widgets.so.6",
        "ui/resources/guide/guide.html",
        "ui/resources/guide/simulate.png",
    ],
)
def test_what_the_app_needs_stays_in(dest):
    assert not spec_function("unused")(dest)


@pytest.mark.parametrize(
    "dest",
    [
        "PySide6/Qt/translations/qtbase_de.qm",
        "PySide6/Qt/plugins/imageformats/libqjpeg.so",
        "PySide6/Qt/plugins/imageformats/libqgif.so",
        "PySide6/Qt/plugins/imageformats/libqtiff.so",
        "PySide6/Qt/plugins/platforms/libqeglfs.so",
        "PySide6/Qt/plugins/platformthemes/libqgtk3.so",
        "PySide6/Qt/plugins/sqldrivers/libqsqlite.so",
        "lrviz.egg-info/PKG-INFO",
    ],
)
def test_what_the_app_never_loads_goes(dest):
    assert spec_function("unused")(dest)

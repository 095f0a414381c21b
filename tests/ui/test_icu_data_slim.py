"""The bundle's smaller ICU data library (packaging/icu_data.py) changes nothing Qt does:
collation, time-zone names, long dates, legacy codecs and case mapping give the same
answers with it as with PySide6's full one, in locales whose data is far from the root's.

Leaving out the main locale files too failed here (an Arabic zone name lost its Arabic
digits), which is why they stay."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROBE = Path(__file__).with_name("icu_probe.py")
_spec = importlib.util.spec_from_file_location("icu_data", ROOT / "packaging" / "icu_data.py")
icu_data = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(icu_data)


def probe(library_folder: Path | None) -> dict:
    env = dict(os.environ)
    if library_folder is not None:
        # LD_LIBRARY_PATH comes before libicuuc's RUNPATH ($ORIGIN): the slim copy is loaded
        env["LD_LIBRARY_PATH"] = os.pathsep.join(
            [str(library_folder), *filter(None, [env.get("LD_LIBRARY_PATH")])]
        )
    result = subprocess.run(
        [sys.executable, str(PROBE)], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_qt_answers_the_same_with_the_slim_icu_data(tmp_path):
    import PySide6

    found = sorted((Path(PySide6.__file__).parent / "Qt" / "lib").glob("libicudata.so.*"))
    if not sys.platform.startswith("linux") or not found:
        pytest.skip("PySide6 ships ICU on Linux only")
    if not (shutil.which("cc") or shutil.which("gcc")):
        pytest.skip("no C compiler to build the slim library with")
    slim = icu_data.slim_library(found[0], tmp_path)
    assert slim is not None
    full, small = probe(None), probe(tmp_path)
    assert full["libicudata"] == [str(found[0].resolve())]
    assert small.pop("libicudata") == [str(slim)]  # the slim library really was the one used
    full.pop("libicudata")
    assert small == full
    # the probe really asks ICU: names and codecs a build without data could not give
    assert full["zone de_DE Europe/Berlin"][0] == "Mitteleuropäische Normalzeit"
    assert full["codec Shift_JIS"] == [True, ["日本語"], False]
    assert full["collation sv_SE"].index("Äpfel") > full["collation sv_SE"].index("zoo")

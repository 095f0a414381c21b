"""packaging/icu_data.py: the Linux bundle's smaller ICU data library. The package format is
read and written back byte for byte, the dropped items are only those Qt Core cannot reach,
and the library built from it is a shared object of the same name and symbol.

That Qt gives the same answers with the smaller library is tests/ui/test_icu_data_slim.py."""

from __future__ import annotations

import importlib.util
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("icu_data", ROOT / "packaging" / "icu_data.py")
icu_data = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(icu_data)


def pyside_icu_data() -> Path | None:
    """PySide6's ICU data library (Linux wheels), found without importing Qt."""
    spec = importlib.util.find_spec("PySide6")
    if spec is None or spec.origin is None or not sys.platform.startswith("linux"):
        return None
    found = sorted((Path(spec.origin).parent / "Qt" / "lib").glob("libicudata.so.*"))
    return found[0] if found else None


def package(items: list[tuple[str, bytes]]) -> bytes:
    """A little-endian common data package of ``items``, laid out as ICU's icupkg does."""
    # UDataInfo: size, reserved, little-endian, ASCII, 2-byte UChar, reserved, format, versions
    info = struct.pack("<HHBBBB4s4s4s", 20, 0, 0, 0, 2, 0, b"CmnD", b"\1\0\0\0", b"\3\0\0\0")
    header = struct.pack("<HBB", 32, 0xDA, 0x27) + info + b"\0" * (32 - 4 - len(info))
    return icu_data.write_package(header, items)


def test_a_package_round_trips_its_items_sorted_and_aligned():
    items = [("icudt73l/zone/de.res", b"Z" * 5), ("icudt73l/coll/root.res", b"C" * 40)]
    data = package(items)
    header, read = icu_data.read_package(data)
    assert len(header) == 32
    assert read[0][0] == "icudt73l/coll/root.res" and read[1][0] == "icudt73l/zone/de.res"
    assert read[0][1][:40] == b"C" * 40 and read[1][1][:5] == b"Z" * 5
    count = struct.unpack_from("<I", data, 32)[0]
    offsets = [struct.unpack_from("<II", data, 32 + 4 + 8 * i)[1] for i in range(count)]
    assert all(offset % 16 == 0 for offset in offsets)
    assert icu_data.write_package(header, read) == data


def test_what_is_not_a_package_is_refused():
    with pytest.raises(ValueError, match="ICU common data"):
        icu_data.read_package(b"\x90\x00\xda\x28" + b"\0" * 60)
    with pytest.raises(ValueError, match="ELF"):
        icu_data.rodata_of(b"MZ" + b"\0" * 100)


@pytest.mark.parametrize(
    "name",
    [
        "icudt73l/brkitr/cjdict.dict",
        "icudt73l/curr/de.res",
        "icudt73l/lang/fr.res",
        "icudt73l/region/ja.res",
        "icudt73l/unit/en.res",
        "icudt73l/rbnf/es.res",
        "icudt73l/translit/root.res",
        "icudt73l/unames.icu",
        "icudt73l/rfc3491.spp",
    ],
)
def test_data_no_icu_call_of_qt_reaches_is_dropped(name):
    assert icu_data.is_dropped(name)


@pytest.mark.parametrize(
    "name",
    [
        # collation (QCollator, the file dialog's sorting)
        "icudt73l/coll/root.res",
        "icudt73l/coll/ucadata.icu",
        "icudt73l/coll/sv.res",
        # codecs (QStringConverter)
        "icudt73l/cnvalias.icu",
        "icudt73l/ibm-943_P15A-2003.cnv",
        # time-zone names (QTimeZone::displayName, QLocale's long date format)
        "icudt73l/zone/de.res",
        "icudt73l/zoneinfo64.res",
        "icudt73l/metaZones.res",
        # locale data they fall back to (an Arabic zone name's digits come from ar.res)
        "icudt73l/root.res",
        "icudt73l/ar.res",
        "icudt73l/pool.res",
        "icudt73l/likelySubtags.res",
        "icudt73l/supplementalData.res",
        "icudt73l/uts46.nrm",
    ],
)
def test_data_qt_reaches_is_kept(name):
    assert not icu_data.is_dropped(name)


def test_pysides_icu_data_reads_back_byte_for_byte_and_loses_half():
    source = pyside_icu_data()
    if source is None:
        pytest.skip("no PySide6 ICU data library here (PySide6 ships ICU on Linux only)")
    data = icu_data.rodata_of(source.read_bytes())
    header, items = icu_data.read_package(data)
    assert len(items) > 1000
    assert icu_data.write_package(header, items) == data
    slim, kept, dropped = icu_data.slim_package(data)
    assert kept > 1000 and dropped > 1000
    assert len(slim) < 0.6 * len(data)
    names = {name for name, _ in icu_data.read_package(slim)[1]}
    assert {"coll/root.res", "cnvalias.icu", "zoneinfo64.res", "root.res"} <= {
        name.split("/", 1)[1] for name in names
    }


def test_the_slim_library_has_the_name_and_symbol_libicuuc_links_to(tmp_path):
    source = pyside_icu_data()
    if source is None or not (shutil.which("cc") or shutil.which("gcc")):
        pytest.skip("needs PySide6's ICU data library (Linux) and a C compiler")
    out = icu_data.slim_library(source, tmp_path)
    assert out is not None and out.name == source.name
    assert out.stat().st_size < 0.6 * source.stat().st_size
    dynamic = subprocess.run(["readelf", "-dW", str(out)], capture_output=True, text=True).stdout
    assert f"[{source.name}]" in dynamic  # the soname
    symbols = subprocess.run(["nm", "-D", str(out)], capture_output=True, text=True).stdout
    assert any(line.endswith("_dat") and " R " in line for line in symbols.splitlines())
    _header, items = icu_data.read_package(icu_data.rodata_of(out.read_bytes()))
    assert not any(icu_data.is_dropped(name) for name, _ in items)

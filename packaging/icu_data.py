"""A smaller ICU data library for the Linux bundle (packaging/lrviz.spec).

PySide6's Linux wheels ship ICU, and its data library (``libicudata.so.73``) is 32 MB: every
locale's names of languages, regions, currencies and units, break-iterator dictionaries,
transliterators, spelled-out numbers. Of ICU, only Qt Core calls anything (nothing else in the
bundle links it), and only four things (``nm -D --undefined-only libQt6Core.so.6``):

- case mapping with a locale (``u_strToUpper``/``u_strToLower``), from properties compiled into
  ``libicuuc``, not from the data library;
- collation (``ucol_*``: QCollator, with which Qt's file dialog sorts names): ``coll/``;
- text codecs other than UTF and Latin-1 (``ucnv_*``: QStringConverter): the ``.cnv`` files;
- time-zone names (``ucal_*``: QTimeZone::displayName): ``zone/``, the zone tables.

So the bundle keeps those and the locale data they fall back to, and leaves out the trees and
files none of those reach (``DROPPED``); ICU answers a lookup of a missing item with its root
data, as it does for any data it was built without (ICU's data build tool filters the same
way). This module rewrites ICU's "common data" package (format ``CmnD``: a table of contents
of names sorted by their bytes, each item 16-byte aligned) without those items, and assembles
it into a library of the same name and symbol with the C compiler. No compiler: the build keeps
the full library (and says so).
"""

from __future__ import annotations

import shutil
import struct
import subprocess
import tempfile
from pathlib import Path

# Items under these folders of the package, and these files, are left out.
DROPPED_TREES = ("brkitr/", "curr/", "lang/", "region/", "unit/", "rbnf/", "translit/")
DROPPED_SUFFIXES = (".spp",)  # StringPrep profiles (usprep_*): Qt does its own IDNA
DROPPED_FILES = (
    "unames.icu",  # character names (u_charName)
    "confusables.cfu",  # spoof checking (uspoof_*)
    "uemoji.icu",  # emoji properties, for break iterators and regular expressions
    "ulayout.icu",  # Indic layout properties, likewise
)

_ALIGN = 16
_PAD = b"\xaa"  # what ICU's own icupkg pads with


def is_dropped(name: str) -> bool:
    """Leave out ``name``, an item as the package's table of contents names it
    (``icudt73l/coll/de.res``)."""
    inner = name.split("/", 1)[1] if "/" in name else name
    return (
        inner.startswith(DROPPED_TREES)
        or inner.endswith(DROPPED_SUFFIXES)
        or inner in DROPPED_FILES
    )


def read_package(data: bytes) -> tuple[bytes, list[tuple[str, bytes]]]:
    """The header and the (name, bytes) items of a little-endian ICU common data package."""
    header_size, magic1, magic2 = struct.unpack_from("<HBB", data, 0)
    if (magic1, magic2) != (0xDA, 0x27) or data[12:16] != b"CmnD" or data[8] != 0:
        raise ValueError("not a little-endian ICU common data package")
    count = struct.unpack_from("<I", data, header_size)[0]
    entries = [struct.unpack_from("<II", data, header_size + 4 + 8 * i) for i in range(count)]
    toc_size = len(data) - header_size
    items = []
    for i, (name_at, data_at) in enumerate(entries):
        start = header_size + name_at
        name = data[start : data.index(b"\0", start)].decode("ascii")
        end = entries[i + 1][1] if i + 1 < count else toc_size
        items.append((name, data[header_size + data_at : header_size + end]))
    return data[:header_size], items


def write_package(header: bytes, items: list[tuple[str, bytes]]) -> bytes:
    """A package of ``items`` (sorted by name, as ICU's binary search needs) after ``header``."""
    items = sorted(items, key=lambda item: item[0].encode("ascii"))
    names = b"".join(name.encode("ascii") + b"\0" for name, _ in items)
    table = 4 + 8 * len(items)
    first_item = _aligned(table + len(names))
    name_offsets, data_offsets, body = [], [], bytearray()
    name_at = table
    for name, content in items:
        name_offsets.append(name_at)
        name_at += len(name) + 1
        data_offsets.append(first_item + len(body))
        body += content + _PAD * (_aligned(len(content)) - len(content))
    toc = struct.pack("<I", len(items)) + b"".join(
        struct.pack("<II", n, d) for n, d in zip(name_offsets, data_offsets, strict=True)
    )
    toc += names + _PAD * (first_item - table - len(names))
    return header + toc + bytes(body)


def _aligned(size: int) -> int:
    return (size + _ALIGN - 1) // _ALIGN * _ALIGN


def rodata_of(library: bytes) -> bytes:
    """The ``.rodata`` section of a 64-bit little-endian ELF file: all an ICU data library holds."""
    if library[:4] != b"\x7fELF" or library[4] != 2 or library[5] != 1:
        raise ValueError("not a 64-bit little-endian ELF file")
    shoff = struct.unpack_from("<Q", library, 0x28)[0]
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", library, 0x3A)

    def section(i):  # (name offset, file offset, size)
        base = shoff + i * shentsize
        name = struct.unpack_from("<I", library, base)[0]
        offset, size = struct.unpack_from("<QQ", library, base + 0x18)
        return name, offset, size

    _, names_at, _ = section(shstrndx)
    for i in range(shnum):
        name, offset, size = section(i)
        start = names_at + name
        if library[start : library.index(b"\0", start)] == b".rodata":
            return library[offset : offset + size]
    raise ValueError("no .rodata section")


def slim_package(data: bytes) -> tuple[bytes, int, int]:
    """``data`` without the dropped items: (package, items kept, items dropped)."""
    header, items = read_package(data)
    kept = [item for item in items if not is_dropped(item[0])]
    return write_package(header, kept), len(kept), len(items) - len(kept)


def slim_library(source: Path, folder: Path) -> Path | None:
    """A copy of the ICU data library ``source`` (``libicudata.so.NN``) without the dropped
    items, built in ``folder``; None if there is no C compiler or ``source`` is not one."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        return None
    try:
        header, items = read_package(rodata_of(source.read_bytes()))
    except ValueError:
        return None
    package_name = items[0][0].split("/", 1)[0]  # icudt73l: ICU 73, little-endian
    symbol = package_name[:-1] + "_dat"  # icudt73_dat, which libicuuc links against
    package = write_package(header, [item for item in items if not is_dropped(item[0])])
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        blob = Path(scratch) / f"{package_name}.dat"
        blob.write_bytes(package)
        assembly = Path(scratch) / "data.S"
        assembly.write_text(
            f"\t.section .rodata\n\t.globl {symbol}\n\t.type {symbol}, @object\n\t.balign 16\n"
            f'{symbol}:\n\t.incbin "{blob}"\n\t.size {symbol}, {len(package)}\n'
            '\t.section .note.GNU-stack,"",@progbits\n'
        )
        out = folder / source.name
        subprocess.run(
            [compiler, "-shared", "-nostdlib", f"-Wl,-soname,{source.name}",
             "-o", str(out), str(assembly)],
            check=True,
        )  # fmt: skip
    return out

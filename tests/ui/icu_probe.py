"""Prints, as JSON, what Qt answers through ICU (tests/ui/test_icu_data_slim.py runs it with
and without the bundle's smaller ICU data library): collation in several locales, time-zone
names and a long date, legacy codecs, case mapping with a locale, and which libicudata the
process mapped."""

from __future__ import annotations

import json
import sys

from PySide6.QtCore import (
    QBuffer,
    QByteArray,
    QCollator,
    QCoreApplication,
    QDateTime,
    QLocale,
    QStringDecoder,
    QTimeZone,
    QXmlStreamReader,
)

WORDS = ["Zebra", "apple", "Äpfel", "zoo", "öl", "ångström", "file10", "file2", "中国", "日本",
         "한국", "ch", "cz", "h"]  # fmt: skip


def decoded(encoding: str, raw: bytes) -> list:
    """``raw`` read by Qt's XML reader as ``encoding`` (Qt's codecs other than UTF are ICU's)."""
    xml = b'<?xml version="1.0" encoding="' + encoding.encode() + b'"?><a>' + raw + b"</a>"
    buffer = QBuffer()
    buffer.setData(QByteArray(xml))
    buffer.open(QBuffer.OpenModeFlag.ReadOnly)
    reader = QXmlStreamReader(buffer)
    texts = []
    while not reader.atEnd():
        reader.readNext()
        if reader.isCharacters():
            texts.append(reader.text())
    return [QStringDecoder(encoding).isValid(), texts, reader.hasError()]


def main() -> None:
    app = QCoreApplication([])  # noqa: F841 - Qt's locale and time zone code wants one
    out: dict = {}
    for name in ["en_US", "de_DE", "sv_SE", "cs_CZ", "zh_CN", "ja_JP", "ko_KR", "ar_EG"]:
        collator = QCollator(QLocale(name))
        collator.setNumericMode(True)  # as the file dialog sorts
        out[f"collation {name}"] = sorted(WORDS, key=collator.sortKey)
    names = (QTimeZone.NameType.LongName, QTimeZone.NameType.ShortName)
    for name in ["en_US", "de_DE", "ja_JP", "ar_EG", "ru_RU"]:
        for zone in [b"Europe/Berlin", b"America/New_York", b"Asia/Tokyo"]:
            tz = QTimeZone(zone)
            out[f"zone {name} {zone.decode()}"] = [
                tz.displayName(QTimeZone.TimeType.StandardTime, kind, QLocale(name))
                for kind in names
            ]
    moment = QDateTime.fromSecsSinceEpoch(1_700_000_000, QTimeZone(b"Europe/Berlin"))
    for name in ["en_US", "de_DE", "ar_EG"]:
        out[f"long date {name}"] = QLocale(name).toString(moment, QLocale.FormatType.LongFormat)
    for encoding, text, python_codec in [
        ("Shift_JIS", "日本語", "shift_jis"),
        ("GB18030", "中文", "gb18030"),
        ("EUC-KR", "한국", "euc-kr"),
        ("windows-1252", "€ß", "cp1252"),
        ("KOI8-R", "привет", "koi8-r"),
    ]:
        out[f"codec {encoding}"] = decoded(encoding, text.encode(python_codec))
    out["codecs"] = len(QStringDecoder.availableCodecs())
    for name in ["tr_TR", "lt_LT", "el_GR", "de_DE"]:
        out[f"case {name}"] = [QLocale(name).toUpper("iıßστ"), QLocale(name).toLower("IİΣΑΣ")]
    with open("/proc/self/maps") as maps:
        out["libicudata"] = sorted({line.split()[-1] for line in maps if "libicudata" in line})
    json.dump(out, sys.stdout, ensure_ascii=False, indent=1)


if __name__ == "__main__":
    main()

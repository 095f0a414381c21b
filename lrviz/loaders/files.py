"""Loading one file: detect its format and read it into the model.

The file is opened once (a regular file only, see :mod:`~lrviz.loaders.fileio`); its head
decides the format and every reader then streams the rest from the same open file.
"""

from __future__ import annotations

from lrviz.loaders import detect, mmengine
from lrviz.loaders.csvread import Table, read_csv
from lrviz.loaders.fileio import Head, iter_chunks, open_regular, read_head, transcoded
from lrviz.loaders.jsonstream import iter_json_lines
from lrviz.loaders.model import ColumnMapping, LogData
from lrviz.loaders.records import RecordColumns
from lrviz.loaders.registry import file_format


def build_csv(fmt: str, table: Table, path: str, mapping: ColumnMapping | None) -> LogData:
    """The log of a delimited file already read into a table."""
    return file_format(fmt).build(table, path, mapping)


def build_json_lines(
    fmt: str, records: RecordColumns, path: str, mapping: ColumnMapping | None
) -> LogData:
    return file_format(fmt).build(records, path, mapping)


def json_lines_store() -> RecordColumns:
    """An empty column store as the JSON-lines readers want it."""
    return RecordColumns(keep_strings=mmengine.KEEP_STRINGS)


def load_file(path: str, mapping: ColumnMapping | None = None) -> LogData:
    """Read one log file of any supported format.

    Raises
    ------
    LrvizError
        Unreadable or malformed content, with file, line and column where known; special
        files (pipes, devices), files past the size cap and files that cannot be opened.
    OSError
        When reading fails half-way (an I/O error).
    """
    with open_regular(path) as f:
        head = read_head(f, path)
        fmt = detect.detect(path, head)
        return read_open_file(f, head, fmt, path, mapping)


def read_open_file(f, head: Head, fmt: str, path: str, mapping: ColumnMapping | None) -> LogData:
    """Read a file already opened and detected as ``fmt``."""
    found = file_format(fmt)
    if found.kind == "events":
        return found.build(path, f)
    src = f
    if head.encoding != "utf-8":
        src = transcoded(f, head, path)  # UTF-16: read as the UTF-8 text it holds
    src.seek(0)
    if found.kind == "delimited":
        return found.build(read_csv(path, f=src), path, mapping)
    if found.kind == "json-document":
        return found.build(iter_chunks(src, path), path, mapping)
    store = json_lines_store()
    for _, record in iter_json_lines(iter_chunks(src, path), path):
        store.add(record)
    return found.build(store, path, mapping)

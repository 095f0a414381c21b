"""Loading one file: detect its format and read it into the model.

The file is opened once (a regular file only, see :mod:`~lrviz.loaders.fileio`); its head
decides the format and every reader then streams the rest from the same open file.
"""

from __future__ import annotations

from lrviz.errors import LrvizError
from lrviz.loaders import (
    detect,
    detectron2,
    fastai,
    hf,
    keras,
    lightning,
    lr_finder,
    mmengine,
    plain,
    tensorboard_csv,
    tfevents,
    ultralytics,
    wandb,
)
from lrviz.loaders.csvread import Table, read_csv
from lrviz.loaders.fileio import Head, iter_chunks, open_regular, read_head, transcoded
from lrviz.loaders.jsonstream import iter_json_lines
from lrviz.loaders.model import ColumnMapping, LogData
from lrviz.loaders.records import RecordColumns

_CSV_BUILDERS = {
    "lightning-csv": lightning.build,
    "keras-csv": keras.build,
    "keras-history-csv": keras.build_history,
    "fastai-csv": fastai.build,
    "tensorboard-csv": tensorboard_csv.build,
    "wandb-csv": wandb.build,
    "ultralytics-csv": ultralytics.build,
    "lr-finder-csv": lr_finder.build,
    "csv": plain.build,
}
_JSONL_BUILDERS = {
    "detectron2-json": detectron2.build,
    "mmengine-json": mmengine.build_mmengine,
    "mmcv-json": mmengine.build_mmcv,
}


def build_csv(fmt: str, table: Table, path: str, mapping: ColumnMapping | None) -> LogData:
    """The log of a delimited file already read into a table."""
    return _CSV_BUILDERS[fmt](table, path, mapping)


def build_json_lines(
    fmt: str, records: RecordColumns, path: str, mapping: ColumnMapping | None
) -> LogData:
    return _JSONL_BUILDERS[fmt](records, path, mapping)


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
    if fmt == tfevents.FORMAT:
        return tfevents.build(path, f)
    src = f
    if head.encoding != "utf-8":
        src = transcoded(f, head, path)  # UTF-16: read as the UTF-8 text it holds
    src.seek(0)
    if fmt in _CSV_BUILDERS:
        return build_csv(fmt, read_csv(path, f=src), path, mapping)
    if fmt == hf.FORMAT:
        return hf.build(iter_chunks(src, path), path, mapping)
    if fmt in _JSONL_BUILDERS:
        store = json_lines_store()
        for _, record in iter_json_lines(iter_chunks(src, path), path):
            store.add(record)
        return build_json_lines(fmt, store, path, mapping)
    raise LrvizError(f"unsupported format {fmt}", path)  # pragma: no cover

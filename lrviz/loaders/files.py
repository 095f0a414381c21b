"""Loading one file: detect its format and read it into the model."""

from __future__ import annotations

import os

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
from lrviz.loaders.model import ColumnMapping, LogData
from lrviz.loaders.records import read_json_lines

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


def build_json_lines(fmt: str, records: list[dict], path: str, mapping) -> LogData:
    return _JSONL_BUILDERS[fmt](records, path, mapping)


def load_file(path: str, mapping: ColumnMapping | None = None) -> LogData:
    """Read one log file of any supported format.

    Raises
    ------
    LrvizError
        Unreadable or malformed content, with file, line and column where known.
    OSError
        When the file cannot be opened.
    """
    if not os.path.isfile(path):
        raise LrvizError("no such file", path)
    with open(path, "rb") as f:
        head = f.read(detect.HEAD_BYTES)
    fmt = detect.detect(path, head)
    if fmt == tfevents.FORMAT:
        return tfevents.build(path)
    if fmt in _CSV_BUILDERS:
        return build_csv(fmt, read_csv(path), path, mapping)
    with open(path, "rb") as f:
        raw = f.read()
    if fmt == hf.FORMAT:
        return hf.build(raw, path, mapping)
    if fmt in _JSONL_BUILDERS:
        records = [r for _, r in read_json_lines(raw, path)]
        return build_json_lines(fmt, records, path, mapping)
    raise LrvizError(f"unsupported format {fmt}", path)  # pragma: no cover

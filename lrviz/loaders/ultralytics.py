"""Ultralytics YOLOv8/11 and YOLOv5 ``results.csv``.

Up to 8.3.8 names and values are padded to 23 characters (YOLOv5: 20); later versions are
unpadded and add ``time``. Learning rates are ``lr/pg0..2`` (YOLOv5 ``x/lr0..2``). Resumed
trainings append to the same file; the last row of an epoch wins.
"""

from __future__ import annotations

from lrviz.loaders.csvread import Dialect, Table
from lrviz.loaders.model import ColumnMapping, LogData
from lrviz.loaders.naming import run_name
from lrviz.loaders.registry import FileFormat
from lrviz.loaders.tabular import table_run

FORMAT = "ultralytics-csv"
_PREFIXES = ("train/", "metrics/", "val/", "lr/", "x/lr")


def matches(dialect: Dialect) -> bool:
    low = [n.lower() for n in dialect.names]
    return "epoch" in low and sum(n.startswith(_PREFIXES) for n in low) >= 2


def build(table: Table, path: str, mapping: ColumnMapping | None = None) -> LogData:
    epoch = next(n for n in table.names if n.lower() == "epoch")
    roles = {n: "lr" for n in table.names if n.lower().startswith(("lr/", "x/lr"))}
    roles.update({n: "other" for n in table.names if n.lower() == "time"})
    run = table_run(
        table, run_name(path), x=epoch, x_axis="epoch", roles=roles, mapping=mapping, source=path
    )
    return LogData(FORMAT, [run], path)


#: This format, for the registry (lrviz.loaders.registry).
FILE_FORMAT = FileFormat(FORMAT, "delimited", build, matches)

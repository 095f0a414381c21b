"""detectron2 ``metrics.json``: JSON lines, one object per logging period.

Training lines hold ``iteration`` (every 20 by default), ``lr``, ``total_loss``, ``loss_*``,
``time``, ``data_time``, ``eta_seconds``; evaluation lines hold AP keys at their iteration.
Resumed runs repeat iterations: the last line wins.
"""

from __future__ import annotations

from lrviz.loaders.model import ColumnMapping, LogData
from lrviz.loaders.naming import run_name
from lrviz.loaders.records import RecordColumns
from lrviz.loaders.registry import FileFormat
from lrviz.loaders.tabular import table_run

FORMAT = "detectron2-json"
_ROLES = {"time": "other", "data_time": "other", "eta_seconds": "other", "rank_data_time": "other"}


def matches(records: list[dict]) -> bool:
    return any("iteration" in r for r in records)


def build(records: RecordColumns, path: str, mapping: ColumnMapping | None = None) -> LogData:
    table = records.table()
    run = table_run(
        table,
        run_name(path),
        x="iteration",
        x_axis="step",
        roles=dict(_ROLES),
        mapping=mapping,
        source=path,
    )
    if run.get("total_loss") is not None:
        run.main.setdefault("loss", "total_loss")
    return LogData(FORMAT, [run], path)


#: This format, for the registry (lrviz.loaders.registry).
FILE_FORMAT = FileFormat(FORMAT, "json-lines", build, matches)

"""Keras ``CSVLogger`` files and ``pd.DataFrame(history.history).to_csv()`` exports.

CSVLogger: ``epoch`` first (from 0), the rest alphabetical, ``NA`` for missing, ``;`` possible,
appends restart epochs without a new header (the last value of an epoch wins). History via
pandas: an unnamed index column (the epoch) first; NaN written as an empty cell.
"""

from __future__ import annotations

from lrviz.loaders.csvread import Dialect, Table
from lrviz.loaders.model import ColumnMapping, LogData
from lrviz.loaders.naming import run_name
from lrviz.loaders.registry import FileFormat
from lrviz.loaders.tabular import table_run

CSV_FORMAT = "keras-csv"
HISTORY_FORMAT = "keras-history-csv"


def _keras_like(names: list[str]) -> bool:
    return any(n == "loss" or n.startswith("val_") or n in ("accuracy", "acc") for n in names)


def matches_csv_logger(dialect: Dialect) -> bool:
    low = [n.lower() for n in dialect.names]
    return bool(low) and low[0] == "epoch" and "step" not in low and _keras_like(low[1:])


def matches_history(dialect: Dialect) -> bool:
    low = [n.lower() for n in dialect.names]
    return (
        len(low) > 1 and (dialect.unnamed_first or low[0] == "unnamed: 0") and _keras_like(low[1:])
    )


def build(table: Table, path: str, mapping: ColumnMapping | None = None) -> LogData:
    """CSVLogger: series against ``epoch``."""
    epoch = table.names[0]
    run = table_run(table, run_name(path), x=epoch, x_axis="epoch", mapping=mapping, source=path)
    return LogData(CSV_FORMAT, [run], path)


def build_history(table: Table, path: str, mapping: ColumnMapping | None = None) -> LogData:
    """History export: the unnamed index is the epoch."""
    index = table.names[0]
    run = table_run(table, run_name(path), x=index, x_axis="epoch", mapping=mapping, source=path)
    return LogData(HISTORY_FORMAT, [run], path)


#: This format, for the registry (lrviz.loaders.registry).
CSV_FILE_FORMAT = FileFormat(CSV_FORMAT, "delimited", build, matches_csv_logger)
HISTORY_FILE_FORMAT = FileFormat(HISTORY_FORMAT, "delimited", build_history, matches_history)

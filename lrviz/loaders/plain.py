"""Any other CSV/TSV: numeric columns against the first step-, epoch- or time-like column."""

from __future__ import annotations

import os

from lrviz.errors import LrvizError
from lrviz.loaders.csvread import Table
from lrviz.loaders.hparams import folder_params
from lrviz.loaders.model import ColumnMapping, LogData
from lrviz.loaders.naming import run_name
from lrviz.loaders.registry import FileFormat
from lrviz.loaders.tabular import summary_rows, table_run

FORMAT = "csv"


def build(table: Table, path: str, mapping: ColumnMapping | None = None) -> LogData:
    """Raises LrvizError when rows were read but no column holds numbers."""
    if table.nrows and not table.values:
        raise LrvizError("no column holds numbers", path)
    params = {}
    if os.path.basename(path).lower() == "progress.csv":
        params = folder_params(os.path.dirname(os.path.abspath(path)))
    rows = summary_rows(table, run_name(path), mapping=mapping, params=params, source=path)
    if rows is not None:
        return LogData(FORMAT, rows, path)  # one run per λ: a sweep's summary table
    run = table_run(table, run_name(path), mapping=mapping, params=params, source=path)
    return LogData(FORMAT, [run], path)


#: This format, for the registry (lrviz.loaders.registry).
FILE_FORMAT = FileFormat(FORMAT, "delimited", build)  # any other table

"""PyTorch Lightning ``CSVLogger``: ``version_N/metrics.csv`` with ``hparams.yaml`` beside it.

Every ``self.log`` call is its own sparse row; several rows share a step; LearningRateMonitor
rows (``lr-SGD``, ``lr-Adam/pg1``) have no epoch. Each column becomes a series of only its
logged points against ``step``.
"""

from __future__ import annotations

import os

from lrviz.loaders.csvread import Dialect, Table
from lrviz.loaders.hparams import params_with_lr, read_params_file
from lrviz.loaders.model import ColumnMapping, LogData, Run
from lrviz.loaders.naming import run_name
from lrviz.loaders.registry import FileFormat
from lrviz.loaders.tabular import table_run

FORMAT = "lightning-csv"


def matches(dialect: Dialect) -> bool:
    """A ``step`` column together with ``epoch`` or an ``lr-*`` monitor column."""
    low = [n.lower() for n in dialect.names]
    return "step" in low and ("epoch" in low or any(n.startswith("lr-") for n in low))


def params_beside(path: str) -> dict:
    """``hparams.yaml`` next to the metrics file, with ``lr`` when it names one."""
    folder = os.path.dirname(os.path.abspath(path))
    for name in ("hparams.yaml", "hparams.yml"):
        p = os.path.join(folder, name)
        if os.path.isfile(p):
            return params_with_lr(read_params_file(p))
    return {}


def run(table: Table, path: str, mapping: ColumnMapping | None = None) -> Run:
    """The run of one ``metrics.csv``."""
    step = next((n for n in table.names if n.lower() == "step"), None)
    return table_run(
        table,
        run_name(path),
        x=step,
        x_axis="step",
        mapping=mapping,
        params=params_beside(path),
        source=path,
    )


def build(table: Table, path: str, mapping: ColumnMapping | None = None) -> LogData:
    return LogData(FORMAT, [run(table, path, mapping)], path)


#: This format, for the registry (lrviz.loaders.registry).
FILE_FORMAT = FileFormat(FORMAT, "delimited", build, matches)

"""Saved LR-finder results: ``lr,loss`` (or ``,lr,loss`` with a pandas index).

Written by fastai's recorder, torch-lr-finder's history or Lightning's ``lr_find`` results.
Each row is one iteration of the range test, so both columns are series against the row index;
the loss-vs-λ view pairs them. The loss may end in NaN or a huge value where the test diverged:
those points are kept.
"""

from __future__ import annotations

import numpy as np

from lrviz.loaders.csvread import Dialect, Table
from lrviz.loaders.model import ColumnMapping, LogData
from lrviz.loaders.naming import run_name
from lrviz.loaders.registry import FileFormat
from lrviz.loaders.tabular import table_run

FORMAT = "lr-finder-csv"
_LR = ("lr", "lrs", "learning_rate", "learning rate")
_LOSS = ("loss", "losses", "smoothed_loss", "smooth_loss")


def _columns(dialect: Dialect) -> list[str]:
    low = [n.lower() for n in dialect.names]
    if low and (dialect.unnamed_first or low[0] == "unnamed: 0"):
        low = low[1:]
    return low


def matches(dialect: Dialect) -> bool:
    cols = _columns(dialect)
    return len(cols) == 2 and cols[0] in _LR and cols[1] in _LOSS


def build(table: Table, path: str, mapping: ColumnMapping | None = None) -> LogData:
    names = table.names
    has_index = len(names) == 3
    lr_col, loss_col = names[-2], names[-1]
    x_values = None
    if not has_index or names[0] not in table.values:
        x_values = np.arange(table.nrows, dtype=np.float64)
    run = table_run(
        table,
        run_name(path),
        x=names[0] if has_index else None,
        x_axis="index",
        x_values=x_values,
        roles={lr_col: "lr", loss_col: "loss"},
        mapping=mapping,
        source=path,
    )
    run.main.setdefault("lr", lr_col)
    run.main.setdefault("loss", loss_col)
    return LogData(FORMAT, [run], path)


#: This format, for the registry (lrviz.loaders.registry).
FILE_FORMAT = FileFormat(FORMAT, "delimited", build, matches)

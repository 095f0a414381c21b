"""fastai ``CSVLogger``: ``history.csv``.

``None`` for missing values, ``time`` as ``mm:ss`` or ``h:mm:ss`` (the epoch's duration, read
in seconds). With ``append=True`` every ``fit`` writes the header again and restarts epochs at
0: each repeated header starts a new fit whose epochs are placed after the previous fit's, so
``fine_tune``'s frozen and unfrozen phases follow each other instead of overwriting.
"""

from __future__ import annotations

import numpy as np

from lrviz.loaders.csvread import Dialect, Table
from lrviz.loaders.model import ColumnMapping, LogData
from lrviz.loaders.naming import run_name
from lrviz.loaders.registry import FileFormat
from lrviz.loaders.tabular import table_run

FORMAT = "fastai-csv"


def matches(dialect: Dialect) -> bool:
    low = [n.lower() for n in dialect.names]
    return bool(low) and low[0] == "epoch" and "train_loss" in low and "valid_loss" in low


def continued_epochs(epochs: np.ndarray, segments: list[int]) -> np.ndarray:
    """Epoch numbers with each segment (fit) shifted to start after the previous one ends."""
    out = epochs.astype(np.float64, copy=True)
    bounds = sorted(set(s for s in segments if 0 < s < out.size))
    offset = 0.0
    prev = 0
    for b in [*bounds, out.size]:
        seg = out[prev:b]
        with np.errstate(over="ignore"):  # absurd epochs overflow to inf, dropped as x
            seg += offset
        finite = seg[np.isfinite(seg)]
        if finite.size:
            offset = float(finite.max()) + 1.0
        prev = b
    return out


def build(table: Table, path: str, mapping: ColumnMapping | None = None) -> LogData:
    epoch = table.names[0]
    x_values = None
    if epoch in table.values and table.segments:
        x_values = continued_epochs(table.values[epoch], table.segments)
    run = table_run(
        table,
        run_name(path),
        x=epoch,
        x_axis="epoch",
        roles={"time": "other"},
        mapping=mapping,
        source=path,
        x_values=x_values,
        skip=(epoch,),
    )
    return LogData(FORMAT, [run], path)


#: This format, for the registry (lrviz.loaders.registry).
FILE_FORMAT = FileFormat(FORMAT, "delimited", build, matches)

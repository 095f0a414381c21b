"""Weights & Biases chart "Export CSV".

Every field is quoted; the first column is the x key (``Step`` or a custom one); then three
columns per run and metric: ``"<run> - <metric>"``, its ``__MIN`` and ``__MAX`` (bounds of a
downsampling bucket, skipped here). Either the run or the metric may contain `` - ``: the split
is chosen so that the metric part is shared by as many columns as possible.
"""

from __future__ import annotations

from collections import Counter

from lrviz.loaders.csvread import Dialect, Table
from lrviz.loaders.model import ColumnMapping, LogData, Run, axis_of, infer_role, make_series
from lrviz.loaders.registry import FileFormat

FORMAT = "wandb-csv"
_SEP = " - "


def matches(dialect: Dialect) -> bool:
    names = dialect.names
    if any(n.endswith(("__MIN", "__MAX")) for n in names):
        return True
    return dialect.quoted and len(names) > 1 and all(_SEP in n for n in names[1:])


def _suffixes(name: str) -> list[str]:
    parts = name.split(_SEP)
    return [_SEP.join(parts[i:]) for i in range(1, len(parts))]


def _metric_like(text: str) -> bool:
    first = text.split(_SEP)[0]
    return "/" in first or infer_role(first) != "other"


def split_columns(names: list[str]) -> dict[str, tuple[str, str]]:
    """Column name -> (run, metric)."""
    todo = [n for n in names if _SEP in n]
    out: dict[str, tuple[str, str]] = {}
    while todo:
        counts = Counter(s for n in todo for s in set(_suffixes(n)))
        best = max(counts, key=lambda s: (counts[s], _metric_like(s), -s.count(_SEP)))
        rest = []
        for n in todo:
            if n.endswith(_SEP + best):
                out[n] = (n[: -len(_SEP + best)], best)
            else:
                rest.append(n)
        todo = rest
    return out


def build(table: Table, path: str, mapping: ColumnMapping | None = None) -> LogData:
    """One run per W&B run named in the columns; ``mapping`` is not used for this format."""
    x_name = table.names[0]
    x_axis = axis_of(x_name) or "step"
    xs = table.values.get(x_name)
    runs: dict[str, Run] = {}
    value_cols = [n for n in table.names[1:] if not n.endswith(("__MIN", "__MAX"))]
    parts = split_columns(value_cols)
    for col in value_cols:
        if col not in table.values or xs is None:
            continue
        run_name, metric = parts.get(col, (col, col))
        run = runs.setdefault(run_name, Run(name=run_name, source=path))
        y, present = table.column(col)
        s = make_series(metric, xs, y, x_axis, infer_role(metric), present)
        if len(s):
            run.series.append(s)
    return LogData(FORMAT, list(runs.values()), path)


#: This format, for the registry (lrviz.loaders.registry).
FILE_FORMAT = FileFormat(FORMAT, "delimited", build, matches)

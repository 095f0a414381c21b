"""TensorBoard's "Download CSV": ``Wall time,Step,Value`` in ``run-<run>-tag-<tag>.csv``."""

from __future__ import annotations

import os
import re

from lrviz.loaders.csvread import Dialect, Table
from lrviz.loaders.model import ColumnMapping, LogData, infer_role
from lrviz.loaders.registry import FileFormat
from lrviz.loaders.tabular import table_run

FORMAT = "tensorboard-csv"
_NAME = re.compile(r"^run[-_](.+?)[-_]tag[-_](.+)\.csv$", re.IGNORECASE)


def matches(dialect: Dialect) -> bool:
    return [n.lower() for n in dialect.names] == ["wall time", "step", "value"]


def run_and_tag(path: str) -> tuple[str, str]:
    """(run, tag) from a downloaded file's name; (file stem, "value") when not in that form."""
    base = os.path.basename(path)
    m = _NAME.match(base)
    if m:
        return m.group(1), m.group(2)
    return os.path.splitext(base)[0], "value"


def build(table: Table, path: str, mapping: ColumnMapping | None = None) -> LogData:
    run_name, tag = run_and_tag(path)
    wall, step, value = table.names
    renamed = Table(names=[], nrows=table.nrows, segments=table.segments)
    for old, new in ((step, "step"), (wall, "wall_time"), (value, tag)):
        renamed.names.append(new)
        if old in table.values:
            renamed.values[new] = table.values[old]
            renamed.present[new] = table.present[old]
    role = infer_role(tag)
    run = table_run(
        renamed,
        run_name,
        x="step",
        x_axis="step",
        roles={"wall_time": "time", tag: role},
        mapping=mapping,
        source=path,
    )
    run.main.setdefault(role, tag)
    return LogData(FORMAT, [run], path)


#: This format, for the registry (lrviz.loaders.registry).
FILE_FORMAT = FileFormat(FORMAT, "delimited", build, matches)

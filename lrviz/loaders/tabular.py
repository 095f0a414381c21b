"""Turning a table of columns (from CSV or JSON records) into a run of series."""

from __future__ import annotations

import numpy as np

from lrviz.errors import LrvizError
from lrviz.loaders.csvread import Table
from lrviz.loaders.model import ColumnMapping, Run, axis_of, infer_role, make_series

_AXIS_PRIORITY = ("step", "epoch", "time")


def choose_x(table: Table) -> tuple[str | None, str]:
    """The column to use as x, and its axis: a step-like column first, then epoch, then time.

    Returns (None, "index") when no column names an axis.
    """
    for axis in _AXIS_PRIORITY:
        for name in table.names:
            if name in table.values and axis_of(name) == axis:
                return name, axis
    return None, "index"


def table_run(
    table: Table,
    name: str,
    *,
    x: str | None = None,
    x_axis: str | None = None,
    roles: dict | None = None,
    skip: tuple = (),
    mapping: ColumnMapping | None = None,
    params: dict | None = None,
    source: str | None = None,
    x_values: np.ndarray | None = None,
) -> Run:
    """Build a run whose series are the table's numeric columns against one x column.

    Parameters
    ----------
    table : Table
    name : str
        Run name.
    x : str, optional
        The x column; default :func:`choose_x`.
    x_axis : str, optional
        What x counts; default from the column name.
    roles : dict of str to str, optional
        Role overrides by column name.
    skip : tuple of str
        Columns not to turn into series.
    mapping : ColumnMapping, optional
        The user's choice of x, lr and loss columns; wins over everything else.
    params : dict, optional
    source : str, optional
    x_values : ndarray, optional
        x per row, when it is not a column (e.g. a computed global iteration).

    Raises
    ------
    LrvizError
        When the mapping names a column the table does not have or that holds no numbers.
    """
    roles = dict(roles or {})
    main = {}
    if mapping is not None:
        for key in ("x", "lr", "loss"):
            col = getattr(mapping, key)
            if col is None:
                continue
            if col not in table.names:
                raise LrvizError(f"no column named {col!r}", source)
            if col not in table.values:
                raise LrvizError(f"column {col!r} holds no numbers", source)
        if mapping.x is not None:
            x = mapping.x
            x_values = None
            x_axis = mapping.x_axis or axis_of(mapping.x) or "step"
        elif mapping.x_axis is not None:
            x_axis = mapping.x_axis
        if mapping.lr is not None:
            roles[mapping.lr] = "lr"
            main["lr"] = mapping.lr
        if mapping.loss is not None:
            roles[mapping.loss] = "loss"
            main["loss"] = mapping.loss
    if x_values is not None:
        xs = np.asarray(x_values, dtype=np.float64)
        x_axis = x_axis or "step"
    else:
        if x is None or x not in table.values:
            x, auto_axis = choose_x(table)
            x_axis = x_axis if x is not None and x_axis else auto_axis
        if x is None:
            xs = np.arange(table.nrows, dtype=np.float64)
            x_axis = "index"
        else:
            xs = table.values[x]
            x_axis = x_axis or axis_of(x) or "step"
    run = Run(name=name, params=dict(params or {}), source=source, main=main)
    for col in table.names:
        if col == x or col in skip or col not in table.values:
            continue
        y, present = table.column(col)
        role = roles.get(col) or infer_role(col)
        s = make_series(col, xs, y, x_axis, role, present)
        if len(s):
            run.series.append(s)
    return run

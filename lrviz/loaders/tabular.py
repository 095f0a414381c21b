"""Turning a table of columns (from CSV or JSON records) into a run of series."""

from __future__ import annotations

import numpy as np

from lrviz.errors import LrvizError
from lrviz.loaders.csvread import Table
from lrviz.loaders.model import ColumnMapping, Run, Series, axis_of, infer_role, make_series
from lrviz.lr_format import format_lr

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


def summary_rows(
    table: Table,
    name: str,
    *,
    mapping: ColumnMapping | None = None,
    params: dict | None = None,
    source: str | None = None,
) -> list[Run] | None:
    """A table of one row per learning rate (a sweep's summary: ``lr,steps,final_val_loss``
    with every run's ``steps`` the same) as one run per row, its λ in ``params["lr"]`` and each
    other column a one-point series at its step: a sweep, drawn on loss vs λ. None for any
    other table.

    Read as a log, such a table is one point: every row is at the same step, and the log
    keeps the last value of a repeated step. So a table is read as rows when its x column
    holds one value on every row while its λ column holds several (one step cannot have
    several learning rates in a training log). A mapping that chooses x is followed as given.
    """
    if table.nrows < 2 or (mapping is not None and mapping.x is not None):
        return None
    x, x_axis = choose_x(table)
    lr_name = mapping.lr if mapping is not None and mapping.lr is not None else None
    if lr_name is None:
        lr_name = next(
            (c for c in table.names if c in table.values and c != x and infer_role(c) == "lr"),
            None,
        )
    if x is None or lr_name is None or lr_name not in table.values:
        return None
    xs, x_present = table.column(x)
    held = np.isfinite(xs) if x_present is None else x_present & np.isfinite(xs)
    # One value on every row, told by its min and max (np.unique sorted a 10M-row log's
    # steps to find that out: 0.9 s of reading it).
    if not held.all() or xs.min() != xs.max():
        return None
    lrs, lr_present = table.column(lr_name)
    usable = np.isfinite(lrs) & (lrs > 0)
    if lr_present is not None:
        usable &= lr_present
    if np.unique(lrs[usable]).size < 2:
        return None
    step = float(xs[0])
    loss_name = mapping.loss if mapping is not None else None
    columns = [c for c in table.names if c in table.values and c not in (x, lr_name)]
    runs = []
    seen: dict[str, int] = {}
    for row in np.flatnonzero(usable).tolist():
        lr = float(lrs[row])
        label = f"lr={format_lr(lr)}"
        seen[label] = seen.get(label, 0) + 1
        if seen[label] > 1:
            label += f" #{seen[label]}"  # several rows of one λ (seeds)
        run = Run(
            name=label,
            params={**(params or {}), "lr": lr, x: step},
            source=source,
            main={"loss": loss_name} if loss_name else {},
        )
        for col in columns:
            y, present = table.column(col)
            if present is not None and not present[row]:
                continue
            role = "loss" if col == loss_name else infer_role(col)
            run.series.append(
                Series(col, role, x_axis, np.array([step]), np.array([y[row]], dtype=np.float64))
            )
        runs.append(run)
    return runs

"""What the log panels plot, computed without Qt: series by role, x axes, loss vs λ, ranges.

Works on the loaders' model (runs holding named series with a role and an x axis).
"""

from __future__ import annotations

import numpy as np

from lrviz.suggest.pairing import pair_lr_loss

AXES = ("step", "epoch", "time")


def series_names(runs, role: str) -> list[str]:
    """Names of the series with ``role`` across ``runs``, most common first."""
    counts: dict[str, int] = {}
    for run in runs:
        for series in run.series:
            if series.role == role:
                counts[series.name] = counts.get(series.name, 0) + 1
    return sorted(counts, key=lambda name: (-counts[name], name))


def pick_series(run, role: str, name: str | None = None):
    """The series called ``name`` in ``run`` if it has one with ``role``, else the run's main
    series for ``role`` (``run.find(role)``), else None."""
    if name:
        for series in run.series:
            if series.name == name and series.role == role:
                return series
    finder = getattr(run, "find", None)
    if finder is not None:
        return finder(role)
    return next((s for s in run.series if s.role == role), None)


def x_values(run, series, axis: str) -> tuple[np.ndarray, str]:
    """x of ``series`` on ``axis`` ("step", "epoch" or "time"), converted by the run's axis
    series (:meth:`Run.x_as`) when it was logged against another axis. Returns the x values
    and the axis they are really on (the series' own when no conversion exists)."""
    converted = run.x_as(series, axis)
    if converted is not None:
        return np.asarray(converted, dtype=np.float64), axis
    return np.asarray(series.x, dtype=np.float64), series.x_axis


def available_axes(runs) -> list[str]:
    """The x axes at least one of ``runs`` can be drawn against."""
    found = []
    for axis in AXES:
        for run in runs:
            own = {getattr(s, "x_axis", None) for s in run.series}
            roles = {s.role for s in run.series}
            if axis in own or axis in roles:
                found.append(axis)
                break
    return found or ["step"]


def loss_against_lr(run, loss_series) -> tuple[np.ndarray, np.ndarray] | None:
    """(lr, loss) pairs of a run (:func:`lrviz.suggest.pairing.pair_lr_loss`, as the command
    line pairs them). None when the run has no usable lr series."""
    return pair_lr_loss(pick_series(run, "lr"), loss_series)


def robust_range(
    values: np.ndarray, low: float = 5.0, high: float = 95.0, log: bool = False
) -> tuple[float, float] | None:
    """The ``low``-``high`` percentile band of the finite values (positive ones when ``log``),
    padded by 10% so the curve does not touch the frame. None when nothing is finite."""
    v = np.asarray(values, dtype=np.float64).ravel()
    keep = np.isfinite(v) & (v > 0) if log else np.isfinite(v)
    # One copy of the values, partitioned in place (a 10M-point log's band made three).
    v = v.copy() if keep.all() else v[keep]
    if v.size == 0:
        return None
    if log:
        np.log10(v, out=v)
    lo, hi = (float(p) for p in np.percentile(v, [low, high], overwrite_input=True))
    if hi > lo:
        pad = 0.1 * (hi - lo)
    else:
        pad = 0.5 if log else max(abs(hi) * 0.1, 1e-12)
    # Pad outward without leaving float64: values near its limits are legitimate losses.
    floor, ceiling = (
        (-323.0, 308.0) if log else (-np.finfo(np.float64).max, np.finfo(np.float64).max)
    )
    lo = max(lo - pad, floor) if np.isfinite(lo - pad) else floor
    hi = min(hi + pad, ceiling) if np.isfinite(hi + pad) else ceiling
    if log:
        return float(10.0**lo), float(10.0**hi)
    return lo, hi


def validation_series(run):
    """The run's validation loss (``val_loss``, ``eval/loss``, …), the longest if several;
    None when it logs none."""
    from lrviz.loaders.model import is_eval_name

    found = [s for s in getattr(run, "series", []) if s.role == "loss" and is_eval_name(s.name)]
    return max(found, key=len) if found else None


def final_and_best(series) -> tuple[float, float]:
    """Last finite value and lowest finite value of a series (NaN when none)."""
    y = np.asarray(series.y, dtype=np.float64)
    finite = y[np.isfinite(y)]
    if finite.size == 0:
        return float("nan"), float("nan")
    return float(finite[-1]), float(finite.min())


#: Where a store says which sweep a run belongs to (lrviz.stores.model's ``params``).
SWEEP_KEYS = ("study", "experiment")


def sweep_group(run) -> tuple[str, str] | None:
    """(key, name) of the sweep a run belongs to: its Optuna study or MLflow experiment, or
    None for a run of a log (every such run is taken as one sweep)."""
    params = getattr(run, "params", None) or {}
    for key in SWEEP_KEYS:
        name = params.get(key)
        if name is not None:
            return key, str(name)
    return None


def sweep_name(reading: dict) -> str | None:
    """The study (experiment) a sweep reading (``inspect``'s ``sweep``) is of, when said."""
    return next((str(reading[k]) for k in SWEEP_KEYS if k in reading), None)


def sweep_groups(runs) -> list[tuple[tuple[str, str] | None, list[int]]]:
    """The runs' sweeps in the order first seen, each with its runs' positions. One Optuna
    database often holds several studies, one MLflow store several experiments: their
    trials are different experiments, not one sweep to compare λ across."""
    groups: dict = {}
    for i, run in enumerate(runs):
        groups.setdefault(sweep_group(run), []).append(i)
    return list(groups.items())


def sweep_points(runs) -> dict[str, np.ndarray]:
    """Loss vs λ across trials: every run with a known lr and a loss series gives a point.

    Returns arrays ``lr``, ``final``, ``best``, ``diverged``, ``index`` (position in
    ``runs``) and ``group`` (which sweep: the position in :func:`sweep_groups`), sorted by
    group, then lr. A trial diverged when its store says so (an Optuna trial pruned
    or failed: ``params["diverged"]``) or its loss ended non-finite (NaN, inf): the panel
    marks it ×, as it marks a simulated run that blew up, instead of a dot at its last
    finite value.
    """
    group_of = {}
    for g, (_key, members) in enumerate(sweep_groups(runs)):
        group_of.update(dict.fromkeys(members, g))
    rows = []
    for i, run in enumerate(runs):
        params = getattr(run, "params", None) or {}
        try:
            lr = float(params.get("lr"))
        except (TypeError, ValueError):
            continue
        series = pick_series(run, "loss")
        if series is None or not (np.isfinite(lr) and lr > 0):
            continue
        final, best = final_and_best(series)
        y = np.asarray(series.y, dtype=np.float64)
        diverged = bool(params.get("diverged")) or (y.size > 0 and not np.isfinite(y[-1]))
        rows.append((group_of[i], lr, final, best, float(diverged), i))
    rows.sort()
    table = np.array(rows, dtype=np.float64).reshape(-1, 6)
    return {
        "lr": table[:, 1],
        "final": table[:, 2],
        "best": table[:, 3],
        "diverged": table[:, 4].astype(bool),
        "index": table[:, 5].astype(int),
        "group": table[:, 0].astype(int),
    }


def held_steps(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A λ series as it should be drawn: a step schedule as steps, anything else as logged.

    A λ logged once an epoch (Keras' ``learning_rate``) or once a step holds its value until
    the next point; drawn point to point, a drop from 0.1 to 0.01 between epochs 4 and 5
    becomes a ramp through λ that were never used. When the series stays constant between
    most of its points (at most half of them change: a step schedule), each value is held
    up to the next point and the change is drawn vertically there. A smooth schedule logged
    at each point is returned as it is.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.size < 3:
        return x, y
    changes = int(np.count_nonzero(y[1:] != y[:-1]))
    if changes == 0 or changes > (x.size - 1) / 2:
        return x, y
    return np.repeat(x, 2)[1:], np.repeat(y, 2)[:-1]


def lowest_final_losses(runs, limit: int) -> list[int]:
    """Indices (in order) of the at most ``limit`` runs whose main loss ends lowest; a run
    without a finite last loss counts as the highest. All of them when there are no more
    than ``limit`` (a 10,000-trial study draws the curves of its best trials, not all)."""
    if len(runs) <= limit:
        return list(range(len(runs)))

    def final(i: int) -> float:
        series = pick_series(runs[i], "loss", None)
        if series is None or len(series) == 0:
            return np.inf
        value = float(series.y[-1])
        return value if np.isfinite(value) else np.inf

    return sorted(sorted(range(len(runs)), key=final)[:limit])

"""One MLflow run as a run of lrviz's model, whichever store it was read from."""

from __future__ import annotations

import sys

import numpy as np

from lrviz.loaders.model import Run, make_series
from lrviz.stores.model import diverged, run_params, text_param

_STATES = {
    "FINISHED": "complete",
    "FAILED": "failed",
    "KILLED": "killed",
    "RUNNING": "running",
    "SCHEDULED": "waiting",
}
#: The file store writes the status as RunStatus's number.
STATUS_NUMBERS = {1: "RUNNING", 2: "SCHEDULED", 3: "FINISHED", 4: "FAILED", 5: "KILLED"}
RUN_NAME_TAG = "mlflow.runName"
WALL_TIME = "wall_time"
# MLflow's SQL stores cannot hold inf and write ±DBL_MAX instead (SqlAlchemyStore's
# sanitize_metric_value); read back, those are the infinities that were logged.
_DBL_MAX = sys.float_info.max


def metric_value(value: float, is_nan: bool = False) -> float:
    """A metric value as logged: NaN where the store flags it, ±inf for ±DBL_MAX."""
    if is_nan:
        return float("nan")
    v = float(value)
    if v >= _DBL_MAX:
        return float("inf")
    if v <= -_DBL_MAX:
        return float("-inf")
    return v


def mlflow_run(
    run_id: str,
    name: str,
    experiment: str,
    status: str,
    start_time: int | None,
    params: dict[str, str],
    metrics: dict[str, list[tuple[int, int, float]]],
    lr_param: str | None = None,
) -> Run:
    """A run from what MLflow stores of it.

    Parameters
    ----------
    run_id, name, experiment, status : str
        ``status`` as MLflow names it (``FINISHED``, ``FAILED``, ``KILLED``, ``RUNNING``,
        ``SCHEDULED``).
    start_time : int, optional
        Milliseconds since the epoch.
    params : dict of str to str
        As stored (text); read back as numbers or flags where they are (``"32"`` -> 32).
    metrics : dict of str to list of (step, timestamp ms, value)
        Each metric's history in the order it was logged; a step logged twice keeps its last
        value (a resumed run).
    lr_param : str, optional
        The parameter holding λ.

    Returns
    -------
    Run
        One series per metric (step → value) and ``wall_time`` (step → seconds since the run
        started, from the metrics' timestamps), so curves can be drawn against time.
    """
    state = _STATES.get(status, status.lower())
    meta = {"run_id": run_id, "experiment": experiment, "state": state}
    meta["diverged"] = diverged(state)
    hyper = {k: text_param(v) for k, v in params.items()}
    series = []
    steps, stamps = [], []
    for key in sorted(metrics):
        history = metrics[key]
        x = np.array([h[0] for h in history], dtype=np.float64)
        y = np.array([h[2] for h in history], dtype=np.float64)
        series.append(make_series(key, x, y, "step"))
        steps += [h[0] for h in history]
        stamps += [h[1] for h in history]
    if steps and WALL_TIME not in metrics:
        # Every metric's timestamps in one step -> time curve: in timestamp order, the last
        # time a step was logged is when it finished.
        order = np.argsort(np.asarray(stamps, dtype=np.float64), kind="stable")
        t = np.asarray(stamps, dtype=np.float64)[order]
        origin = float(start_time) if start_time is not None else float(t[0])
        x = np.asarray(steps, dtype=np.float64)[order]
        series.append(make_series(WALL_TIME, x, (t - origin) / 1000.0, "step", role="time"))
    return Run(name, run_params(hyper, meta, lr_param), series)

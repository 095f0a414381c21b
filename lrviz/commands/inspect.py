"""``lrviz inspect PATH``: what a training log holds (format, runs, series), as text or JSON."""

from __future__ import annotations

import math
import sys

import numpy as np

from lrviz import log_views
from lrviz.commands.output import print_json
from lrviz.loaders import LogData, load


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "inspect",
        help="show the runs and series of a training log",
        description=(
            "Read a training log file or folder (Lightning, Keras, fastai, Hugging Face, "
            "TensorBoard, W&B, Ultralytics, detectron2, MMEngine, LR-finder CSV, any CSV) and "
            "list its runs and series."
        ),
    )
    p.add_argument(
        "path", help="log file or folder, or a store: sqlite:///study.db, mlflow.db, mlruns/"
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    # Stores (Optuna studies, MLflow tracking stores): lrviz.stores.
    p.add_argument(
        "--study", help="the Optuna study or MLflow experiment (default: the only one, else all)"
    )
    p.add_argument(
        "--lr-param", help="the trial parameter holding λ (default: lr, learning_rate...)"
    )
    p.set_defaults(run=run)


def _num(v):
    """A JSON-safe number: non-finite floats become null; integral floats stay floats."""
    if isinstance(v, bool) or v is None:
        return v
    if isinstance(v, int):
        return v
    f = float(v)
    return f if math.isfinite(f) else None


def _param(v):
    if isinstance(v, (bool, str)) or v is None:
        return v
    if isinstance(v, (int, float)):
        return _num(v)
    return str(v)


def summary(log: LogData) -> dict:
    """The JSON-ready summary printed by ``inspect --json``."""
    runs = []
    for r in log.runs:
        series = []
        for s in r.series:
            n = len(s)
            series.append(
                {
                    "name": s.name,
                    "role": s.role,
                    "x": s.x_axis,
                    "points": n,
                    "first": [_num(s.x[0]), _num(s.y[0])] if n else None,
                    "last": [_num(s.x[-1]), _num(s.y[-1])] if n else None,
                }
            )
        params = {str(k): _param(v) for k, v in r.params.items()}
        runs.append({"name": r.name, "params": params, "series": series})
    out = {"format": log.format, "runs": runs}
    if log.skipped:
        out["skipped"] = list(log.skipped)  # files of a folder that could not be read
    best = sweep_reading(log)
    if best is not None:
        out["sweep"] = best
    return out


def sweep_reading(log: LogData) -> dict | None:
    """For a sweep (runs with an ``lr`` each: a study, an MLflow experiment, a sweep folder,
    a check run), the best λ across its trials and the bracket around it, as ``suggest
    --refine`` reads a check run (:func:`lrviz.suggest.refine.measured_best_from_log`).

    A store holding several studies (experiments) is read per study: the reading of the
    one with the most λs (the first of equals), named by a ``study`` (``experiment``) key,
    and ``sweeps``, every study's reading in the store's order. λs of different studies are
    never compared with each other (another model, another objective)."""
    groups = log_views.sweep_groups(log.runs)
    readings = []
    for group, members in groups:
        reading = _reading([log.runs[i] for i in members])
        if reading is None:
            continue
        if group is not None:
            reading[group[0]] = group[1]
        readings.append(reading)
    if len(groups) == 1 or not readings:
        return readings[0] if readings else None
    main = dict(max(readings, key=lambda r: r["lrs"]))  # max keeps the first of equals
    main["sweeps"] = readings
    return main


def _reading(runs) -> dict | None:
    from lrviz.suggest.refine import measured_best_of_runs

    measured = measured_best_of_runs(runs)
    if measured is None:
        return None
    lr = measured.lr
    i = int(np.argmin(np.abs(np.log10(lr) - np.log10(measured.best_lr))))
    return {
        "best_lr": measured.best_lr,
        "bracket": [float(lr[max(i - 1, 0)]), float(lr[min(i + 1, lr.size - 1)])],
        "lrs": int(lr.size),
        "trained": int(np.isfinite(measured.loss).sum()),
        "at_edge": measured.at_edge,
        "why": measured.why,
    }


def _fmt(v) -> str:
    if v is None:
        return "nan"
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    return f"{v:.6g}" if isinstance(v, float) else str(v)


def text(log: LogData) -> str:
    """A short human-readable summary."""
    data = summary(log)
    n = len(data["runs"])
    lines = [f"{data['format']}: {log.path} ({n} run{'s' if n != 1 else ''})"]
    for r in data["runs"]:
        lr = r["params"].get("lr")
        lines.append(f"  {r['name']}" + (f"  lr={_fmt(lr)}" if lr is not None else ""))
        width = max((len(s["name"]) for s in r["series"]), default=4)
        for s in r["series"]:
            if s["points"]:
                (x0, y0), (x1, y1) = s["first"], s["last"]
                span = f"{_fmt(y0)} -> {_fmt(y1)}  ({s['x']} {_fmt(x0)} -> {_fmt(x1)})"
            else:
                span = "-"
            lines.append(
                f"    {s['name']:<{width}}  {s['role']:<6}  {s['points']:>8} points  {span}"
            )
        if not r["series"]:
            lines.append("    (no series)")
    sweep = data.get("sweep")
    if sweep is not None:
        for reading in sweep.get("sweeps", [sweep]):
            a, b = reading["bracket"]
            of = log_views.sweep_name(reading)
            lines.append(
                f"best lr across trials{f' of {of}' if of else ''}: {_fmt(reading['best_lr'])} "
                f"(bracket {_fmt(a)} .. {_fmt(b)}; {reading['why']})"
            )
    if log.skipped:
        lines.append(log.skipped_text(limit=len(log.skipped)))
    return "\n".join(lines)


def _read(args) -> LogData:
    from lrviz.stores import is_store, open_store

    if is_store(args.path):
        return open_store(args.path, study=args.study, lr_param=args.lr_param)
    return load(args.path)


def run(args) -> int:
    log = _read(args)
    if args.json:
        print_json(summary(log))
    else:
        sys.stdout.write(text(log) + "\n")
    return 0

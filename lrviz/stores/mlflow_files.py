"""MLflow's file store (``mlruns/``): experiments → runs → ``params/``, ``metrics/``, ``tags/``.

Layout (as MLflow writes it; nested keys such as ``train/loss`` are nested files)::

    mlruns/<experiment id>/meta.yaml                  name, lifecycle_stage
    mlruns/<experiment id>/<run id>/meta.yaml         run_name, status (a number), start_time
    mlruns/<experiment id>/<run id>/params/<key>      the value, as text
    mlruns/<experiment id>/<run id>/metrics/<key>     one "timestamp value step" line per point
    mlruns/<experiment id>/<run id>/tags/<key>        mlflow.runName among them
    mlruns/.trash/                                    deleted experiments (skipped)

Only read, never written. Following it live: a run's fingerprint is the size and time of each of
its files, so a run is read again only when one of them changed.
"""

from __future__ import annotations

import os

from lrviz.errors import LrvizError
from lrviz.loaders.hparams import parse_yaml
from lrviz.stores.locate import Location
from lrviz.stores.mlflow_runs import RUN_NAME_TAG, STATUS_NUMBERS, mlflow_run
from lrviz.stores.mlflow_sqlite import pick_experiment
from lrviz.stores.model import StudyInfo


def _meta(folder: str) -> dict:
    try:
        with open(os.path.join(folder, "meta.yaml"), encoding="utf-8", errors="replace") as f:
            return parse_yaml(f.read(1 << 20))
    except OSError:
        return {}


def _files(folder: str, prefix: str = "") -> list[tuple[str, str]]:
    """``(key, path)`` of every file below ``folder``; a key is its relative path with ``/``."""
    out = []
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return out
    for e in entries:
        key = prefix + e.name
        if e.is_dir():
            out += _files(e.path, key + "/")
        elif e.is_file():
            out.append((key, e.path))
    return out


def _read_text(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read(1 << 20)
    except OSError:
        return ""


def _metric_lines(path: str) -> list[tuple[int, int, float]]:
    """``(step, timestamp, value)`` per line; a last line still being written is left for the
    next read."""
    text = _read_text(path) if os.path.getsize(path) < (1 << 20) else _read_big(path)
    lines = text.split("\n")
    if lines and lines[-1] != "":
        lines = lines[:-1]  # no newline yet: MLflow ends every point it wrote with one
    out = []
    for line in lines:
        parts = line.split()
        if len(parts) < 2:
            continue
        try:
            stamp, value = int(parts[0]), float(parts[1])
            step = int(parts[2]) if len(parts) > 2 else 0
        except ValueError:
            continue
        out.append((step, stamp, value))
    return out


def _read_big(path: str) -> str:
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read()


class MlflowFiles:
    """The experiments of one ``mlruns/`` folder (parameters as for
    :class:`lrviz.stores.mlflow_sqlite.MlflowSqlite`)."""

    format = "mlflow"

    def __init__(self, location: Location, experiment: str | None = None, lr_param=None) -> None:
        self.root = os.path.abspath(location.path)
        self.display = location.display
        self.lr_param = lr_param
        self._folders: dict[str, tuple[str, str, int]] = {}  # run id -> folder, experiment
        infos = self.studies()
        self.study_names = [info.name for info in infos]
        self.selected = pick_experiment(infos, experiment, self.display)

    def _experiments(self) -> list[tuple[str, str, str]]:
        """``(folder, name, id)`` of the active experiments, by id."""
        try:
            entries = list(os.scandir(self.root))
        except OSError as exc:
            raise LrvizError(
                f"cannot read this MLflow store: {exc.strerror}", self.display
            ) from None
        found = []
        for e in entries:
            if not e.is_dir() or e.name.startswith("."):
                continue
            meta = _meta(e.path)
            if "experiment_id" not in meta or meta.get("lifecycle_stage", "active") != "active":
                continue
            found.append((e.path, str(meta.get("name", e.name)), str(meta["experiment_id"])))
        return sorted(found, key=lambda f: (len(f[2]), f[2]))

    def _runs(self, folder: str) -> list[tuple[str, dict]]:
        out = []
        for e in sorted(os.scandir(folder), key=lambda e: e.name):
            if e.is_dir():
                meta = _meta(e.path)
                if "run_id" in meta and meta.get("lifecycle_stage", "active") == "active":
                    out.append((e.path, meta))
        return out

    def studies(self) -> list[StudyInfo]:
        """Active experiments with their number of active runs."""
        return [StudyInfo(name, len(self._runs(f))) for f, name, _ in self._experiments()]

    def _selected(self):
        return [x for x in self._experiments() if self.selected in (None, x[1])]

    def snapshot(self) -> dict[str, tuple]:
        """``{run id: fingerprint}``: sizes and times of each active run's files."""
        out = {}
        for number, (folder, name, _) in enumerate(self._selected()):
            for run_folder, meta in self._runs(folder):
                run_id = str(meta["run_id"])
                self._folders[run_id] = (run_folder, name, number)
                out[run_id] = _fingerprint(run_folder)
        return out

    def read(self, keys: set[str] | None = None) -> dict[str, tuple]:
        """``{run id: (order, Run, fingerprint)}`` for ``keys`` (all when None)."""
        if keys is None:
            self.snapshot()
            keys = set(self._folders)
        out = {}
        for run_id in keys:
            where = self._folders.get(run_id)
            if where is None:
                continue
            folder, experiment, number = where
            fingerprint = _fingerprint(folder)
            meta = _meta(folder)
            if meta.get("lifecycle_stage", "active") != "active":
                continue
            tags = {k: _read_text(p) for k, p in _files(os.path.join(folder, "tags"))}
            params = {k: _read_text(p) for k, p in _files(os.path.join(folder, "params"))}
            metrics = {}
            for key, path in _files(os.path.join(folder, "metrics")):
                try:
                    metrics[key] = _metric_lines(path)
                except OSError:
                    continue
            name = str(meta.get("run_name") or tags.get(RUN_NAME_TAG) or run_id[:8])
            status = meta.get("status", 1)
            status = STATUS_NUMBERS.get(status, str(status)) if isinstance(status, int) else status
            start = meta.get("start_time")
            start = start if isinstance(start, int) else None
            run = mlflow_run(
                run_id,
                name if self.selected else f"{experiment}/{name}",
                experiment,
                str(status),
                start,
                params,
                {k: v for k, v in metrics.items() if v},
                self.lr_param,
            )
            run.source = self.display
            out[run_id] = ((number, start or 0, run_id), run, fingerprint)
        return out

    def close(self) -> None:
        """Nothing stays open between calls."""


def _fingerprint(folder: str) -> tuple:
    parts = []
    for sub in ("", "params", "metrics", "tags"):
        base = os.path.join(folder, sub)
        names = [("meta.yaml", os.path.join(folder, "meta.yaml"))] if sub == "" else _files(base)
        for key, path in names:
            try:
                st = os.stat(path)
            except OSError:
                continue
            parts.append((sub, key, st.st_size, st.st_mtime_ns))
    return tuple(parts)

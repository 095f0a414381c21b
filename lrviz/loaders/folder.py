"""Opening a folder as a set of runs.

Rules, in order:

1. ``version_N/metrics.csv`` anywhere below (a ``lightning_logs`` folder, or one version
   folder): ``lightning-dir``, one run per version with ``hparams.yaml`` as its params.
2. Sub-folders (trials) each holding a parameters file (``params.json``, ``hparams.yaml``,
   ``config.json``) and a metrics CSV (``progress.csv``, ``metrics.csv``, ...): ``sweep-dir``,
   one run per trial whose ``params["lr"]`` comes from the parameters file.
3. Folders holding ``events.out.tfevents.*`` files: ``tensorboard-dir``, one run per folder.
4. Otherwise the log files directly inside: one file (Hugging Face output folders: the newest
   ``trainer_state.json``, checkpoints included) loads as that file; several files of one
   format are merged into one log.
5. No log directly inside, but sub-folders each holding a metrics CSV (``runs/a/metrics.csv``,
   ``runs/b/metrics.csv``: a training script's own layout): ``sweep-dir`` too, one run per
   folder, ``params["lr"]`` from a folder name that says it (``lr_0.01``, ``lr=3e-4``) or from
   a constant λ column.

Only regular files are read: a named pipe or a device named like a log is skipped (a pipe would
block forever), and so is a file that cannot be read; each goes into ``LogData.skipped`` with
why, and the others still open. Only when nothing can be read is the first error raised.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from lrviz.errors import LrvizError
from lrviz.loaders import hf, tfevents
from lrviz.loaders.fileio import (
    cannot_read,
    iter_chunks,
    not_regular,
    open_regular,
    special_kind,
)
from lrviz.loaders.hparams import PARAM_FILES, find_params_file, params_with_lr, read_params_file
from lrviz.loaders.model import ColumnMapping, LogData, Run

_VERSION = re.compile(r"^version_(\d+)$")
_MAX_DEPTH = 4
_MAX_DIRS = 5000
_METRIC_FILES = ("progress.csv", "metrics.csv", "history.csv", "results.csv", "log.csv")
_LOG_SUFFIXES = (".csv", ".tsv", ".txt", ".json")


@dataclass
class PlanItem:
    """One run of a folder: its name, the files to read, and parameters found beside them."""

    name: str
    files: list[str]
    params: dict = field(default_factory=dict)


@dataclass
class FolderPlan:
    """What :func:`discover` found: the folder format and its runs (or a single file), and
    the files it left out (``skipped``: one line each, ``path: why``)."""

    format: str | None
    root: str
    items: list[PlanItem] = field(default_factory=list)
    single_files: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def _looks_like_log(name: str) -> bool:
    low = name.lower()
    return (
        tfevents.is_event_file(name)
        or low.endswith(_LOG_SUFFIXES)
        or low in _METRIC_FILES
        or name in PARAM_FILES
    )


def _walk(root: str, skipped: list[str]):
    """Yield (dirpath, regular file names) below root, breadth-limited, hidden folders
    skipped. Special files named like logs go to ``skipped``, with what they are."""
    root_depth = root.rstrip(os.sep).count(os.sep)
    seen = 0
    for dirpath, dirnames, filenames in os.walk(root):
        seen += 1
        if seen > _MAX_DIRS:
            break
        depth = dirpath.rstrip(os.sep).count(os.sep) - root_depth
        dirnames[:] = sorted(
            d for d in dirnames if not d.startswith((".", "__")) and depth < _MAX_DEPTH
        )
        regular = []
        for name in sorted(filenames):
            full = os.path.join(dirpath, name)
            try:
                kind = special_kind(os.stat(full).st_mode)
            except OSError:
                kind = "a broken link" if os.path.islink(full) else None
                if kind is None:
                    continue  # gone since it was listed
            if kind is None:
                regular.append(name)
            elif _looks_like_log(name):
                skipped.append(str(not_regular(full, kind)))
        yield dirpath, regular


def _rel(root: str, path: str) -> str:
    rel = os.path.relpath(path, root)
    return os.path.basename(os.path.abspath(root)) if rel == "." else rel.replace(os.sep, "/")


def _version_key(path: str) -> tuple:
    m = _VERSION.match(os.path.basename(path))
    return (os.path.dirname(path), int(m.group(1)) if m else -1, path)


def _metrics_file(folder: str, names: list[str]) -> str | None:
    for name in _METRIC_FILES:
        if name in names:
            return os.path.join(folder, name)
    csvs = [n for n in names if n.lower().endswith((".csv", ".tsv"))]
    return os.path.join(folder, csvs[0]) if len(csvs) == 1 else None


def discover(root: str, allow_empty: bool = False) -> FolderPlan:
    """Decide how a folder opens (see module docstring).

    Parameters
    ----------
    root : str
    allow_empty : bool
        Return a plan with nothing in it, instead of raising, when no log is found yet (the
        live watcher waits for a training run to start writing).

    Raises
    ------
    LrvizError
        When nothing in the folder looks like a training log.
    """
    root = os.path.abspath(root)
    skipped: list[str] = []
    tree = list(_walk(root, skipped))
    plan = _plan(root, tree, allow_empty, skipped)
    plan.skipped = skipped + plan.skipped
    return plan


def _plan(root: str, tree: list, allow_empty: bool, skipped: list[str]) -> FolderPlan:
    versions = [
        d for d, files in tree if _VERSION.match(os.path.basename(d)) and "metrics.csv" in files
    ]
    if versions:
        items = [
            PlanItem(_rel(root, d), [os.path.join(d, "metrics.csv")])
            for d in sorted(versions, key=_version_key)
        ]
        return FolderPlan("lightning-dir", root, items)

    trials, with_params = [], False
    for d, files in tree:
        if d == root:
            continue
        metrics = _metrics_file(d, files)
        if metrics is None:
            continue
        params_file = find_params_file(d)
        params = params_with_lr(read_params_file(params_file)) if params_file else {}
        with_params = with_params or params_file is not None
        if "lr" not in params:  # {"batch": 32} in the file, or no file: λ in the folder's name
            params.update(_lr_from_name(os.path.basename(d)))
        trials.append(PlanItem(_rel(root, d), [metrics], params))
    if with_params:  # a sweep (a trial that lost its params file is still one of it)
        return FolderPlan("sweep-dir", root, trials)

    event_dirs = [(d, [f for f in files if tfevents.is_event_file(f)]) for d, files in tree]
    event_dirs = [(d, f) for d, f in event_dirs if f]
    if event_dirs:
        items = [PlanItem(_rel(root, d), [os.path.join(d, f) for f in fs]) for d, fs in event_dirs]
        return FolderPlan("tensorboard-dir", root, items)

    top_files = tree[0][1] if tree else []
    states = [
        os.path.join(d, "trainer_state.json") for d, files in tree if "trainer_state.json" in files
    ]
    if states:
        latest, problems = _latest_state(root, states)
        return FolderPlan(None, root, single_files=[latest], skipped=problems)
    logs = [
        os.path.join(root, f)
        for f in top_files
        if f.lower().endswith(_LOG_SUFFIXES) and f not in ("params.json", "config.json")
    ]
    if not logs and trials:
        return FolderPlan("sweep-dir", root, trials)  # rule 5: runs in their own folders
    if not logs:
        if allow_empty:
            return FolderPlan(None, root)
        raise nothing_found(root, skipped)
    return FolderPlan(None, root, single_files=logs)


#: A folder named for its λ: ``lr_0.01``, ``lr=3e-4``, ``run-lr0.1``, ``learning_rate_1e-3``.
_LR_IN_NAME = re.compile(
    r"(?:^|[^a-z])(?:lr|learning_rate)[=_:-]?((?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?)(?![\d.])",
    re.IGNORECASE,
)


def _lr_from_name(name: str) -> dict:
    """``{"lr": λ}`` when a folder's name states a positive λ, else ``{}``."""
    match = _LR_IN_NAME.search(name)
    if match is None:
        return {}
    try:
        lr = float(match.group(1))
    except ValueError:
        return {}
    return {"lr": lr} if 0 < lr < float("inf") else {}


def nothing_found(root: str, skipped: list[str]) -> LrvizError:
    """The error for a folder without a log, saying what was skipped (a pipe, a device)."""
    message = "no training logs found in this folder"
    if skipped:
        message += f" (skipped {len(skipped)}: {skipped[0]})"
    return LrvizError(message, root)


def _latest_state(root: str, states: list[str]) -> tuple[str, list[str]]:
    """The state file of the furthest step (the top one if there is one), and the copies that
    could not be read (a malformed checkpoint copy must not hide the good ones)."""
    top = os.path.join(root, "trainer_state.json")
    if top in states:
        return top, []
    best = None
    problems = []
    for p in states:
        try:
            with open_regular(p) as f:
                step = hf.last_step(iter_chunks(f, p), p)
        except (LrvizError, OSError) as exc:
            problems.append(str(_as_lrviz(exc, p)))
            continue
        if best is None or step > best[0]:
            best = (step, p)
    if best is None:
        return states[-1], []  # none readable: loading it reports why
    return best[1], problems


def _as_lrviz(exc: Exception, path: str) -> LrvizError:
    return exc if isinstance(exc, LrvizError) else cannot_read(exc, path)


class _Skips:
    """Files of a folder that could not be read; the first error, raised when none could."""

    def __init__(self, plan: FolderPlan) -> None:
        self.lines = list(plan.skipped)
        self.first: LrvizError | None = None

    def add(self, exc: LrvizError) -> None:
        self.lines.append(str(exc))
        if self.first is None:
            self.first = exc

    def check(self, anything_read: bool) -> None:
        if not anything_read and self.first is not None:
            raise self.first


def assemble(plan: FolderPlan, read: Callable[[str], LogData]) -> LogData:
    """Build the folder's log from its plan; ``read`` loads one file (possibly cached).

    A file ``read`` fails on (LrvizError) is left out and listed in ``LogData.skipped``;
    when no file could be read, its error is raised.
    """
    skips = _Skips(plan)
    if plan.format == "tensorboard-dir":
        runs = []
        for item in plan.items:
            run = _event_run(item, skips)
            if run is not None:
                runs.append(run)
        skips.check(bool(runs))
        return LogData(plan.format, runs, plan.root, skips.lines)
    if plan.format in ("lightning-dir", "sweep-dir"):
        runs = []
        read_any = False
        for item in plan.items:
            try:
                log = read(item.files[0])
            except (LrvizError, OSError) as exc:
                skips.add(_as_lrviz(exc, item.files[0]))
                continue
            read_any = True
            skips.lines.extend(log.skipped)
            for r in log.runs:
                run = Run(r.name, dict(r.params), r.series, r.source, dict(r.main))
                run.name = item.name if len(log.runs) == 1 else f"{item.name}/{r.name}"
                run.params.update(item.params)
                if "lr" not in run.params:
                    _lr_from_columns(run, log)
                runs.append(run)
        skips.check(read_any)
        return LogData(plan.format, runs, plan.root, skips.lines)
    logs = []
    for p in plan.single_files:
        try:
            logs.append(read(p))
        except (LrvizError, OSError) as exc:
            skips.add(_as_lrviz(exc, p))
    skips.check(bool(logs))
    if not logs:
        return LogData("csv", [], plan.root, skips.lines)  # nothing in the plan (watching)
    if len(logs) == 1:
        log = logs[0]
        return LogData(log.format, log.runs, log.path, skips.lines + log.skipped)
    formats = {log.format for log in logs}
    if len(formats) > 1:
        raise LrvizError(
            "this folder mixes log formats (" + ", ".join(sorted(formats)) + "); open a file",
            plan.root,
        )
    merged: dict[str, Run] = {}
    for log in logs:
        for r in log.runs:
            if r.name in merged:
                merged[r.name].series.extend(r.series)
            else:
                merged[r.name] = Run(r.name, dict(r.params), list(r.series), r.source, dict(r.main))
    return LogData(formats.pop(), list(merged.values()), plan.root, skips.lines)


def _event_run(item: PlanItem, skips: _Skips) -> Run | None:
    """One run from its event files (oldest first); files that cannot be read are skipped."""
    plugins: dict[str, str] = {}
    files = []
    for p in tfevents.sort_files(item.files):
        try:
            files.append(tfevents.read_event_file(p, plugins=plugins))
        except (LrvizError, OSError) as exc:
            skips.add(_as_lrviz(exc, p))
    if not files:
        return None
    source = os.path.dirname(os.path.abspath(item.files[0]))
    return tfevents.run_from_event_files(files, item.name, source)


def _lr_from_columns(run: Run, log: LogData) -> None:
    """Ray Tune's progress.csv repeats the trial's config as ``config/lr`` columns."""
    for s in run.series:
        if s.name.lower() in ("config/lr", "config/learning_rate") and len(s):
            run.params["lr"] = float(s.y[0])
            return


def load_folder(path: str, mapping: ColumnMapping | None = None) -> LogData:
    """Read a folder of runs (see module docstring)."""
    from lrviz.loaders.files import load_file

    return assemble(discover(path), lambda p: load_file(p, mapping))

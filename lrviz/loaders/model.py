"""The one model every log format is read into: a log holds runs, a run holds named series.

Everything here is plain numpy and dataclasses; the readers fill it, the UI and the command line
read it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

#: Roles a series can play. ``step``, ``epoch`` and ``time`` are axes.
ROLES = ("step", "epoch", "time", "lr", "loss", "metric", "other")
#: What a series' x values count.
X_AXES = ("step", "epoch", "time", "index")


@dataclass
class Series:
    """One logged quantity of one run.

    Parameters
    ----------
    name : str
        The name as logged (``train_loss``, ``lr-SGD``, ``eval/accuracy``).
    role : str
        One of :data:`ROLES`.
    x_axis : str
        What ``x`` counts: one of :data:`X_AXES`.
    x, y : ndarray of float64, shape (n,)
        The logged points, in increasing ``x`` for step/epoch axes. ``x`` is always finite;
        ``y`` may hold NaN or ±inf where the logged value was not finite (a diverged loss).
    """

    name: str
    role: str
    x_axis: str
    x: np.ndarray
    y: np.ndarray

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"unknown role {self.role!r}")
        if self.x_axis not in X_AXES:
            raise ValueError(f"unknown x axis {self.x_axis!r}")
        self.x = np.asarray(self.x, dtype=np.float64)
        self.y = np.asarray(self.y, dtype=np.float64)
        if self.x.shape != self.y.shape or self.x.ndim != 1:
            raise ValueError(f"series {self.name!r}: x and y must be 1-D of equal length")

    def __len__(self) -> int:
        return int(self.x.size)


@dataclass
class Run:
    """One training run: its parameters and its series.

    Parameters
    ----------
    name : str
        Display name (a version folder, a W&B run, a trial, a file name).
    params : dict
        Hyperparameters where known; ``params["lr"]`` holds the learning rate when a log or
        its neighbouring ``hparams.yaml`` / ``params.json`` states it.
    series : list of Series
    source : str, optional
        The file the run was read from.
    main : dict of str to str
        Role -> series name that :meth:`find` returns first (set by a column mapping or by a
        reader that knows which series is the main one).
    """

    name: str
    params: dict = field(default_factory=dict)
    series: list[Series] = field(default_factory=list)
    source: str | None = None
    main: dict = field(default_factory=dict)

    def get(self, name: str) -> Series | None:
        """The series called ``name``, or None."""
        for s in self.series:
            if s.name == name:
                return s
        return None

    def with_role(self, role: str) -> list[Series]:
        """All series with the given role, in log order."""
        return [s for s in self.series if s.role == role]

    def find(self, role: str) -> Series | None:
        """The best series for a role, or None.

        For ``loss`` that is the main training loss (``loss``, ``train_loss``,
        ``train/loss``, ``total_loss``, ... before validation losses); for ``lr`` the first
        parameter group; for ``metric`` a validation accuracy-like metric; otherwise the
        series with most points.
        """
        chosen = self.main.get(role)
        if chosen is not None:
            s = self.get(chosen)
            if s is not None:
                return s
        candidates = self.with_role(role)
        if not candidates:
            return None
        return min(candidates, key=lambda s: (_preference(role, s.name), -len(s), s.name))

    def x_as(self, series: Series, axis: str) -> np.ndarray | None:
        """The x values of ``series`` expressed on another axis, or None when unknown.

        Uses the run's axis series (e.g. ``epoch`` logged against ``step``) and linear
        interpolation, so a loss logged per step can be drawn against epochs.
        """
        if series.x_axis == axis:
            return series.x
        for s in self.series:
            if s.role == axis and s.x_axis == series.x_axis and len(s) >= 1:
                order = np.argsort(s.x, kind="stable")
                return np.interp(series.x, s.x[order], s.y[order])
        return None


@dataclass
class LogData:
    """Everything read from one file or folder.

    Parameters
    ----------
    format : str
        One of :func:`format_names` (a file format of the registry, or a folder's).
    runs : list of Run
    path : str
        What was opened.
    skipped : list of str
        Files of a folder that were not read, one line each (``path: why``): special files
        (pipes, devices) and files that could not be read, which do not stop the others.
    """

    format: str
    runs: list[Run]
    path: str = ""
    skipped: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.format not in format_names():
            raise ValueError(f"unknown format {self.format!r}")

    def skipped_text(self, limit: int = 3) -> str | None:
        """One line saying what was not read (``skipped 2 files: a: why; b: why``), the
        first ``limit`` of them in full; None when nothing was skipped."""
        n = len(self.skipped)
        if not n:
            return None
        shown = "; ".join(self.skipped[:limit])
        more = f"; and {n - limit} more" if n > limit else ""
        return f"skipped {n} file{'s' * (n != 1)}: {shown}{more}"


@dataclass(frozen=True)
class ColumnMapping:
    """Which columns to use when the names are not recognised (from a mapping dialog).

    Parameters
    ----------
    x : str, optional
        The column holding the x values; None keeps the automatic choice.
    lr, loss : str, optional
        The columns holding the learning rate and the loss.
    x_axis : str, optional
        What ``x`` counts (one of :data:`X_AXES`); by default guessed from its name, else
        ``"step"``.
    """

    x: str | None = None
    lr: str | None = None
    loss: str | None = None
    x_axis: str | None = None

    def __post_init__(self) -> None:
        if self.x_axis is not None and self.x_axis not in X_AXES:
            raise ValueError(f"unknown x axis {self.x_axis!r}")


# --- role inference ---------------------------------------------------------------------

_STEP_NAMES = {
    "step",
    "steps",
    "_step",
    "global_step",
    "globalstep",
    "iteration",
    "iterations",
    "iter",
    "it",
    "n_iter",
    "trainer/global_step",
    "train/global_step",
    "batch",
    "num_steps",
}
# Ray Tune's training_iteration counts the trial's reports, which trainers make once an
# epoch (Tune's Keras and Lightning callbacks report at each epoch's end): not steps.
_EPOCH_NAMES = {"epoch", "epochs", "trainer/epoch", "train/epoch", "_epoch", "training_iteration"}
_TIME_NAMES = {
    "time",
    "wall time",
    "wall_time",
    "walltime",
    "timestamp",
    "_timestamp",
    "_runtime",
    "time_total_s",
    "elapsed",
    "relative time",
}
_METRIC_WORDS = re.compile(
    r"(acc|accuracy|top-?1|top-?5|\bap\d*\b|/ap|map|precision|recall|\bf1\b|_f1|auc|iou|"
    r"bleu|rouge|dice|score|\berror\b|_err\b|perplexity|ppl|mae|mse|rmse|r2)",
    re.IGNORECASE,
)
_LR_WORDS = re.compile(
    r"(^|[/_\-\s.])(lr|lr\d|lrs|learning[_ -]?rate)($|[/_\-\s.\d])", re.IGNORECASE
)
_NOT_LR = re.compile(r"(momentum|beta|weight[_-]?decay|warmup_steps|scale)", re.IGNORECASE)


def infer_role(name: str) -> str:
    """Guess a column's role from its name.

    >>> infer_role("train_loss"), infer_role("lr-SGD"), infer_role("val_acc")
    ('loss', 'lr', 'metric')
    """
    low = name.strip().lower()
    if low in _STEP_NAMES:
        return "step"
    if low in _EPOCH_NAMES:
        return "epoch"
    if low in _TIME_NAMES:
        return "time"
    if "loss" in low:
        return "loss"
    if _LR_WORDS.search(low) and not _NOT_LR.search(low):
        return "lr"
    if _METRIC_WORDS.search(low):
        return "metric"
    return "other"


def axis_of(name: str) -> str | None:
    """The x axis a column can serve as (``step``/``epoch``/``time``), or None."""
    role = infer_role(name)
    return role if role in ("step", "epoch", "time") else None


_EVAL_PREFIX = re.compile(r"(^|[/_\-\s])(val|valid|validation|eval|test|dev)([/_\-\s]|$)")


def is_eval_name(name: str) -> bool:
    """True for validation/test series names (``val_loss``, ``eval/loss``, ``valid_loss``)."""
    return bool(_EVAL_PREFIX.search(name.lower()))


_TRAIN_LOSS_ORDER = (
    "loss",
    "train_loss",
    "train/loss",
    "train_loss_step",
    "train/loss_step",
    "total_loss",
    "train/total_loss",
    "loss_step",
    "train_loss_epoch",
    "epoch_loss",
)


def _preference(role: str, name: str) -> tuple:
    low = name.lower()
    if role == "loss":
        if low in _TRAIN_LOSS_ORDER:
            return (0, _TRAIN_LOSS_ORDER.index(low))
        if is_eval_name(low):
            return (3, 0)
        if low.startswith("train") or "total" in low:
            return (1, 0)
        return (2, 0)
    if role == "lr":
        group = re.search(r"(pg|lr|group[_-]?)(\d+)$", low)
        index = int(group.group(2)) if group else 0
        return (index, len(low))
    if role == "metric":
        score = 0 if is_eval_name(low) else 1
        return (score, 0 if "acc" in low else 1)
    return (0, 0)


# --- points -------------------------------------------------------------------------------


def keep_last(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sort by x, keeping the last logged value of every repeated x (a resumed run).

    Parameters
    ----------
    x, y : ndarray, shape (n,)
        Points in logging order; ``x`` finite.

    Returns
    -------
    x, y : ndarray
        Strictly increasing ``x``; the inputs themselves when already strictly increasing.
    """
    if x.size < 2:
        return x, y
    # Compared, not subtracted: the difference of two huge logged values overflows.
    if bool(np.all(x[1:] > x[:-1])):
        return x, y
    if bool(np.all(x[1:] >= x[:-1])):
        # Sorted with repeats (several rows per step): the last of each run of equal x.
        last = np.empty(x.size, dtype=bool)
        np.not_equal(x[1:], x[:-1], out=last[:-1])
        last[-1] = True
        return x[last], y[last]
    rev = x[::-1]
    _, first_in_rev = np.unique(rev, return_index=True)
    keep = x.size - 1 - first_in_rev
    return x[keep], y[keep]


def make_series(
    name: str,
    x: np.ndarray,
    y: np.ndarray,
    x_axis: str,
    role: str | None = None,
    present: np.ndarray | None = None,
) -> Series:
    """A series from raw columns: drops missing cells and non-finite x, keeps the last repeat.

    Parameters
    ----------
    name : str
    x, y : ndarray of float64, shape (n,)
        Aligned columns. Missing y cells are given by ``present``; NaN in ``y`` is a real,
        non-finite logged value and is kept.
    x_axis : str
    role : str, optional
        Defaults to :func:`infer_role` of the name.
    present : ndarray of bool, shape (n,), optional
        Which y cells hold a value; None means all.
    """
    keep = np.isfinite(x)
    if present is not None:
        keep &= present
    if not bool(keep.all()):
        x = x[keep]
        y = y[keep]
    if x_axis != "index":
        x, y = keep_last(x, y)
    return Series(name, role or infer_role(name), x_axis, x, y)


def format_names() -> tuple[str, ...]:
    """Every value :attr:`LogData.format` can take: each file format's name as its module
    declares it (:mod:`lrviz.loaders.registry`), then the folder formats."""
    from lrviz.loaders.registry import FOLDER_FORMATS, file_formats

    return tuple(f.name for f in file_formats()) + FOLDER_FORMATS

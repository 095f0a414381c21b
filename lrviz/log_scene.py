"""Everything the log panels draw, derived in one pure function that runs off the GUI thread.

Opening a 10,000-trial study or a 10,000,000-point log used to stall the window for seconds
after loading: the GUI thread picked series, paired λ with loss, smoothed, and handed full
histories to hundreds of plot items. :func:`derive` does all of it on plain data (runs of the
loaders' model and the view's options) and returns a :class:`Scene`: per panel, each curve at
full resolution (for the crosshair and zoomed-in views) and at screen resolution
(:func:`lrviz.envelope.chunks`: min/max per chunk of raw points, the mean of smoothed ones),
the sweep's points, the axes and series to offer, the robust y band. The GUI thread only
hands its arrays to a few plot items. :func:`zoom` re-derives a panel's curves at full detail
for the part of them a zoomed-in view shows.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np

from lrviz import log_views
from lrviz.envelope import chunks, within
from lrviz.loaders import lr_finder
from lrviz.smoothing import debiased_ema

#: Formats whose loss vs λ is a range test: the range tool reads it, not the logs' layer
#: (declared once, by its format module).
RANGE_TEST_FORMATS = (lr_finder.FORMAT,)
#: The loss picker's choice that draws each run's train and validation losses together.
TRAIN_AND_VALIDATION = "\x00train+validation"
#: Chunks of a curve at full view: more than a screen is wide (each keeps its min and max).
COLUMNS = 2048
#: The most learning curves drawn at once (the lowest final losses of a bigger sweep).
MAX_CURVES = 200
#: Points checked in one numpy call where a derivation walks a whole curve (see
#: :func:`_row_for_row`).
PIECE_POINTS = 1 << 18


@dataclass(frozen=True)
class SceneRun:
    """A run as the view hands it over: ``key`` is the view's own (opaque here)."""

    key: object
    run: object  # lrviz.loaders Run
    label: str
    format: str = ""


@dataclass(frozen=True)
class SceneOptions:
    """How the logs are drawn (the Inspect form and the series pickers)."""

    axis: str = "step"
    smoothing: float = 0.0
    loss_choice: str | None = None  # a series name, TRAIN_AND_VALIDATION or None (main)
    lr_choice: str | None = None
    max_curves: int = MAX_CURVES
    columns: int = COLUMNS


@dataclass
class Curve:
    """One drawn curve: full resolution and what the screen shows of it.

    ``x``, ``y``: the data; ``smoothed``: the smoothed y (None when not smoothed);
    ``shown``/``shown_smoothed``: (x, y) at screen resolution."""

    key: object
    label: str
    x: np.ndarray
    y: np.ndarray
    smoothed: np.ndarray | None
    shown: tuple[np.ndarray, np.ndarray]
    shown_smoothed: tuple[np.ndarray, np.ndarray] | None
    extent: tuple[float, float] | None = None  # smallest and largest finite x


@dataclass
class Scene:
    """What the three log panels show (see the module's docstring)."""

    axis: str
    axes: list[str]
    loss: list[Curve] = field(default_factory=list)
    lr: list[Curve] = field(default_factory=list)
    loss_lr: list[Curve] = field(default_factory=list)
    range_curve: tuple[SceneRun, tuple[np.ndarray, np.ndarray]] | None = None
    sweep: dict = field(default_factory=dict)
    runs: int = 0  # runs drawn as learning curves
    hidden_runs: int = 0  # runs of a big sweep not drawn as learning curves
    loss_names: list[str] = field(default_factory=list)
    lr_names: list[str] = field(default_factory=list)
    has_validation: bool = False
    robust: dict = field(default_factory=dict)  # {log y: (lo, hi) or None}

    @property
    def points(self) -> int:
        return sum(c.x.size for c in self.loss + self.lr + self.loss_lr)


class DerivationCache:
    """Pairs and smoothed curves remembered between derivations: moving the smoothing slider
    over a 10M-point log does not pair λ with loss again, a tick of the watch that changed
    nothing smooths nothing. Entries hold their input arrays, so an id cannot be reused by
    other data while they live; entries not used by a derivation are dropped after it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pairs: dict = {}
        self._smoothed: dict = {}
        self._used: set = set()

    def pairs(self, run, loss):
        lr = log_views.pick_series(run, "lr")
        key = ("pairs", id(loss), id(lr))
        with self._lock:
            entry = self._pairs.get(key)
            self._used.add(key)
        if entry is None or entry[0] is not loss or entry[1] is not lr:
            pairs = _row_for_row(lr, loss) or log_views.loss_against_lr(run, loss)
            if pairs is not None and _same_values(pairs[1], loss.y):
                # Every loss point paired, in order (an LR-finder CSV): its loss is the
                # series' own array, so loss vs λ's smoothing is the learning curve's (a
                # 10M-point log smoothed once, not twice; the copy is let go).
                pairs = (pairs[0], loss.y)
            entry = (loss, lr, pairs)
            with self._lock:
                self._pairs[key] = entry
        return entry[2]

    def smoothed(self, y: np.ndarray, weight: float) -> np.ndarray:
        key = ("ema", id(y), weight)
        with self._lock:
            entry = self._smoothed.get(key)
            self._used.add(key)
        if entry is None or entry[0] is not y:
            entry = (y, debiased_ema(y, weight))
            with self._lock:
                self._smoothed[key] = entry
        return entry[1]

    def forget_unused(self) -> None:
        with self._lock:
            self._pairs = {k: v for k, v in self._pairs.items() if k in self._used}
            self._smoothed = {k: v for k, v in self._smoothed.items() if k in self._used}
            self._used = set()


def _row_for_row(lr, loss) -> tuple[np.ndarray, np.ndarray] | None:
    """``(lr.y, loss.y)`` when λ and loss were logged on the same rows (an LR-finder CSV):
    the pairs :func:`lrviz.suggest.pairing.pair_lr_loss` finds (every λ usable, the steps
    the same and increasing), known in a few passes over the arrays instead of its search
    of every step (1.6 s for a 10M-row log). None otherwise: that function pairs them."""
    if lr is None or loss is None or lr.x_axis != loss.x_axis:
        return None
    lx, ly, x = lr.x, lr.y, loss.x
    if not (
        x.size and lx.shape == x.shape and ly.dtype == np.float64 and loss.y.dtype == np.float64
    ):
        return None
    # A piece at a time: each numpy call a few ms, so that the GUI thread waiting for the
    # interpreter lock gets it between them.
    for at in range(0, x.size, PIECE_POINTS):
        piece = slice(at, at + PIECE_POINTS)
        on = x[at : at + PIECE_POINTS + 1]  # one more: the step from this piece to the next
        ys = ly[piece]
        if not (
            np.array_equal(lx[piece], x[piece])
            and np.all(on[1:] > on[:-1])
            and np.all(np.isfinite(lx[piece]))
            and np.all(np.isfinite(ys) & (ys > 0))
        ):
            return None
    return ly, loss.y


def _same_values(a: np.ndarray, b) -> bool:
    return (
        isinstance(b, np.ndarray)
        and b.dtype == np.float64
        and a.shape == b.shape
        and np.array_equal(a, b, equal_nan=True)
    )


def choose_axis(axes: list[str], wanted: str) -> str:
    """The x axis to draw on: ``wanted`` when the runs have it, else their first."""
    return wanted if wanted in axes or not axes else axes[0]


def derive(
    runs: list[SceneRun], options: SceneOptions, cache: DerivationCache | None = None
) -> Scene:
    """The :class:`Scene` of ``runs`` (the visible ones, in Sources order) drawn with
    ``options``. Pure: safe to run on a worker thread while the GUI thread draws."""
    cache = cache or DerivationCache()
    models = [r.run for r in runs]
    axes = log_views.available_axes(models) if models else list(log_views.AXES)
    axis = choose_axis(axes, options.axis)
    scene = Scene(axis=axis, axes=axes)
    scene.sweep = log_views.sweep_points(models)  # every trial, not only the drawn curves
    keep = log_views.lowest_final_losses(models, options.max_curves)
    scene.runs, scene.hidden_runs = len(keep), len(runs) - len(keep)
    scene.loss_names = log_views.series_names(models, "loss")
    scene.lr_names = log_views.series_names(models, "lr")
    scene.has_validation = any(log_views.validation_series(m) is not None for m in models)
    weight = float(options.smoothing)
    both = options.loss_choice == TRAIN_AND_VALIDATION
    columns = options.columns
    for i in keep:
        entry, model = runs[i], models[i]
        loss = log_views.pick_series(model, "loss", None if both else options.loss_choice)
        if loss is not None:
            x, _ = log_views.x_values(model, loss, axis)
            scene.loss.append(
                _curve(entry.key, f"{entry.label}: {loss.name}", x, loss.y, weight, cache, columns)
            )
        validation = log_views.validation_series(model) if both else None
        if validation is not None and validation is not loss:
            x, _ = log_views.x_values(model, validation, axis)
            label = f"{entry.label}: {validation.name}"
            scene.loss.append(
                _curve((entry.key, "validation"), label, x, validation.y, weight, cache, columns)
            )
        lr = log_views.pick_series(model, "lr", options.lr_choice)
        if lr is not None:
            x, _ = log_views.x_values(model, lr, axis)
            x, y = log_views.held_steps(x, lr.y)  # a step schedule drawn as steps
            label = f"{entry.label}: {lr.name}"
            scene.lr.append(_curve(entry.key, label, x, y, 0.0, cache, columns))
        pairs = cache.pairs(model, loss) if loss is not None else None
        if pairs is not None:
            if entry.format in RANGE_TEST_FORMATS and scene.range_curve is None:
                scene.range_curve = (entry, pairs)
            else:
                scene.loss_lr.append(
                    _curve(entry.key, entry.label, pairs[0], pairs[1], weight, cache, columns)
                )
    shown = [c.smoothed if c.smoothed is not None else c.y for c in scene.loss]
    shown = [y for y in shown if y.size]
    values = shown[0] if len(shown) == 1 else np.concatenate(shown) if shown else np.empty(0)
    scene.robust = {log: log_views.robust_range(values, log=log) for log in (False, True)}
    cache.forget_unused()
    return scene


def zoom(curves: list[Curve], lo: float, hi: float, columns: int = COLUMNS) -> list[tuple]:
    """Each curve's ``(shown, shown_smoothed)`` at full detail for ``lo <= x <= hi`` (data
    units): what a zoomed-in view draws instead of the whole curve's envelope."""
    out = []
    for c in curves:
        rows = within(c.x, lo, hi)
        x = c.x[rows]
        shown = chunks(x, c.y[rows], columns, "peak")
        smooth = None if c.smoothed is None else chunks(x, c.smoothed[rows], columns, "mean")
        out.append((shown, smooth))
    return out


def _float64(values) -> np.ndarray:
    """``values`` as float64, the very array when it is one: the cache knows arrays by
    identity, and ``np.asarray(a, dtype=np.float64)`` makes a new view of an unpickled array
    every time (its dtype is not numpy's own instance), so a log read in a child process
    was smoothed again by every derivation."""
    if isinstance(values, np.ndarray) and values.dtype == np.float64:
        return values
    return np.asarray(values, dtype=np.float64)


def _curve(key, label, x, y, weight: float, cache: DerivationCache, columns: int) -> Curve:
    x = _float64(x)
    y = _float64(y)
    smoothed = cache.smoothed(y, weight) if weight > 0 else None
    held = np.isfinite(x)
    finite = x if held.all() else x[held]
    return Curve(
        key=key,
        label=label,
        x=x,
        y=y,
        smoothed=smoothed,
        shown=chunks(x, y, columns, "peak"),
        shown_smoothed=None if smoothed is None else chunks(x, smoothed, columns, "mean"),
        extent=(float(finite.min()), float(finite.max())) if finite.size else None,
    )

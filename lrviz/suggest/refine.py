"""Close the loop: a few short trainings at λs across the likely band settle the best λ.

A range test can only estimate the best constant λ; training at a handful of λs measures it.
:func:`check_lrs` spreads the runs over the suggestion's likely band, the exported check
script (:mod:`lrviz.suggest.check_run`) trains and logs them, and :func:`measured_best` reads
the logs back as a sweep (loss against λ) and refines the suggestion to the measured best:
the lowest final validation loss (training loss when no validation loss was logged), with a
parabola in log λ through it and its neighbours so the answer is not stuck on the grid. Runs
that diverged (a non-finite loss, or one above the first logged loss) never win.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from lrviz.export import format_lr

#: How many runs a check spreads over the band by default.
DEFAULT_RUNS = 5


def check_lrs(likely_best: tuple[float, float], runs: int = DEFAULT_RUNS) -> list[float]:
    """``runs`` λs log-spaced over the likely band, ends included, rounded to 3 digits."""
    a, b = likely_best
    if not (math.isfinite(a) and math.isfinite(b) and 0 < a < b):
        raise ValueError(f"the band must be 0 < a < b, got {a!r} and {b!r}")
    if runs < 2:
        raise ValueError(f"a check needs at least 2 runs, got {runs}")
    return [float(format_lr(v)) for v in np.geomspace(a, b, runs)]


@dataclass(frozen=True)
class MeasuredBest:
    """The best λ measured by short trainings.

    ``lr`` and ``loss`` are the runs (sorted by λ; loss inf for a diverged run); ``best_lr``
    the refined best; ``at_edge`` is True when the best run was the smallest or largest λ
    tried (the best may lie outside: extend the check that way); ``why`` one sentence.
    """

    best_lr: float
    lr: np.ndarray
    loss: np.ndarray
    at_edge: bool
    why: str

    def to_dict(self) -> dict:
        return {
            "best_lr": self.best_lr,
            "at_edge": self.at_edge,
            "why": self.why,
            "runs": [
                {"lr": float(a), "loss": float(b) if math.isfinite(b) else None}
                for a, b in zip(self.lr, self.loss, strict=True)
            ],
        }


def measured_best(lr, final_loss, first_loss=None) -> MeasuredBest | None:
    """The best λ of a set of constant-λ runs, or None when fewer than 2 runs trained.

    ``final_loss`` per run (the value it ends on); ``first_loss`` optionally the loss it
    started from, to tell a run that got worse (diverged) from one that trained.
    """
    lr = np.asarray(lr, dtype=np.float64).ravel()
    loss = np.asarray(final_loss, dtype=np.float64).ravel()
    if lr.shape != loss.shape:
        raise ValueError(f"lr and loss differ in length ({lr.size} and {loss.size})")
    keep = np.isfinite(lr) & (lr > 0)
    lr, loss = lr[keep], loss[keep]
    bad = ~np.isfinite(loss)
    if first_loss is not None:
        first = np.asarray(first_loss, dtype=np.float64).ravel()[keep]
        bad |= np.isfinite(first) & (loss > first)
    loss = np.where(bad, np.inf, loss)
    # Several trials at one λ (seeds, repeats): their mean; inf when all of them diverged.
    lr, where = np.unique(lr, return_inverse=True)
    finite = np.isfinite(loss)
    sums = np.bincount(where, weights=np.where(finite, loss, 0.0), minlength=lr.size)
    counts = np.bincount(where, weights=finite.astype(np.float64), minlength=lr.size)
    loss = np.full(lr.size, np.inf)
    np.divide(sums, counts, out=loss, where=counts > 0)
    trained = np.isfinite(loss)
    if trained.sum() < 2:
        return None
    i = int(np.argmin(loss))
    at_edge = i == 0 or i == lr.size - 1
    best = float(lr[i])
    if not at_edge and np.all(np.isfinite(loss[i - 1 : i + 2])):
        best = _parabola_minimum(np.log10(lr[i - 1 : i + 2]), loss[i - 1 : i + 2], best)
    diverged = int((~trained).sum())
    why = (
        f"{int(trained.sum())} of {lr.size} λs trained; the loss ended lowest at "
        f"{format_lr(float(lr[i]))}"
    )
    if best != float(lr[i]):
        why += f", and a parabola through it and its neighbours puts the best at {format_lr(best)}"
    if diverged:
        why += f"; {diverged} diverged"
    if at_edge:
        side = "below" if i == 0 else "above"
        end = "smallest" if i == 0 else "largest"
        why += f"; the best was the {end} λ tried, so try {side} it too"
    return MeasuredBest(best, lr, loss, at_edge, why)


def _parabola_minimum(x: np.ndarray, y: np.ndarray, fallback: float) -> float:
    """Vertex of the parabola through three points (log10 λ), kept between the outer two."""
    (x0, x1, x2), (y0, y1, y2) = x, y
    denominator = (x0 - x1) * (x0 - x2) * (x1 - x2)
    if denominator == 0:
        return fallback
    a = (x2 * (y1 - y0) + x1 * (y0 - y2) + x0 * (y2 - y1)) / denominator
    b = (x2 * x2 * (y0 - y1) + x1 * x1 * (y2 - y0) + x0 * x0 * (y1 - y2)) / denominator
    if not (a > 0 and math.isfinite(a) and math.isfinite(b)):
        return fallback
    vertex = min(max(-b / (2 * a), x0), x2)
    return float(10.0**vertex)


def measured_best_from_log(log) -> MeasuredBest | None:
    """The measured best of a loaded sweep (:func:`lrviz.loaders.load` of the check's
    folder, or any sweep whose runs carry an ``lr`` parameter): each run's last validation
    loss, or its last training loss when it logged no validation loss."""
    return measured_best_of_runs(log.runs)


def measured_best_of_runs(runs) -> MeasuredBest | None:
    """:func:`measured_best_from_log` of some of a log's runs (one study of several)."""
    from lrviz.log_views import validation_series

    lrs, finals, firsts = [], [], []
    for run in runs:
        lr = run.params.get("lr")
        if isinstance(lr, bool) or not isinstance(lr, (int, float)):
            continue
        series = validation_series(run) or run.find("loss")
        if series is None or len(series) == 0:
            continue
        y = np.asarray(series.y, dtype=np.float64)
        lrs.append(float(lr))
        finals.append(float(y[-1]))
        # A loss logged before the first step is the untrained model's: ending above it is
        # diverging (the check script logs it; other sweeps may not).
        untrained = float(series.x[0]) == 0.0 and math.isfinite(float(y[0]))
        firsts.append(float(y[0]) if untrained else np.nan)
    if not lrs:
        return None
    return measured_best(lrs, finals, firsts)

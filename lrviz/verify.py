"""Was the range test right? A short fixed-λ sweep around its suggestion says.

On a built-in problem the check the exported script asks the user to run
(:mod:`lrviz.suggest.check_run`) can run right here: one constant-λ run per λ across the
suggestion's likely band (widened, so a best outside it still shows), every run trained the
same budget the user will train with, all in one vectorized simulation. The runs' final losses
are read as the check script's logs are (:func:`lrviz.suggest.refine.measured_best`), and the
suggestion's *regret* is how much worse its loss is than the best measured::

    check = SuggestionCheck(config, suggestion, iterations=500)
    for batch in check.run():
        ...  # the app draws the runs as they train
    verification = check.result()
    verification.best_lr, verification.suggested_regret

``lrviz rangetest --verify --json`` adds ``verification.to_dict()`` as ``"verified"``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from lrviz.engine import Batch
from lrviz.export import format_lr
from lrviz.limits import check_simulation
from lrviz.simulation_config import SimulationConfig
from lrviz.suggest import Suggestion
from lrviz.suggest.refine import MeasuredBest, measured_best

#: Runs spread over the widened band (the suggestion itself is one more).
DEFAULT_RUNS = 9
#: The likely band is widened by this factor at each end.
WIDEN = 3.0
#: Without a likely band: this many decades on each side of the suggestion.
DECADES_AROUND = 1.0


def verify_lrs(suggestion: Suggestion, runs: int = DEFAULT_RUNS) -> np.ndarray:
    """The λ a check trains, sorted: ``runs`` log-spaced over the suggestion's likely band
    widened :data:`WIDEN` times at each end (without a band: a decade each side of the
    suggestion; without a suggestion: the range the test tried), and the suggestion itself.

    Raises ValueError when the suggestion gives nothing to check around.
    """
    if runs < 2:
        raise ValueError(f"a check needs at least 2 runs, got {runs}")
    suggested = suggestion.suggested_lr
    if suggestion.likely_best is not None:
        low, high = suggestion.likely_best
        low, high = low / WIDEN, high * WIDEN
    elif suggested is not None:
        low, high = suggested / 10**DECADES_AROUND, suggested * 10**DECADES_AROUND
    elif suggestion.tested_range is not None:
        low, high = suggestion.tested_range
    else:
        raise ValueError("the range test gave no λ to check around")
    if not (math.isfinite(low) and math.isfinite(high) and 0 < low < high):
        raise ValueError(f"cannot check around the band {low:g} .. {high:g}")
    lrs = np.geomspace(low, high, runs)
    if suggested is not None and not np.any(np.isclose(lrs, suggested, rtol=1e-9)):
        lrs = np.sort(np.append(lrs, suggested))
    return lrs


@dataclass(frozen=True)
class Verification:
    """What the check measured.

    Attributes
    ----------
    lrs, final_loss : ndarray (n,)
        The λ trained and the loss each ended on (full-data loss at the last weights; inf
        for a run that diverged); sorted by λ.
    best_lr : float or None
        The λ of the run with the lowest final loss (runs read as
        :func:`lrviz.suggest.refine.measured_best` reads a check's logs); None when fewer
        than two runs trained.
    best_loss : float
        The lowest final loss of a run.
    suggested_lr : float or None
    suggested_loss : float or None
        The final loss of the run at the suggestion (None without a suggestion, or when it
        diverged).
    suggested_regret : float or None
        ``suggested_loss / best_loss - 1``: 0 when the suggestion was the best λ tried; None
        without a suggestion, or when the best run reached a loss of exactly 0 and the
        suggestion did not (the ratio is infinite). A diverged suggestion's regret is the
        untrained loss's (the first loss over the best, minus 1).
    at_edge : bool
        The best run was the smallest or largest λ tried: the best may lie outside.
    why : str
        One sentence: how many trained, where the loss ended lowest.
    iterations : int
        Iterations each run trained.
    """

    lrs: np.ndarray
    final_loss: np.ndarray
    best_lr: float | None
    best_loss: float
    suggested_lr: float | None
    suggested_loss: float | None
    suggested_regret: float | None
    at_edge: bool
    why: str
    iterations: int

    def to_dict(self) -> dict:
        """``{"best_lr", "suggested_regret"}``, JSON-ready: what ``rangetest --verify``
        adds as ``"verified"``."""
        return {"best_lr": self.best_lr, "suggested_regret": self.suggested_regret}


class SuggestionCheck:
    """Train each λ of :func:`verify_lrs` for ``iterations`` on ``config``'s problem.

    Parameters
    ----------
    config : SimulationConfig
        The range test's problem (objective, optimizer, their options, seed); its ``lrs`` and
        ``iterations`` are replaced.
    suggestion : Suggestion
        The range test's reading.
    iterations : int
        The budget of each run: the one the user will train with.
    runs : int
        λ over the widened band, besides the suggestion.
    """

    def __init__(
        self,
        config: SimulationConfig,
        suggestion: Suggestion,
        iterations: int,
        runs: int = DEFAULT_RUNS,
    ) -> None:
        if iterations < 1:
            raise ValueError(f"a check needs at least 1 iteration, got {iterations}")
        self.suggestion = suggestion
        self.lrs = verify_lrs(suggestion, runs)
        self.config = dataclasses.replace(config, lrs=self.lrs, iterations=int(iterations))
        check_simulation(self.config)  # before the objective's data is built
        self.simulation = self.config.build()
        self._first_loss: np.ndarray | None = None

    @property
    def iterations(self) -> int:
        return self.config.iterations

    def run(self, batch_iterations: int = 1000, batch_seconds: float = 0.03) -> Iterator[Batch]:
        """Advance every run, yielding the engine's batches (column ``j``: ``lrs[j]``)."""
        for batch in self.simulation.run(batch_iterations, batch_seconds):
            if batch.start == 0:
                self._first_loss = batch.loss[0].copy()
            yield batch

    def run_to_end(self) -> Verification:
        for _ in self.run(batch_iterations=max(self.iterations, 1), batch_seconds=3600.0):
            pass
        return self.result()

    def result(self) -> Verification:
        """What the runs measured so far (after a stop: at the iterations they reached)."""
        simulation = self.simulation
        with np.errstate(all="ignore"):
            final = simulation.objective.loss_only(simulation.weights)
        final = np.where((simulation.diverged_at >= 0) | ~np.isfinite(final), np.inf, final)
        first = self._first_loss
        measured: MeasuredBest | None = measured_best(self.lrs, final, first)
        finite = final[np.isfinite(final)]
        best_loss = float(finite.min()) if finite.size else math.inf
        suggested = self.suggestion.suggested_lr
        suggested_loss = regret = None
        if suggested is not None:
            i = int(np.argmin(np.abs(np.log(self.lrs / suggested))))
            suggested_loss = float(final[i])
            regret = _regret(suggested_loss, best_loss, None if first is None else first[i])
        best_lr, why = None, ""
        if measured is not None:
            # The λ of the best run, not measured_best's parabola between runs: the check
            # reports what it trained, and marks it on the plot.
            best_lr = float(measured.lr[np.argmin(measured.loss)])
            trained = int(np.isfinite(measured.loss).sum())
            why = (
                f"{trained} of {measured.lr.size} λ trained; the loss ended lowest at "
                f"{format_lr(best_lr)}"
            )
            if trained < measured.lr.size:
                why += f"; {measured.lr.size - trained} diverged"
            if measured.at_edge:
                why += "; that is an end of the λ tried, so the best may lie beyond it"
        return Verification(
            lrs=self.lrs.copy(),
            final_loss=final,
            best_lr=best_lr,
            best_loss=best_loss,
            suggested_lr=suggested,
            suggested_loss=_finite_or_none(suggested_loss),
            suggested_regret=regret,
            at_edge=bool(measured is not None and measured.at_edge),
            why=why,
            iterations=int(simulation.iteration),
        )


def verify_suggestion(
    config: SimulationConfig, suggestion: Suggestion, iterations: int, runs: int = DEFAULT_RUNS
) -> Verification:
    """Run :class:`SuggestionCheck` to the end (the command line's way)."""
    return SuggestionCheck(config, suggestion, iterations, runs).run_to_end()


def _regret(loss: float, best: float, first: float | None) -> float | None:
    if not math.isfinite(best):
        return None
    if not math.isfinite(loss):
        # Diverged: as bad as not training at all (the ground truth's convention).
        if first is None or not math.isfinite(first) or best <= 0:
            return None
        return float(first / best - 1.0)
    if best <= 0:
        return 0.0 if loss <= best else None
    return float(loss / best - 1.0)


def _finite_or_none(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None

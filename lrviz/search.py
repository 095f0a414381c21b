"""Coarse-to-fine learning-rate search: try widely different λ first, then narrow in, cheaply.

Stage 1 (coarse) runs one λ per decade of the range (1e-7, 1e-6, … 1 by default), all in one
vectorized batch. Each later stage (fine) places a few log-spaced candidates inside the
*bracket*: the best λ so far and its nearest evaluated neighbours, which were worse. The
search stops once the bracket is narrower than ``factor`` (1.25x by default), or when the
stages or the budget are spent.

Inside a stage the candidates race by successive halving (Jamieson & Talwalkar 2016; the rung
rule of Hyperband and of Optuna's ``SuccessiveHalvingPruner``): every candidate gets a few
iterations, the best 1/η go on to η times as many, and so on until the survivors have the
full budget; at least two reach it, so one early misranking cannot decide a stage. A run that
diverges stops at once (the engine freezes it). On a dataset objective (logistic regression,
the MLP) the coarse stage's first rung runs on a random part of the data; the survivors start
again on all of it (why only the coarse stage: :meth:`LrSearch.phases`). Candidates are
compared only at the same fidelity: a stage's finalists and the best λ so far all trained
``iterations`` steps on the full data. Once the bracket is narrow, its ends that were only
pruned at a rung are trained the full budget too (a *confirm* stage), so the bracket is
bounded by λ known to be worse.

Scores (lower is better, ``inf`` for a diverged run) follow :data:`CRITERIA`: the final loss
(the full-data loss at the last weights, so minibatch noise does not decide), the best loss,
or the area under the loss curve (its mean: how fast a λ gets down).

The compute spent is counted in run-iterations (one run taking one step; a step on the part
of the data counts as a whole one), next to what an exhaustive log grid of the same
resolution would cost: a grid whose step is the final bracket's ratio, every point trained
the full budget.

:meth:`LrSearch.run` is a generator of :class:`SearchEvent` s (stages, the engine's batches,
rung decisions) so the app can draw the search as it runs; :meth:`LrSearch.run_to_end` runs
it headless. Everything is seeded: the same settings give the same numbers.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from lrviz.engine import Batch, Simulation
from lrviz.limits import check_simulation
from lrviz.objectives import OBJECTIVES, DatasetObjective, Objective
from lrviz.simulation_config import SimulationConfig

#: How candidates are ranked.
CRITERIA = {
    "final": "final loss: the loss at the last weights (full-data loss for minibatch training)",
    "best": "best loss: the lowest loss reached",
    "area": "area under the loss curve: its mean over the iterations (speed)",
}
DEFAULT_MIN_LR = 1e-7
DEFAULT_MAX_LR = 1.0
DEFAULT_STAGES = 6
DEFAULT_PER_STAGE = 4
DEFAULT_ETA = 3.0
DEFAULT_SUBSET = 0.25
DEFAULT_FACTOR = 1.25
DEFAULT_CRITERION = "final"
#: A first rung shorter than this says too little about a λ: fewer halvings instead.
MIN_RUNG_ITERATIONS = 10
#: Successive halving keeps at least this many candidates to the full budget.
MIN_FINALISTS = 2
#: Seeds the choice of the data subset, apart from the data and the minibatch order.
SUBSET_STREAM = 11
#: Two λ closer than this (relative) are one candidate.
SAME_LR = 1e-9

SUBSET, FULL = "subset", "full"
#: Stage kinds: one run per decade; candidates inside the bracket; the bracket's pruned
#: neighbours trained the full budget, so the bracket is bounded by λ known to be worse.
COARSE, FINE, CONFIRM = "coarse", "fine", "confirm"


@dataclass(frozen=True)
class SearchSettings:
    """How a search spends its runs.

    Attributes
    ----------
    min_lr, max_lr : float
        The range searched, ``0 < min_lr < max_lr``.
    stages : int
        Most stages, the coarse one included (at least 1).
    per_stage : int
        Candidates of each fine stage (at least 1).
    eta : float
        Successive halving keeps the best ``1/eta`` at each rung (above 1).
    subset : float in (0, 1]
        Fraction of a dataset objective's samples its first rung trains on (1: no subset).
    criterion : str
        A key of :data:`CRITERIA`.
    factor : float
        Stop once the bracket's ratio (high / low) is at most this (above 1).
    budget : int or None
        Most run-iterations to spend; a stage that might pass it runs fewer candidates, or
        does not run. None: no limit.
    """

    min_lr: float = DEFAULT_MIN_LR
    max_lr: float = DEFAULT_MAX_LR
    stages: int = DEFAULT_STAGES
    per_stage: int = DEFAULT_PER_STAGE
    eta: float = DEFAULT_ETA
    subset: float = DEFAULT_SUBSET
    criterion: str = DEFAULT_CRITERION
    factor: float = DEFAULT_FACTOR
    budget: int | None = None

    def check(self) -> None:
        """Raise ValueError, one sentence naming the setting, for an invalid setting."""
        lo, hi = self.min_lr, self.max_lr
        if not (math.isfinite(lo) and math.isfinite(hi) and 0 < lo < hi):
            raise ValueError(f"the range needs 0 < min λ < max λ, finite; got {lo:g} to {hi:g}")
        if hi / lo > 1e200:
            raise ValueError(f"the range {lo:g} to {hi:g} spans more than 200 decades")
        if not (isinstance(self.stages, int) and self.stages >= 1):
            raise ValueError(f"stages must be a whole number of at least 1, got {self.stages!r}")
        if not (isinstance(self.per_stage, int) and 1 <= self.per_stage <= 1000):
            raise ValueError(f"candidates per stage must be 1 to 1000, got {self.per_stage!r}")
        if not (math.isfinite(self.eta) and self.eta > 1):
            raise ValueError(f"η must be above 1, got {self.eta:g}")
        if not (math.isfinite(self.subset) and 0 < self.subset <= 1):
            raise ValueError(f"the subset fraction must be in (0, 1], got {self.subset:g}")
        if self.criterion not in CRITERIA:
            raise ValueError(
                f"unknown criterion {self.criterion!r}; choose one of {', '.join(CRITERIA)}"
            )
        if not (math.isfinite(self.factor) and self.factor > 1):
            raise ValueError(f"the bracket factor must be above 1, got {self.factor:g}")
        if self.budget is not None and not (isinstance(self.budget, int) and self.budget >= 1):
            raise ValueError(f"the budget must be a whole number of at least 1, got {self.budget}")


@dataclass
class Trial:
    """One candidate λ of a search and how far it got.

    ``score`` is measured at the fidelity it stopped at (``iterations`` on the ``phase``'s
    data): only finalists' scores (``pruned`` False) are comparable across a search.
    """

    id: int
    lr: float
    stage: int
    score: float = math.inf
    iterations: int = 0
    phase: str = SUBSET
    diverged: bool = False
    pruned: bool = False


@dataclass(frozen=True)
class StageResult:
    """One stage's candidates, sorted by λ; ``kind`` :data:`COARSE`, :data:`FINE` or
    :data:`CONFIRM`.

    ``scores`` at the fidelity each reached (``inf``: diverged); ``pruned`` True for a run
    stopped before the full budget on the full data (diverged, halved out or screened out
    on the subset); ``iterations`` how many it ran on the data it ended on.
    """

    stage: int
    kind: str
    lrs: tuple[float, ...]
    scores: tuple[float, ...]
    pruned: tuple[bool, ...]
    diverged: tuple[bool, ...]
    iterations: tuple[int, ...]

    def to_dict(self) -> dict:
        return {
            "lrs": list(self.lrs),
            "scores": [_finite_or_none(s) for s in self.scores],
            "pruned": list(self.pruned),
        }


@dataclass(frozen=True)
class SearchResult:
    """What a (finished or stopped) search found.

    Attributes
    ----------
    best_lr : float or None
        The winner: the lowest score among the runs that trained the full budget on the full
        data; None when every one diverged.
    best_score : float
    bracket : (float, float) or None
        The winner's nearest evaluated neighbours (the winner itself at an end of the range):
        the best λ lies between them.
    stages : tuple of StageResult
    iterations_spent : int
        Run-iterations the search took.
    grid_cost : int
        Run-iterations of an exhaustive log grid over the range with step ``grid_step``.
    grid_points : int
    grid_step : float
        The final bracket's ratio (``factor`` when there is no bracket).
    criterion : str
    iterations : int
        The full budget of one run.
    stopped_because : str
        ``"bracket"`` (narrower than the factor), ``"stages"``, ``"budget"``, ``"diverged"``
        (every run of the coarse stage diverged) or ``"stopped"`` (by hand, unfinished).
    at_edge : bool
        The winner is an end of the range: the best λ may lie outside it.
    """

    best_lr: float | None
    best_score: float
    bracket: tuple[float, float] | None
    stages: tuple[StageResult, ...]
    iterations_spent: int
    grid_cost: int
    grid_points: int
    grid_step: float
    criterion: str
    iterations: int
    stopped_because: str
    at_edge: bool

    @property
    def bracket_ratio(self) -> float | None:
        return None if self.bracket is None else self.bracket[1] / self.bracket[0]

    def to_dict(self) -> dict:
        """The ``lrviz sweep --json`` document: best_lr, bracket, stages, iterations_spent,
        grid_cost (JSON-ready: a diverged score is None)."""
        return {
            "best_lr": self.best_lr,
            "bracket": None if self.bracket is None else list(self.bracket),
            "stages": [stage.to_dict() for stage in self.stages],
            "iterations_spent": self.iterations_spent,
            "grid_cost": self.grid_cost,
        }


# --- events ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchEvent:
    """Something a running search did. ``spent``: run-iterations so far; ``planned``: an
    upper estimate of the total (for progress and ETA; it shrinks as the search learns)."""

    spent: int
    planned: int


@dataclass(frozen=True)
class StageStarted(SearchEvent):
    """A stage begins: its candidates (``trial_ids``, ``lrs``), the bracket they fill (None
    for the coarse stage), its rungs (iterations at which it scores, and halves but at the
    last) and its kind (:data:`COARSE`, :data:`FINE`, :data:`CONFIRM`)."""

    stage: int
    trial_ids: np.ndarray
    lrs: np.ndarray
    bracket: tuple[float, float] | None
    rungs: tuple[int, ...]
    kind: str


@dataclass(frozen=True)
class PhaseStarted(SearchEvent):
    """Runs start from the initial point on ``phase``'s data (``"subset"`` or ``"full"``):
    column ``j`` of the coming batches is trial ``trial_ids[j]``."""

    stage: int
    phase: str
    trial_ids: np.ndarray
    lrs: np.ndarray


@dataclass(frozen=True)
class RunsAdvanced(SearchEvent):
    """The engine's batch of the current phase's runs (column ``j``: ``trial_ids[j]``)."""

    stage: int
    phase: str
    trial_ids: np.ndarray
    batch: Batch


@dataclass(frozen=True)
class RungEnded(SearchEvent):
    """At ``iteration`` the phase's runs were scored; ``kept`` go on, the others stopped
    (``diverged`` ones had stopped already)."""

    stage: int
    phase: str
    iteration: int
    trial_ids: np.ndarray
    scores: np.ndarray
    kept: np.ndarray
    diverged: np.ndarray


@dataclass(frozen=True)
class StageEnded(SearchEvent):
    """A stage is over: its result, and the best λ and bracket of the search so far."""

    result: StageResult
    best_lr: float | None
    bracket: tuple[float, float] | None


@dataclass(frozen=True)
class SearchFinished(SearchEvent):
    result: SearchResult


# --- the search --------------------------------------------------------------------------


class LrSearch:
    """A coarse-to-fine search for the best constant λ of the problem ``config`` describes.

    Parameters
    ----------
    config : SimulationConfig
        Objective, optimizer, their options, the seed, ``iterations`` (the full budget of one
        run) and ``divergence_factor``; its ``lrs`` are ignored. A schedule, when set, is
        applied with each candidate as its peak.
    settings : SearchSettings, optional
    """

    def __init__(self, config: SimulationConfig, settings: SearchSettings | None = None) -> None:
        settings = settings or SearchSettings()
        settings.check()
        if config.iterations < 1:
            raise ValueError(f"iterations must be at least 1, got {config.iterations}")
        self.config = config
        self.settings = settings
        self.iterations = int(config.iterations)
        self._screens_on_subset = _screens_on_subset(config, settings.subset)
        self.coarse_lrs = coarse_lrs(settings.min_lr, settings.max_lr)
        self._check_size()  # before the objective's data is built
        self.objective: Objective = config.make_objective()
        self.subset_objective = self._subset_objective() if self._screens_on_subset else None
        self.trials: list[Trial] = []
        self.stage_results: list[StageResult] = []
        self.spent = 0
        self.champion: Trial | None = None
        self.bracket: tuple[float, float] | None = None
        self.stopped_because = "stopped"
        coarse_cost = self.stage_cost(self.coarse_lrs.size, coarse=True)
        if settings.budget is not None and coarse_cost > settings.budget:
            raise ValueError(
                f"a budget of {settings.budget:,} run-iterations cannot pay for the coarse "
                f"stage ({self.coarse_lrs.size} λ, up to {coarse_cost:,}); raise it or lower "
                "the iterations"
            )
        self._planned = self._estimate_total()

    # --- planning -------------------------------------------------------------------------

    def rungs(self, candidates: int) -> tuple[int, ...]:
        """Iterations at which a stage of ``candidates`` is scored (the last: the full
        budget). ``s`` halvings, ``eta ** s <= candidates``, the first rung at least
        :data:`MIN_RUNG_ITERATIONS` long."""
        return rung_iterations(self.iterations, candidates, self.settings.eta)

    def phases(
        self, candidates: int, coarse: bool = False, halving: bool = True
    ) -> list[tuple[str, tuple[int, ...]]]:
        """``[(phase, rungs)]``: the coarse stage of a dataset objective with a subset runs
        its first rung on the subset and the others (restarted) on the full data; every
        other stage runs every rung on the full data.

        Why only the coarse stage: a part of the data tells decades apart, but a smaller
        sample has its own curvature (a larger largest eigenvalue, on logistic regression),
        which moves the edge of stability by more than the few tens of percent that separate
        a fine stage's candidates: screened on a quarter of the data, the best λ of a fine
        stage was pruned as unstable."""
        if not halving:
            return [(FULL, (self.iterations,))]
        rungs = self.rungs(candidates)
        if coarse and self._screens_on_subset and len(rungs) > 1:
            return [(SUBSET, rungs[:1]), (FULL, rungs[1:])]
        return [(FULL, rungs)]

    def stage_cost(self, candidates: int, coarse: bool = False, halving: bool = True) -> int:
        """Most run-iterations a stage of ``candidates`` can take (no run diverging)."""
        cost, live = 0, candidates
        for _phase, rungs in self.phases(candidates, coarse, halving):
            done = 0
            for i, rung in enumerate(rungs):
                cost += live * (rung - done)
                done = rung
                if i < len(rungs) - 1 or rung < self.iterations:
                    live = keep_count(live, self.settings.eta)
        return cost

    def _plan(self) -> int:
        return max(self._planned, self.spent)

    def _estimate_total(self) -> int:
        """Spent so far, plus an upper estimate of what is left: the stages it may take to
        narrow the bracket below the factor (each narrows it to about ratio^(2/(k+2)))."""
        settings = self.settings
        done = len(self.stage_results)
        if done == 0:
            remaining = self.stage_cost(self.coarse_lrs.size, coarse=True)
            ratio = 100.0 if self.coarse_lrs.size > 2 else settings.max_lr / settings.min_lr
            done = 1
        else:
            remaining = 0
            ratio = math.inf if self.bracket is None else self.bracket[1] / self.bracket[0]
            if self.bracket is None:
                return self.spent
        k = settings.per_stage
        while ratio > settings.factor and done < settings.stages:
            ratio **= 2.0 / (k + 2.0)
            remaining += self.stage_cost(k)
            done += 1
        total = self.spent + remaining
        if settings.budget is not None:
            total = min(total, settings.budget)
        return max(total, self.spent)

    def most_run_iterations(self) -> int:
        """An upper bound of what the whole search can spend: every stage full, no run
        diverging (the budget, when it is smaller)."""
        settings = self.settings
        most = self.stage_cost(self.coarse_lrs.size, coarse=True)
        most += (settings.stages - 1) * self.stage_cost(settings.per_stage)
        return most if settings.budget is None else min(most, settings.budget)

    def _check_size(self) -> None:
        """Refuse a search past the simulation limits (:func:`lrviz.limits.check_simulation`)
        as the simulation of its widest stage, run as many times as the search may need."""
        widest = max(self.coarse_lrs.size, self.settings.per_stage)
        runs = max(widest, math.ceil(self.most_run_iterations() / self.iterations))
        check_simulation(dataclasses.replace(self.config, lrs=np.ones(runs)))

    def _subset_objective(self) -> Objective:
        objective = self.objective
        count = subset_size(objective.samples, self.settings.subset)
        rng = np.random.default_rng([self.config.seed, SUBSET_STREAM])
        rows = np.sort(rng.permutation(objective.samples)[:count])
        return objective.on_samples(rows)

    # --- running --------------------------------------------------------------------------

    def run(self, batch_iterations: int = 1000, batch_seconds: float = 0.03):
        """Run the search, yielding :class:`SearchEvent` s; the last is
        :class:`SearchFinished`. Closing the generator stops the search: :meth:`result`
        then says what it found so far."""
        settings = self.settings
        stream = (batch_iterations, batch_seconds)
        yield from self._stage(self.coarse_lrs, None, stream, COARSE)
        if self.champion is None:
            self.stopped_because = "diverged"
        else:
            self.stopped_because = ""
        while not self.stopped_because:
            a, b = self.bracket
            fresh = np.empty(0)
            if b / a > settings.factor:
                fresh = self._fine_candidates(settings.per_stage)
            if fresh.size == 0:
                # Narrow enough (or nothing left to try inside): done once the neighbours
                # are known worse at the full budget, not only at a pruning rung.
                doubtful = self._unconfirmed_neighbours()
                if doubtful.size == 0:
                    self.stopped_because = "bracket"
                elif len(self.stage_results) >= settings.stages:
                    self.stopped_because = "stages"
                elif self._affordable(doubtful, halving=False) is None or (
                    self._affordable(doubtful, halving=False).size < doubtful.size
                ):
                    self.stopped_because = "budget"
                else:
                    yield from self._stage(doubtful, self.bracket, stream, CONFIRM)
                continue
            if len(self.stage_results) >= settings.stages:
                self.stopped_because = "stages"
                break
            lrs = self._affordable(fresh)
            if lrs is None:
                self.stopped_because = "budget"
                break
            yield from self._stage(lrs, self.bracket, stream, FINE)
        result = self.result()
        yield SearchFinished(self.spent, self.spent, result)

    def run_to_end(self) -> SearchResult:
        """Run the whole search without streaming and return its result."""
        for _event in self.run(batch_iterations=max(self.iterations, 1), batch_seconds=3600.0):
            pass
        return self.result()

    def result(self) -> SearchResult:
        """What the search found so far (after a stop: the stages that ended)."""
        settings = self.settings
        step = settings.factor
        if self.bracket is not None and self.bracket[1] > self.bracket[0]:
            step = self.bracket[1] / self.bracket[0]
        points = grid_points(settings.min_lr, settings.max_lr, step)
        champion = self.champion
        at_edge = champion is not None and (
            _same(champion.lr, settings.min_lr) or _same(champion.lr, settings.max_lr)
        )
        return SearchResult(
            best_lr=None if champion is None else champion.lr,
            best_score=math.inf if champion is None else champion.score,
            bracket=self.bracket,
            stages=tuple(self.stage_results),
            iterations_spent=int(self.spent),
            grid_cost=int(points * self.iterations),
            grid_points=int(points),
            grid_step=float(step),
            criterion=settings.criterion,
            iterations=self.iterations,
            stopped_because=self.stopped_because or "stopped",
            at_edge=bool(at_edge),
        )

    # --- one stage ------------------------------------------------------------------------

    def _stage(self, lrs: np.ndarray, bracket, stream, kind: str) -> Iterator[SearchEvent]:
        stage = len(self.stage_results)
        trials = [self._new_trial(float(lr), stage) for lr in lrs]
        phases = self.phases(len(trials), coarse=kind == COARSE, halving=kind != CONFIRM)
        ids = np.array([t.id for t in trials], dtype=np.int64)
        yield StageStarted(
            self.spent,
            self._plan(),
            stage,
            ids,
            np.asarray(lrs, dtype=np.float64),
            bracket,
            tuple(rung for _phase, rungs in phases for rung in rungs),
            kind,
        )
        alive = ids
        for phase, rungs in phases:
            if alive.size == 0:
                break
            alive = yield from self._phase(stage, phase, rungs, alive, stream)
        result = self._stage_result(stage, ids, kind)
        self.stage_results.append(result)
        self._crown()
        self._planned = self._estimate_total()
        yield StageEnded(
            self.spent,
            self._plan(),
            result,
            None if self.champion is None else self.champion.lr,
            self.bracket,
        )

    def _phase(self, stage: int, phase: str, rungs, ids: np.ndarray, stream):
        """Run the trials ``ids`` from the start on ``phase``'s data through ``rungs``;
        returns the ids still going after the last rung."""
        objective = self.subset_objective if phase == SUBSET else self.objective
        lrs = np.array([self.trials[i].lr for i in ids])
        config = dataclasses.replace(self.config, lrs=lrs, iterations=self.iterations)
        simulation = config.build(objective=objective)
        for i in ids:
            self.trials[i].phase = phase
        yield PhaseStarted(self.spent, self._plan(), stage, phase, ids.copy(), lrs)
        area = np.zeros(ids.size)
        running = np.ones(ids.size, dtype=bool)  # not stopped by a rung
        batch_iterations, batch_seconds = stream
        for r, rung in enumerate(rungs):
            while simulation.iteration < rung and not simulation.done:
                size = min(batch_iterations, rung - simulation.iteration)
                batch = next(simulation.run(size, batch_seconds))
                self.spent += _run_iterations(batch)
                area = _accumulate(area, batch.loss)
                yield RunsAdvanced(self.spent, self._plan(), stage, phase, ids, batch)
            diverged = simulation.diverged_at >= 0
            live = running & ~diverged
            scores = self._scores(simulation, area, live)
            for j, i in enumerate(ids):
                trial = self.trials[i]
                if live[j]:
                    trial.score, trial.iterations = float(scores[j]), int(simulation.iteration)
                elif diverged[j] and not trial.diverged:
                    trial.diverged, trial.pruned, trial.score = True, True, math.inf
                    trial.iterations = int(simulation.diverged_at[j]) + 1
            final = phase == FULL and r == len(rungs) - 1 and rung >= self.iterations
            kept = live.copy()
            if not final:
                kept = _best(scores, live, keep_count(int(live.sum()), self.settings.eta))
                stop = live & ~kept
                for j in np.flatnonzero(stop):
                    self.trials[ids[j]].pruned = True
                if stop.any():
                    simulation.stop_runs(np.flatnonzero(stop))
                running &= kept
            yield RungEnded(
                self.spent,
                self._plan(),
                stage,
                phase,
                int(rung),
                ids.copy(),
                np.where(live, scores, np.inf),
                kept.copy(),
                diverged.copy(),
            )
        return ids[running & ~(simulation.diverged_at >= 0)]

    def _scores(self, simulation: Simulation, area: np.ndarray, live: np.ndarray) -> np.ndarray:
        """The criterion of each run at the simulation's current iteration; inf where not
        ``live`` or not finite."""
        scores = np.full(live.size, np.inf)
        if not live.any():
            return scores
        criterion = self.settings.criterion
        if criterion == "area":
            scores[live] = area[live] / max(simulation.iteration, 1)
        else:
            with np.errstate(all="ignore"):
                final = simulation.objective.loss_only(simulation.weights[live])
            scores[live] = final
            if criterion == "best":
                scores[live] = np.fmin(final, simulation.best_loss[live])
        scores[~np.isfinite(scores)] = np.inf
        return scores

    # --- between stages -------------------------------------------------------------------

    def _new_trial(self, lr: float, stage: int) -> Trial:
        trial = Trial(id=len(self.trials), lr=lr, stage=stage)
        self.trials.append(trial)
        return trial

    def _stage_result(self, stage: int, ids: np.ndarray, kind: str) -> StageResult:
        trials = sorted((self.trials[i] for i in ids), key=lambda t: t.lr)
        return StageResult(
            stage=stage,
            kind=kind,
            lrs=tuple(t.lr for t in trials),
            scores=tuple(t.score for t in trials),
            pruned=tuple(t.pruned for t in trials),
            diverged=tuple(t.diverged for t in trials),
            iterations=tuple(t.iterations for t in trials),
        )

    def _finalists(self) -> list[Trial]:
        return [
            t
            for t in self.trials
            if t.phase == FULL and not t.pruned and t.iterations >= self.iterations
        ]

    def _crown(self) -> None:
        """The champion among every finalist so far, and its bracket."""
        finalists = [t for t in self._finalists() if math.isfinite(t.score)]
        if not finalists:
            self.champion, self.bracket = None, None
            return
        lowest = min(t.score for t in finalists)
        # Ties (a bowl every λ of a band solves exactly): the middle one of the band.
        tied = sorted(
            (t for t in finalists if t.score <= lowest + 1e-12 * abs(lowest)), key=lambda t: t.lr
        )
        self.champion = tied[(len(tied) - 1) // 2]
        tried = np.unique([t.lr for t in self.trials])
        i = int(np.argmin(np.abs(np.log(tried / self.champion.lr))))
        low = tried[i - 1] if i > 0 else tried[i]
        high = tried[i + 1] if i < tried.size - 1 else tried[i]
        self.bracket = (float(low), float(high))

    def _unconfirmed_neighbours(self) -> np.ndarray:
        """The bracket's ends (not the champion) that no run trained to the full budget on
        the full data: pruned at a rung, or diverged only on the subset."""
        doubtful = []
        for end in self.bracket:
            if _same(end, self.champion.lr):
                continue
            settled = any(
                _same(t.lr, end)
                and t.phase == FULL
                and (t.diverged or (not t.pruned and t.iterations >= self.iterations))
                for t in self.trials
            )
            if not settled:
                doubtful.append(end)
        return np.array(doubtful, dtype=np.float64)

    def _fine_candidates(self, count: int) -> np.ndarray:
        """``count`` λ log-spaced inside the bracket, split between the two sides of the
        champion in proportion to their widths, none already tried."""
        best = self.champion.lr
        a, b = self.bracket
        left, right = math.log(best / a), math.log(b / best)
        total = left + right
        if total <= 0 or count < 1:
            return np.empty(0)
        n_left = round(count * left / total)
        if left > 0 and right > 0 and count >= 2:
            n_left = min(max(n_left, 1), count - 1)
        n_right = count - n_left
        points = [
            *np.geomspace(a, best, n_left + 2)[1:-1],
            *np.geomspace(best, b, n_right + 2)[1:-1],
        ]
        tried = [t.lr for t in self.trials]
        fresh = [p for p in points if not any(_same(p, q) for q in tried)]
        return np.array(sorted(fresh), dtype=np.float64)

    def _affordable(self, lrs: np.ndarray, halving: bool = True) -> np.ndarray | None:
        """``lrs``, or as many of them as the budget pays for (the middle ones, nearest the
        champion, kept); None when not even one is affordable."""
        budget = self.settings.budget
        if budget is None or lrs.size == 0:
            return lrs
        left = budget - self.spent
        count = lrs.size
        while count >= 1 and self.stage_cost(count, halving=halving) > left:
            count -= 1
        if count == 0:
            return None
        if count == lrs.size:
            return lrs
        nearest = np.argsort(np.abs(np.log(lrs / self.champion.lr)), kind="stable")[:count]
        return np.sort(lrs[nearest])


# --- pure helpers ------------------------------------------------------------------------


def coarse_lrs(min_lr: float, max_lr: float) -> np.ndarray:
    """One λ per decade from ``min_lr`` to ``max_lr``, both ends included (at least two)."""
    decades = math.log10(max_lr / min_lr)
    count = max(2, round(decades) + 1)
    return np.geomspace(min_lr, max_lr, count)


def rung_iterations(iterations: int, candidates: int, eta: float) -> tuple[int, ...]:
    """Successive halving's rungs for ``candidates`` with a full budget of ``iterations``:
    ``iterations / eta**s, …, iterations / eta, iterations`` with ``s`` the most halvings
    ``candidates`` allow (``eta**s <= candidates``) whose first rung is at least
    :data:`MIN_RUNG_ITERATIONS` (or the whole budget, when that is shorter)."""
    halvings = 0
    while eta ** (halvings + 1) <= candidates * (1 + 1e-12):
        halvings += 1
    while halvings > 0 and iterations / eta**halvings < MIN_RUNG_ITERATIONS:
        halvings -= 1
    rungs = sorted({max(1, round(iterations / eta**k)) for k in range(halvings, 0, -1)})
    return (*[r for r in rungs if r < iterations], iterations)


def keep_count(live: int, eta: float) -> int:
    """How many of ``live`` runs go on after a rung: the best ``1/eta``, but at least
    :data:`MIN_FINALISTS` (or all, when fewer)."""
    if live <= 0:
        return 0
    return max(math.ceil(live / eta - 1e-9), min(MIN_FINALISTS, live))


def grid_points(min_lr: float, max_lr: float, step: float) -> int:
    """Points of a log grid from ``min_lr`` to ``max_lr``, neighbours at most ``step`` apart."""
    return math.ceil(math.log(max_lr / min_lr) / math.log(step) - 1e-9) + 1


def subset_size(samples: int, fraction: float) -> int:
    """Samples of the part of the data a search screens on."""
    return max(1, math.ceil(fraction * samples - 1e-9))


def _screens_on_subset(config: SimulationConfig, fraction: float) -> bool:
    """A dataset objective, and a fraction that leaves out at least one sample."""
    kind = OBJECTIVES.get(config.objective)
    if kind is None or not issubclass(kind, DatasetObjective):
        return False
    return subset_size(config.samples, fraction) < config.samples


def _best(scores: np.ndarray, live: np.ndarray, count: int) -> np.ndarray:
    """Mask of the ``count`` lowest finite scores among ``live`` (ties: the smaller index,
    i.e. the earlier candidate)."""
    kept = np.zeros(live.size, dtype=bool)
    eligible = np.flatnonzero(live & np.isfinite(scores))
    order = eligible[np.argsort(scores[eligible], kind="stable")]
    kept[order[:count]] = True
    return kept


def _accumulate(area: np.ndarray, loss: np.ndarray) -> np.ndarray:
    """``area`` plus each column's losses, added one iteration at a time (non-finite as 0):
    the same sum however the run was cut into batches, so a streamed search ranks exactly
    as a headless one."""
    rows = np.where(np.isfinite(loss), loss, 0.0)
    return np.add.accumulate(np.vstack([area[None, :], rows]), axis=0)[-1]


def _run_iterations(batch: Batch) -> int:
    """Run-iterations a batch computed: a working run records its loss and λ every
    iteration (a NaN loss where it blew up; a NaN λ before an adaptive optimizer's first
    step), a stopped run neither."""
    return int(np.count_nonzero(~(np.isnan(batch.loss) & np.isnan(batch.lr))))


def _same(a: float, b: float) -> bool:
    return abs(a - b) <= SAME_LR * max(abs(a), abs(b))


def _finite_or_none(value: float) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None

"""The coarse-to-fine λ search (issue 11): theory, an exhaustive grid, and its invariants."""

from __future__ import annotations

import dataclasses
import itertools
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lrviz.engine import Simulation
from lrviz.objectives import OBJECTIVES, make_objective
from lrviz.objectives.logreg import LogisticRegression
from lrviz.search import (
    COARSE,
    CONFIRM,
    FINE,
    FULL,
    MIN_RUNG_ITERATIONS,
    SUBSET,
    LrSearch,
    PhaseStarted,
    RungEnded,
    RunsAdvanced,
    SearchFinished,
    SearchSettings,
    StageEnded,
    StageStarted,
    coarse_lrs,
    grid_points,
    keep_count,
    rung_iterations,
)
from lrviz.simulation_config import SimulationConfig

# --- theory: plain GD on a quadratic with eigenvalues in [mu, L] ----------------------------

QUADRATICS = [  # (mu, L, dim)
    (1.0, 10.0, 2),
    (0.5, 20.0, 5),
    (0.1, 1.0, 10),
    (2.0, 50.0, 3),
    (1.0, 100.0, 4),
    (0.05, 5.0, 6),
    (10.0, 1000.0, 8),
    (1e-3, 1e-2, 3),
]


def quadratic_case(mu: float, L: float, dim: int) -> tuple[SimulationConfig, SearchSettings]:
    """The bowl, enough iterations for the best constant step to be the asymptotic one
    (the slowest mode shrinks by e^-40 at 2/(mu+L), far from underflow), and a range that
    holds 2/(mu+L) without centring it."""
    rate = (L / mu - 1) / (L / mu + 1)
    iterations = max(50, math.ceil(40 / -math.log(rate)))
    config = SimulationConfig(
        objective="quadratic", dim=dim, curvature=L, condition=L / mu, iterations=iterations
    )
    theory = 2 / (mu + L)
    return config, SearchSettings(max_lr=1.0 if theory < 1 else 1e3)


@pytest.mark.parametrize(("mu", "L", "dim"), QUADRATICS)
@pytest.mark.parametrize("criterion", ["final", "best"])
def test_on_a_quadratic_the_search_lands_within_1_25x_of_2_over_mu_plus_L(mu, L, dim, criterion):
    config, search_settings = quadratic_case(mu, L, dim)
    search_settings = dataclasses.replace(search_settings, criterion=criterion)
    result = LrSearch(config, search_settings).run_to_end()
    theory = 2 / (mu + L)
    assert result.best_lr is not None
    assert 1 / 1.25 <= result.best_lr / theory <= 1.25, (result.best_lr, theory)
    # ... and the bracket it reports holds the theory's step.
    low, high = result.bracket
    assert low <= theory <= high
    assert high / low <= 1.25
    # At most half of what a full 1.25x log grid over the same range costs.
    full_grid = grid_points(search_settings.min_lr, search_settings.max_lr, 1.25)
    assert result.iterations_spent <= 0.5 * full_grid * config.iterations
    # Steps above 2/L diverge, and the search saw it.
    diverged = [
        lr for stage in result.stages for lr, d in zip(stage.lrs, stage.diverged, strict=True) if d
    ]
    assert diverged and min(diverged) > 2 / L * 0.999


# --- against an exhaustive fine grid: logistic regression ---------------------------------

LOGISTIC_CASES = [  # (samples, features, seed)
    (300, 5, 0),
    (300, 3, 1),
    (200, 8, 3),
    (300, 5, 5),
    (200, 8, 6),
]


def grid_scores(config: SimulationConfig, lrs: np.ndarray) -> np.ndarray:
    """Final full-data loss of every λ of ``lrs`` trained the full budget (inf: diverged)."""
    simulation = dataclasses.replace(config, lrs=lrs).build()
    for _ in simulation.run(batch_iterations=10_000, batch_seconds=1e9):
        pass
    scores = simulation.objective.loss_only(simulation.weights)
    return np.where(simulation.diverged_at >= 0, np.inf, scores)


@pytest.mark.parametrize(("samples", "features", "seed"), LOGISTIC_CASES)
def test_on_logistic_regression_the_bracket_holds_the_exhaustive_grids_winner(
    samples, features, seed
):
    config = SimulationConfig(
        objective="logreg", samples=samples, features=features, seed=seed, iterations=150
    )
    result = LrSearch(config).run_to_end()  # the subset screen included (default 0.25)
    # A 1.05x grid, finer than the search's final bracket, over the decades that train
    # (below 1e-3 every λ crawls; the search's coarse stage says so too).
    lrs = np.geomspace(1e-3, 1.0, grid_points(1e-3, 1.0, 1.05))
    scores = grid_scores(config, lrs)
    winner = float(lrs[np.argmin(scores)])
    low, high = result.bracket
    assert low <= winner <= high, (winner, result.bracket)
    assert low <= result.best_lr <= high
    assert result.iterations_spent < 0.25 * lrs.size * config.iterations


# --- the stages ------------------------------------------------------------------------------


def events_of(config, search_settings=None, **stream):
    search = LrSearch(config, search_settings)
    return search, list(search.run(**stream))


def test_the_coarse_stage_runs_one_lr_per_decade_in_one_vectorized_batch():
    config = SimulationConfig(objective="quadratic", iterations=60)
    _search, events = events_of(config, SearchSettings(), batch_iterations=1000)
    first = next(e for e in events if isinstance(e, StageStarted))
    np.testing.assert_allclose(first.lrs, 10.0 ** np.arange(-7, 1), rtol=1e-12)
    assert first.kind == COARSE
    # Every coarse run is a column of the same engine batches.
    batches = [e for e in events if isinstance(e, RunsAdvanced) and e.stage == 0]
    assert {e.batch.loss.shape[1] for e in batches} == {8}
    np.testing.assert_array_equal(batches[0].trial_ids, first.trial_ids)


def test_fine_stages_fill_the_bracket_and_stop_once_it_is_narrower_than_the_factor():
    config = SimulationConfig(objective="quadratic", dim=3, curvature=10, condition=10)
    _search, events = events_of(config)
    starts = [e for e in events if isinstance(e, StageStarted)]
    ends = [e for e in events if isinstance(e, StageEnded)]
    assert starts[0].bracket is None
    for start, previous in zip(starts[1:], ends, strict=False):
        a, b = previous.bracket
        assert start.bracket == previous.bracket
        if start.kind == FINE:
            assert np.all((start.lrs > a) & (start.lrs < b))
            # log-spaced on each side of the best λ so far
            best = previous.best_lr
            for side in (start.lrs[start.lrs < best], start.lrs[start.lrs > best]):
                if side.size >= 2:
                    steps = np.diff(np.log(side))
                    np.testing.assert_allclose(steps, steps[0], rtol=1e-9)
        else:
            assert start.kind == CONFIRM
            assert set(start.lrs) <= {a, b}
    result = events[-1].result
    assert result.stopped_because == "bracket"
    assert result.bracket_ratio <= 1.25
    # The bracket narrowed at every fine stage.
    ratios = [e.bracket[1] / e.bracket[0] for e in ends]
    assert all(later <= earlier for earlier, later in itertools.pairwise(ratios))


def test_the_bracket_is_bounded_by_neighbours_that_trained_the_full_budget():
    config = SimulationConfig(objective="logreg", samples=300, features=3, seed=1, iterations=150)
    search = LrSearch(config)
    result = search.run_to_end()
    for end in result.bracket:
        if math.isclose(end, result.best_lr):
            continue
        settled = [
            t
            for t in search.trials
            if math.isclose(t.lr, end) and t.phase == FULL and (t.diverged or not t.pruned)
        ]
        assert settled, end
        assert all(t.diverged or t.score >= result.best_score for t in settled)
    # Here a neighbour pruned at a rung had to be confirmed.
    assert any(stage.kind == CONFIRM for stage in result.stages)


def test_successive_halving_gives_the_hopeless_few_iterations():
    config = SimulationConfig(objective="quadratic", dim=2, curvature=10, condition=5)
    search = LrSearch(config, SearchSettings(eta=3))
    result = search.run_to_end()
    n = config.iterations
    coarse = result.stages[0]
    # 8 candidates, eta 3: scored at n/3, where the best 3 go on; the tiny λ crawl and stop.
    assert search.rungs(8) == (round(n / 3), n)
    finished = [not p for p in coarse.pruned]
    assert sum(finished) == 3
    for lr, pruned, diverged, its in zip(
        coarse.lrs, coarse.pruned, coarse.diverged, coarse.iterations, strict=True
    ):
        if pruned and not diverged:
            assert its == round(n / 3)
        if lr < 1e-4:
            assert pruned
    # A fine stage of 4 keeps 2 to the full budget.
    for stage in result.stages[1:]:
        if stage.kind == FINE and len(stage.lrs) == 4:
            assert sum(not p for p in stage.pruned) <= 2


def test_diverged_runs_stop_at_once():
    config = SimulationConfig(objective="quadratic", curvature=10.0, iterations=200)
    search = LrSearch(config)
    result = search.run_to_end()
    blown = [t for t in search.trials if t.diverged]
    assert blown
    for trial in blown:
        assert trial.lr > 0.2  # 2/L
        assert trial.pruned and trial.score == math.inf
        assert trial.iterations < 10  # it blew up within a few steps and took no more
    assert result.stages[0].diverged[-1]  # λ = 1


def test_the_coarse_stage_screens_a_dataset_objective_on_a_subset_first():
    config = SimulationConfig(objective="logreg", samples=400, features=5, iterations=90)
    search, events = events_of(config, SearchSettings(subset=0.25))
    phases = [e for e in events if isinstance(e, PhaseStarted)]
    assert (phases[0].stage, phases[0].phase, phases[0].trial_ids.size) == (0, SUBSET, 8)
    assert (phases[1].stage, phases[1].phase, phases[1].trial_ids.size) == (0, FULL, 3)
    assert search.subset_objective.samples == 100
    assert search.objective.samples == 400
    # The subset's rows are rows of the data, and its model is the same.
    x = search.objective.x
    rows = [np.flatnonzero((x == row).all(axis=1))[0] for row in search.subset_objective.x]
    assert len(set(rows)) == 100
    np.testing.assert_array_equal(search.objective.y[rows], search.subset_objective.y)
    # The survivors start again on the full data; the fine stages train on it only.
    assert all(p.phase == FULL for p in phases[2:])
    rung = next(e for e in events if isinstance(e, RungEnded) and e.phase == SUBSET)
    assert rung.iteration == 30 and rung.kept.sum() == 3
    np.testing.assert_array_equal(phases[1].trial_ids, rung.trial_ids[rung.kept])


def test_no_subset_for_objectives_without_data_or_a_fraction_of_one():
    for config, fraction in (
        (SimulationConfig(objective="logreg", samples=300, iterations=60), 1.0),
        (SimulationConfig(objective="quadratic", iterations=60), 0.25),
    ):
        search, events = events_of(config, SearchSettings(subset=fraction))
        assert search.subset_objective is None
        assert all(e.phase == FULL for e in events if isinstance(e, PhaseStarted))


def test_on_samples_keeps_the_model_and_turns_a_large_minibatch_into_full_batch():
    objective = LogisticRegression(samples=200, features=4, batch_size=64)
    part = objective.on_samples(np.arange(50))
    assert (part.samples, part.batch_size, part.stochastic) == (50, None, False)
    np.testing.assert_array_equal(part.x, objective.x[:50])
    np.testing.assert_array_equal(part.initial_point(), objective.initial_point())
    assert objective.samples == 200 and objective.batch_size == 64  # the original untouched
    bigger = objective.on_samples(np.arange(150))
    assert (bigger.batch_size, bigger.stochastic) == (64, True)
    with pytest.raises(ValueError, match="at least one sample"):
        objective.on_samples([])


@pytest.mark.parametrize("criterion", ["final", "best", "area"])
def test_every_criterion_ranks_the_finalists_and_the_winner_is_the_lowest(criterion):
    config = SimulationConfig(objective="quadratic", dim=4, curvature=10, condition=20)
    search = LrSearch(config, SearchSettings(criterion=criterion))
    result = search.run_to_end()
    finalists = [t for t in search.trials if t.phase == FULL and not t.pruned]
    assert result.best_score == min(t.score for t in finalists)
    assert result.criterion == criterion
    if criterion == "area":
        # speed: the mean loss favours the λ that gets down fastest, near the top of the
        # stable band, and never one that diverged
        assert 0.05 < result.best_lr < 0.2


def test_area_is_the_mean_loss_over_the_iterations_run():
    config = SimulationConfig(objective="quadratic", dim=2, curvature=10, condition=4)
    _search, events = events_of(
        config, SearchSettings(criterion="area", stages=1), batch_iterations=7
    )
    simulation = dataclasses.replace(config, lrs=coarse_lrs(1e-7, 1.0)).build()
    losses = np.concatenate([b.loss for b in simulation.run(10_000, 1e9)])
    rung = next(e for e in events if isinstance(e, RungEnded))
    expected = np.nanmean(losses[: rung.iteration], axis=0)
    live = np.isfinite(rung.scores)
    np.testing.assert_allclose(rung.scores[live], expected[live], rtol=1e-12)


@pytest.mark.parametrize("name", sorted(OBJECTIVES))
def test_the_search_works_on_every_objective(name):
    options = {"expr": "(x - 0.5)**2 + 4*(y + 1)**2"} if name == "expr" else {}
    config = SimulationConfig(objective=name, iterations=60, samples=200, **options)
    result = LrSearch(config).run_to_end()
    assert result.best_lr is not None
    low, high = result.bracket
    assert 1e-7 <= low <= result.best_lr <= high <= 1.0
    assert result.iterations_spent > 0
    if name == "expr":  # curvatures 2 and 8: 2/(2 + 8) = 0.2
        assert 0.2 / 1.25 <= result.best_lr <= 0.2 * 1.25


def test_typed_formulas_with_gradient_noise_are_searched_deterministically():
    config = SimulationConfig(
        objective="expr", expr="x**2 + 10*y**2", gradient_noise=0.3, seed=4, iterations=80
    )
    first = LrSearch(config).run_to_end().to_dict()
    assert first == LrSearch(config).run_to_end().to_dict()
    other = LrSearch(dataclasses.replace(config, seed=5)).run_to_end().to_dict()
    assert other != first


def test_the_budget_is_never_passed_and_says_why_it_stopped():
    config = SimulationConfig(objective="quadratic", dim=3, curvature=10, condition=10)
    search = LrSearch(config, SearchSettings(budget=1500))
    result = search.run_to_end()
    assert result.iterations_spent <= 1500
    assert result.stopped_because == "budget"
    with pytest.raises(ValueError, match="cannot pay for the coarse stage"):
        LrSearch(config, SearchSettings(budget=100))


def test_the_stages_limit_stops_the_search():
    config = SimulationConfig(objective="quadratic", dim=3, curvature=10, condition=10)
    result = LrSearch(config, SearchSettings(stages=2)).run_to_end()
    assert len(result.stages) == 2 and result.stopped_because == "stages"
    assert result.bracket_ratio > 1.25


def test_all_diverged_gives_no_winner():
    config = SimulationConfig(objective="quadratic", curvature=1e6, iterations=40)
    result = LrSearch(config, SearchSettings(min_lr=1e-3, max_lr=1.0)).run_to_end()
    assert (result.best_lr, result.bracket, result.stopped_because) == (None, None, "diverged")
    assert result.to_dict()["best_lr"] is None
    assert all(s is None for s in result.to_dict()["stages"][0]["scores"])


def test_a_winner_at_an_end_of_the_range_is_flagged():
    config = SimulationConfig(objective="quadratic", curvature=10, condition=3, iterations=60)
    result = LrSearch(config, SearchSettings(min_lr=1e-6, max_lr=1e-2)).run_to_end()
    assert result.best_lr == pytest.approx(1e-2)
    assert result.at_edge


def test_grid_cost_is_a_log_grid_at_the_final_brackets_ratio_trained_the_full_budget():
    config = SimulationConfig(objective="quadratic", dim=3, curvature=10, condition=10)
    result = LrSearch(config).run_to_end()
    step = result.bracket_ratio
    points = math.ceil(math.log(1e7) / math.log(step)) + 1
    assert result.grid_step == pytest.approx(step)
    assert (result.grid_points, result.grid_cost) == (points, points * config.iterations)
    assert result.iterations_spent < result.grid_cost / 4


def test_json_has_exactly_the_documented_keys():
    config = SimulationConfig(objective="quadratic", iterations=50)
    data = LrSearch(config).run_to_end().to_dict()
    assert set(data) == {"best_lr", "bracket", "stages", "iterations_spent", "grid_cost"}
    for stage in data["stages"]:
        assert set(stage) == {"lrs", "scores", "pruned"}
        assert len(stage["lrs"]) == len(stage["scores"]) == len(stage["pruned"])


def test_progress_events_count_up_to_the_spent_total_and_planned_is_never_below_it():
    config = SimulationConfig(objective="quadratic", dim=3, curvature=10, condition=10)
    _search, events = events_of(config, batch_iterations=25)
    spent = [e.spent for e in events]
    assert spent == sorted(spent)
    assert all(e.planned >= e.spent for e in events)
    assert isinstance(events[-1], SearchFinished)
    assert events[-1].spent == events[-1].result.iterations_spent


def test_a_stopped_search_reports_what_it_found_so_far():
    config = SimulationConfig(objective="quadratic", dim=3, curvature=10, condition=10)
    search = LrSearch(config)
    stream = search.run(batch_iterations=20)
    for event in stream:
        if isinstance(event, StageEnded) and event.result.stage == 1:
            break
    stream.close()
    result = search.result()
    assert result.stopped_because == "stopped"
    assert len(result.stages) == 2 and result.best_lr is not None


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"min_lr": 1.0, "max_lr": 0.1}, "0 < min λ < max λ"),
        ({"min_lr": 0.0}, "0 < min λ < max λ"),
        ({"stages": 0}, "stages"),
        ({"per_stage": 0}, "candidates per stage"),
        ({"eta": 1.0}, "η must be above 1"),
        ({"subset": 0.0}, "subset fraction"),
        ({"subset": 1.5}, "subset fraction"),
        ({"criterion": "median"}, "unknown criterion"),
        ({"factor": 1.0}, "bracket factor"),
        ({"budget": 0}, "budget"),
    ],
)
def test_bad_settings_are_refused_with_one_sentence(changes, message):
    with pytest.raises(ValueError, match=message):
        LrSearch(SimulationConfig(iterations=20), SearchSettings(**changes))


def test_rungs_keep_counts_and_grid_points():
    assert rung_iterations(900, 8, 3) == (300, 900)
    assert rung_iterations(900, 9, 3) == (100, 300, 900)
    assert rung_iterations(900, 1, 3) == (900,)
    assert rung_iterations(20, 8, 3) == (20,)  # 20/3 is under MIN_RUNG_ITERATIONS
    assert rung_iterations(3 * MIN_RUNG_ITERATIONS, 8, 3) == (MIN_RUNG_ITERATIONS, 30)
    assert [keep_count(n, 3) for n in (0, 1, 2, 3, 4, 8, 9, 10)] == [0, 1, 2, 2, 2, 3, 3, 4]
    assert grid_points(1e-7, 1.0, 10.0) == 8
    assert grid_points(1e-7, 1.0, 1.25) == 74
    np.testing.assert_allclose(coarse_lrs(1e-3, 1.0), [1e-3, 1e-2, 1e-1, 1.0])
    assert coarse_lrs(0.1, 0.2).size == 2


# --- properties ------------------------------------------------------------------------------

OBJECTIVE_CASES = [
    {"objective": "quadratic", "dim": 2, "curvature": 10.0, "condition": 5.0},
    {"objective": "quadratic", "dim": 4, "curvature": 3.0, "condition": 30.0},
    {"objective": "rosenbrock"},
    {"objective": "expr", "expr": "x**2 + 3*y**2 + 0.1*x**4"},
]


@st.composite
def searches(draw):
    case = draw(st.sampled_from(OBJECTIVE_CASES))
    low = 10.0 ** draw(st.integers(-8, -2))
    high = low * 10.0 ** draw(st.floats(0.3, 8.0))
    config = SimulationConfig(
        **case, iterations=draw(st.integers(5, 60)), seed=draw(st.integers(0, 3))
    )
    search_settings = SearchSettings(
        min_lr=low,
        max_lr=high,
        stages=draw(st.integers(1, 6)),
        per_stage=draw(st.integers(1, 6)),
        eta=draw(st.sampled_from([1.5, 2.0, 3.0, 4.0])),
        criterion=draw(st.sampled_from(["final", "best", "area"])),
        factor=draw(st.sampled_from([1.1, 1.25, 2.0])),
    )
    cheapest = LrSearch(config, dataclasses.replace(search_settings, stages=1))
    coarse = cheapest.stage_cost(cheapest.coarse_lrs.size, coarse=True)
    if draw(st.booleans()):
        budget = coarse + draw(st.integers(0, 20 * config.iterations))
        search_settings = dataclasses.replace(search_settings, budget=budget)
    return config, search_settings


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(searches())
def test_invariants_bracket_holds_the_winner_spent_within_budget_and_counted(case):
    config, search_settings = case
    search = LrSearch(config, search_settings)
    result = search.run_to_end()
    lo, hi = search_settings.min_lr, search_settings.max_lr
    if result.best_lr is not None:
        a, b = result.bracket
        assert lo * (1 - 1e-9) <= a <= result.best_lr <= b <= hi * (1 + 1e-9)
        finalists = [t for t in search.trials if t.phase == FULL and not t.pruned]
        assert result.best_score == min(t.score for t in finalists)
    assert result.iterations_spent <= search.most_run_iterations()
    if search_settings.budget is not None:
        assert result.iterations_spent <= search_settings.budget
    # Counted from the batches, it equals each trial's iterations (no subset here).
    assert result.iterations_spent == sum(t.iterations for t in search.trials)
    assert len(result.stages) <= search_settings.stages
    for stage in result.stages:
        assert all(lo * (1 - 1e-9) <= lr <= hi * (1 + 1e-9) for lr in stage.lrs)
        for pruned, diverged, its in zip(
            stage.pruned, stage.diverged, stage.iterations, strict=True
        ):
            assert its <= config.iterations
            if not pruned:
                assert its == config.iterations and not diverged
    fresh = [lr for s in result.stages if s.kind != CONFIRM for lr in s.lrs]
    assert len(np.unique(np.round(np.log(fresh), 9))) == len(fresh)  # never a λ twice


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(searches(), st.integers(1, 13))
def test_invariants_determinism_however_the_batches_are_cut(case, batch_iterations):
    config, search_settings = case
    headless = LrSearch(config, search_settings).run_to_end()
    again = LrSearch(config, search_settings).run_to_end()
    assert again == headless
    streamed = LrSearch(config, search_settings)
    events = list(streamed.run(batch_iterations=batch_iterations, batch_seconds=1e9))
    assert events[-1].result == headless


# --- the engine's stop ----------------------------------------------------------------------


def test_stopped_runs_take_no_more_iterations_and_the_others_are_unchanged():
    objective = make_objective("quadratic", dim=3, curvature=10.0, condition=5.0)
    lrs = np.array([0.01, 0.05, 0.1, 0.15])
    stopped = Simulation(objective, "momentum", lrs, 50, divergence_factor=None)
    first = next(stopped.run(batch_iterations=20))
    stopped.stop_runs([0, 2])
    rest = list(stopped.run(batch_iterations=15))
    assert stopped.done and stopped.iteration == 50
    assert np.all(np.isnan(np.concatenate([b.loss for b in rest])[:, [0, 2]]))
    np.testing.assert_array_equal(stopped.diverged_at, -1)  # stopped is not diverged
    np.testing.assert_array_equal(stopped.final_loss[[0, 2]], first.loss[-1, [0, 2]])
    # The runs that went on: bit-identical to a simulation of them alone.
    alone = Simulation(objective, "momentum", lrs[[1, 3]], 50, divergence_factor=None)
    alone_loss = np.concatenate([b.loss for b in alone.run(batch_iterations=50)])
    kept_loss = np.concatenate([first.loss, *[b.loss for b in rest]])[:, [1, 3]]
    np.testing.assert_array_equal(kept_loss, alone_loss)
    stopped.stop_runs([1, 3])
    assert stopped.live_count == 0 and stopped.done

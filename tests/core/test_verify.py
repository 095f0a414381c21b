"""Checking a range test's suggestion with a short fixed-λ sweep (issue 11)."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from cli_call import call

from lrviz.rangetest import RangeTest
from lrviz.simulation_config import SimulationConfig
from lrviz.suggest import Suggestion
from lrviz.suggest.suggestion import empty_methods
from lrviz.verify import WIDEN, SuggestionCheck, verify_lrs, verify_suggestion

BOWL = SimulationConfig(objective="quadratic", dim=3, curvature=10.0, condition=10.0)


def suggestion(suggested=None, likely=None, tested=None) -> Suggestion:
    return Suggestion(
        suggested_lr=suggested,
        min_lr=None,
        max_lr=None,
        start_lr=None,
        stops_improving_lr=None,
        methods=empty_methods(),
        confidence="low",
        warnings=[],
        likely_best=likely,
        tested_range=tested,
    )


def independent_finals(config: SimulationConfig, lrs, iterations: int) -> np.ndarray:
    simulation = dataclasses.replace(config, lrs=np.asarray(lrs), iterations=iterations).build()
    for _ in simulation.run(10_000, 1e9):
        pass
    final = simulation.objective.loss_only(simulation.weights)
    return np.where(simulation.diverged_at >= 0, np.inf, final)


def test_the_lrs_span_the_widened_band_and_include_the_suggestion():
    lrs = verify_lrs(suggestion(0.03, (0.01, 0.05)), runs=9)
    assert lrs.size == 10
    assert lrs[0] == pytest.approx(0.01 / WIDEN) and lrs[-1] == pytest.approx(0.05 * WIDEN)
    assert np.any(np.isclose(lrs, 0.03)) and np.all(np.diff(lrs) > 0)
    around = verify_lrs(suggestion(0.03), runs=5)  # no band: a decade each side
    assert around[0] == pytest.approx(0.003) and around[-1] == pytest.approx(0.3)
    assert around.size == 5  # the suggestion is the middle point already
    tested = verify_lrs(suggestion(tested=(1e-5, 1.0)), runs=6)
    np.testing.assert_allclose(tested, np.geomspace(1e-5, 1.0, 6))
    with pytest.raises(ValueError, match="no λ to check around"):
        verify_lrs(suggestion())
    with pytest.raises(ValueError, match="at least 2 runs"):
        verify_lrs(suggestion(0.03), runs=1)


def test_on_a_bowl_the_measured_best_is_the_lowest_run_and_the_regret_its_ratio():
    proposal = suggestion(0.05, (0.02, 0.1))
    verification = verify_suggestion(BOWL, proposal, iterations=400)
    finals = independent_finals(BOWL, verification.lrs, 400)
    np.testing.assert_allclose(verification.final_loss, finals, rtol=1e-12)
    best = int(np.argmin(finals))
    assert verification.best_lr == pytest.approx(verification.lrs[best])
    # 2/(mu + L) = 2/11 for eigenvalues 1 .. 10: with 400 iterations (the slowest mode's
    # rate decides) the best of the λ tried lies next to it.
    assert 0.18 / 1.5 <= verification.best_lr <= 0.18 * 1.5
    at = int(np.argmin(np.abs(verification.lrs - 0.05)))
    assert verification.suggested_loss == pytest.approx(finals[at])
    assert verification.suggested_regret == pytest.approx(finals[at] / finals[best] - 1)
    assert verification.suggested_regret > 1  # 0.05 crawls next to 0.18
    assert verification.iterations == 400
    assert "λ trained" in verification.why
    assert set(verification.to_dict()) == {"best_lr", "suggested_regret"}


def test_a_suggestion_that_is_the_best_has_no_regret_and_one_that_diverges_the_untrained():
    best = verify_suggestion(BOWL, suggestion(0.18, (0.15, 0.19)), iterations=120)
    # the band's top end times 3 diverges (above 2/L = 0.2); the suggestion is the best run
    assert best.best_lr == pytest.approx(0.18)
    assert best.suggested_regret == 0.0
    blown = SuggestionCheck(BOWL, suggestion(0.5, (0.1, 0.6)), iterations=60)
    verification = blown.run_to_end()
    assert verification.suggested_loss is None
    first = blown.simulation.objective.loss_only(blown.simulation.objective.initial_point()[None])
    assert verification.suggested_regret == pytest.approx(first[0] / verification.best_loss - 1)


def test_the_check_streams_batches_and_a_stopped_check_reports_so_far():
    check = SuggestionCheck(BOWL, suggestion(0.05, (0.02, 0.1)), iterations=100)
    stream = check.run(batch_iterations=30)
    first = next(stream)
    assert first.loss.shape == (30, check.lrs.size)
    stream.close()
    partial = check.result()
    assert partial.iterations == 30 and partial.best_lr is not None


def test_rangetest_verify_json_adds_verified(capsys):
    args = ["rangetest", "--objective", "logreg", "--iterations", "150", "--json"]
    code, out, err = call(args, capsys)
    assert (code, err) == (0, "")
    plain = json.loads(out)
    assert "verified" not in plain
    code, out, err = call([*args, "--verify"], capsys)
    assert (code, err) == (0, "")
    data = json.loads(out)
    assert set(data["verified"]) == {"best_lr", "suggested_regret"}
    # the same numbers as the library's check of the same test
    config = SimulationConfig(objective="logreg")
    reading = RangeTest(config, iterations=150).run_to_end().suggest()
    expected = verify_suggestion(config, reading, iterations=150).to_dict()
    assert data["verified"] == pytest.approx(expected)
    assert data["verified"]["suggested_regret"] >= 0
    # the rest of the document is unchanged
    assert {k: v for k, v in data.items() if k != "verified"} == plain


def test_rangetest_verify_text_and_its_budget(capsys):
    code, out, err = call(["rangetest", "--verify", "--verify-iterations", "80"], capsys)
    assert (code, err) == (0, "")
    assert "verified by 10 runs of 80 iterations" in out
    assert "the suggestion" in out and "best loss measured" in out


def test_verify_iterations_without_verify_is_one_line_exit_2(capsys):
    code, out, err = call(["rangetest", "--verify-iterations", "50"], capsys)
    assert code == 2 and out == ""
    assert err == "lrviz rangetest: error: --verify-iterations needs --verify\n"

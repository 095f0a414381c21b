"""The suggestion against real ground truth: 43 range tests of real PyTorch models, each with
the best constant lr measured by training (tests/fixtures/lr_truth, a copy of shared/lr_truth).

The figures are leave-one-case-out cross-validated by bench/advice.py; these tests fail when
they fall below what the reading reaches today (docs/benchmarks.md), so a change that makes
the advice worse on real networks cannot land quietly.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest

from lrviz.suggest import DEFAULT, library_rules
from lrviz.suggest.ground_truth import HIT_DECADES, REGRET_HIT, load_truth

ROOT = Path(__file__).resolve().parents[2]
TRUTH = ROOT / "tests" / "fixtures" / "lr_truth"
sys.path.insert(0, str(ROOT / "bench"))
import advice  # noqa: E402


@pytest.fixture(scope="module")
def curves():
    return load_truth(TRUTH)


@pytest.fixture(scope="module")
def result():
    return advice.evaluate(TRUTH, structure_grid=True)


def test_the_truth_set_loads(curves):
    assert len(curves) == 43 and len({c.case for c in curves}) == 19
    assert {c.library for c in curves} == {"torch_lr_finder", "lightning", "fastai"}
    for c in curves:
        assert c.lr.size == c.loss.size > 50 and c.best_lr > 0


def test_the_library_rules_equal_what_the_truth_set_recorded(curves):
    """Our re-implementations give exactly what the libraries returned (the truth set checked
    its own against the libraries' outputs)."""
    for c in curves:
        ours = library_rules(c.lr, c.loss, c.num_it)
        for name, recorded in c.recorded_rules.items():
            if name == "library_own":
                continue
            assert ours[name] == pytest.approx(recorded, rel=1e-6), (c.name, name)


def test_the_scoring_reproduces_the_issues_anchor_table(curves):
    """Issue 7's table, from our scoring of the recorded anchor suggestions."""
    expected = {  # rule: (within 3x, regret <= 25%)
        "fastai_minimum": (17, 24),
        "fastai_steep": (25, 19),
        "fastai_valley": (15, 21),
        "torch_lr_finder_steepest": (24, 19),
    }
    for rule, (hits, regret_hits) in expected.items():
        lrs = [c.recorded_rules[rule] for c in curves]
        assert (
            sum(c.error(s) <= HIT_DECADES + 1e-12 for c, s in zip(curves, lrs, strict=True)) == hits
        )
        assert (
            sum(c.regret(s) <= REGRET_HIT for c, s in zip(curves, lrs, strict=True)) == regret_hits
        )


def test_regret_rules(curves):
    c = next(c for c in curves if c.diverged_lr_min is not None)
    worst = c.sweep.untrained_val_loss / c.sweep.best_val_loss - 1
    assert c.regret(c.best_lr) == pytest.approx(0.0, abs=1e-6)
    assert c.regret(c.diverged_lr_min) == worst
    assert c.regret(None) == worst and c.error(None) == 6.0
    assert c.error(c.best_lr * 3) == pytest.approx(math.log10(3))


def test_cross_validated_figures_hold(result):
    """Leave-one-case-out, structure chosen per fold too (the honest figure)."""
    curves = result["curves"]
    f = advice.figures(curves, result["cv"]["stated"], "all")
    assert f["hits"] >= 36  # of 43 within 3x (the issue's target, 38, is not reached)
    assert f["regret_hits"] >= 36  # of 43 with regret <= 25%
    assert f["median_regret"] <= 0.13
    assert f["max_below_divergence"] == 43  # every recommended max lr trains
    assert f["ordered"] == 43  # min < suggested < max on every curve
    assert f["band_coverage"] >= 35 and f["band_width"] <= 1.0  # the targets: >= 80%, <= 1 decade


def test_a_check_run_over_the_band_closes_the_loop(result):
    """The truth sweep stands in for the user's check runs over the likely band."""
    curves = result["curves"]
    once = advice.figures(curves, result["after_check"], "all")
    assert once["regret_hits"] >= 41 and once["median_regret"] <= 0.02
    followed = advice.figures(curves, result["after_two_checks"], "all")
    assert followed["hits"] >= 42 and followed["regret_hits"] >= 42


def test_high_confidence_means_something(result):
    rows = {
        level: (n, hits)
        for level, n, hits in advice.confidence_table(result["curves"], result["cv"]["stated"])
    }
    n, hits = rows["high"]
    assert n >= 10 and hits >= 0.9 * n
    # and high is right more often than low
    n_low, hits_low = rows["low"]
    assert hits / n > hits_low / max(n_low, 1)


def test_the_source_is_found_from_the_data_alone(result):
    assert result["sources_detected"]["data"] == 43
    assert result["sources_detected"]["file"] == 43
    # reading with the detected source is as good as stating it
    curves = result["curves"]
    stated = advice.figures(curves, result["cv"]["stated"], "all")
    detected = advice.figures(curves, result["cv"]["data"], "all")
    assert detected["hits"] >= stated["hits"] - 1


def test_default_constants_are_the_ones_chosen_on_all_cases(result):
    chosen = result["chosen_on_all"]
    assert chosen.offset == pytest.approx(DEFAULT.offset)
    assert chosen.bottom_cap == pytest.approx(DEFAULT.bottom_cap)
    assert chosen.band_below == pytest.approx(DEFAULT.band_below)
    assert chosen.band_above == pytest.approx(DEFAULT.band_above)
    assert chosen.high_span == pytest.approx(DEFAULT.high_span)


def test_lrviz_beats_every_library_rule(result):
    curves = result["curves"]
    ours = advice.figures(curves, result["cv"]["stated"], "all")
    for scored in result["anchors"]:
        theirs = advice.figures(curves, scored, "all")
        assert ours["hits"] > theirs["hits"] and ours["regret_hits"] > theirs["regret_hits"]
        assert ours["median_regret"] < theirs["median_regret"]


def test_the_benchmark_prints_its_table(capsys):
    assert advice.main(["--truth", str(TRUTH)]) == 0
    out = capsys.readouterr().out
    assert "lrviz, CV, source stated" in out and "fastai_valley" in out
    assert "within 3x per confidence" in out and "likely band" in out
    assert np.isfinite(float(out.split("wide on average")[0].split()[-2]))


def test_a_check_of_one_run_per_lr_meets_the_median_regret_target(result):
    """Each truth seed in turn stands in for a user's check (one training per lr over the
    likely band), judged against the best lr of all three seeds: the median regret target
    (5%) is met by every seed, which the range test alone does not reach."""
    curves = result["curves"]
    for seed in advice.CHECK_SEEDS:
        full = advice.figures(curves, result["one_seed_checks"][(seed, 1.0)], "all")
        assert full["median_regret"] <= 0.05, seed
        assert full["hits"] >= 37 and full["regret_hits"] >= 35, seed


def test_the_plateau_is_measured_not_assumed(result):
    """The figures that explain the plateau: the log error shared by one model's curves and
    the spread between its range tests; an unbiased reading with a smaller error would have a
    smaller median regret (the oracle is monotone in the spread)."""
    p = advice.plateau(result["curves"], result["cv"]["stated"], draws=50)
    assert 0 < p["within_case_sd"] < p["error_sd"] and 0 < p["case_sd"] < p["error_sd"]
    medians = list(p["oracle_median_regret"].values())
    assert medians == sorted(medians) and medians[0] < 0.05 < medians[-1]


def test_the_band_is_the_shortest_interval_holding_its_share():
    # a long tail below: quantiles would widen the band for it, the shortest interval does not
    values = [-1.3, -1.2, -0.4, -0.3, -0.2, -0.1, 0.0, 0.1, 0.2, 0.3]
    assert advice.shortest_interval(values, 0.8) == pytest.approx((-0.4, 0.3))
    assert advice.shortest_interval(values, 1.0) == pytest.approx((-1.3, 0.3))
    assert advice.shortest_interval([0.5], 0.85) == pytest.approx((0.5, 0.5))

"""The LR range test: the ramp, the early stop, streaming, and the recorded curve."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from lrviz.engine import Simulation
from lrviz.objectives import make_objective
from lrviz.rangetest import RangeTest, RangeTestResult, RangeTestSpec
from lrviz.schedules import RangeRamp
from lrviz.simulation_config import SimulationConfig
from lrviz.smoothing import debiased_ema

QUADRATIC = SimulationConfig(objective="quadratic", curvature=10.0, dim=2)
MLP = SimulationConfig(objective="mlp", optimizer="adam", batch_size=32, seed=3)


@pytest.mark.parametrize("mode", ["exp", "linear"])
def test_the_lr_follows_the_ramp(mode):
    result = RangeTest(QUADRATIC, 1e-6, 0.1, iterations=50, mode=mode).run_to_end()
    ramp = RangeRamp(1e-6, 0.1, 50, mode)
    assert result.lr.size == 50 and not result.stopped_early
    np.testing.assert_allclose(result.lr, ramp.lr_at(np.arange(50)), rtol=1e-12)
    assert result.lr[0] == pytest.approx(1e-6) and result.lr[-1] == pytest.approx(0.1)


def test_the_curve_is_the_engines_with_a_range_ramp():
    """The test adds nothing to the engine's numbers: same losses as a direct Simulation."""
    result = RangeTest(MLP, 1e-5, 1.0, iterations=80, stop_factor=None).run_to_end()
    objective = make_objective("mlp", batch_size=32, seed=3)
    sim = Simulation(
        objective,
        "adam",
        [1e-5],
        80,
        seed=3,
        schedule=RangeRamp(1e-5, 1.0, 80),
        divergence_factor=None,
    )
    loss = np.concatenate([b.loss[:, 0] for b in sim.run(batch_iterations=7)])
    np.testing.assert_array_equal(result.loss, loss)


def test_it_stops_when_the_smoothed_loss_exceeds_4x_its_best():
    # Quadratic with L = 10: gradient descent diverges above 2 / L = 0.2.
    result = RangeTest(QUADRATIC, 1e-4, 100.0, iterations=200, smoothing=0.0).run_to_end()
    assert result.stopped_early and result.done
    assert result.stop_lr == result.lr[-1]
    assert 0.2 < result.stop_lr < 100.0
    assert result.loss[-1] > 4 * np.min(result.loss[:-1])
    assert np.all(result.loss[:-1] <= 4 * np.minimum.accumulate(result.loss[:-1]))


def test_the_early_stop_watches_the_smoothed_loss():
    raw = RangeTest(QUADRATIC, 1e-4, 100.0, iterations=200, smoothing=0.0).run_to_end()
    smooth = RangeTest(QUADRATIC, 1e-4, 100.0, iterations=200, smoothing=0.9).run_to_end()
    assert smooth.stopped_early and smooth.lr.size > raw.lr.size
    ema = debiased_ema(smooth.loss, 0.9)
    assert ema[-1] > 4 * np.min(ema[:-1])
    np.testing.assert_allclose(smooth.smoothed, ema)


def test_without_a_stop_factor_only_non_finite_losses_stop_it():
    result = RangeTest(QUADRATIC, 1e-4, 1e3, iterations=300, stop_factor=None).run_to_end()
    assert result.stopped_early
    assert not np.isfinite(result.loss[-1]) and np.all(np.isfinite(result.loss[:-1]))
    json.dumps(result.to_dict(), allow_nan=False)  # inf becomes null


def test_streaming_batches_grow_the_result():
    test = RangeTest(MLP, 1e-7, 10.0, iterations=100)
    seen = 0
    for batch in test.run(batch_iterations=17, batch_seconds=3600.0):
        assert batch.start == seen and batch.loss.shape[1] == 1
        seen = batch.stop
        partial = test.result()
        assert test.count == seen
        if partial.stopped_early:  # the row that diverged is the last one kept
            assert partial.lr.size <= seen and partial.stop_lr == partial.lr[-1]
        else:
            assert partial.lr.size == seen
        kept = partial.lr.size - batch.start
        np.testing.assert_array_equal(partial.loss[batch.start :], batch.loss[:kept, 0])
    final = test.result()
    assert final.done and final.lr.size <= 100


def test_pausing_and_resuming_gives_the_same_curve():
    whole = RangeTest(MLP, 1e-7, 10.0, iterations=100).run_to_end()
    test = RangeTest(MLP, 1e-7, 10.0, iterations=100)
    for _ in test.run(batch_iterations=10, batch_seconds=3600.0):
        break  # pause after one batch
    assert not test.done and test.result().lr.size == 10
    for _ in test.run(batch_iterations=25, batch_seconds=3600.0):
        pass
    resumed = test.result()
    np.testing.assert_array_equal(resumed.loss, whole.loss)
    np.testing.assert_array_equal(resumed.lr, whole.lr)


def test_classifiers_record_accuracy():
    result = RangeTest(MLP, 1e-7, 10.0, iterations=60).run_to_end()
    assert result.accuracy is not None and result.accuracy.shape == result.loss.shape
    assert np.all((result.accuracy >= 0) & (result.accuracy <= 1))
    assert RangeTest(QUADRATIC, iterations=10).run_to_end().accuracy is None


def test_result_dict_is_json_ready():
    result = RangeTest(MLP, 1e-7, 10.0, iterations=60).run_to_end()
    data = result.to_dict()
    assert set(data["curve"]) == {"lr", "loss", "smoothed", "accuracy"}
    assert len(data["curve"]["lr"]) == result.lr.size
    text = json.dumps(data, allow_nan=False)
    assert json.loads(text)["min_lr"] == 1e-7


def test_result_suggest_reads_the_raw_curve():
    result = RangeTest(MLP, 1e-7, 10.0, iterations=100).run_to_end()
    assert isinstance(result, RangeTestResult)
    s = result.suggest()
    assert s.suggested_lr is not None and 1e-7 <= s.suggested_lr <= 10.0
    assert s.to_dict() == result.suggest(range_rule="start").to_dict()


def test_the_config_is_left_untouched():
    config = SimulationConfig(objective="quadratic", iterations=7, lrs=np.array([0.5]))
    RangeTest(config, 1e-5, 1.0, iterations=20).run_to_end()
    assert config.iterations == 7 and config.lrs.tolist() == [0.5]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"min_lr": 1.0, "max_lr": 0.1},
        {"min_lr": 0.0},
        {"max_lr": np.inf},
        {"iterations": 1},
        {"mode": "cosine"},
        {"stop_factor": 1.0},
        {"smoothing": 1.0},
    ],
)
def test_bad_settings_raise_value_error(kwargs):
    with pytest.raises(ValueError):
        RangeTest(QUADRATIC, **kwargs)


# --- one description of a range test: the form, the command line and the result ---------


def test_the_spec_is_what_the_result_and_the_command_line_describe(capsys):
    from lrviz.cli import main

    spec = RangeTestSpec(MLP, min_lr=1e-6, max_lr=1.0, iterations=40, stop_factor=None)
    result = spec.build().run_to_end()
    assert result.spec is spec and (result.min_lr, result.max_lr) == (1e-6, 1.0)
    assert result.describe() == {
        **spec.to_dict(),
        "recorded": 40,
        "stopped_early": False,
        "stop_lr": None,
    }
    flags = ["--objective", "mlp", "--optimizer", "adam", "--batch-size", "32", "--seed", "3"]
    flags += ["--min-lr", "1e-6", "--max-lr", "1", "--iterations", "40", "--stop-factor", "none"]
    flags += ["--loss-smoothing", "0.98"]
    assert main(["rangetest", *flags, "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)["range_test"]
    assert printed == json.loads(json.dumps(result.describe()))


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"min_lr": 0.0}, "min λ must be positive and finite"),
        ({"max_lr": float("nan")}, "max λ must be positive and finite"),
        ({"min_lr": 1.0, "max_lr": 0.1}, r"max λ \(0.1\) must be above min λ \(1\)"),
        ({"iterations": 1}, "iterations must be at least 2"),
        ({"mode": "cosine"}, "ramp must be 'exp' or 'linear'"),
        ({"stop_factor": 1.0}, "stop factor must be above 1"),
        ({"smoothing": 1.0}, r"smoothing must be in \[0, 1\)"),
    ],
)
def test_the_spec_names_the_setting_that_is_wrong(change, says):
    spec = dataclasses.replace(RangeTestSpec(QUADRATIC), **change)
    with pytest.raises(ValueError, match=says):
        spec.check()
    with pytest.raises(ValueError, match=says):
        spec.build()
    flag = next(iter(change)).replace("_", "-").replace("smoothing", "loss-smoothing")
    with pytest.raises(ValueError, match=f"--{flag}"):
        spec.check(
            {k: f"--{k.replace('_', '-')}" for k in change} | {"smoothing": "--loss-smoothing"}
        )


def test_the_spec_refuses_a_test_past_the_limits():
    from lrviz.limits import SizeError

    spec = RangeTestSpec(QUADRATIC, min_lr=1e-300, max_lr=1e300)
    spec.check()  # consistent, but the ramp's lrs overflow
    with pytest.raises(SizeError, match="1e-300"):
        spec.check_limits()

"""What the log panels plot: series choice, x-axis conversion, loss vs λ, robust ranges."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lrviz import log_views
from lrviz.loaders.model import Run, Series


def _run(**params) -> Run:
    steps = np.arange(0.0, 100.0, 10.0)
    return Run(
        name="r",
        params=params,
        series=[
            Series("val_loss", "loss", "step", steps[::2], np.linspace(2, 1, 5)),
            Series("train_loss", "loss", "step", steps, np.linspace(3, 1, 10)),
            Series("lr-SGD", "lr", "step", steps, np.geomspace(1e-4, 1e-1, 10)),
            Series("epoch", "epoch", "step", steps, np.floor(steps / 50)),
        ],
    )


def test_pick_series_prefers_the_named_one_then_the_main_one():
    run = _run()
    assert log_views.pick_series(run, "loss", "val_loss").name == "val_loss"
    assert log_views.pick_series(run, "loss").name == "train_loss"
    assert log_views.pick_series(run, "loss", "no-such").name == "train_loss"
    assert log_views.pick_series(run, "metric") is None


def test_series_names_most_common_first():
    a, b = _run(), _run()
    b.series = [s for s in b.series if s.name != "val_loss"]
    assert log_views.series_names([a, b], "loss") == ["train_loss", "val_loss"]


def test_x_values_converts_steps_to_epochs():
    run = _run()
    loss = run.get("train_loss")
    x, axis = log_views.x_values(run, loss, "epoch")
    assert axis == "epoch"
    np.testing.assert_array_equal(x, np.floor(np.arange(0.0, 100.0, 10.0) / 50))
    x, axis = log_views.x_values(run, loss, "time")
    assert axis == "step"  # no wall-time series: stays on its own axis
    np.testing.assert_array_equal(x, loss.x)


def test_loss_against_lr_interpolates_in_log_space():
    run = _run()
    val = run.get("val_loss")
    lr, loss = log_views.loss_against_lr(run, val)
    np.testing.assert_allclose(lr, np.geomspace(1e-4, 1e-1, 10)[::2])
    np.testing.assert_array_equal(loss, val.y)


def test_loss_against_lr_needs_an_lr_series():
    run = _run()
    run.series = [s for s in run.series if s.role != "lr"]
    assert log_views.loss_against_lr(run, run.get("train_loss")) is None


def test_available_axes():
    assert log_views.available_axes([_run()]) == ["step", "epoch"]


def test_sweep_points_sorted_by_lr_with_final_and_best():
    runs = [_run(lr=0.1), _run(lr=0.01), _run(), _run(lr="bad")]
    runs[0].series[1] = Series("train_loss", "loss", "step", [0, 1, 2], [3.0, 0.5, np.nan])
    table = log_views.sweep_points(runs)
    np.testing.assert_array_equal(table["lr"], [0.01, 0.1])
    np.testing.assert_array_equal(table["index"], [1, 0])
    assert table["final"][1] == 0.5 and table["best"][1] == 0.5
    assert table["final"][0] == 1.0


def test_sweep_points_keep_each_study_apart():
    """One Optuna database holds several studies: their trials are grouped (the panel's
    line joins a group's dots only), each group sorted by λ, groups in the order seen."""
    runs = [
        _run(lr=0.1, study="b"),
        _run(lr=0.001, study="a"),
        _run(lr=0.01, study="b"),
        _run(lr=0.003, study="a"),
        _run(lr=0.03, experiment="mlflow-exp"),
    ]
    table = log_views.sweep_points(runs)
    np.testing.assert_array_equal(table["lr"], [0.01, 0.1, 0.001, 0.003, 0.03])
    np.testing.assert_array_equal(table["group"], [0, 0, 1, 1, 2])
    np.testing.assert_array_equal(table["index"], [2, 0, 1, 3, 4])
    groups = log_views.sweep_groups(runs)
    assert [g for g, _ in groups] == [("study", "b"), ("study", "a"), ("experiment", "mlflow-exp")]
    assert [members for _, members in groups] == [[0, 2], [1, 3], [4]]
    # Runs of a log say nothing of a study: one sweep, as before.
    plain = log_views.sweep_points([_run(lr=0.1), _run(lr=0.01)])
    np.testing.assert_array_equal(plain["group"], [0, 0])
    assert log_views.sweep_name({"study": "a", "best_lr": 0.1}) == "a"
    assert log_views.sweep_name({"best_lr": 0.1}) is None


def test_robust_range_ignores_spikes():
    y = np.ones(1000)
    y[::100] = 1e6
    lo, hi = log_views.robust_range(y)
    assert hi < 10
    lo, hi = log_views.robust_range(y, log=True)
    assert lo < 1 < hi < 10


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.floats(allow_nan=True, allow_infinity=True, width=64), max_size=50), st.booleans()
)
def test_robust_range_never_raises_and_is_ordered(values, log):
    band = log_views.robust_range(np.array(values, dtype=np.float64), log=log)
    if band is not None:
        lo, hi = band
        assert np.isfinite(lo) and np.isfinite(hi) and lo < hi


@pytest.mark.parametrize("axis", ["step", "epoch", "time"])
def test_x_values_on_own_axis_is_identity(axis):
    s = Series("loss", "loss", axis, [1.0, 2.0], [3.0, 4.0])
    x, got = log_views.x_values(Run("r", series=[s]), s, axis)
    assert got == axis and np.array_equal(x, s.x)


def test_a_step_schedule_is_held_to_the_next_point_and_a_smooth_one_left_alone():
    from lrviz.log_views import held_steps

    x = np.arange(6.0)
    y = np.array([0.1, 0.1, 0.1, 0.01, 0.01, 0.01])
    hx, hy = held_steps(x, y)
    assert hx.tolist() == [0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert hy.tolist() == [0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.01, 0.01, 0.01, 0.01, 0.01]
    smooth = 0.1 * np.cos(np.linspace(0, 1.5, 6))
    np.testing.assert_array_equal(held_steps(x, smooth)[1], smooth)
    np.testing.assert_array_equal(held_steps(x, np.full(6, 0.1))[1], np.full(6, 0.1))
    assert held_steps(x[:2], y[:2])[0].size == 2


def test_the_curves_drawn_of_a_big_sweep_are_its_lowest_final_losses():
    from lrviz.loaders.model import Run, Series
    from lrviz.log_views import lowest_final_losses

    def run(last: float) -> Run:
        return Run("r", series=[Series("loss", "loss", "step", [0, 1], [2.0, last])])

    runs = [run(v) for v in (0.5, float("nan"), 0.1, 0.9, 0.3)]
    assert lowest_final_losses(runs, 3) == [0, 2, 4]  # in their own order
    assert lowest_final_losses(runs, 10) == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("log", [False, True])
@pytest.mark.parametrize("holes", [False, True])
def test_the_robust_band_leaves_the_curve_it_reads_as_it_was(log, holes):
    """The band partitions one copy of the values in place, never the curve's own array."""
    y = np.random.default_rng(0).lognormal(size=5000)
    if holes:
        y[::7] = np.nan
    before = y.copy()
    lo, hi = log_views.robust_range(y, log=log)
    np.testing.assert_array_equal(y, before)
    finite = before[np.isfinite(before)]
    if log:
        band = 10.0 ** np.percentile(np.log10(finite), [5, 95])
        assert lo < band[0] and hi > band[1]
    else:
        lo_p, hi_p = np.percentile(finite, [5, 95])
        assert lo == pytest.approx(lo_p - 0.1 * (hi_p - lo_p))
        assert hi == pytest.approx(hi_p + 0.1 * (hi_p - lo_p))

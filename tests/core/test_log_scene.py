"""What the log panels draw, derived without Qt (lrviz.log_scene, lrviz.envelope.chunks)."""

from __future__ import annotations

from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lrviz import log_scene, log_views
from lrviz.envelope import chunks, within
from lrviz.loaders.model import Run, Series
from lrviz.smoothing import debiased_ema


def run(name, loss, lr=None, params=None, steps=None, extra=()):
    steps = np.arange(len(loss), dtype=float) if steps is None else steps
    series = [Series("loss", "loss", "step", steps, np.asarray(loss, dtype=float))]
    if lr is not None:
        series.append(Series("lr", "lr", "step", steps, np.asarray(lr, dtype=float)))
    series.extend(extra)
    return Run(name=name, params=params or {}, series=series)


def scene_runs(*runs, fmt="csv"):
    return [log_scene.SceneRun(key=object(), run=r, label=r.name, format=fmt) for r in runs]


# --- chunks: what the screen shows of a long curve ------------------------------------------


def test_a_short_curve_is_drawn_as_it_is():
    x, y = np.arange(10.0), np.linspace(1, 2, 10)
    sx, sy = chunks(x, y, 8)
    np.testing.assert_array_equal(sx, x)
    np.testing.assert_array_equal(sy, y)


def test_peak_chunks_keep_every_spike_and_the_range():
    rng = np.random.default_rng(1)
    y = rng.random(100_000)
    y[12_345] = 50.0  # one spike
    y[77_777] = -3.0
    x = np.arange(y.size, dtype=float)
    sx, sy = chunks(x, y, 1000, "peak")
    assert sy.size <= 2 * 1000 + 2 * 100  # screen resolution, not the history
    assert sy.max() == 50.0 and sy.min() == -3.0
    assert sx[0] == 0.0 and np.all(np.diff(sx) >= 0)
    # the spike sits in the chunk that holds it
    assert sx[np.argmax(sy)] <= 12_345 < sx[np.argmax(sy)] + 101


def test_mean_chunks_of_a_noisy_line_stay_a_line():
    x = np.arange(1_000_000, dtype=float)
    y = 10.0 - x / 1e5 + np.random.default_rng(0).normal(0, 1, x.size)
    _, sy = chunks(x, y, 1000, "mean")
    # each chunk's mean is the line within a tenth; its min and max would be ±4 apart
    np.testing.assert_allclose(sy[:1000], 10.0 - (np.arange(1000) * 1000 + 500) / 1e5, atol=0.2)


def test_nan_points_are_ignored_inside_a_chunk_and_a_nan_chunk_is_a_gap():
    y = np.arange(40.0)
    y[0:10] = np.nan  # a whole chunk
    y[15] = np.nan
    for how in ("peak", "mean"):
        _, sy = chunks(np.arange(40.0), y, 4, how)
        assert np.isnan(sy[0])
        assert np.isfinite(sy[2 if how == "peak" else 1])


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(-1e6, 1e6) | st.just(float("nan")), min_size=0, max_size=400),
    st.integers(1, 50),
)
def test_peak_chunks_keep_the_finite_extremes_of_any_curve(values, columns):
    y = np.array(values, dtype=float)
    x = np.arange(y.size, dtype=float)
    sx, sy = chunks(x, y, columns, "peak")
    assert sx.size == sy.size
    finite = y[np.isfinite(y)]
    shown = sy[np.isfinite(sy)]
    if finite.size:
        assert shown.max() == finite.max() and shown.min() == finite.min()
    else:
        assert shown.size == 0


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.floats(-1e6, 1e6) | st.sampled_from([float("nan"), float("inf"), -float("inf")]),
        min_size=0,
        max_size=400,
    ),
    st.integers(1, 50),
)
def test_mean_chunks_are_each_chunks_mean_of_its_finite_points(values, columns):
    """Each chunk's mean (the last one shorter), infinities and NaN left out: the whole
    chunks are read in place, only those holding a non-finite point are masked."""
    y = np.array(values, dtype=float)
    x = np.arange(y.size, dtype=float)
    sx, sy = chunks(x, y, columns, "mean")
    if y.size <= 2 * columns:
        assert sy is y
        return
    size = int(np.ceil(y.size / columns))
    for k, start in enumerate(range(0, y.size, size)):
        part = y[start : start + size]
        part = part[np.isfinite(part)]
        assert sx[k] == start
        if part.size:
            assert sy[k] == pytest.approx(part.mean(), rel=1e-9, abs=1e-6)
        else:
            assert np.isnan(sy[k])


def test_within_takes_the_points_in_range_and_one_beyond_each_edge():
    x = np.arange(100.0)
    rows = within(x, 10.5, 20.5)
    assert rows[0] == 10 and rows[-1] == 21
    # recorded order going back and forth (loss vs λ): a pass, neighbours included
    back = np.array([1.0, 5.0, 2.0, 8.0, 3.0])
    np.testing.assert_array_equal(within(back, 4.0, 6.0), [0, 1, 2])


# --- derive: the scene of a few runs ---------------------------------------------------------


def test_the_scene_holds_full_data_smoothed_curves_and_their_screen_resolution():
    loss = np.exp(-np.arange(10_000) / 3000) + 0.01 * np.sin(np.arange(10_000))
    lr = np.geomspace(1e-5, 1, 10_000)
    runs = scene_runs(run("a", loss, lr))
    scene = log_scene.derive(runs, log_scene.SceneOptions(smoothing=0.9, columns=500))
    (curve,) = scene.loss
    np.testing.assert_array_equal(curve.y, loss)
    np.testing.assert_allclose(curve.smoothed, debiased_ema(loss, 0.9))
    assert curve.shown[0].size <= 1002 and curve.shown_smoothed[0].size <= 501
    (lr_curve,) = scene.lr
    np.testing.assert_allclose(lr_curve.y, lr)
    (pairs,) = scene.loss_lr
    np.testing.assert_allclose(pairs.x, lr)  # loss against λ, paired as the CLI pairs
    assert scene.axis == "step" and scene.runs == 1 and scene.hidden_runs == 0
    band = scene.robust[True]
    assert band is not None and band[0] < loss.min() * 1.5 and band[1] > 0.5


def test_a_range_test_curve_goes_to_the_range_tool_not_the_layer():
    loss = np.linspace(2, 1, 50)
    runs = scene_runs(run("finder", loss, np.geomspace(1e-6, 1, 50)), fmt="lr-finder-csv")
    scene = log_scene.derive(runs, log_scene.SceneOptions())
    assert scene.loss_lr == [] and scene.range_curve is not None
    entry, (lr, y) = scene.range_curve
    assert entry is runs[0] and lr.size == 50 and y[0] == pytest.approx(2.0)


def test_a_big_sweep_draws_its_lowest_final_losses_and_keeps_every_point():
    models = [
        run(f"t{i}", [2.0, 1.0 + i / 100], params={"lr": lr})
        for i, lr in enumerate(np.geomspace(1e-4, 1, 30))
    ]
    scene = log_scene.derive(scene_runs(*models), log_scene.SceneOptions(max_curves=5))
    assert scene.runs == 5 and scene.hidden_runs == 25
    assert [c.label for c in scene.loss] == [f"t{i}: loss" for i in range(5)]
    assert scene.sweep["lr"].size == 30  # every trial on loss vs λ
    np.testing.assert_allclose(scene.sweep["final"], [1.0 + i / 100 for i in range(30)])


def test_train_and_validation_together_and_the_names_to_offer():
    val = Series("val_loss", "loss", "step", np.array([0.0, 2.0]), np.array([3.0, 2.5]))
    models = [run("a", [2.0, 1.5, 1.0], extra=[val])]
    options = log_scene.SceneOptions(loss_choice=log_scene.TRAIN_AND_VALIDATION)
    scene = log_scene.derive(scene_runs(*models), options)
    assert [c.label for c in scene.loss] == ["a: loss", "a: val_loss"]
    assert scene.has_validation
    assert scene.loss_names == log_views.series_names(models, "loss")


def test_an_axis_the_runs_do_not_have_falls_back_to_theirs():
    epochs = Series("loss", "loss", "epoch", np.arange(3.0), np.array([3.0, 2.0, 1.0]))
    models = [Run(name="k", params={}, series=[epochs])]
    scene = log_scene.derive(scene_runs(*models), log_scene.SceneOptions(axis="step"))
    assert scene.axis == "epoch" and scene.axes == ["epoch"]
    assert scene.loss[0].x.tolist() == [0.0, 1.0, 2.0]


def test_the_cache_smooths_and_pairs_a_series_once_and_forgets_what_went():
    loss = np.linspace(2, 1, 1000)
    models = [run("a", loss, np.geomspace(1e-4, 1, 1000))]
    cache = log_scene.DerivationCache()
    options = log_scene.SceneOptions(smoothing=0.6)
    first = log_scene.derive(scene_runs(*models), options, cache)
    again = log_scene.derive(scene_runs(*models), options, cache)
    assert again.loss[0].smoothed is first.loss[0].smoothed
    assert again.loss_lr[0].x is first.loss_lr[0].x
    other = [run("b", loss * 2)]
    log_scene.derive(scene_runs(*other), options, cache)
    assert len(cache._smoothed) == 1  # a's entry went with a


def test_the_cache_knows_a_log_read_in_a_child_process(monkeypatch):
    """A log read in a child arrives unpickled; deriving it again with the same options
    smooths nothing again (np.asarray made a new view of such an array every time)."""
    import pickle

    model = pickle.loads(pickle.dumps(run("a", np.linspace(2, 1, 1000)), protocol=5))
    calls = []
    monkeypatch.setattr(
        log_scene, "debiased_ema", lambda y, w: calls.append(y.size) or debiased_ema(y, w)
    )
    cache = log_scene.DerivationCache()
    options = log_scene.SceneOptions(smoothing=0.6)
    first = log_scene.derive(scene_runs(model), options, cache)
    again = log_scene.derive(scene_runs(model), options, cache)
    assert calls == [1000]
    assert again.loss[0].smoothed is first.loss[0].smoothed
    assert first.loss[0].y is model.series[0].y


def test_a_loss_paired_point_for_point_with_lr_is_smoothed_once(monkeypatch):
    """An LR-finder CSV pairs every loss point with its row's λ: loss vs λ's smoothed curve
    is the learning curve's, smoothed once (a 10M-point log spent 0.7-1.2 s on the second)."""
    loss = np.linspace(2, 1, 1000)
    loss[500] = np.nan
    models = [run("a", loss, np.geomspace(1e-4, 1, 1000))]
    calls = []
    monkeypatch.setattr(
        log_scene, "debiased_ema", lambda y, w: calls.append(y.size) or debiased_ema(y, w)
    )
    scene = log_scene.derive(scene_runs(*models), log_scene.SceneOptions(smoothing=0.6))
    assert calls == [1000]
    (curve,) = scene.loss_lr
    np.testing.assert_array_equal(curve.y, loss)
    np.testing.assert_array_equal(curve.smoothed, debiased_ema(loss, 0.6))
    np.testing.assert_array_equal(curve.x, np.geomspace(1e-4, 1, 1000))


def test_lr_and_loss_logged_on_the_same_rows_pair_without_a_search(monkeypatch):
    """An LR-finder CSV's λ and loss share their rows: the pairs are the two series as they
    are (pair_lr_loss searched every step of a 10M-row log for them: 1.6 s)."""
    loss = np.linspace(2, 1, 1000)
    model = run("a", loss, np.geomspace(1e-4, 1, 1000))
    searched = []
    monkeypatch.setattr(
        log_views, "loss_against_lr", lambda *a: searched.append(a) or pytest.fail("searched")
    )
    (curve,) = log_scene.derive(scene_runs(model), log_scene.SceneOptions()).loss_lr
    assert searched == []
    assert curve.x is model.get("lr").y and curve.y is model.get("loss").y


@settings(max_examples=200, deadline=None)
@given(
    steps=st.lists(st.integers(0, 40), min_size=0, max_size=30),
    ordered=st.booleans(),
    lr=st.lists(st.floats(1e-6, 1.0), min_size=30, max_size=30),
    bad_lr=st.sampled_from([None, float("nan"), 0.0, -1.0, float("inf")]),
    loss=st.lists(st.floats(0.0, 5.0) | st.just(float("nan")), min_size=30, max_size=30),
    shift=st.booleans(),
    piece=st.integers(1, 8),
)
def test_pairs_found_row_for_row_are_the_pairs_pair_lr_loss_finds(
    steps, ordered, lr, bad_lr, loss, shift, piece
):
    from lrviz.suggest.pairing import pair_lr_loss

    x = np.unique(steps).astype(float) if ordered else np.array(steps, dtype=float)
    n = x.size
    lr_y = np.array(lr[:n])
    if bad_lr is not None and n:
        lr_y[n // 2] = bad_lr
    lr_x = x + 1 if shift and n else x.copy()
    lr_series = Series("lr", "lr", "step", lr_x, lr_y)
    loss_series = Series("loss", "loss", "step", x, np.array(loss[:n]))
    with mock.patch.object(log_scene, "PIECE_POINTS", piece):
        quick = log_scene._row_for_row(lr_series, loss_series)
    want = pair_lr_loss(lr_series, loss_series)
    if quick is None:
        return  # pair_lr_loss pairs them
    assert want is not None
    np.testing.assert_array_equal(quick[0], want[0])
    np.testing.assert_array_equal(quick[1], want[1])
    assert ordered or n < 2 or bool(np.all(np.diff(x) > 0))


@pytest.mark.parametrize("at", [1, 3, 4, 5])
def test_steps_that_go_back_between_two_pieces_are_not_row_for_row(at):
    x = np.arange(8.0)
    x[at] = x[at - 1]  # a repeated step where piece meets piece (pieces of 4)
    lr = Series("lr", "lr", "step", x, np.geomspace(1e-4, 1, 8))
    loss = Series("loss", "loss", "step", x, np.linspace(2, 1, 8))
    with mock.patch.object(log_scene, "PIECE_POINTS", 4):
        assert log_scene._row_for_row(lr, loss) is None
        ordered = Series("loss", "loss", "step", np.arange(8.0), loss.y)
        lr_ordered = Series("lr", "lr", "step", np.arange(8.0), lr.y)
        assert log_scene._row_for_row(lr_ordered, ordered) is not None


def test_a_loss_paired_by_interpolation_is_smoothed_on_its_own():
    loss = np.linspace(2, 1, 100)
    lr = Series("lr", "lr", "step", np.arange(0.0, 100.0, 10.0), np.geomspace(1e-4, 1, 10))
    model = Run(name="a", params={}, series=[run("a", loss).series[0], lr])
    scene = log_scene.derive(scene_runs(model), log_scene.SceneOptions(smoothing=0.6))
    (curve,) = scene.loss_lr
    np.testing.assert_array_equal(curve.y, loss)
    np.testing.assert_allclose(curve.smoothed, debiased_ema(loss, 0.6))


def test_zoom_draws_the_shown_part_at_full_detail():
    x = np.arange(1_000_000, dtype=float)
    y = np.random.default_rng(2).random(x.size)
    runs = scene_runs(run("big", y))
    scene = log_scene.derive(runs, log_scene.SceneOptions(smoothing=0.5, columns=1000))
    (detail,) = log_scene.zoom(scene.loss, 1000.0, 1500.0, columns=1000)
    (sx, sy), (_mx, my) = detail
    # 500 points in view: every one of them, as logged, plus one beyond each edge
    np.testing.assert_array_equal(sx, x[999:1502])
    np.testing.assert_array_equal(sy, y[999:1502])
    np.testing.assert_allclose(my, scene.loss[0].smoothed[999:1502])

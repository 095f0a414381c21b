"""The model: roles from names, keep-last for repeated steps, series and run helpers."""

from __future__ import annotations

import numpy as np
import pytest

from lrviz.loaders.model import LogData, Run, Series, infer_role, keep_last, make_series


@pytest.mark.parametrize(
    ("name", "role"),
    [
        ("step", "step"),
        ("global_step", "step"),
        ("training_iteration", "epoch"),  # Ray Tune: one report an epoch
        ("epoch", "epoch"),
        ("Wall time", "time"),
        ("train_loss", "loss"),
        ("val/loss", "loss"),
        ("lr-SGD", "lr"),
        ("lr-Adam/pg1", "lr"),
        ("lr-SGD-momentum", "other"),
        ("learning_rate", "lr"),
        ("x/lr0", "lr"),
        ("lr/pg0", "lr"),
        ("val_accuracy", "metric"),
        ("metrics/mAP50(B)", "metric"),
        ("bbox/AP", "metric"),
        ("grad_norm", "other"),
    ],
)
def test_infer_role(name, role):
    assert infer_role(name) == role


def test_keep_last_strictly_increasing_is_untouched():
    x = np.array([1.0, 2.0, 3.0])
    y = np.array([5.0, 6.0, 7.0])
    kx, ky = keep_last(x, y)
    assert kx is x and ky is y


def test_keep_last_with_runs_of_equal_steps():
    x = np.array([1.0, 1.0, 2.0, 3.0, 3.0, 3.0])
    y = np.array([10.0, 11.0, 20.0, 30.0, 31.0, 32.0])
    kx, ky = keep_last(x, y)
    assert kx.tolist() == [1, 2, 3] and ky.tolist() == [11, 20, 32]


def test_keep_last_after_a_resume_that_goes_back():
    x = np.array([0.0, 1.0, 2.0, 3.0, 2.0, 3.0, 4.0])
    y = np.array([0.0, 1.0, 2.0, 3.0, 20.0, 30.0, 40.0])
    kx, ky = keep_last(x, y)
    assert kx.tolist() == [0, 1, 2, 3, 4] and ky.tolist() == [0, 1, 20, 30, 40]


def test_make_series_drops_missing_cells_and_nonfinite_x_but_keeps_nan_y():
    x = np.array([0.0, 1.0, np.nan, 3.0, 4.0])
    y = np.array([1.0, np.nan, 2.0, np.nan, 5.0])
    present = np.array([True, True, True, False, True])
    s = make_series("train_loss", x, y, "step", present=present)
    assert s.role == "loss"
    assert s.x.tolist() == [0, 1, 4]
    assert np.isnan(s.y[1])


def test_index_axis_keeps_order_and_repeats():
    s = make_series("loss", np.array([0.0, 0.0, 1.0]), np.array([3.0, 2.0, 1.0]), "index")
    assert len(s) == 3


def test_series_and_logdata_validate():
    with pytest.raises(ValueError):
        Series("a", "speed", "step", np.zeros(2), np.zeros(2))
    with pytest.raises(ValueError):
        Series("a", "loss", "step", np.zeros(2), np.zeros(3))
    with pytest.raises(ValueError):
        LogData("excel", [])


def test_find_prefers_the_training_loss_and_the_first_param_group():
    def s(name, role, n=3):
        return Series(name, role, "step", np.arange(n, dtype=float), np.ones(n))

    run = Run(
        "r",
        series=[
            s("val_loss", "loss", 10),
            s("train_loss_epoch", "loss"),
            s("train_loss_step", "loss"),
            s("lr-SGD/pg1", "lr"),
            s("lr-SGD", "lr"),
            s("train_acc", "metric"),
            s("val_acc", "metric"),
        ],
    )
    assert run.find("loss").name == "train_loss_step"
    assert run.find("lr").name == "lr-SGD"
    assert run.find("metric").name == "val_acc"
    assert run.find("time") is None
    run.main["loss"] = "val_loss"
    assert run.find("loss").name == "val_loss"


def test_x_as_converts_steps_to_epochs():
    loss = Series("loss", "loss", "step", np.array([0.0, 50.0, 100.0]), np.ones(3))
    epoch = Series("epoch", "epoch", "step", np.array([0.0, 100.0]), np.array([0.0, 1.0]))
    run = Run("r", series=[loss, epoch])
    assert run.x_as(loss, "epoch").tolist() == [0.0, 0.5, 1.0]
    assert run.x_as(loss, "time") is None

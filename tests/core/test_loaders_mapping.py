"""Explicit column mappings (for a mapping dialog) and the column list it offers."""

from __future__ import annotations

from pathlib import Path

import pytest

from lrviz.errors import LrvizError
from lrviz.loaders import ColumnMapping, list_columns, load

LOGS = Path(__file__).resolve().parents[1] / "fixtures" / "logs"


def test_unrecognised_loss_column_is_not_guessed():
    run = load(LOGS / "plain/unnamed.csv").runs[0]
    assert run.find("loss") is None


def test_mapping_names_x_lr_and_loss():
    m = ColumnMapping(x="it", lr="learning rate", loss="L")
    run = load(LOGS / "plain/unnamed.csv", mapping=m).runs[0]
    loss = run.find("loss")
    assert loss.name == "L" and loss.role == "loss"
    assert loss.x.tolist() == [0, 1, 2] and loss.y.tolist() == [3.0, 2.5, 2.2]
    assert run.find("lr").name == "learning rate"
    assert run.get("it") is None  # x is not also a series


def test_mapping_can_choose_another_x_and_axis():
    m = ColumnMapping(x="learning rate", loss="L", x_axis="index")
    loss = load(LOGS / "plain/unnamed.csv", mapping=m).runs[0].find("loss")
    assert loss.x.tolist() == [0.001, 0.002, 0.004] and loss.x_axis == "index"


def test_mapping_overrides_a_recognised_format():
    m = ColumnMapping(loss="val_loss")
    run = load(LOGS / "lightning_logs/version_0/metrics.csv", mapping=m).runs[0]
    assert run.find("loss").name == "val_loss"


def test_mapping_works_for_json_lines():
    m = ColumnMapping(loss="loss_cls")
    run = load(LOGS / "detectron2/metrics.json", mapping=m).runs[0]
    assert run.find("loss").name == "loss_cls"


@pytest.mark.parametrize("bad", [ColumnMapping(x="nope"), ColumnMapping(loss="missing")])
def test_mapping_to_an_unknown_column_is_an_error(bad):
    with pytest.raises(LrvizError, match="no column named"):
        load(LOGS / "plain/unnamed.csv", mapping=bad)


def test_mapping_rejects_unknown_axis():
    with pytest.raises(ValueError):
        ColumnMapping(x_axis="minutes")


def test_list_columns():
    assert list_columns(LOGS / "plain/unnamed.csv") == ["it", "learning rate", "L"]
    assert list_columns(LOGS / "plain/quirks.csv")[:3] == ["step", "loss", "lr"]
    cols = list_columns(LOGS / "detectron2/metrics.json")
    assert cols[:3] == ["data_time", "eta_seconds", "iteration"] and "bbox/AP" in cols
    assert "grad_norm" in list_columns(LOGS / "hf/trainer_state.json")
    assert list_columns(LOGS / "tb_torch/events.out.tfevents.1700000000.host.1.0") == [
        "train/loss",
        "lr-SGD",
    ]
    with pytest.raises(LrvizError):
        list_columns(LOGS / "sweep")

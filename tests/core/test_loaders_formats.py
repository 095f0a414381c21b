"""Each log format, read from fixtures written after shared/LOG_FORMATS.md."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from lrviz.errors import LrvizError
from lrviz.loaders import load
from lrviz.loaders.detect import detect

LOGS = Path(__file__).resolve().parents[1] / "fixtures" / "logs"


def series(log, run, name):
    s = log.runs[run].get(name) if isinstance(run, int) else None
    assert s is not None, f"no series {name!r}"
    return s


def test_lightning_sparse_columns_keep_only_logged_points():
    log = load(LOGS / "lightning_logs/version_0/metrics.csv")
    assert log.format == "lightning-csv"
    run = log.runs[0]
    assert run.name == "version_0"
    assert run.params["lr"] == 0.1 and run.params["model.depth"] == 18
    loss = run.get("train_loss")
    assert loss.role == "loss" and loss.x_axis == "step"
    assert loss.x.tolist() == [49, 99, 149, 199]
    assert loss.y[0] == 2.2897543907165527  # full precision survives
    assert math.isnan(loss.y[2])  # a real nan loss is a point, not a gap
    assert run.get("val_loss").x.tolist() == [99, 199]
    lr = run.get("lr-SGD")
    assert lr.role == "lr" and lr.y.tolist() == [0.1, 0.05]
    epoch = run.get("epoch")
    assert epoch.role == "epoch" and epoch.y.tolist() == [0, 0, 1, 1]
    assert run.find("loss").name == "train_loss"
    assert run.find("lr").name == "lr-SGD"
    assert run.x_as(loss, "epoch").tolist() == [0, 0, 1, 1]


def test_lightning_resume_keeps_last_value_of_repeated_steps():
    run = load(LOGS / "lightning_logs/version_1/metrics.csv").runs[0]
    loss = run.get("train_loss")
    assert loss.x.tolist() == [49, 99, 149, 199]
    assert loss.y.tolist() == [2.5, 1.95, 1.75, 1.5]
    assert run.params == {}  # hparams.yaml is "{}"


def test_keras_csv_logger_na_columns_and_appended_epochs():
    log = load(LOGS / "keras/training.log.csv")
    assert log.format == "keras-csv"
    run = log.runs[0]
    assert run.get("val_loss") is None  # all NA: nothing logged
    loss = run.get("loss")
    assert loss.x_axis == "epoch"
    assert loss.x.tolist() == [0, 1, 2]
    # The appended run restarted epochs 0 and 1: the later values win.
    assert loss.y.tolist() == [0.4800000190734863, 0.3100000023841858, 0.2800000011920929]
    assert run.find("lr").name == "learning_rate"
    assert run.find("metric").name == "accuracy"


def test_keras_semicolon_separator_with_decimal_commas():
    run = load(LOGS / "keras/semicolon.csv").runs[0]
    assert run.get("loss").y.tolist() == [0.5, 0.32]
    assert run.get("lr").y.tolist() == [0.001, 0.001]
    assert run.get("val_accuracy").y.tolist() == [0.9, 0.91]


def test_keras_crcrlf_line_ends():
    run = load(LOGS / "keras/crcrlf.csv").runs[0]
    assert run.get("loss").y.tolist() == [0.9, 0.7, 0.6]
    assert run.get("learning_rate").y.tolist() == [0.001, 0.001, 0.0005]


def test_keras_history_from_pandas():
    log = load(LOGS / "keras/history.csv")
    assert log.format == "keras-history-csv"
    run = log.runs[0]
    val_acc = run.get("val_accuracy")
    assert val_acc.x_axis == "epoch"
    assert val_acc.x.tolist() == [0, 2]  # the empty cell is NaN written by pandas: missing
    assert run.find("lr").y.tolist() == [0.001, 0.001, 0.0005]


def test_fastai_none_durations_repeated_header_and_short_rows():
    log = load(LOGS / "fastai/history.csv")
    assert log.format == "fastai-csv"
    run = log.runs[0]
    train = run.get("train_loss")
    # Second fit restarts at epoch 0 after a repeated header: placed after the first fit.
    assert train.x.tolist() == [0, 1, 2, 3]
    assert train.y.tolist() == [0.947654128074646, 0.6011499881744385, 0.4011499881744385, 0.35]
    valid = run.get("valid_loss")
    assert valid.x.tolist() == [0, 1]  # None cells and the short row hold no value
    time = run.get("time")
    assert time.role == "other"
    assert time.y.tolist() == [12.0, 20.0, 3600 + 2 * 60 + 5]


def test_hugging_face_trainer_state():
    log = load(LOGS / "hf/trainer_state.json")
    assert log.format == "hf-trainer-state"
    run = log.runs[0]
    assert run.find("loss").name == "loss"
    assert run.get("loss").x.tolist() == [2, 4, 6]
    grad = run.get("grad_norm").y
    assert math.isnan(grad[0]) and grad[1] == math.inf  # bare NaN / Infinity
    assert run.get("eval_loss").x.tolist() == [4]
    assert run.get("learning_rate").role == "lr"
    assert run.params["max_steps"] == 6


def test_tensorboard_csv_download():
    log = load(LOGS / "tensorboard/run-version_0-tag-train_loss.csv")
    assert log.format == "tensorboard-csv"
    run = log.runs[0]
    assert run.name == "version_0"
    loss = run.find("loss")
    assert loss.name == "train_loss" and loss.x.tolist() == [0, 10, 20]
    assert math.isnan(loss.y[-1])
    assert run.get("wall_time").role == "time"


def test_tensorboard_event_files_of_a_restarted_run():
    log = load(LOGS / "tb_torch")
    assert log.format == "tensorboard-dir"
    loss = log.runs[0].get("train/loss")
    assert loss.x.tolist() == list(range(8))  # the truncated last record is ignored
    # Steps 3 and 4 were logged by both files: the later file wins.
    np.testing.assert_allclose(loss.y[3:5], [1.0 - 0.05 * 3, 1.0 - 0.05 * 4], rtol=1e-6)
    np.testing.assert_allclose(loss.y[:3], [2.0, 1.9, 1.8], rtol=1e-6)


def test_tensorboard_tf2_tensor_scalars():
    log = load(LOGS / "tb_keras")
    assert [r.name for r in log.runs] == ["train", "validation"]
    train = log.runs[0]
    loss = train.get("epoch_loss")
    assert loss.x_axis == "epoch" and loss.x.tolist() == [0, 1, 2]
    np.testing.assert_allclose(loss.y, [0.9, 0.6, 0.45], rtol=1e-6)
    assert train.get("epoch_learning_rate").y.tolist() == [0.001] * 3  # double tensor_content


def test_wandb_export_runs_with_separators_in_names():
    log = load(LOGS / "wandb/wandb_export.csv")
    assert log.format == "wandb-csv"
    assert [r.name for r in log.runs] == ["run-a", "lr 0.1 - seed 1"]
    a, b = log.runs
    assert [s.name for s in a.series] == ["train/loss"]  # __MIN/__MAX are not series
    assert a.series[0].y.tolist() == [2.33, 1.9, 1.5]  # last line has no newline: kept
    assert b.series[0].x.tolist() == [0, 20]  # "" cells are missing


@pytest.mark.parametrize("folder", ["v8_padded", "v11", "yolov5"])
def test_ultralytics_results(folder):
    log = load(LOGS / "ultralytics" / folder / "results.csv")
    assert log.format == "ultralytics-csv"
    run = log.runs[0]
    loss = run.find("loss")
    assert loss.name == "train/box_loss" and loss.x_axis == "epoch" and len(loss) == 3
    lr = run.find("lr")
    assert lr.name in ("lr/pg0", "x/lr0")
    if folder == "v11":
        assert run.get("time").y.tolist() == [12.5, 25.0, 40.0]  # resumed epoch 3: last wins
    if folder == "yolov5":
        assert loss.x.tolist() == [0, 1, 2]


def test_detectron2_metrics_json():
    log = load(LOGS / "detectron2/metrics.json")
    assert log.format == "detectron2-json"
    run = log.runs[0]
    total = run.find("loss")
    assert total.name == "total_loss"
    assert total.x.tolist() == [19, 39, 59]
    assert total.y.tolist() == [2.0, 1.6, 1.4]  # iteration 39 repeated after a resume
    ap = run.get("bbox/AP")
    assert ap.role == "metric" and ap.x.tolist() == [39]
    assert run.get("time").role == "other"


def test_mmengine_scalars_json():
    log = load(LOGS / "mmengine/vis_data/scalars.json")
    assert log.format == "mmengine-json"
    run = log.runs[0]
    assert run.get("loss").x.tolist() == [50, 100, 150]
    m = run.get("coco/bbox_mAP")
    assert m.x_axis == "epoch" and m.x.tolist() == [1]  # validation step is the epoch
    assert run.get("val/time") is not None


def test_mmcv_log_json():
    log = load(LOGS / "mmcv/20230101_120000.log.json")
    assert log.format == "mmcv-json"
    run = log.runs[0]
    assert run.params["lr"] == 0.02  # from the config in the metadata line
    loss = run.get("loss")
    assert loss.x.tolist() == [50, 100, 150]  # iter restarts each epoch: 100 per epoch
    assert run.get("lr/head").y.tolist() == [0.02]  # lr logged as a dict per group
    assert run.get("time").y.tolist() == [0.5, 0.5, 0.5]  # "0.5" as a string still counts
    assert run.get("bbox_mAP").x_axis == "epoch"


def test_lr_finder_outputs():
    log = load(LOGS / "lr_finder/lr_find.csv")
    assert log.format == "lr-finder-csv"
    run = log.runs[0]
    lr, loss = run.find("lr"), run.find("loss")
    assert lr.x_axis == loss.x_axis == "index"
    assert len(lr) == len(loss) == 9
    assert loss.y[-2] == 1e30 and math.isnan(loss.y[-1])  # the diverged tail is kept
    indexed = load(LOGS / "lr_finder/lr_find_index.csv")
    assert indexed.format == "lr-finder-csv"
    assert indexed.runs[0].find("loss").x.tolist() == [0, 1, 2, 3]


def test_plain_tsv_uses_step_like_column():
    log = load(LOGS / "plain/metrics.tsv")
    assert log.format == "csv"
    loss = log.runs[0].find("loss")
    assert loss.x_axis == "step" and loss.x.tolist() == [1, 2, 3]


def test_headerless_csv_is_read_as_data():
    run = load(LOGS / "plain/headerless.csv").runs[0]
    assert [s.name for s in run.series] == ["column 1", "column 2"]
    assert run.series[0].x_axis == "index" and run.series[0].y.tolist() == [0.001, 0.01, 0.1]


@pytest.mark.parametrize(
    ("rel", "fmt"),
    [
        ("lightning_logs/version_0/metrics.csv", "lightning-csv"),
        ("keras/training.log.csv", "keras-csv"),
        ("keras/history.csv", "keras-history-csv"),
        ("fastai/history.csv", "fastai-csv"),
        ("hf/trainer_state.json", "hf-trainer-state"),
        ("tensorboard/run-version_0-tag-train_loss.csv", "tensorboard-csv"),
        ("tb_torch/events.out.tfevents.1700000000.host.1.0", "tensorboard-events"),
        ("wandb/wandb_export.csv", "wandb-csv"),
        ("ultralytics/v8_padded/results.csv", "ultralytics-csv"),
        ("detectron2/metrics.json", "detectron2-json"),
        ("mmengine/vis_data/scalars.json", "mmengine-json"),
        ("mmcv/20230101_120000.log.json", "mmcv-json"),
        ("lr_finder/lr_find_index.csv", "lr-finder-csv"),
        ("plain/metrics.tsv", "csv"),
    ],
)
def test_detection_is_by_content_not_file_name(tmp_path, rel, fmt):
    data = (LOGS / rel).read_bytes()
    anonymous = tmp_path / "log.dat"
    anonymous.write_bytes(data)
    assert detect(str(anonymous)) == fmt


def test_bad_row_reports_line_and_column():
    with pytest.raises(LrvizError) as err:
        load(LOGS / "plain/bad_row.csv")
    assert err.value.line == 3 and err.value.column == 7
    assert str(err.value).endswith(
        "bad_row.csv:3:7: row has 4 cells but the header names 2 columns"
    )


def test_bad_json_line_reports_line_and_column(tmp_path):
    p = tmp_path / "metrics.json"
    p.write_text(
        '{"iteration": 1, "total_loss": 1.0}\n{"iteration": 2, total_loss: 1}\n{"iteration": 3}\n'
    )
    with pytest.raises(LrvizError) as err:
        load(p)
    assert (err.value.line, err.value.column) == (2, 18)


def test_cut_off_json_line_at_the_end_is_ignored(tmp_path):
    p = tmp_path / "metrics.json"
    p.write_text(
        '{"iteration": 1, "total_loss": 1.0}\n{"iteration": 2, "total_loss": 0.5}\n{"itera'
    )
    assert load(p).runs[0].find("loss").x.tolist() == [1, 2]


@pytest.mark.parametrize("content", [b"", b"   \n\n", b"\x00\x01\x02binary"])
def test_empty_or_binary_files_are_errors(tmp_path, content):
    p = tmp_path / "x.csv"
    p.write_bytes(content)
    with pytest.raises(LrvizError):
        load(p)


def test_missing_path_is_an_error(tmp_path):
    with pytest.raises(LrvizError, match="no such file"):
        load(tmp_path / "nope.csv")


def test_header_only_file_loads_with_no_points(tmp_path):
    p = tmp_path / "metrics.csv"
    p.write_bytes(b"epoch,step,train_loss\r\n")
    log = load(p)
    assert log.format == "lightning-csv" and log.runs[0].series == []


def test_fixtures_are_what_the_generator_writes(tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_fixtures", LOGS / "make_fixtures.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    gen.main(tmp_path)
    made = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert made, "the generator wrote nothing"
    for rel in made:
        assert (LOGS / rel).read_bytes() == (tmp_path / rel).read_bytes(), rel

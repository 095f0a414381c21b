"""Folders as sets of runs; sweeps as loss against λ."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lrviz.errors import LrvizError
from lrviz.loaders import load
from lrviz.loaders.hparams import find_lr, parse_yaml
from lrviz.log_views import sweep_points

LOGS = Path(__file__).resolve().parents[1] / "fixtures" / "logs"


def test_lightning_logs_folder_is_one_run_per_version():
    log = load(LOGS / "lightning_logs")
    assert log.format == "lightning-dir"
    assert [r.name for r in log.runs] == ["version_0", "version_1"]
    assert log.runs[0].params["lr"] == 0.1


def test_versions_sort_numerically(tmp_path):
    for n in (10, 2, 1):
        d = tmp_path / "lightning_logs" / f"version_{n}"
        d.mkdir(parents=True)
        (d / "metrics.csv").write_text(f"epoch,step,train_loss\n0,1,{n}\n")
    log = load(tmp_path)
    assert [r.name for r in log.runs] == [
        "lightning_logs/version_1",
        "lightning_logs/version_2",
        "lightning_logs/version_10",
    ]


def test_one_version_folder():
    log = load(LOGS / "lightning_logs/version_1")
    assert log.format == "lightning-dir" and [r.name for r in log.runs] == ["version_1"]


def test_sweep_folder_and_its_loss_vs_lr_table():
    log = load(LOGS / "sweep")
    assert log.format == "sweep-dir"
    assert len(log.runs) == 4
    assert log.runs[3].params["lr"] == 1.0  # from hparams.yaml's nested optimizer.lr
    table = sweep_points(log.runs)
    assert table["lr"].tolist() == [0.001, 0.01, 0.1, 1.0]
    assert table["final"].tolist()[:3] == [1.7, 0.9, 1.4]
    assert table["diverged"].tolist() == [False, False, False, True]  # ends in NaN
    assert table["best"].tolist() == [1.7, 0.9, 1.4, 2.0]
    assert log.runs[table["index"][1]].name.endswith("lr=0.01")


def test_sweep_lr_from_ray_config_column(tmp_path):
    for i, lr in enumerate((0.3, 0.03)):
        d = tmp_path / f"trial_{i}"
        d.mkdir()
        (d / "params.json").write_text('{"batch_size": 8}')
        (d / "progress.csv").write_text(
            f"loss,training_iteration,config/lr\n1.0,1,{lr}\n0.5,2,{lr}\n"
        )
    table = sweep_points(load(tmp_path).runs)
    assert table["lr"].tolist() == [0.03, 0.3]


def test_tensorboard_folder_runs_are_subfolders():
    log = load(LOGS / "tb_keras")
    assert log.format == "tensorboard-dir"
    assert [r.name for r in log.runs] == ["train", "validation"]


def test_hugging_face_output_folder_uses_the_latest_checkpoint():
    log = load(LOGS / "hf_output")
    assert log.format == "hf-trainer-state"
    assert log.runs[0].get("loss").x.tolist() == [2, 4, 6]
    # named after the run's folder, not only "checkpoint-6" (every checkpoint is called so)
    assert log.runs[0].name == "hf_output/checkpoint-6"


def test_folder_of_tensorboard_csv_downloads_merges_runs(tmp_path):
    src = LOGS / "tensorboard/run-version_0-tag-train_loss.csv"
    shutil.copy(src, tmp_path / "run-version_0-tag-train_loss.csv")
    (tmp_path / "run-version_0-tag-lr-SGD.csv").write_text(
        "Wall time,Step,Value\n1.0,0,0.1\n2.0,10,0.05\n"
    )
    log = load(tmp_path)
    assert log.format == "tensorboard-csv"
    assert len(log.runs) == 1
    run = log.runs[0]
    assert run.find("lr").name == "lr-SGD" and run.find("loss").name == "train_loss"


def test_folder_mixing_formats_is_an_error(tmp_path):
    shutil.copy(LOGS / "keras/history.csv", tmp_path / "a.csv")
    shutil.copy(LOGS / "lr_finder/lr_find.csv", tmp_path / "b.csv")
    with pytest.raises(LrvizError, match="mixes log formats"):
        load(tmp_path)


def test_empty_folder_is_an_error(tmp_path):
    with pytest.raises(LrvizError, match="no training logs"):
        load(tmp_path)


def test_yaml_reader():
    text = (
        "lr: 1e-3\nname: 'resnet'\nuse_amp: true\nnothing: null\n"
        "optimizer:\n  lr: 0.5\n  betas: [0.9, 0.99]\n"
    )
    params = parse_yaml(text)
    assert params == {
        "lr": 0.001,
        "name": "resnet",
        "use_amp": True,
        "nothing": None,
        "optimizer.lr": 0.5,
    }
    assert find_lr(params) == 0.001  # the least nested wins
    assert find_lr({"optimizer.lr": 0.5}) == 0.5
    assert find_lr({"learning_rate": "3e-4"}) == 0.0003
    assert parse_yaml("{}\n") == {}


def test_sub_folders_of_metrics_csvs_without_params_are_runs(tmp_path):
    """runs/a/metrics.csv, runs/b/log.csv (a training script's own layout) said "no training
    logs found in this folder"."""
    for name, file in (("a", "metrics.csv"), ("b", "log.csv")):
        (tmp_path / name).mkdir()
        (tmp_path / name / file).write_text("step,loss\n0,2.0\n1,1.5\n")
    log = load(tmp_path)
    assert log.format == "sweep-dir" and [r.name for r in log.runs] == ["a", "b"]
    assert all("lr" not in r.params for r in log.runs)
    assert log.runs[1].find("loss").y.tolist() == [2.0, 1.5]


def test_folders_named_for_their_lr_are_a_sweep(tmp_path):
    from lrviz.commands.inspect import sweep_reading

    for lr, final in (("1e-3", 1.2), ("0.01", 0.6), ("0.1", 0.9)):
        run = tmp_path / f"lr_{lr}"
        run.mkdir()
        (run / "metrics.csv").write_text(f"step,loss\n0,2.0\n1,{final}\n")
    # a params file without λ: the folder's name still says it
    (tmp_path / "lr_0.01" / "params.json").write_text('{"batch": 32}')
    log = load(tmp_path)
    assert sorted(r.params["lr"] for r in log.runs) == [0.001, 0.01, 0.1]
    assert sweep_points(log.runs)["lr"].tolist() == [0.001, 0.01, 0.1]
    assert sweep_reading(log)["lrs"] == 3


def test_a_log_directly_inside_still_wins_over_sub_folders(tmp_path):
    (tmp_path / "top.csv").write_text("step,loss\n0,2.0\n1,1.0\n")
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "metrics.csv").write_text("step,loss\n0,3.0\n")
    log = load(tmp_path)
    assert log.format == "csv" and [r.name for r in log.runs] == ["top"]


@pytest.mark.parametrize(
    ("name", "lr"),
    [
        ("lr_0.01", 0.01),
        ("lr=3e-4", 3e-4),
        ("run-lr0.1", 0.1),
        ("learning_rate_1e-3", 1e-3),
        ("exp_lr1e-2_bs32", 1e-2),
        ("LR_1", 1.0),
        ("lr_schedule", None),
        ("flr_0.1", None),
        ("lr_0", None),
        ("lr_0.01.5", None),
        ("version_0", None),
    ],
)
def test_lr_in_a_folder_name(name, lr):
    from lrviz.loaders.folder import _lr_from_name

    assert _lr_from_name(name) == ({} if lr is None else {"lr": lr})


@given(st.floats(min_value=1e-12, max_value=1e3, allow_nan=False, allow_infinity=False))
def test_lr_in_a_folder_name_reads_back_as_written(lr):
    from lrviz.loaders.folder import _lr_from_name

    for text in (repr(lr), f"{lr:g}", f"{lr:.3e}"):
        assert _lr_from_name(f"lr_{text}") == {"lr": float(text)}
        assert _lr_from_name(f"trial_3_lr={text}_seed1") == {"lr": float(text)}

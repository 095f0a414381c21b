"""Closing the loop: the check script, and the suggestion refined from its runs."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from cli_call import call

from lrviz.loaders import load
from lrviz.suggest.check_run import TARGETS, check_script
from lrviz.suggest.refine import check_lrs, measured_best, measured_best_from_log

ROOT = Path(__file__).resolve().parents[2]
CURVE = ROOT / "tests" / "fixtures" / "lr_truth" / "curves"
SWEEP = ROOT / "tests" / "fixtures" / "logs" / "sweep"


def test_check_lrs_spread_over_the_band():
    lrs = check_lrs((1e-3, 1e-1), 5)
    assert lrs[0] == pytest.approx(1e-3) and lrs[-1] == pytest.approx(1e-1)
    np.testing.assert_allclose(np.diff(np.log10(lrs)), 0.5, atol=0.01)
    for band, runs in (((1e-1, 1e-3), 5), ((0.0, 1.0), 5), ((1e-3, 1e-1), 1)):
        with pytest.raises(ValueError):
            check_lrs(band, runs)


def test_measured_best_is_the_vertex_of_a_parabola_in_log_lr():
    lr = np.geomspace(1e-4, 1e-1, 7)
    loss = (np.log10(lr) + 2.2) ** 2 + 0.1  # lowest at 10**-2.2
    m = measured_best(lr, loss)
    assert m.best_lr == pytest.approx(10**-2.2, rel=1e-6)
    assert not m.at_edge and "parabola" in m.why


def test_diverged_runs_never_win_and_edges_say_where_to_look():
    lr = [1e-3, 1e-2, 1e-1, 1.0]
    m = measured_best(lr, [0.5, 0.4, np.nan, np.inf])
    # bounded above by the runs that diverged: nothing to look for there
    assert m.best_lr == pytest.approx(1e-2) and not m.at_edge and "2 diverged" in m.why
    m = measured_best(lr, [0.5, 0.4, 0.3, 0.2])
    assert m.best_lr == pytest.approx(1.0) and m.at_edge and "try above" in m.why
    m = measured_best(lr, [0.1, 0.4, 0.5, 0.6])
    assert m.best_lr == pytest.approx(1e-3) and m.at_edge and "try below" in m.why
    # a run that ends above the untrained loss diverged, whatever its number
    m = measured_best(lr, [0.5, 0.4, 0.1, 3.0], first_loss=[2.0, 2.0, 2.0, 2.0])
    assert m.best_lr != 1.0
    assert measured_best([1e-3, 1e-2], [np.nan, 0.3]) is None
    json.dumps(m.to_dict(), allow_nan=False)


def test_a_sweep_folder_gives_its_measured_best():
    m = measured_best_from_log(load(SWEEP))
    assert m is not None and m.lr.size >= 3
    assert m.lr.min() <= m.best_lr <= m.lr.max()


@pytest.mark.parametrize("target", TARGETS)
def test_every_check_script_is_valid_python_naming_its_lrs(target):
    text = check_script([1e-3, 1e-2, 1e-1], target, suggested_lr=1e-2, steps=200)
    compile(text, f"check_{target}.py", "exec")
    assert "LRS = [1e-3, 0.01, 0.1]" in text and "STEPS = 200" in text
    assert "# <- yours" in text and "lrviz_check" in text
    with pytest.raises(ValueError):
        check_script([1e-3], target)


def test_the_pytorch_check_runs_and_lrviz_reads_what_it_logs(tmp_path):
    torch = pytest.importorskip("torch")  # not a dependency: run where torch is installed
    del torch
    text = check_script([1e-3, 1e-2, 1e-1, 1.0], "pytorch", steps=60)
    text = text.replace(
        "train_loader = ...  # <- yours: a DataLoader of (x, y) batches",
        "g = torch.Generator().manual_seed(1)\n"
        "X = torch.randn(256, 5, generator=g)\n"
        "Y = (X @ torch.randn(5, 3, generator=g)).argmax(1)\n"
        "data = torch.utils.data.TensorDataset(X[:200], Y[:200])\n"
        "train_loader = torch.utils.data.DataLoader(data, batch_size=20, shuffle=True)",
    )
    text = text.replace(
        "val_loader = ...  # <- yours",
        "val_loader = torch.utils.data.DataLoader("
        "torch.utils.data.TensorDataset(X[200:], Y[200:]), batch_size=56)",
    )
    text = text.replace(
        "return ...  # <- yours: a fresh model",
        "return torch.nn.Sequential(torch.nn.Linear(5, 16), torch.nn.ReLU(), "
        "torch.nn.Linear(16, 3))",
    )
    (tmp_path / "check.py").write_text(text)
    subprocess.run([sys.executable, "check.py"], cwd=tmp_path, check=True, capture_output=True)
    log = load(tmp_path / "lrviz_check")
    assert log.format == "sweep-dir" and len(log.runs) == 4
    m = measured_best_from_log(log)
    assert m is not None and 1e-3 <= m.best_lr <= 1.0


def test_cli_prints_a_check_script(capsys):
    path = str(CURVE / "e03_resnet3bn_digits16_nesterov_wd__fastai_end10_n100.csv")
    code, out, err = call(["suggest", path, "--check-script", "keras", "--check-runs", "4"], capsys)
    assert (code, err) == (0, "")
    compile(out, "check.py", "exec")
    assert out.count(",") >= 3 and "keras" in out


def test_cli_refines_from_the_check_folder(tmp_path, capsys):
    """The truth sweep stands in for the user's check runs (bench/advice.py does it for
    every curve: docs/benchmarks.md)."""
    sys.path.insert(0, str(ROOT / "bench"))
    import advice

    from lrviz.suggest.ground_truth import load_truth

    curve = next(
        c
        for c in load_truth(ROOT / "tests" / "fixtures" / "lr_truth")
        if c.name.startswith("d12_deep8_digits_sgd__fastai")
    )
    code, out, _ = call(["suggest", str(CURVE / f"{curve.name}.csv"), "--json"], capsys)
    band = json.loads(out)["likely_best"]
    advice.write_check_folder(tmp_path / "check", curve, band)
    code, out, err = call(
        [
            "suggest",
            str(CURVE / f"{curve.name}.csv"),
            "--refine",
            str(tmp_path / "check"),
            "--json",
        ],
        capsys,
    )
    assert (code, err) == (0, "")
    refined = json.loads(out)["refined"]
    assert abs(math.log10(refined["best_lr"] / curve.best_lr)) <= math.log10(3)
    assert len(refined["runs"]) >= 3
    code, out, err = call(
        ["suggest", str(CURVE / f"{curve.name}.csv"), "--refine", str(tmp_path / "check")], capsys
    )
    assert "measured best lr:" in out


def test_cli_refine_and_check_errors_exit_2(tmp_path, capsys):
    path = str(CURVE / "e03_resnet3bn_digits16_nesterov_wd__fastai_end10_n100.csv")
    (tmp_path / "empty").mkdir()
    for argv in (
        ["suggest", path, "--refine", str(tmp_path / "nothere")],
        ["suggest", path, "--refine", str(tmp_path / "empty")],
        ["suggest", path, "--check-script", "pytorch", "--check-runs", "1"],
        ["suggest", path, "--check-script", "tensorflow"],
        ["suggest", path, "--source", "fastai", "--input-smoothing", "0.98"],
    ):
        code, out, err = call(argv, capsys)
        assert code == 2 and out == "" and err.count("\n") == 1, (argv, err)


def test_repeated_lrs_are_averaged_and_never_divide_by_zero():
    m = measured_best([1e-3, 1e-3, 1e-2, 1e-2, 1e-1], [0.5, 0.7, 0.2, 0.4, np.inf])
    np.testing.assert_allclose(m.lr, [1e-3, 1e-2, 1e-1])
    np.testing.assert_allclose(m.loss[:2], [0.6, 0.3])
    assert m.best_lr == pytest.approx(1e-2) and not m.at_edge


def test_inspect_reads_the_best_lr_of_a_sweep(capsys):
    code, out, err = call(["inspect", str(SWEEP), "--json"], capsys)
    assert (code, err) == (0, "")
    sweep = json.loads(out)["sweep"]
    a, b = sweep["bracket"]
    assert a <= sweep["best_lr"] <= b and sweep["lrs"] >= 3
    code, out, err = call(["inspect", str(SWEEP)], capsys)
    assert "best lr across trials" in out

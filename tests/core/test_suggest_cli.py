"""The headless ``suggest`` and ``rangetest`` commands, and that they never import Qt."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from cli_call import call

from lrviz.commands.suggest import read_curve

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "rangetest"
sys.path.insert(0, str(FIXTURES))
from make_fixtures import curve  # noqa: E402

SUGGEST_KEYS = {"suggested_lr", "min_lr", "max_lr", "methods", "warnings", "confidence"}


def suggest_json(capsys, *args) -> dict:
    code, out, err = call(["suggest", *args, "--json"], capsys)
    assert (code, err) == (0, "")
    return json.loads(out)


@pytest.fixture(scope="module")
def raw_curve():
    return curve()


# --- reading the saved curves --------------------------------------------------------------


def test_the_fixtures_read_back_as_the_range_test_that_made_them(raw_curve):
    lr, loss = raw_curve
    got_lr, got_loss = read_curve(FIXTURES / "torch_lr_finder.csv")
    # The file was written on one CPU, the curve is recomputed on this one: the maths agrees to
    # rounding (AVX2 and AVX-512 kernels differ in the last bits), not bit for bit.
    np.testing.assert_allclose(got_lr[:100], lr, rtol=1e-9)
    np.testing.assert_allclose(got_loss[:100], loss, rtol=1e-9)
    assert np.isposinf(got_loss[100]) and np.isnan(got_loss[101])
    # Semicolons, decimal commas, a BOM, CRLF: the row with an empty loss is left out.
    excel_lr, excel_loss = read_curve(FIXTURES / "excel_semicolon.csv")
    np.testing.assert_allclose(excel_lr, np.delete(lr, 50), rtol=1e-9)
    np.testing.assert_allclose(excel_loss, np.delete(loss, 50), atol=1e-10)
    custom = read_curve(FIXTURES / "custom_columns.csv", "learning_rate_x", "train/loss")
    np.testing.assert_allclose(custom[1], loss, rtol=1e-9)  # the repeated header row is skipped


def test_suggest_json_matches_the_library(capsys, raw_curve):
    from lrviz.suggest import suggest

    data = suggest_json(capsys, str(FIXTURES / "torch_lr_finder.csv"))
    assert SUGGEST_KEYS <= set(data)
    assert set(data["methods"]) == {"steepest", "valley", "minimum", "slide"}
    assert data["points"] == 102
    lr, loss = raw_curve
    expected = suggest(lr, loss).to_dict()
    assert data["suggested_lr"] == pytest.approx(expected["suggested_lr"])
    assert data["likely_best"] == pytest.approx(expected["likely_best"])
    assert data["why"] == expected["why"] and data["confidence"] == expected["confidence"]
    # The file is named like torch-lr-finder's, but its losses are raw: read as raw.
    assert data["source"] == "raw" and "negative" in data["source_reason"]


def test_every_flavour_of_the_same_curve_gives_the_same_suggestion(capsys):
    reference = suggest_json(capsys, str(FIXTURES / "torch_lr_finder.csv"))
    excel = suggest_json(capsys, str(FIXTURES / "excel_semicolon.csv"))
    custom = suggest_json(
        capsys,
        str(FIXTURES / "custom_columns.csv"),
        "--lr-col",
        "learning_rate_x",
        "--loss-col",
        "train/loss",
    )
    # fastai saves the smoothed loss; undoing its EMA recovers the raw curve's reading.
    fastai = suggest_json(capsys, str(FIXTURES / "fastai_index.csv"), "--input-smoothing", "0.98")
    for other in (excel, custom, fastai):
        assert other["suggested_lr"] == pytest.approx(reference["suggested_lr"], rel=0.05)
        assert other["max_lr"] == pytest.approx(reference["max_lr"], rel=0.05)


def test_a_smoothed_log_read_as_raw_lags_to_larger_lrs(capsys):
    path = str(FIXTURES / "fastai_index.csv")
    lagged = suggest_json(capsys, path, "--input-smoothing", "0")
    undone = suggest_json(capsys, path, "--input-smoothing", "0.98")
    assert lagged["suggested_lr"] > 2 * undone["suggested_lr"]
    # By default a finder CSV whose losses look smoothed is un-smoothed; raw ones are not.
    auto = suggest_json(capsys, path)
    assert auto["input_smoothing"] == 0.98 and auto["source"] == "fastai"
    assert auto["suggested_lr"] == pytest.approx(undone["suggested_lr"])
    assert suggest_json(capsys, str(FIXTURES / "torch_lr_finder.csv"))["input_smoothing"] == 0


def test_range_rule_option(capsys):
    data = suggest_json(capsys, str(FIXTURES / "torch_lr_finder.csv"), "--range-rule", "fourth")
    assert data["min_lr"] == pytest.approx(min(data["max_lr"] / 4, data["suggested_lr"] / 2))
    assert data["range_rule"] == "fourth"


def test_human_summary(capsys):
    code, out, err = call(["suggest", str(FIXTURES / "torch_lr_finder.csv")], capsys)
    assert (code, err) == (0, "")
    assert "suggested lr:" in out and "recommended range:" in out and "steepest" in out
    assert "likely best:" in out and "why:" in out and "read as:" in out
    assert "confidence " in out


def test_a_flat_curve_is_not_an_error(tmp_path, capsys):
    path = tmp_path / "flat.csv"
    path.write_text("lr,loss\n" + "".join(f"{lr},2.3\n" for lr in np.geomspace(1e-6, 1, 50)))
    data = suggest_json(capsys, str(path))
    assert data["suggested_lr"] is None and data["warnings"]
    code, out, _ = call(["suggest", str(path)], capsys)
    assert code == 0 and "warning: flat curve" in out


def test_a_headerless_file_needs_its_columns_named(tmp_path, capsys):
    lr = np.geomspace(1e-6, 1, 60)
    loss = 2.0 - 1.5 / (1 + np.exp(-(np.log10(lr) + 3) / 0.3)) + np.exp((np.log10(lr) + 1) / 0.3)
    path = tmp_path / "bare.csv"
    path.write_text("".join(f"{a}, {b}\n" for a, b in zip(lr, loss, strict=True)))
    code, _, err = call(["suggest", str(path)], capsys)
    assert code == 2 and "--lr-col" in err and err.count("\n") == 1
    named = suggest_json(capsys, str(path), "--lr-col", "column 1", "--loss-col", "column 2")
    assert named["points"] == 60 and named["suggested_lr"] is not None


# --- bad files -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("contents", "message"),
    [
        (b"", "empty file"),
        (b"\n\n  \n", "empty file"),
        (b"lr,loss\n", "no lr and no loss column with numbers (columns: lr, loss)"),
        (b"step,value\n1,2\n", "no lr and no loss column with numbers (columns: step, value)"),
        (b"lr,accuracy\n1e-3,0.5\n", "no loss column with numbers (columns: lr, accuracy)"),
        (b"lr,loss\n1e-3,abc\n", "no loss column with numbers (columns: lr, loss)"),
        (b"lr,loss\nfast,1.0\n", "no lr column with numbers (columns: lr, loss)"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe", "binary file"),
        (b"1,2,3\n4,5,6\n", "no lr and no loss column with numbers"),
    ],
)
def test_bad_files_exit_2_with_one_line_naming_the_problem(tmp_path, capsys, contents, message):
    path = tmp_path / "bad.csv"
    path.write_bytes(contents)
    code, out, err = call(["suggest", str(path)], capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("lrviz suggest: error: ")
    assert str(path) in err and message in err


def test_missing_file_and_folder(tmp_path, capsys):
    code, _, err = call(["suggest", str(tmp_path / "nope.csv")], capsys)
    assert code == 2 and "nope.csv" in err and err.count("\n") == 1
    code, _, err = call(["suggest", str(tmp_path)], capsys)
    assert code == 2 and "folder" in err and err.count("\n") == 1


def test_named_column_missing(capsys):
    code, _, err = call(
        ["suggest", str(FIXTURES / "torch_lr_finder.csv"), "--loss-col", "val_loss"], capsys
    )
    assert code == 2 and "no column named 'val_loss'" in err and err.count("\n") == 1


def test_bad_options_exit_2(capsys):
    path = str(FIXTURES / "torch_lr_finder.csv")
    for extra in (["--input-smoothing", "1.5"], ["--range-rule", "half"], ["--smoothing", "-1"]):
        code, out, err = call(["suggest", path, *extra], capsys)
        assert code == 2 and out == "" and err.count("\n") == 1


# --- rangetest -----------------------------------------------------------------------------


def rangetest_json(capsys, *args) -> dict:
    code, out, err = call(["rangetest", *args, "--json"], capsys)
    assert (code, err) == (0, "")
    return json.loads(out)


def test_rangetest_json_has_the_curve_and_the_suggestions(capsys):
    data = rangetest_json(
        capsys,
        "--objective",
        "mlp",
        "--optimizer",
        "adam",
        "--batch-size",
        "32",
        "--min-lr",
        "1e-7",
        "--max-lr",
        "10",
        "--iterations",
        "100",
        "--mode",
        "exp",
    )
    assert SUGGEST_KEYS <= set(data)
    curve_data = data["curve"]
    assert set(curve_data) == {"lr", "loss", "smoothed", "accuracy"}
    n = data["range_test"]["recorded"]
    assert len(curve_data["lr"]) == len(curve_data["loss"]) == len(curve_data["accuracy"]) == n
    assert curve_data["lr"][0] == pytest.approx(1e-7)
    assert 1e-7 <= data["suggested_lr"] <= 10
    assert data["min_lr"] <= data["max_lr"]


def test_rangetest_linear_on_a_quadratic_stops_early(capsys):
    data = rangetest_json(
        capsys,
        "--objective",
        "quadratic",
        "--max-lr",
        "10",
        "--mode",
        "linear",
        "--iterations",
        "200",
        "--loss-smoothing",
        "0",
    )
    assert data["curve"]["accuracy"] is None
    assert data["range_test"]["stopped_early"] is True
    assert 0.2 < data["range_test"]["stop_lr"] < 10  # diverges above 2 / L = 0.2
    lrs = np.array(data["curve"]["lr"])
    np.testing.assert_allclose(np.diff(lrs), np.diff(lrs)[0], rtol=1e-6)


def test_rangetest_human_output(capsys):
    code, out, err = call(["rangetest", "--objective", "quadratic", "--max-lr", "10"], capsys)
    assert (code, err) == (0, "")
    assert out.startswith("range test: quadratic / sgd") and "suggested lr:" in out


@pytest.mark.parametrize(
    "args",
    [
        ["--min-lr", "1", "--max-lr", "0.1"],
        ["--min-lr", "0"],
        ["--iterations", "1"],
        ["--mode", "cosine"],
        ["--stop-factor", "0.5"],
        ["--loss-smoothing", "1"],
    ],
)
def test_rangetest_bad_arguments_exit_2(capsys, args):
    code, out, err = call(["rangetest", *args], capsys)
    assert code == 2 and out == "" and err.count("\n") == 1


def test_rangetest_stop_factor_none(capsys):
    data = rangetest_json(capsys, "--stop-factor", "none", "--max-lr", "0.05", "--iterations", "30")
    assert data["range_test"]["stop_factor"] is None
    assert data["range_test"]["recorded"] == 30


# --- no Qt ---------------------------------------------------------------------------------


def test_suggest_and_rangetest_never_import_qt():
    script = (
        "import sys\n"
        "import main\n"
        f"assert main.main(['suggest', {str(FIXTURES / 'torch_lr_finder.csv')!r}, '--json']) == 0\n"
        "assert main.main(['rangetest', '--objective', 'mlp', '--iterations', '30', "
        "'--json']) == 0\n"
        "loaded = sorted(m for m in sys.modules "
        "if m.split('.')[0] in ('PySide6', 'shiboken6', 'pyqtgraph', 'ui'))\n"
        "print('QT:', loaded)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "QT: []"

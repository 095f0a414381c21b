"""Opening, overlaying, smoothing and watching logs in the real window."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from log_waits import open_and_wait
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QDialog

from lrviz.export import format_lr
from lrviz.smoothing import debiased_ema
from ui import settings

HEADER = "epoch,lr-SGD,step,train_loss,val_loss\r\n"


def lightning_rows(start: int, stop: int) -> str:
    rows = []
    for step in range(start, stop):
        loss = float(2.0 * np.exp(-step / 40) + 0.05 * np.sin(step))
        rows.append(f",{0.1 * 0.99**step!r},{step},,\r\n")
        rows.append(f"{step // 20},,{step},{loss!r},\r\n")
    return "".join(rows)


@pytest.fixture
def lightning_csv(tmp_path):
    path = tmp_path / "version_0" / "metrics.csv"
    path.parent.mkdir()
    path.write_text(HEADER + lightning_rows(0, 60), newline="")
    return path


def loss_curves(window):
    return list(window.log_view.loss_layer.items.values())


def test_open_shows_runs_in_sources_and_curves_in_panels(qtbot, window, lightning_csv):
    open_and_wait(qtbot, window, lightning_csv)
    assert len(window.library.logs) == 1
    log = window.library.logs[0]
    assert log.format == "lightning-csv"
    items = window.sources.run_items()
    assert len(items) == 1 and items[0].checkState(0) == Qt.CheckState.Checked
    ((raw, _smooth),) = loss_curves(window)
    x, y = raw.getOriginalDataset()
    assert x.size == 60 and np.all(np.diff(x) > 0)
    assert y[0] == pytest.approx(2.0)
    assert len(window.log_view.lr_layer.items) == 1
    # the user's log becomes the subject: simulation hidden, Inspect tab in front
    assert window.sources.simulation_item.checkState(0) == Qt.CheckState.Unchecked
    assert window.controls.currentWidget() is window.inspect_form
    assert str(lightning_csv.resolve()) in settings.recent_paths()


def test_drag_and_drop_opens_files(qtbot, window, lightning_csv):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(lightning_csv))])
    event = QDropEvent(
        QPointF(50, 50),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    with qtbot.waitSignal(window.library.changed, timeout=20_000):
        window.dropEvent(event)
    assert event.isAccepted()
    assert window.library.logs[0].path == lightning_csv


def test_smoothing_slider_redraws_with_debiased_ema(qtbot, window, lightning_csv):
    open_and_wait(qtbot, window, lightning_csv)
    window.inspect_form.set_smoothing(0.9)
    window.log_view.redraw()
    ((raw, smooth),) = loss_curves(window)
    _, y = raw.getOriginalDataset()
    _, s = smooth.getOriginalDataset()
    np.testing.assert_allclose(s, debiased_ema(y, 0.9))
    run_color = window.library.visible_runs()[0].color
    assert raw.pen.color().lightness() > run_color.lightness()  # raw faint behind
    assert smooth.pen.color() == run_color
    window.inspect_form.set_smoothing(0.0)
    window.log_view.redraw()
    assert not smooth.isVisible()


def test_the_logs_curves_have_a_legend_saying_which_is_raw(qtbot, window, lightning_csv):
    """A log drew a bold and a faint line on loss vs iteration and nothing named them."""
    open_and_wait(qtbot, window, lightning_csv)
    legend = window.log_view.loss_legend.legend
    ((raw, smooth),) = loss_curves(window)
    names = [name for _item, name in legend.entries]
    label = window.log_view.loss_layer.curves[0].label
    assert names == [f"{label} (raw)", f"{label} (smoothed)"]
    # each sample is drawn with the pen of the curve it names
    assert [item.opts["pen"].color() for item, _n in legend.entries] == [
        raw.pen.color(),
        smooth.pen.color(),
    ]
    assert legend.wanted()
    window.inspect_form.set_smoothing(0.0)
    window.log_view.redraw()
    assert [name for _item, name in legend.entries] == [label]
    # two runs: each named by its colour, and one entry says what the faint lines are
    window.inspect_form.set_smoothing(0.6)
    second = lightning_csv.parent.parent / "version_1" / "metrics.csv"
    second.parent.mkdir()
    second.write_text(HEADER + lightning_rows(0, 40), newline="")
    open_and_wait(qtbot, window, second)
    names = [name for _item, name in legend.entries]
    assert len(names) == 3 and names[-1] == "faint: as logged (raw)"
    # no logs, no legend
    window.library.clear()
    with qtbot.waitSignal(window.log_view.drawn, timeout=30_000):
        window.log_view.redraw()
    assert legend.entries == [] and not legend.wanted()


def test_hovering_a_logged_run_highlights_it_on_every_panel_that_draws_it(qtbot, window):
    open_and_wait(qtbot, window, Path(__file__).parents[1] / "fixtures/logs/lightning_logs")
    view = window.log_view
    layer, highlight = view.loss_layer, view.highlight
    n = len(layer.curves)
    assert n == 2
    x, y = layer.paths.curve(n + 1)  # version_1's smoothed curve
    with qtbot.waitSignal(highlight.changed):
        assert layer.paths.hover_at(x[x.size // 2], y[x.size // 2]) == n + 1
    key = layer.curves[1].key
    assert highlight.key is key
    for each, overlay in highlight._overlays:
        draws = any(c.key is key for c in each.curves)
        has_points = overlay.getData()[0] is not None and len(overlay.getData()[0]) > 0
        assert overlay.isVisible() == (draws and has_points)
    loss_overlay = highlight._overlays[0][1]
    np.testing.assert_array_equal(loss_overlay.getData()[1], y)
    assert loss_overlay.opts["pen"].widthF() > layer.paths.pen(n + 1).widthF()
    # off every curve: nothing highlighted
    assert layer.paths.hover_at(x[x.size // 2], float(np.nanmax(y)) + 5.0) is None
    assert highlight.key is None and not loss_overlay.isVisible()


def test_many_logged_runs_are_named_by_the_sources_list_not_a_legend(qtbot, window, tmp_path):
    from ui.panels.log_legend import MAX_RUNS

    for i in range(MAX_RUNS + 1):
        run = tmp_path / f"run_{i}"
        run.mkdir()
        (run / "params.json").write_text(f'{{"lr": {10.0**-i}}}')
        (run / "metrics.csv").write_text(f"step,loss\n0,2.0\n1,{1.0 + i / 10}\n2,0.9\n")
    open_and_wait(qtbot, window, tmp_path)
    assert len(window.log_view.loss_layer.curves) == MAX_RUNS + 1
    legend = window.log_view.loss_legend.legend
    assert legend.entries == [] and not legend.wanted()


def test_unticking_a_run_hides_it(qtbot, window, lightning_csv):
    open_and_wait(qtbot, window, lightning_csv)
    item = window.sources.run_items()[0]
    item.setCheckState(0, Qt.CheckState.Unchecked)
    window.log_view.redraw()
    assert loss_curves(window) == []
    assert window.library.visible_runs() == []


def test_live_watch_appends_without_loss_or_duplicates(qtbot, window, lightning_csv):
    open_and_wait(qtbot, window, lightning_csv)
    library = window.library
    with lightning_csv.open("a", newline="") as f:
        f.write(lightning_rows(60, 80))
        f.write("3,,80,0.12")  # a row still being written
    with qtbot.waitSignal(library.data_updated, timeout=20_000):
        library.poll()
    window.log_view.redraw()
    ((raw, _),) = loss_curves(window)
    x, _ = raw.getOriginalDataset()
    np.testing.assert_array_equal(x, np.arange(80.0))
    with lightning_csv.open("a", newline="") as f:
        f.write("3\r\n")  # the row completes: 0.123
    with qtbot.waitSignal(library.data_updated, timeout=20_000):
        library.poll()
    window.log_view.redraw()
    ((raw, _),) = loss_curves(window)
    x, y = raw.getOriginalDataset()
    np.testing.assert_array_equal(x, np.arange(81.0))
    assert y[-1] == pytest.approx(0.123)


def test_a_last_line_that_settles_appears_though_the_file_no_longer_changes(
    qtbot, window, tmp_path, monkeypatch
):
    """Issue 10's leftover: the window re-read a log only when its file changed, so the last
    row of a finished file without a final line end never appeared (load() reads it)."""
    import lrviz.loaders.watch as watch

    monkeypatch.setattr(watch, "SETTLED_SECONDS", 1.5)
    path = tmp_path / "export.csv"
    path.write_bytes(b"step,loss\n1,0.5\n2,0.4\n3,0.25")
    open_and_wait(qtbot, window, path)

    def shown() -> list[float]:
        return window.library.logs[0].runs[0].run.get("loss").y.tolist()

    assert shown() in ([0.5, 0.4], [0.5, 0.4, 0.25])  # held back unless loading was slow
    qtbot.waitUntil(lambda: shown() == [0.5, 0.4, 0.25], timeout=15_000)
    window.log_view.redraw()
    ((raw, _),) = loss_curves(window)
    assert raw.getOriginalDataset()[1].tolist() == [0.5, 0.4, 0.25]
    qtbot.waitUntil(lambda: not window.library.jobs.busy, timeout=10_000)
    assert not window.library.logs[0].watcher.waiting  # and polling it stops


def test_live_watch_follows_a_rewrite_with_a_new_header(qtbot, window, lightning_csv):
    open_and_wait(qtbot, window, lightning_csv)
    # Lightning >= 2.2 rewrites the whole file when a new column (train_acc) appears.
    rows = ["epoch,lr-SGD,step,train_acc,train_loss,val_loss\r\n"]
    for step in range(70):
        loss = float(2.0 * np.exp(-step / 40))
        rows.append(f",{0.1 * 0.99**step!r},{step},,,\r\n")
        rows.append(f"{step // 20},,{step},{min(1.0, step / 70)!r},{loss!r},\r\n")
    lightning_csv.write_text("".join(rows), newline="")
    with qtbot.waitSignal(window.library.data_updated, timeout=20_000):
        window.library.poll()
    window.log_view.redraw()
    ((raw, _),) = loss_curves(window)
    x, _ = raw.getOriginalDataset()
    np.testing.assert_array_equal(x, np.arange(70.0))
    run = window.library.logs[0].runs[0].run
    assert run.get("train_acc") is not None


def test_unreadable_file_gives_a_message_not_a_crash(qtbot, window, tmp_path):
    bad = tmp_path / "garbage.csv"
    bad.write_bytes(b"\x00\x01\x02 not a log \xff\xfe")
    with qtbot.waitSignal(window.library.failed, timeout=20_000) as blocker:
        window.open_paths([str(bad)])
    assert "garbage.csv" in blocker.args[0]
    assert "garbage.csv" in window.inspect_form.message.text()
    assert window.library.logs == []


def test_missing_path_is_reported(qtbot, window, tmp_path):
    window.open_paths([str(tmp_path / "nope.csv")])
    assert "nope.csv" in window.inspect_form.message.text()


def test_mapping_dialog_for_unknown_columns(qtbot, window, tmp_path, monkeypatch):
    path = tmp_path / "mystery.csv"
    path.write_text(
        "it,alpha,cost\n" + "".join(f"{i},{1e-4 * 1.2**i},{5 / (i + 1)}\n" for i in range(30))
    )

    def accept(dialog):
        dialog.x.setCurrentIndex(dialog.x.findData("it"))
        dialog.lr.setCurrentIndex(dialog.lr.findData("alpha"))
        dialog.loss.setCurrentIndex(dialog.loss.findData("cost"))
        return QDialog.DialogCode.Accepted

    from ui.dialogs.column_mapping import ColumnMappingDialog

    monkeypatch.setattr(ColumnMappingDialog, "exec", accept)
    with qtbot.waitSignal(window.library.busy, check_params_cb=lambda b: not b, timeout=20_000):
        window.log_actions.ask_mapping(str(path))
    window.log_view.redraw()
    run = window.library.logs[0].runs[0].run
    assert run.find("loss").name == "cost"
    assert run.find("lr").name == "alpha"
    assert len(loss_curves(window)) == 1


def test_x_axis_epoch_and_crosshair_readout(qtbot, window, lightning_csv):
    open_and_wait(qtbot, window, lightning_csv)
    form = window.inspect_form
    form.x_axis.setCurrentIndex(form.x_axis.findData("epoch"))
    window.log_view.redraw()
    ((raw, _),) = loss_curves(window)
    x, _ = raw.getOriginalDataset()
    assert x.max() == pytest.approx(2.0)
    text = window.log_view.readout_text(1.0)
    assert "train_loss" in text


def test_robust_range_ignores_a_spike(qtbot, window, tmp_path):
    path = tmp_path / "spiky.csv"
    loss = np.linspace(1.0, 0.5, 200)
    loss[100] = 1e6
    path.write_text("step,loss\n" + "".join(f"{i},{float(v)!r}\n" for i, v in enumerate(loss)))
    open_and_wait(qtbot, window, path)
    window.inspect_form.set_smoothing(0.0)
    window.loss_vs_iteration.log_y.setChecked(False)
    window.inspect_form.robust.setChecked(True)
    window.log_view.redraw()
    _, (lo, hi) = window.loss_vs_iteration.plot.getViewBox().viewRange()
    assert hi < 10 and lo > 0


def test_overlay_of_a_sweep_folder_puts_trials_on_loss_vs_lr(qtbot, window, tmp_path):
    import json

    for i, lr in enumerate([1e-3, 1e-2, 1e-1]):
        trial = tmp_path / "sweep" / f"trial_{i}"
        trial.mkdir(parents=True)
        (trial / "params.json").write_text(json.dumps({"lr": lr}))
        (trial / "progress.csv").write_text(
            "training_iteration,loss\n"
            + "".join(f"{s},{1 / (1 + s * lr * 10)}\n" for s in range(20))
        )
    open_and_wait(qtbot, window, tmp_path / "sweep")
    assert window.library.logs[0].format == "sweep-dir"
    x, _ = window.log_view.sweep_points.getData()
    assert x.size == 3


def test_an_lr_finder_csv_becomes_a_range_test_and_goes_away_when_closed(qtbot, window):
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "fixtures" / "logs" / "lr_finder" / "lr_find.csv"
    open_and_wait(qtbot, window, path)
    tool = window.range_tool
    assert window.library.logs[0].format == "lr-finder-csv"
    assert tool.suggestion is not None and tool.chosen_range is not None
    lo, hi = tool.chosen_range
    assert 0 < lo < hi
    window.library.remove(window.library.logs[0])
    window.log_view.redraw()
    assert tool.chosen_range is None


def test_the_app_reads_a_finder_csv_as_the_command_line_does(qtbot, window, capsys):
    import json
    from pathlib import Path

    from lrviz.cli import main

    # fastai's finder saved its smoothed loss: both must un-smooth it the same way
    path = Path(__file__).resolve().parents[1] / "fixtures" / "rangetest" / "fastai_index.csv"
    assert main(["suggest", str(path), "--json"]) == 0
    cli = json.loads(capsys.readouterr().out)
    open_and_wait(qtbot, window, path)
    shown = window.range_tool.suggestion
    assert shown.suggested_lr == pytest.approx(cli["suggested_lr"])
    assert (shown.min_lr, shown.max_lr) == pytest.approx((cli["min_lr"], cli["max_lr"]))


def test_unknown_columns_point_the_user_to_the_mapping_dialog(qtbot, window, tmp_path):
    path = tmp_path / "mystery.csv"
    path.write_text("it,alpha,cost\n" + "".join(f"{i},{i * 0.1},{5 / (i + 1)}\n" for i in range(9)))
    with qtbot.waitSignal(window.library.needs_mapping, timeout=20_000):
        window.open_paths([str(path)])
    assert "Map columns" in window.inspect_form.message.text()
    assert len(window.library.logs) == 1  # loaded all the same, columns as extra series


TRUTH_CURVES = Path(__file__).resolve().parents[1] / "fixtures" / "lr_truth" / "curves"


@pytest.mark.parametrize(
    "name",
    [
        "e03_resnet3bn_digits16_nesterov_wd__lightning_exp_min1e-08_max1_n100.csv",
        "d06_mlp128_clf10_nesterov__tlf_exp_end10_n200.csv",
        "e01_transformer2_countab_adamw__fastai_end10_n100.csv",
    ],
)
def test_real_finder_curves_read_in_the_app_as_on_the_command_line(qtbot, window, capsys, name):
    """torch-lr-finder, Lightning and fastai curves: same source, number, band and why."""
    import json

    from lrviz.cli import main

    path = TRUTH_CURVES / name
    assert main(["suggest", str(path), "--json"]) == 0
    cli = json.loads(capsys.readouterr().out)
    open_and_wait(qtbot, window, path)
    tool = window.range_tool
    shown = tool.suggestion
    assert shown.source == cli["source"] != "raw"
    assert shown.suggested_lr == pytest.approx(cli["suggested_lr"])
    assert list(shown.likely_best) == pytest.approx(cli["likely_best"])
    assert shown.why == cli["why"]
    # The band is shaded on the loss-vs-λ panel, the why is written under it.
    a, b = tool.overlay.likely_band
    assert (a, b) == pytest.approx(tuple(cli["likely_best"]))
    assert tool.overlay.likely.isVisible()
    assert tool.caption.isVisible() and "Suggested λ" in tool.caption.text()
    assert format_lr(shown.suggested_lr) in tool.caption.text()
    assert format_lr(a) in tool.readout.likely.text()


def test_the_read_as_box_rereads_the_curve_with_another_source(qtbot, window):
    path = TRUTH_CURVES / "e03_resnet3bn_digits16_nesterov_wd__fastai_end10_n100.csv"
    open_and_wait(qtbot, window, path)
    tool = window.range_tool
    auto = tool.suggestion
    assert auto.source == "fastai" and tool.readout.source.isEnabled()
    box = tool.readout.source
    box.setCurrentIndex(box.findData("raw"))
    box.activated.emit(box.currentIndex())
    assert tool.suggestion.source == "raw"
    assert tool.suggestion.suggested_lr != pytest.approx(auto.suggested_lr)
    assert "Read as raw" in tool.readout.why.text()
    box.setCurrentIndex(box.findData(None))
    box.activated.emit(box.currentIndex())
    assert tool.suggestion.suggested_lr == pytest.approx(auto.suggested_lr)


def test_a_check_run_over_the_band_is_one_of_the_exports(qtbot, window):
    path = TRUTH_CURVES / "d13_mlp256_clf20_adam_b512__tlf_exp_end1_n100.csv"
    open_and_wait(qtbot, window, path)
    tool = window.range_tool
    for target in ("check_pytorch", "check_lightning", "check_keras"):
        text = tool.code(target)
        compile(text, "check.py", "exec")
        a = tool.suggestion.likely_best[0]
        assert f"LRS = [{format_lr(float(format_lr(a)))}" in text
    combo = tool.readout.target
    combo.setCurrentIndex(combo.findData("check_pytorch"))
    assert "lrviz_check" in tool.readout.code.toPlainText()


def test_a_range_test_run_here_is_read_as_raw(qtbot, window):
    tool = window.range_tool
    lr = np.geomspace(1e-6, 1.0, 200)
    x = np.log10(lr)
    loss = (2.0 - 1.5 / (1 + np.exp(-(x + 3) * 3))) * np.exp(
        0.02 * (1 + (lr / 1e-2) ** 2) * np.random.default_rng(0).standard_normal(200)
    )
    s = tool.show_range_curve(lr, loss, "raw.csv", source="raw")
    assert s.source == "raw" and tool.caption.isVisible()
    tool.clear()
    assert not tool.caption.isVisible() and tool.overlay.likely_band is None


def test_files_a_folder_skipped_are_shown_in_sources_and_the_status_bar(qtbot, window, tmp_path):
    """Issue 10's leftover: LogData.skipped was never shown; a bad version vanished."""
    (tmp_path / "version_0").mkdir()
    (tmp_path / "version_1").mkdir()
    (tmp_path / "version_0" / "metrics.csv").write_text("step,train_loss\n1,2.0\n2,1.5\n")
    (tmp_path / "version_1" / "metrics.csv").write_bytes(b"\x00\x01binary\x00")
    open_and_wait(qtbot, window, tmp_path)
    assert "1 file skipped (see Sources)" in window.status_text.text()
    item = window.sources.log_item(window.library.logs[0])
    assert item.text(0).startswith("⚠ ")  # seen even where the dock cuts the name short
    tip = item.toolTip(0)
    assert "skipped 1 file that could not be read" in tip
    assert "version_1/metrics.csv" in tip and "binary" in tip

"""The desktop conventions of the real window: menus, shortcuts, exports, preferences, themes."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence, QShortcut
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QFileDialog

from lrviz.loaders import load
from lrviz.simulation_config import SimulationConfig

TIMEOUT_MS = 60_000
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "logs"


def _small_simulation(qtbot, window, iterations=150):
    config = SimulationConfig(
        objective="quadratic", lrs=np.geomspace(1e-3, 1.0, 6), iterations=iterations, dim=4
    )
    window.simulate_form.set_config(config)
    with qtbot.waitSignal(window.simulation_finished, timeout=TIMEOUT_MS):
        window.start_simulation(config)
    window.redraw()


def _press(window, keys: str) -> None:
    sequence = QKeySequence(keys)
    combo = sequence[0]
    QTest.keyClick(window, combo.key(), combo.keyboardModifiers())


# --- menus and shortcuts ------------------------------------------------------------------
def test_the_menu_bar_reads_file_edit_view_run_help(window):
    titles = [a.text().replace("&", "") for a in window.menuBar().actions()]
    assert titles == ["File", "Edit", "View", "Run", "Help"]
    toolbar = window.desktop.menus.toolbar
    assert toolbar.isVisible() and len([a for a in toolbar.actions() if not a.isSeparator()]) >= 9
    for action in toolbar.actions():
        if not action.isSeparator():
            assert not action.icon().isNull() and action.toolTip()


def test_no_key_is_bound_twice(window):
    """Qt ignores an ambiguous shortcut altogether: Ctrl+Q was bound by two objects."""
    seen: dict[str, str] = {}
    bindings = []
    for action in window.findChildren(QAction):
        for sequence in action.shortcuts():
            bindings.append((sequence.toString(), action.text()))
    for shortcut in window.findChildren(QShortcut):
        bindings.append((shortcut.key().toString(), "QShortcut"))
    for keys, owner in bindings:
        if not keys:
            continue
        assert keys not in seen, f"{keys} is bound to {seen[keys]!r} and {owner!r}"
        seen[keys] = owner
    for keys in ("Ctrl+O", "Ctrl+S", "Ctrl+E", "F5", "Esc", "Ctrl+Z", "Ctrl+Shift+Z", "Ctrl+Q"):
        assert keys in seen, f"{keys} is not bound"
    assert QKeySequence(QKeySequence.StandardKey.HelpContents).toString() in seen


def test_f5_runs_the_tool_shown_and_esc_stops_it(qtbot, window):
    long = SimulationConfig(
        objective="quadratic", lrs=np.geomspace(1e-4, 1e-2, 4), iterations=10_000_000, dim=20
    )
    window.simulate_form.set_config(long)
    window.controls.setCurrentWidget(window.simulate_form)
    with qtbot.waitSignal(window.runner.started, timeout=TIMEOUT_MS):
        _press(window, "F5")
    assert window.runner.config.iterations == 10_000_000
    with qtbot.waitSignal(window.runner.state_changed, timeout=TIMEOUT_MS) as stopped:
        _press(window, "Esc")
    assert stopped.args == ["stopped"]
    # on the Range test tab, F5 runs the range test
    tool = window.range_tool
    tool.form.iterations.setValue(100)
    window.controls.setCurrentWidget(tool.tab)
    with qtbot.waitSignal(tool.test_finished, timeout=TIMEOUT_MS):
        _press(window, "F5")
    assert tool.result is not None and tool.result.lr.size == 100


def test_f5_runs_the_search_on_its_tab_and_esc_stops_it(qtbot, window):
    """The Search tab plugged no Run into the menus: F5 there did nothing."""
    search = window.search_tool
    form = search.form
    form.objective.setCurrentIndex(form.objective.findData("mlp"))
    form.iterations.setValue(3000)
    window.controls.setCurrentWidget(search.tab)
    with qtbot.waitSignal(search.finished, timeout=TIMEOUT_MS) as finished:
        with qtbot.waitSignal(search.progressed, timeout=TIMEOUT_MS):
            _press(window, "F5")
        assert search.jobs.running
        _press(window, "Esc")
    assert finished.args[0].stopped_because == "stopped"
    assert not search.jobs.running and form.run_button.isEnabled()


def test_ctrl_z_and_ctrl_shift_z_undo_and_redo_the_range(qtbot, window):
    tool = window.range_tool
    tool.form.iterations.setValue(150)
    with qtbot.waitSignal(tool.test_finished, timeout=TIMEOUT_MS):
        tool.run_test()
    first = tool.chosen_range
    tool.set_range(first[0] * 2, first[1])
    edited = tool.chosen_range
    _press(window, "Ctrl+Z")
    assert tool.chosen_range == first
    _press(window, "Ctrl+Shift+Z")
    assert tool.chosen_range == edited
    assert window.desktop.menus.actions["Undo"] is tool.undo_action


def test_ctrl_s_saves_and_ctrl_o_opens(qtbot, window, tmp_path, monkeypatch):
    window.session.path = tmp_path / "keys.lrviz"
    _press(window, "Ctrl+S")
    assert (tmp_path / "keys.lrviz").exists()
    log = FIXTURES / "lr_finder" / "lr_find.csv"
    monkeypatch.setattr(
        QFileDialog, "getOpenFileNames", staticmethod(lambda *a, **k: ([str(log)], ""))
    )
    with qtbot.waitSignal(window.library.busy, check_params_cb=lambda b: not b, timeout=TIMEOUT_MS):
        _press(window, "Ctrl+O")
    assert [lg.path.name for lg in window.library.logs] == ["lr_find.csv"]


def test_ctrl_l_f1_and_ctrl_q(qtbot, window):
    log_y = window.loss_vs_iteration.log_y
    before = log_y.isChecked()
    _press(window, "Ctrl+L")
    assert log_y.isChecked() is not before
    assert window.desktop.menus.actions["Logarithmic loss axis"].isChecked() is not before
    lr_log_y = window.lr_vs_iteration.log_y
    _press(window, "Ctrl+Shift+L")
    assert not lr_log_y.isChecked()
    assert not window.desktop.menus.actions["Logarithmic λ axis"].isChecked()
    _press(window, QKeySequence(QKeySequence.StandardKey.HelpContents).toString())
    guide = window.desktop.guide
    qtbot.waitUntil(guide.isVisible)
    assert "learning rate" in guide.browser.toPlainText()
    guide.close()
    _press(window, "Ctrl+Q")
    qtbot.waitUntil(lambda: not window.isVisible())


def test_ctrl_e_exports_the_panel_last_clicked(qtbot, window, tmp_path, monkeypatch):
    _small_simulation(qtbot, window)
    target = tmp_path / "picked.svg"
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(target), ""))
    )
    view = window.loss_vs_lr.graphics
    QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton)
    assert window.desktop.exports.current == "Loss vs λ"
    _press(window, "Ctrl+E")
    assert ET.parse(target).getroot().tag.endswith("svg")


# --- exports ------------------------------------------------------------------------------
def test_every_panel_exports_png_svg_and_csv_that_parse(qtbot, window, tmp_path):
    _small_simulation(qtbot, window)
    exports = window.desktop.exports
    assert {"Loss vs iteration", "Loss vs λ", "λ vs iteration"} <= set(exports.panels)
    for name in exports.panels:
        png = exports.save(name, tmp_path / "p.png").read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        width = int.from_bytes(png[16:20], "big")
        on_screen = exports.panels[name].graphics.ci.boundingRect().width()
        assert width == pytest.approx(2 * max(on_screen, 320), abs=2)  # twice the screen pixels
        root = ET.parse(exports.save(name, tmp_path / "p.svg")).getroot()
        assert root.tag.endswith("svg") and len(list(root.iter())) > 20
        rows = list(csv.reader(io.StringIO(exports.save(name, tmp_path / "p.csv").read_text())))
        # a 4-D problem has no surface to draw; this run measured no sharpness
        if name not in ("Loss surface", "Sharpness"):
            assert len(rows) > 6
    assert not list(tmp_path.glob(".*tmp")), "temporary file left behind"


def test_loss_vs_lr_csv_holds_the_points_drawn(qtbot, window, tmp_path):
    _small_simulation(qtbot, window)
    text = window.desktop.exports.save("Loss vs λ", tmp_path / "lr.csv").read_text()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["series", "learning rate λ", "loss"]
    points = [(float(x), float(y)) for name, x, y in rows[1:] if name == "run (colour = λ)"]
    px, py = window.loss_vs_lr.points.getOriginalDataset()
    np.testing.assert_allclose(np.array(points), np.column_stack([px, py]))
    store = window.runner.store
    ok = store.diverged_at < 0
    np.testing.assert_allclose(sorted(x for x, _ in points), store.lrs[ok])


def test_simulated_runs_export_reads_back_through_the_loader(qtbot, window, tmp_path):
    _small_simulation(qtbot, window)
    store = window.runner.store
    path = window.desktop.exports.save_simulation(tmp_path / "sim.csv")
    data = load(path)
    assert data.format == "wandb-csv" and len(data.runs) == store.runs
    first = data.runs[0].find("loss")
    np.testing.assert_array_equal(first.y, store.loss[: first.y.size, 0])
    # and it opens in the window like any log
    with qtbot.waitSignal(window.library.busy, check_params_cb=lambda b: not b, timeout=TIMEOUT_MS):
        window.open_paths([str(path)])
    assert len(window.library.logs[0].runs) == store.runs


def test_copy_panel_image_puts_a_picture_on_the_clipboard(qtbot, window):
    _small_simulation(qtbot, window)
    QGuiApplication.clipboard().clear()
    window.desktop.exports.current = "Loss vs iteration"
    window.desktop.menus.actions["Copy panel image"].trigger()
    image = QGuiApplication.clipboard().image()
    assert not image.isNull() and image.width() >= 2 * 320


def test_an_export_that_cannot_be_written_says_why(qtbot, window, tmp_path):
    failures = []
    window.desktop.exports.failed.connect(failures.append)
    window.desktop.exports._guarded(
        lambda: window.desktop.exports.save("Loss vs λ", tmp_path / "missing" / "x.png")
    )
    assert len(failures) == 1 and "Could not export" in failures[0]
    assert "Could not export" in window.status_text.text()
    with pytest.raises(ValueError, match=r"\.png, \.svg or \.csv"):
        window.desktop.exports.save("Loss vs λ", tmp_path / "x.gif")


# --- preferences --------------------------------------------------------------------------
def _new_window(qtbot):
    from ui.main_window import MainWindow

    win = MainWindow()
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: getattr(win, "_layout_restored", False))
    return win


def test_preferences_are_restored_in_the_next_window(qtbot, tmp_path):
    from ui import settings

    first = _new_window(qtbot)
    first.resize(790, 590)  # within the offscreen screen (800x600): restoring keeps it
    first.sources_dock.hide()
    first.desktop.set_theme("dark")
    first.inspect_form.set_smoothing(0.321)
    first.close()
    stored = settings._read()
    assert stored["theme"] == "dark" and stored["inspect.smoothing"] == 0.321
    assert all(isinstance(v, (str, int, float, list)) for v in stored.values())

    second = _new_window(qtbot)
    assert second.size() == QSize(790, 590)
    assert not second.sources_dock.isVisible()
    assert second.desktop.menus.actions["theme dark"].isChecked()
    assert second.inspect_form.smoothing == pytest.approx(0.321)
    second.desktop.reset_layout()
    assert second.sources_dock.isVisible()
    second.desktop.set_theme("light")
    second.close()


# --- themes -------------------------------------------------------------------------------
from ui import theme  # noqa: E402


def _plot_pixel(window):
    image = window.loss_vs_lr.graphics.grab().toImage()
    return image.pixelColor(image.width() - 3, image.height() // 2)


@pytest.mark.parametrize("name", ["dark", "light"])
def test_both_themes_render_window_and_plots(qtbot, window, name):
    _small_simulation(qtbot, window)
    window.desktop.set_theme(name)
    window.redraw()
    role = window.palette().ColorRole.WindowText
    expected = theme.DARK.text if name == "dark" else theme.LIGHT.text
    qtbot.waitUntil(lambda: window.palette().color(role).name() == expected)  # propagated
    background = _plot_pixel(window)
    text = window.palette().color(role)
    if name == "dark":
        assert background.lightness() < 60 and text.lightness() > 180
    else:
        assert background.lightness() > 240 and text.lightness() < 80
    axis = window.loss_vs_lr.plot.getAxis("left")
    assert abs(axis.textPen().color().lightness() - text.lightness()) < 60
    # every λ colour stands out from the plot's background
    for pen in window.loss_vs_iteration.paths._pens:
        assert abs(pen.color().lightness() - background.lightness()) > 40
    window.desktop.set_theme("light")


def test_a_marked_label_follows_the_theme(qtbot, window):
    from ui import theme

    window.simulate_form.show_error("nope")
    message = window.inspect_form.message
    theme.mark(message, "error")
    window.desktop.set_theme("dark")
    assert message.palette().color(message.foregroundRole()).name() == theme.DARK.roles["error"]
    window.desktop.set_theme("light")
    assert message.palette().color(message.foregroundRole()).name() == theme.LIGHT.roles["error"]


def test_help_keyboard_shortcuts_lists_every_menu_key(window):
    """It listed only the actions the desktop made: Ctrl+O (open logs) was missing."""
    rows = dict(window.desktop.shortcut_rows())
    for keys in ("Ctrl+O", "Ctrl+Shift+O", "Ctrl+S", "Ctrl+E", "F5", "Esc", "Ctrl+Z", "Ctrl+Q"):
        assert keys in rows, keys
    assert rows["Ctrl+O"] == "Open logs" and rows["F5"] == "Run"
    assert rows["Ctrl+T"] == "Run range test" and rows["Ctrl+G"] == "Run search"

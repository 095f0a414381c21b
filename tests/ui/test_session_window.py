"""Sessions in the real window: save, close, reopen in a new window, and find it as it was."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from lrviz import session as sessions
from lrviz.simulation_config import SimulationConfig

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "logs"
TIMEOUT_MS = 60_000


def _new_window(qtbot):
    from ui.main_window import MainWindow

    win = MainWindow()
    qtbot.addWidget(win)
    win.show()
    return win


def _wait_loaded(qtbot, window):
    qtbot.waitUntil(lambda: not window.library.jobs.busy, timeout=TIMEOUT_MS)


def _prepare(qtbot, window, sweep: Path) -> None:
    """A window a user has worked in: a simulation, a sweep with a run hidden, a range test
    with a range of their own, options changed everywhere."""
    form = window.simulate_form
    form.set_config(
        SimulationConfig(objective="rosenbrock", optimizer="adam", lrs=np.geomspace(1e-3, 0.1, 5))
    )
    form.iterations.setValue(120)
    with qtbot.waitSignal(window.simulation_finished, timeout=TIMEOUT_MS):
        form.run_button.click()
    window.open_paths([str(sweep)])
    _wait_loaded(qtbot, window)
    assert len(window.library.logs) == 1
    window.library.set_visible(window.library.logs[0].runs[1], False)
    window.inspect_form.set_smoothing(0.25)
    window.inspect_form.robust.setChecked(True)
    window.loss_vs_iteration.log_y.setChecked(False)
    window.lr_vs_iteration.log_y.setChecked(False)
    window.loss_vs_lr.statistic.setCurrentIndex(1)
    tool = window.range_tool
    tool.form.iterations.setValue(200)
    tool.form.objective.setCurrentIndex(tool.form.objective.findData("logreg"))
    with qtbot.waitSignal(tool.test_finished, timeout=TIMEOUT_MS):
        tool.form.run_button.click()
    lo, hi = tool.chosen_range
    tool.set_range(lo * 1.5, hi / 1.5)
    window.sources.simulation_item.setCheckState(0, Qt.CheckState.Checked)
    window.controls.setCurrentWidget(tool.tab)


def _restored(window) -> bool:
    tool = window.range_tool
    return (
        not window.library.jobs.busy
        and window.library.logs
        and tool.chosen_range is not None
        and window.runner.state == "finished"
        and not window.session.is_modified()
    )


def test_save_close_reopen_gives_the_same_state(qtbot, tmp_path):
    sweep = tmp_path / "sweep"
    shutil.copytree(FIXTURES / "sweep", sweep)
    first = _new_window(qtbot)
    _prepare(qtbot, first, sweep)
    before = first.session.state()
    assert first.session.is_modified()
    path = first.session.save(tmp_path / "work.lrviz")
    assert not first.session.is_modified()
    first.close()

    second = _new_window(qtbot)
    reports = []
    second.session.report = reports.append
    with qtbot.waitSignal(second.simulation_finished, timeout=TIMEOUT_MS):
        assert second.session.open(path)
    qtbot.waitUntil(lambda: _restored(second), timeout=TIMEOUT_MS)
    after = second.session.state()
    assert after.to_dict() == before.to_dict()
    # and the window shows it, not only says it
    assert second.controls.currentWidget() is second.range_tool.tab
    assert not second.loss_vs_iteration.log_y.isChecked()
    assert not second.lr_vs_iteration.log_y.isChecked()
    assert not second.lr_vs_iteration.plot.getAxis("left").logMode
    assert second.loss_vs_lr.statistic.currentText() == "best loss"
    runs = second.library.logs[0].runs
    assert [r.visible for r in runs] == [True, False, True, True]
    assert second.runner.store.runs == 5 and second.runner.config.optimizer == "adam"
    lo, hi = before.sections["range test"]["range"]
    assert second.range_tool.chosen_range == pytest.approx((lo, hi))
    assert second.range_tool.readout.min_lr.value() == pytest.approx(lo)
    assert "Opened work.lrviz · 1 of 1 logs" in reports
    second.close()


def test_a_saved_session_is_in_open_recent_with_the_logs_and_reopens_from_there(qtbot, tmp_path):
    """Open recent listed logs and stores only: a session saved yesterday was not there."""
    from ui import settings

    sweep = tmp_path / "sweep"
    shutil.copytree(FIXTURES / "sweep", sweep)
    first = _new_window(qtbot)
    first.open_paths([str(sweep)])
    _wait_loaded(qtbot, first)
    first.inspect_form.set_smoothing(0.35)
    first.controls.setCurrentWidget(first.inspect_form)
    first.session.save(tmp_path / "yesterday.lrviz")
    first.close()

    second = _new_window(qtbot)
    recent_menu = second.log_actions.recent_menu
    recent_menu.aboutToShow.emit()
    entries = {a.text(): a for a in recent_menu.actions()}
    session_entry = entries[f"Session: {(tmp_path / 'yesterday.lrviz').resolve()}"]
    assert str(sweep.resolve()) in entries  # alongside the logs
    assert session_entry.toolTip().endswith(".")
    assert settings.recent_paths()[0] == str((tmp_path / "yesterday.lrviz").resolve())
    with qtbot.waitSignal(second.session.opened, timeout=TIMEOUT_MS):
        session_entry.trigger()
    _wait_loaded(qtbot, second)
    qtbot.waitUntil(lambda: not second.session.is_modified(), timeout=TIMEOUT_MS)
    assert [log.path for log in second.library.logs] == [sweep]
    assert second.inspect_form.smoothing == pytest.approx(0.35)
    assert second.session.path == (tmp_path / "yesterday.lrviz").resolve()
    second.close()


def test_the_sharpness_axis_and_the_surface_layout_are_kept(qtbot, tmp_path):
    """Their toggles were the only panel settings a session forgot."""
    first = _new_window(qtbot)
    first.sharpness.log_y.setChecked(False)
    first.loss_surface.side_by_side.setChecked(True)
    assert first.session.is_modified()
    path = first.session.save(tmp_path / "panels.lrviz")
    first.close()
    second = _new_window(qtbot)
    assert second.sharpness.log_y.isChecked() and not second.loss_surface.side_by_side.isChecked()
    assert second.session.open(path)
    qtbot.waitUntil(lambda: not second.session.is_modified(), timeout=TIMEOUT_MS)
    assert not second.sharpness.log_y.isChecked()
    assert second.loss_surface.side_by_side.isChecked()
    second.close()


def test_a_missing_log_is_reported_and_the_rest_opens(qtbot, tmp_path, window):
    sweep = tmp_path / "sweep"
    shutil.copytree(FIXTURES / "sweep", sweep)
    lost = tmp_path / "lost.csv"
    session = sessions.Session(
        sources=[sessions.Source(str(lost)), sessions.Source("sweep")],
        sections={"inspect": {"smoothing": 0.4}},
        active_tool="Inspect",
    )
    path = sessions.save(tmp_path / "s.lrviz", session)
    assert window.session.open(path)
    _wait_loaded(qtbot, window)
    qtbot.waitUntil(lambda: "Opened s.lrviz" in window.status_text.text(), timeout=TIMEOUT_MS)
    text = window.status_text.text()
    assert "1 of 2 logs" in text and f"{lost}: no such file" in text
    assert [log.path for log in window.library.logs] == [sweep]  # relative to the session
    assert window.inspect_form.smoothing == pytest.approx(0.4)
    assert window.controls.currentWidget() is window.inspect_form
    assert f"{lost}: no such file" in window.inspect_form.message.text()


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("{ not json", "not valid JSON"),
        (json.dumps({"format": "lrviz-session", "version": 99}), "update lrviz"),
        (
            json.dumps(
                {
                    "format": "lrviz-session",
                    "version": 1,
                    "sections": {"simulation": {"run": {"objective": "quadratic", "dim": 10**6}}},
                }
            ),
            "sections.simulation",
        ),
    ],
)
def test_a_corrupt_or_future_session_changes_nothing(qtbot, tmp_path, window, content, words):
    window.open_paths([str(FIXTURES / "sweep")])
    _wait_loaded(qtbot, window)
    window.inspect_form.set_smoothing(0.3)
    before = window.session.state().to_dict()
    path = tmp_path / "bad.lrviz"
    path.write_text(content, encoding="utf-8")
    failures = []
    window.session.failed.connect(failures.append)
    assert not window.session.open(path)
    assert len(failures) == 1 and words in failures[0] and str(path) in failures[0]
    assert words in window.status_text.text()
    assert window.session.state().to_dict() == before
    assert len(window.library.logs) == 1


def test_a_session_opens_from_the_command_line_path_too(qtbot, tmp_path, window):
    path = sessions.save(
        tmp_path / "cli.lrviz", sessions.Session(sections={"inspect": {"smoothing": 0.123}})
    )
    window.open_paths([str(path)])
    assert window.inspect_form.smoothing == pytest.approx(0.123)
    assert not window.library.logs  # a session is not read as a log


def _answer_close_question(window, button):
    def answer():
        box = window.session.close_question
        if box is None:
            QTimer.singleShot(10, answer)
            return
        box.button(button).click()

    QTimer.singleShot(0, answer)


def test_quitting_with_unsaved_changes_asks_first(qtbot, tmp_path, window, monkeypatch):
    monkeypatch.setattr("ui.session.PROMPT_ON_CLOSE", True)
    window.session.mark_clean()
    window.inspect_form.set_smoothing(0.77)
    assert window.session.is_modified()
    _answer_close_question(window, QMessageBox.StandardButton.Cancel)
    assert window.close() is False and window.isVisible()
    # Save: to the current file, then closes
    window.session.path = tmp_path / "keep.lrviz"
    _answer_close_question(window, QMessageBox.StandardButton.Save)
    assert window.close() is True
    assert sessions.load(tmp_path / "keep.lrviz").sections["inspect"]["smoothing"] == 0.77
    QApplication.processEvents()


def test_an_unchanged_window_closes_without_a_question(qtbot, window, monkeypatch):
    monkeypatch.setattr("ui.session.PROMPT_ON_CLOSE", True)
    window.session.mark_clean()
    assert window.close() is True


def test_a_typed_function_is_saved_in_the_session(qtbot, tmp_path):
    """Issue 13: the function box (formula, start, domain) goes into the session and back."""
    first = _new_window(qtbot)
    form = first.simulate_form
    form.objective.setCurrentIndex(form.objective.findData("expr"))
    form.formula_box.formula.setText("x**2 + 10*y**2")
    form.formula_box.start.setText("1, -2")
    form.formula_box.domain.setText("-3:3, -3:3")
    path = first.session.save(tmp_path / "formula.lrviz")
    first.close()

    second = _new_window(qtbot)
    assert second.session.open(path)
    box = second.simulate_form.formula_box
    assert second.simulate_form.objective.currentData() == "expr"
    assert box.formula.text() == "x**2 + 10*y**2"
    assert box.start.text() == "1, -2" and box.domain.text() == "-3:3, -3:3"
    second.close()

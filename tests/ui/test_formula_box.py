"""Issue 13 in the window: type a loss surface, see it checked as you type, run it."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt


def choose_formula(form):
    form.objective.setCurrentIndex(form.objective.findData("expr"))


def test_the_formula_box_shows_only_for_a_formula(qtbot, window):
    form = window.simulate_form
    assert not form.formula.isVisibleTo(form)
    choose_formula(form)
    assert form.formula.isVisibleTo(form) and form.start.isVisibleTo(form)
    assert not form.curvature.isVisibleTo(form)
    assert form.objective.currentText() == "Your formula…"


def test_a_broken_or_unsafe_formula_is_red_with_its_position_and_runs_nothing(qtbot, window):
    form = window.simulate_form
    choose_formula(form)
    for text in ("x**2 +", "__import__('os')", "x.real"):
        form.formula.setText(text)
        assert not form.check_formula()
        assert "column" in form.formula_message.text()
    started = []
    window.runner.started.connect(started.append)
    qtbot.mouseClick(form.run_button, Qt.MouseButton.LeftButton)
    assert not started and "formula" in form.message.text()


def test_typing_is_checked_after_a_pause(qtbot, window):
    form = window.simulate_form
    choose_formula(form)
    form.formula.clear()
    qtbot.keyClicks(form.formula, "x**2 + (")
    qtbot.waitUntil(lambda: "column" in form.formula_message.text(), timeout=2000)
    qtbot.keyClicks(form.formula, "y)")
    qtbot.waitUntil(lambda: "valid" in form.formula_message.text(), timeout=2000)


def test_a_formula_runs_like_any_objective_and_matches_theory(qtbot, window):
    """Plain GD on a*x**2 diverges above λ = 1/a (curvature 2a)."""
    form = window.simulate_form
    choose_formula(form)
    form.formula.setText("5*x**2")
    form.start.setText("1")
    form.optimizer.setCurrentIndex(form.optimizer.findData("sgd"))
    form.lr_min.setValue(0.05)
    form.lr_max.setValue(0.5)
    form.lr_count.setValue(6)
    form.iterations.setValue(200)
    with qtbot.waitSignal(window.simulation_finished, timeout=30_000):
        qtbot.mouseClick(form.run_button, Qt.MouseButton.LeftButton)
    store = window.runner.store
    assert window.runner.config.expr == "5*x**2"
    np.testing.assert_array_equal(store.diverged_at >= 0, store.lrs > 0.2 + 1e-12)


def test_a_preset_fills_the_formula_and_the_start(qtbot, window):
    form = window.simulate_form
    choose_formula(form)
    form.preset.setCurrentIndex(form.preset.findData("saddle"))
    form.preset.activated.emit(form.preset.currentIndex())
    assert "y**4" in form.formula.text() and form.start.text().startswith("1.5")
    assert form.check_formula()

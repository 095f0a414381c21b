"""The function box's preview (as you type, off the GUI thread), its domain and noise, its
state for sessions, and a range test on a typed function."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PySide6.QtCore import Qt

TIMEOUT_MS = 30_000


def choose_formula(form):
    form.objective.setCurrentIndex(form.objective.findData("expr"))


def wait_for_preview(qtbot, box, text: str) -> None:
    qtbot.waitUntil(lambda: box.preview_text == text, timeout=TIMEOUT_MS)


def test_the_preview_follows_typing(qtbot, window):
    form = window.simulate_form
    choose_formula(form)
    box = form.formula_box
    wait_for_preview(qtbot, box, "x**2 + 10*y**2")  # the default, once shown
    form.formula.clear()
    qtbot.keyClicks(form.formula, "x**2 + y**2")
    wait_for_preview(qtbot, box, "x**2 + y**2")
    view = box.preview_view
    assert view.image.image is not None and view.image.image.shape == (96, 96)
    x, _ = view.contours.getData()
    assert x is not None and x.size > 20
    round_contours = view.contours.getData()
    qtbot.keyClicks(form.formula, " + 3*x*y")
    wait_for_preview(qtbot, box, "x**2 + y**2 + 3*x*y")
    assert not np.array_equal(view.contours.getData()[0], round_contours[0])
    sx, sy = view.start.getData()
    assert (sx[0], sy[0]) == (1.0, 1.0)


def test_an_invalid_formula_has_no_preview_and_a_red_message(qtbot, window):
    form = window.simulate_form
    choose_formula(form)
    box = form.formula_box
    wait_for_preview(qtbot, box, "x**2 + 10*y**2")
    qtbot.keyClicks(form.formula, " +")
    wait_for_preview(qtbot, box, "")
    assert box.preview_view.image.image is None
    assert (
        box.preview_view.contours.getData()[0] is None
        or not box.preview_view.contours.getData()[0].size
    )
    message = form.formula_message
    assert "column" in message.text() and message.property("role") == "error"
    red = message.palette().color(message.foregroundRole())
    assert red.red() > 150 and red.green() < 60  # the theme's error colour


def test_a_1d_formula_previews_as_a_curve_and_a_bad_domain_is_named(qtbot, window):
    form = window.simulate_form
    choose_formula(form)
    box = form.formula_box
    form.formula.setText("(x - 1)**2")
    form.start.setText("3")
    box.check_formula()
    wait_for_preview(qtbot, box, "(x - 1)**2")
    x, y = box.curve.getData()
    assert x.size == 256 and np.nanmin(y) == pytest.approx(0.0, abs=1e-3)
    form.formula.setText("x**2 + y**2")
    form.start.setText("1, 1")
    form.domain.setText("3:-3, 0:1")
    box.check_formula()
    assert box.preview_text == "" and "low < high" in form.formula_message.text()
    with pytest.raises(ValueError, match="low < high"):
        form.config()
    form.domain.setText("-4:4, -1:1")
    box.check_formula()
    wait_for_preview(qtbot, box, "x**2 + y**2")
    assert box.preview_view.plot.viewRange()[0] == pytest.approx([-4, 4])
    assert form.config().domain == ((-4.0, 4.0), (-1.0, 1.0))


def test_a_preset_brings_its_noise_and_domain(qtbot, window):
    """The noisy bowl's noise used to be dropped: the form ran a noiseless bowl."""
    form = window.simulate_form
    choose_formula(form)
    form.preset.setCurrentIndex(form.preset.findData("noisy-bowl"))
    form.preset.activated.emit(form.preset.currentIndex())
    config = form.config()
    assert config.gradient_noise == pytest.approx(0.5)
    assert config.domain == ((-2.5, 2.5), (-2.5, 2.5))


def test_the_form_state_round_trips_through_json(qtbot, window):
    form = window.simulate_form
    choose_formula(form)
    form.formula.setText("x**2 + 3*y**2 +")  # unfinished: saved as typed
    form.start.setText("2, -1")
    form.domain.setText("-3:3, -2:2")
    form.lr_count.setValue(5)
    state = json.loads(json.dumps(form.get_state()))
    assert state["formula"] == "x**2 + 3*y**2 +"
    assert state["start"] == "2, -1" and state["domain"] == "-3:3, -2:2"
    form.objective.setCurrentIndex(form.objective.findData("rosenbrock"))
    form.formula.setText("x")
    form.lr_count.setValue(9)
    form.set_state(state)
    assert form.objective.currentData() == "expr" and form.lr_count.value() == 5
    assert form.formula.text() == "x**2 + 3*y**2 +" and form.start.text() == "2, -1"
    assert form.domain.text() == "-3:3, -2:2"
    assert not form.check_formula()


def test_a_range_test_runs_on_a_typed_function(qtbot, window):
    tool = window.range_tool
    form = tool.form
    window.controls.setCurrentWidget(tool.tab)
    form.objective.setCurrentIndex(form.objective.findData("expr"))
    assert form.formula_box.formula.isVisibleTo(form)
    form.formula_box.formula.setText("x**2 + 10*y**2")
    form.formula_box.start.setText("1, 1")
    form.optimizer.setCurrentIndex(form.optimizer.findData("sgd"))
    form.min_lr.setValue(1e-4)
    form.max_lr.setValue(1.0)
    form.iterations.setValue(200)
    with qtbot.waitSignal(tool.test_finished, timeout=TIMEOUT_MS) as finished:
        qtbot.mouseClick(form.run_button, Qt.MouseButton.LeftButton)
    result = finished.args[0]
    assert tool.settings.config.expr == "x**2 + 10*y**2"
    # plain GD on curvature 20 blows up once λ passes 2/20 = 0.1
    assert result.stopped_early and 0.1 < result.stop_lr < 1.0
    assert np.isfinite(result.loss[:-1]).all()
    state = form.get_state()
    assert state["objective"] == "expr" and state["formula"] == "x**2 + 10*y**2"

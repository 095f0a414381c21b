"""Issue 12 in the window: the dog lesson, the Simulate form's examples, β of hypergradient
descent, the clip guard said in the UI, sharpness against 2/λ. The real window, worker
thread and panels, driven as a user would (signals waited for, never a sleep)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from lrviz.lessons.dog import colour_belief
from lrviz.simulation_presets import SIMULATION_PRESETS


def show_lesson(window):
    tool = window.lesson_tool
    window.controls.setCurrentWidget(tool.tab)
    return tool


def test_the_lesson_plays_to_the_end_and_every_panel_shows_the_models(qtbot, window):
    tool = show_lesson(window)
    assert window.plot_docks["lesson"].isVisible()
    tool.timer.setInterval(1)  # the lesson's pace, not the test's: as fast as events allow
    with qtbot.waitSignal(tool.finished, timeout=30_000):
        qtbot.mouseClick(tool.form.play_button, Qt.MouseButton.LeftButton)
    learner = tool.learner
    assert learner.done and not tool.playing
    lesson = learner.lesson()
    view = window.lesson_view
    # the bars are the models' own final weights, the curves their beliefs at every step
    for r, column in enumerate(view.columns):
        np.testing.assert_array_equal(column.bars.opts["height"], learner.weights[r])
        assert column.caption.text() == lesson.captions[-1][r]
    for r, (dog, cat) in enumerate(view.belief_curves):
        x, y = dog.getData()
        assert x.size == len(lesson.animals) + 1
        np.testing.assert_array_equal(y, lesson.beliefs[:, r, 1])
        assert cat.getData()[1].size == x.size
    assert "Animal 41 of 41" in view.scene.text()
    assert tool.form.progress.value() == 41 and not tool.form.step_button.isEnabled()
    # the three outcomes, read from the models the window stepped
    after = lesson.weights[lesson.white_dog + 1]
    assert [colour_belief(w) for w in after] == [
        "dogs are black",
        "dogs are black",
        "dogs are white",
    ]
    assert colour_belief(learner.weights[0]) == "dogs are black"  # too low: it persists
    assert colour_belief(learner.weights[1]) == "colour does not matter"  # good
    assert "Lesson over" in window.statusBar().currentMessage()


def test_lesson_keys_step_pause_and_reset_only_while_its_tab_is_in_front(qtbot, window):
    tool = show_lesson(window)
    window.activateWindow()
    with qtbot.waitSignal(tool.stepped, check_params_cb=lambda n: n == 1):
        qtbot.keyClick(window, Qt.Key.Key_Right)
    with qtbot.waitSignal(tool.stepped, check_params_cb=lambda n: n == 2):
        qtbot.keyClick(window, Qt.Key.Key_N)
    assert window.lesson_view.columns[2].bars.opts["height"].tolist() == (
        tool.learner.weights[2].tolist()
    )
    with qtbot.waitSignal(tool.stepped, check_params_cb=lambda n: n == 0):
        qtbot.keyClick(window, Qt.Key.Key_Home)
    np.testing.assert_array_equal(tool.learner.weights, 0.0)
    # elsewhere the keys are the other tools': the lesson does not move
    window.controls.setCurrentWidget(window.simulate_form)
    qtbot.keyClick(window, Qt.Key.Key_Right)
    assert tool.learner.steps_taken == 0
    assert not any(s.isEnabled() for s in tool.shortcuts)


def test_play_pause_and_a_tab_switch_stops_playing(qtbot, window):
    tool = show_lesson(window)
    tool.timer.setInterval(1)
    with qtbot.waitSignal(tool.stepped, check_params_cb=lambda n: n >= 3, timeout=10_000):
        tool.toggle_play()
    assert tool.form.play_button.text() == "Pause"
    tool.toggle_play()
    assert not tool.playing and tool.form.play_button.text() == "Continue"
    shown = tool.learner.steps_taken
    with qtbot.waitSignal(tool.stepped, check_params_cb=lambda n: n == shown + 1):
        qtbot.mouseClick(tool.form.step_button, Qt.MouseButton.LeftButton)
    tool.toggle_play()
    window.controls.setCurrentWidget(window.simulate_form)
    assert not tool.playing


def test_the_window_keeps_its_size_with_the_lesson_and_examples(qtbot, window):
    """Three columns of bars must fit beside the sources and controls at 1024x700 (their
    titles once set a minimum width that made the window 1,093 px wide)."""
    window.resize(1024, 700)
    show_lesson(window)
    qtbot.waitUntil(lambda: window.lesson_view.isVisible())
    assert window.width() == 1024
    window.controls.setCurrentWidget(window.simulate_form)
    form = window.simulate_form
    for key in SIMULATION_PRESETS:
        form.example.setCurrentIndex(form.example.findData(key))
        assert window.width() == 1024


@pytest.mark.parametrize("key", sorted(SIMULATION_PRESETS))
def test_each_example_runs_and_its_panels_got_data(qtbot, window, key):
    form = window.simulate_form
    form.example.setCurrentIndex(form.example.findData(key))
    assert form.example_text.text() == SIMULATION_PRESETS[key].description
    with qtbot.waitSignal(window.simulation_finished, timeout=180_000):
        qtbot.mouseClick(form.example_button, Qt.MouseButton.LeftButton)
    window.redraw()
    config, store = window.runner.config, window.runner.store
    assert config.to_dict() == SIMULATION_PRESETS[key].build().to_dict()
    assert store.count == config.iterations
    assert form.objective.currentData() == config.objective  # the form shows the problem
    for panel in (window.loss_vs_iteration, window.lr_vs_iteration):
        x, y = panel.curves[0].getData()
        assert x.size > 0 and np.isfinite(y).any()
    if key == "compare-adaptive":
        legend = [label.text for _sample, label in window.loss_vs_iteration.legend.items]
        assert legend[: store.runs] == config.run_names()
        # DoG's λ, streamed into λ vs iteration, climbs by four decades and more
        dog = config.run_names().index("dog")
        _x, lr = window.lr_vs_iteration.curves[dog].getData()
        assert np.nanmax(lr) > 1e4 * np.nanmin(lr)
        assert window.plot_docks["lr_vs_iteration"].isVisible()
        assert "lowest final loss" in window.status_text.text()
    else:
        panel = window.sharpness
        assert window.plot_docks["sharpness"].isVisible()
        assert len(panel.curves) == store.runs
        for i, (curve, limit) in enumerate(zip(panel.curves, panel.limits, strict=True)):
            # xData, yData: what the panel gave (getData is log10 of it on a log axis)
            x, y = curve.xData, curve.yData
            assert x.size == config.iterations // config.sharpness_every
            assert np.all(np.isfinite(y))
            np.testing.assert_allclose(limit.yData, 2.0 / config.lrs[i])
        assert panel.labels[1].toPlainText() == "λ = 2: 2/λ = 1"
        assert not panel.message.isVisible()


def test_sharpness_from_the_form_on_the_quadratic_is_L(qtbot, window):
    form = window.simulate_form
    form.objective.setCurrentIndex(form.objective.findData("quadratic"))
    form.curvature.setValue(7.0)
    form.condition.setValue(3.0)
    form.dim.setValue(5)
    form.lr_min.setValue(0.01)
    form.lr_max.setValue(0.2)
    form.lr_count.setValue(3)
    form.iterations.setValue(60)
    form.sharpness_every.setValue(5)
    assert form.config().sharpness_every == 5
    with qtbot.waitSignal(window.simulation_finished, timeout=60_000):
        qtbot.mouseClick(form.run_button, Qt.MouseButton.LeftButton)
    window.redraw()
    for curve in window.sharpness.curves:
        np.testing.assert_array_equal(curve.xData, np.arange(0, 60, 5))
        np.testing.assert_allclose(curve.yData, 7.0, rtol=1e-3)
    assert window.plot_docks["sharpness"].isVisible()


def test_no_sharpness_says_how_to_get_it(qtbot, window):
    with qtbot.waitSignal(window.simulation_finished, timeout=60_000):
        window.start_demo()
    assert window.sharpness.message.isVisible()
    assert "Sharpness" in window.sharpness.message.toPlainText()


def test_beta_presets_and_the_adaptive_hints(qtbot, window):
    form = window.simulate_form
    form.optimizer.setCurrentIndex(form.optimizer.findData("sgd-hd"))
    assert form._training_form.isRowVisible(form.beta_row)
    assert form.beta.value() == pytest.approx(1e-6)  # the authors' code default
    form.beta_preset.setCurrentIndex(form.beta_preset.findData("paper-mnist"))
    assert form.config().hypergrad_lr == pytest.approx(1e-3)
    form.optimizer.setCurrentIndex(form.optimizer.findData("adam-hd"))
    assert form.config().hypergrad_lr == pytest.approx(1e-7)  # each its own β of the preset
    form.beta.setValue(3e-6)
    form.beta.editingFinished.emit()
    assert form.beta_preset.currentData() == "custom"
    assert form.config().hypergrad_lr == pytest.approx(3e-6)
    assert "λ₀" in form.adaptive_hint.text()
    form.optimizer.setCurrentIndex(form.optimizer.findData("dog"))
    assert not form._training_form.isRowVisible(form.beta_row)
    assert form.config().hypergrad_lr is None
    assert "multiplies" in form.adaptive_hint.text()
    form.optimizer.setCurrentIndex(form.optimizer.findData("sgdn-hd"))
    assert form._training_form.isRowVisible(form.momentum)
    form.optimizer.setCurrentIndex(form.optimizer.findData("sgd"))
    assert not form._training_form.isRowVisible(form.adaptive_hint)


def test_a_clipped_hypergradient_is_said_on_the_lr_panel_and_in_the_status_bar(qtbot, window):
    form = window.simulate_form
    form.objective.setCurrentIndex(form.objective.findData("quadratic"))
    form.optimizer.setCurrentIndex(form.optimizer.findData("sgd-hd"))
    form.beta_preset.setCurrentIndex(form.beta_preset.findData("custom"))
    form.beta.setValue(50.0)  # far too high: λ leaps past its ceiling, then below 0
    form.lr_min.setValue(1e-3)
    form.lr_max.setValue(2e-3)
    form.lr_count.setValue(2)
    form.iterations.setValue(40)
    with qtbot.waitSignal(window.simulation_finished, timeout=60_000):
        qtbot.mouseClick(form.run_button, Qt.MouseButton.LeftButton)
    window.redraw()
    store = window.runner.store
    assert store.clipped_names() == ["λ = 1e-3", "λ = 2e-3"]
    note = window.lr_vs_iteration.clip_note
    assert not note.isHidden()
    assert note.text() == "⚠ λ clipped by the guard: λ = 1e-3, λ = 2e-3"
    assert "raised to its floor" in note.toolTip() or "cut to its ceiling" in note.toolTip()
    assert "λ clipped by the guard: λ = 1e-3, λ = 2e-3" in window.status_text.text()
    # a run without clipping clears the note
    form.optimizer.setCurrentIndex(form.optimizer.findData("sgd"))
    with qtbot.waitSignal(window.simulation_finished, timeout=60_000):
        qtbot.mouseClick(form.run_button, Qt.MouseButton.LeftButton)
    window.redraw()
    assert note.isHidden() and "clipped" not in window.status_text.text()

"""The Search tab in the real window (issue 11): the coarse-to-fine search in the worker thread,
its layer on loss vs λ, its curves on loss vs iteration, the chosen range and its export; and
the range test's Verify button."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lrviz.rangetest import RangeTest, RangeTestSpec
from lrviz.search import LrSearch
from lrviz.simulation_config import SimulationConfig
from lrviz.verify import verify_suggestion

TIMEOUT_MS = 60_000


@pytest.fixture
def tool(window):
    return window.search_tool


def points(item) -> int:
    x = item.getData()[0]
    return 0 if x is None else len(x)


def quadratic_form(tool, iterations=120, stages=6):
    form = tool.form
    form.objective.setCurrentIndex(form.objective.findData("quadratic"))
    form.optimizer.setCurrentIndex(form.optimizer.findData("sgd"))
    form.iterations.setValue(iterations)
    form.stages.setValue(stages)
    return form


def test_a_search_from_the_form_streams_into_both_plots_and_ends_as_the_library_does(
    qtbot, window, tool
):
    form = quadratic_form(tool)
    assert not form.subset.isVisibleTo(form)  # a subset only for dataset objectives
    names = [form.objective.itemData(i) for i in range(form.objective.count())]
    assert len(names) == len(set(names)) and "expr" in names
    with qtbot.waitSignal(tool.finished, timeout=TIMEOUT_MS) as finished:
        form.run_button.click()
        assert form.stop_button.isEnabled() and not form.run_button.isEnabled()
        assert window.controls.currentWidget() is tool.tab
    result = finished.args[0]
    # The same numbers as the search run headless on the same request.
    request = tool.request
    assert result == LrSearch(request.config, request.settings).run_to_end()
    assert result.best_lr == pytest.approx(0.1, rel=0.25)  # 1/L on the default bowl
    assert form.run_button.isEnabled() and not form.stop_button.isEnabled()
    # Loss vs λ: one colour per stage, the bracket shaded, the best λ marked.
    overlay = tool.overlay
    assert len(overlay._stage_items) == len(result.stages)
    drawn = sum(points(filled) + points(hollow) for filled, hollow in overlay._stage_items.values())
    diverged = sum(sum(stage.diverged) for stage in result.stages)
    assert drawn + diverged == sum(len(stage.lrs) for stage in result.stages)
    assert points(overlay.diverged) == diverged
    assert overlay.best.isVisible() and "best" in overlay.best.label.format
    assert overlay.best.value() == pytest.approx(np.log10(result.best_lr))
    low, high = overlay.bracket.getRegion()
    assert (10**low, 10**high) == pytest.approx(result.bracket)
    assert "stage&nbsp;1" in tool.key.text() and tool.key.isVisible()
    # Loss vs iteration: a curve per candidate; a pruned one is a stub that stops early.
    n = request.config.iterations
    assert len(overlay._curves) == len(tool._candidates)
    for trial, candidate in tool._candidates.items():
        x, _y = overlay._curves[trial].getData()
        if candidate.full:
            assert x[-1] == n - 1
        elif candidate.pruned and not candidate.diverged:
            assert x[-1] < n - 1
            assert overlay._curves[trial].opts["pen"].color().alpha() < 255  # faded
    # The bracket is now the chosen range; it exports like the range test's.
    assert tool.chosen_range == pytest.approx(result.bracket)
    assert form.result_box.isVisibleTo(form)
    assert "Best λ" in form.summary.text()
    assert "OneCycleLR" in form.code.toPlainText()
    assert "best λ" in tool.status_label.text()


def test_the_search_layer_swaps_with_the_simulation_and_never_mixes(qtbot, window, tool):
    quadratic_form(tool, iterations=60, stages=2)
    with qtbot.waitSignal(tool.finished, timeout=TIMEOUT_MS):
        tool.run_search()
    layers = window.loss_vs_lr_layers
    assert "search" in layers.shown and "simulation" not in layers.shown
    assert window.loss_vs_iteration.covered
    assert not window.loss_vs_lr.points.isVisible()
    # A simulation takes the panels back: the search's items hide, its checkbox follows.
    with qtbot.waitSignal(window.simulation_finished, timeout=TIMEOUT_MS):
        window.start_simulation(SimulationConfig(lrs=np.geomspace(1e-3, 1, 8), iterations=50))
    assert "search" not in layers.shown
    assert not window.loss_vs_iteration.covered
    assert not tool.show_layer.isChecked()
    assert not any(curve.isVisible() for curve in tool.overlay._curves.values())
    assert not tool.key.isVisible()
    # Ticking "search" brings it back alone.
    tool.show_layer.setChecked(True)
    assert layers.shown >= {"search"} and "simulation" not in layers.shown
    assert all(curve.isVisible() for curve in tool.overlay._curves.values())


def test_stop_ends_the_search_with_what_it_found(qtbot, window, tool):
    form = tool.form
    form.objective.setCurrentIndex(form.objective.findData("mlp"))
    form.iterations.setValue(3000)
    with qtbot.waitSignal(tool.finished, timeout=TIMEOUT_MS) as finished:
        with qtbot.waitSignal(tool.progressed, timeout=TIMEOUT_MS):
            form.run_button.click()
        form.stop_button.click()
    result = finished.args[0]
    assert result.stopped_because == "stopped"
    assert result.iterations_spent < tool._search.most_run_iterations()
    assert "stopped" in form.status.text().lower()


def test_eta_and_subset_reach_the_search_and_progress_shows_an_estimate(qtbot, window, tool):
    form = tool.form
    form.objective.setCurrentIndex(form.objective.findData("logreg"))
    form.batch_size.setValue(0)
    form.iterations.setValue(90)
    form.eta.setValue(2.0)
    form.subset.setValue(0.5)
    form.criterion.setCurrentIndex(form.criterion.findData("area"))
    assert form.subset.isVisibleTo(form)
    seen = []
    tool.progressed.connect(lambda done, total: seen.append((done, total)))
    with qtbot.waitSignal(tool.finished, timeout=TIMEOUT_MS) as finished:
        form.run_button.click()
    settings = tool.request.settings
    assert (settings.eta, settings.subset, settings.criterion) == (2.0, 0.5, "area")
    assert finished.args[0].criterion == "area"
    assert seen and all(done <= total for done, total in seen)
    assert [d for d, _t in seen] == sorted(d for d, _t in seen)
    assert tool._search.subset_objective.samples == 500


def test_bad_settings_are_shown_and_nothing_starts(qtbot, window, tool):
    form = tool.form
    form.min_lr.setValue(1.0)
    form.max_lr.setValue(0.1)
    form.run_button.click()
    assert "min λ < max λ" in form.message.text()
    assert not tool.jobs.busy
    form.min_lr.setValue(1e-7)
    form.objective.setCurrentIndex(form.objective.findData("expr"))
    form.formula.setText("x**")
    assert tool.run_search() is False
    assert "formula" in form.message.text()
    assert not tool.jobs.busy


def test_the_chosen_range_is_draggable_and_saves_as_json(qtbot, window, tool, tmp_path):
    quadratic_form(tool, iterations=60, stages=3)
    with qtbot.waitSignal(tool.finished, timeout=TIMEOUT_MS) as finished:
        tool.run_search()
    result = finished.args[0]
    assert tool.overlay.bracket.movable
    # Releasing the band somewhere else is one undoable edit of the chosen range.
    with qtbot.waitSignal(tool.range_changed):
        tool.overlay.bracket.setRegion((-2.0, -1.0))
        tool.overlay.bracket.sigRegionChangeFinished.emit(tool.overlay.bracket)
    assert tool.chosen_range == pytest.approx((0.01, 0.1))
    tool.selection.undo()
    assert tool.chosen_range == pytest.approx(result.bracket)
    saved = tool.save_json(tmp_path / "search.json")
    data = json.loads(saved.read_text())
    assert data["source"] == "search"
    assert data["search"] == json.loads(json.dumps(result.to_dict()))
    assert data["problem"]["objective"] == "quadratic"
    assert data["min_lr"] <= data["suggested_lr"] <= data["max_lr"]


def test_closing_the_window_stops_a_running_search(qtbot, window, tool):
    tool.form.iterations.setValue(5000)
    with qtbot.waitSignal(tool.progressed, timeout=TIMEOUT_MS):
        tool.run_search()
    window.close()
    assert not tool.jobs.busy


def test_session_state_round_trips_the_form(qtbot, window, tool):
    form = tool.form
    form.per_stage.setValue(6)
    form.criterion.setCurrentIndex(form.criterion.findData("best"))
    state = tool.get_state()
    form.per_stage.setValue(2)
    tool.set_state(state)
    assert form.per_stage.value() == 6 and form.criterion.currentData() == "best"


# --- the range test's Verify button, then a search of the same problem ----------------------


def test_range_test_verify_then_search_the_same_problem(qtbot, window):
    ranges, search = window.range_tool, window.search_tool
    settings = RangeTestSpec(
        config=SimulationConfig(objective="logreg", optimizer="sgd"),
        min_lr=1e-7,
        max_lr=1.0,
        iterations=150,
        mode="exp",
        stop_factor=4.0,
        smoothing=0.95,
    )
    assert not ranges.form.verify_button.isEnabled()
    with qtbot.waitSignal(ranges.test_finished, timeout=TIMEOUT_MS):
        ranges.run_test(settings)
    assert ranges.form.verify_button.isEnabled()
    with qtbot.waitSignal(ranges.verified, timeout=TIMEOUT_MS) as verified:
        ranges.form.verify_button.click()
        assert not ranges.form.verify_button.isEnabled()
    verification = verified.args[0]
    reading = RangeTest(settings.config, iterations=150).run_to_end().suggest()
    expected = verify_suggestion(settings.config, reading, iterations=150)
    assert verification.to_dict() == pytest.approx(expected.to_dict())
    # Drawn beside the range-test curve: measured loss vs λ, the best λ marked.
    overlay = ranges.verify_overlay
    assert points(overlay.points) == int(np.isfinite(expected.final_loss).sum())
    assert overlay.best.isVisible()
    assert overlay.best.value() == pytest.approx(np.log10(expected.best_lr))
    assert "Verified" in ranges.form.status.text()
    # It is part of the range test's layer: hidden with it.
    window.loss_vs_lr_layers.hide("range test")
    assert not overlay.points.isVisible()
    window.loss_vs_lr_layers.show("range test")
    assert overlay.points.isVisible()
    # The Search tab took the range test's problem: the two can be compared.
    form = search.form
    assert form.objective.currentData() == "logreg"
    assert form.optimizer.currentData() == "sgd"
    assert form.iterations.value() == 150
    with qtbot.waitSignal(search.finished, timeout=TIMEOUT_MS) as finished:
        form.run_button.click()
    assert "range test" not in window.loss_vs_lr_layers.shown
    assert not overlay.points.isVisible()  # the layers swap, never mix
    result = finished.args[0]
    low, high = result.bracket
    assert low <= result.best_lr <= high


def test_a_new_range_test_forgets_the_last_verification(qtbot, window):
    ranges = window.range_tool
    settings = RangeTestSpec(
        config=SimulationConfig(objective="quadratic"),
        min_lr=1e-5,
        max_lr=1.0,
        iterations=80,
        mode="exp",
        stop_factor=4.0,
        smoothing=0.95,
    )
    with qtbot.waitSignal(ranges.test_finished, timeout=TIMEOUT_MS):
        ranges.run_test(settings)
    with qtbot.waitSignal(ranges.verified, timeout=TIMEOUT_MS):
        ranges.verify()
    assert ranges.verification is not None
    with qtbot.waitSignal(ranges.test_finished, timeout=TIMEOUT_MS):
        ranges.run_test(settings)
    assert ranges.verification is None
    assert not ranges.verify_overlay.points.isVisible()
    # A recorded curve has no problem to train: nothing to verify.
    lr = np.geomspace(1e-6, 1, 100)
    ranges.show_range_curve(lr, 2 - np.tanh(np.log10(lr) + 3), "finder.csv")
    assert not ranges.form.verify_button.isEnabled()
    assert ranges.verify() is False

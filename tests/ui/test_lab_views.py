"""``--screenshot PATH --view lab`` and ``--view lesson``: each view sets the window up as a
user would and says when it shows what it should (the subprocess test of every registered
view is tests/ui/test_app_cli.py::test_screenshot_of_each_main_view)."""

from __future__ import annotations

import numpy as np

from ui import views


def show(qtbot, window, name):
    shown = []
    views.show_function(name)(window, lambda: shown.append(True), [])
    qtbot.waitUntil(lambda: bool(shown), timeout=60_000)
    window.redraw()


def test_lab_and_lesson_are_registered_views():
    for name in ("lab", "lesson"):
        assert views.problem(name) is None
        assert callable(views.show_function(name))


def test_the_lab_view_shows_four_runs_side_by_side_on_a_drawn_surface(qtbot, window):
    show(qtbot, window, "lab")
    assert window.controls.currentWidget() is window.lab_tool.tab
    panel = window.loss_surface
    assert window.plot_docks["loss_surface"].isVisible()
    assert panel.surface is not None  # drawn under the paths, not computing still
    assert len(panel.views) == 4
    for view in panel.views:
        x, _y = view.paths[0].getData()
        assert np.asarray(x).size > 1
    assert window.runner.state == "finished"


def test_the_lesson_view_shows_the_models_just_after_the_white_dog(qtbot, window):
    show(qtbot, window, "lesson")
    tool = window.lesson_tool
    assert window.controls.currentWidget() is tool.tab
    assert window.plot_docks["lesson"].isVisible()
    assert tool.learner.steps_taken == tool.learner.white_dog + 3

"""The Lab tab: each preset runs, one plot per run, and the panels get data."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from lrviz.lab_presets import LAB_PRESETS


@pytest.mark.parametrize("key", list(LAB_PRESETS))
def test_each_preset_runs_side_by_side_and_every_panel_gets_data(qtbot, window, key):
    tool = window.lab_tool
    window.controls.setCurrentWidget(tool.tab)
    with qtbot.waitSignal(window.simulation_finished, timeout=60_000):
        qtbot.mouseClick(tool.tab.buttons[key], Qt.MouseButton.LeftButton)
    window.redraw()
    store = window.runner.store
    panel = window.loss_surface
    assert window.plot_docks["loss_surface"].isVisible()
    assert window.runner.config.lrs.size == store.runs == len(panel.views) == 4
    qtbot.waitUntil(lambda: panel.surface is not None, timeout=30_000)
    for i, view in enumerate(panel.views):
        x, y = view.paths[0].getData()
        assert x.size > 1 and np.all(np.isfinite(x)) and np.all(np.isfinite(y))
        assert view.image.image is not None
        title = view.plot.titleLabel.text
        assert title.startswith("λ = ")
        if tool.preset.captions:
            assert tool.preset.captions[i] in title
    curves = window.loss_vs_iteration
    assert curves.store is store and store.count > 0
    assert np.isfinite(window.loss_vs_lr.points.getData()[1]).any()
    assert tool.preset.title in tool.tab.description.text()


def test_effect_of_the_learning_rate_shows_crawl_clean_bounce_and_divergence(qtbot, window):
    with qtbot.waitSignal(window.simulation_finished, timeout=60_000):
        window.lab_tool.run_preset("effect-of-lr")
    store = window.runner.store
    assert [int(d >= 0) for d in store.diverged_at] == [0, 0, 0, 1]
    final = store.final_loss()
    assert final[1] < 1e-9 and final[2] < 1e-6 and final[0] > 1e-2  # crawl is still far
    # theory lines on loss vs λ: the preset is the quadratic
    assert [line.value() for line in window.loss_vs_lr.theory_lines] == pytest.approx(
        [np.log10(0.2), np.log10(2 / 12)]
    )

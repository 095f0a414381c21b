"""Panels drawing one symbol per run render each run's symbol once, not once a frame."""

from __future__ import annotations

import numpy as np

from lrviz.run_store import RunStore
from lrviz.simulation_config import SimulationConfig
from ui.panels.loss_vs_lr import LossVsLrPanel


def test_loss_vs_lr_renders_each_runs_symbol_once_across_refreshes(qtbot):
    """A symbol pen given as a colour became a new pen object every refresh, and pyqtgraph
    renders a symbol per pen object: every refresh rendered every run's symbol again
    (100 ms a frame at 1000 runs)."""
    panel = LossVsLrPanel()
    qtbot.addWidget(panel)
    panel.show()
    config = SimulationConfig(objective="quadratic", lrs=np.geomspace(1e-3, 1.0, 12), iterations=60)
    store = RunStore(config.lrs, config.iterations)
    panel.set_store(store)
    for batch in config.build().run(batch_iterations=10):
        store.append(batch)
        assert panel.refresh()
    atlas = panel.points.scatter.fragmentAtlas
    assert store.count == 60 and 0 < len(atlas) <= config.lrs.size

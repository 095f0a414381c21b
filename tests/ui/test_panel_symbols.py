"""Panels drawing one symbol per run render each run's symbol once, not once a frame."""

from __future__ import annotations

import numpy as np

from lrviz.run_store import RunStore
from lrviz.simulation_config import SimulationConfig
from ui.panels.loss_vs_lr import LossVsLrPanel


def test_loss_vs_lr_renders_each_runs_symbol_once_across_refreshes(qtbot, monkeypatch):
    """A symbol pen given as a colour became a new pen object every refresh, and pyqtgraph
    renders a symbol per pen object: every refresh rendered every run's symbol again
    (100 ms a frame at 1000 runs). Each run's colour is rendered once, when the store is
    set, and never while the points move."""
    from ui.panels import sweep_dots

    rendered = []
    real = sweep_dots.renderSymbol
    monkeypatch.setattr(
        sweep_dots, "renderSymbol", lambda *a, **k: rendered.append(a) or real(*a, **k)
    )
    panel = LossVsLrPanel()
    qtbot.addWidget(panel)
    panel.show()
    config = SimulationConfig(objective="quadratic", lrs=np.geomspace(1e-3, 1.0, 12), iterations=60)
    store = RunStore(config.lrs, config.iterations)
    panel.set_store(store)
    assert 0 < len(rendered) <= config.lrs.size
    before = len(rendered)
    for batch in config.build().run(batch_iterations=10):
        store.append(batch)
        assert panel.refresh()
        panel.graphics.grab()
    assert store.count == 60 and len(rendered) == before


def test_a_streaming_refresh_redraws_the_stalest_runs_first_and_catches_up(qtbot, monkeypatch):
    """Re-deriving 1000 runs' curves in one refresh stalled the window for 0.4-0.8 s: while
    a run streams, a refresh re-derives a bounded share, the runs drawn longest ago first,
    and the following refreshes draw the rest; the curves end up as an unbounded refresh
    draws them."""
    from ui.panels import run_curves

    monkeypatch.setattr(run_curves, "STREAMING_POINTS_A_FRAME", 3 * 120)  # 3 runs a frame
    config = SimulationConfig(
        objective="quadratic", lrs=np.geomspace(1e-3, 0.15, 10), iterations=60
    )
    store = RunStore(config.lrs, config.iterations, envelopes=True)
    panel = run_curves.LossVsIterationPanel()
    qtbot.addWidget(panel)
    panel.set_store(store)
    panel.set_streaming(True)
    for batch in config.build().run(batch_iterations=60):
        store.append(batch)
    drawn_before = panel._drawn_counts.copy()
    assert panel.refresh()
    assert np.count_nonzero(panel._drawn_counts != drawn_before) == 3  # a share
    frames = 1
    while panel.refresh():
        frames += 1
    assert frames == 4 and np.all(panel._drawn_counts == 60)  # 3 + 3 + 3 + 1 runs
    streamed = [panel.curves[i].getData() for i in range(10)]
    panel.set_streaming(False)
    panel.redraw_all()  # everything at once
    for i, (x, y) in enumerate(streamed):
        ex, ey = panel.curves[i].getData()
        np.testing.assert_array_equal(x, ex)
        np.testing.assert_allclose(y, ey, rtol=1e-12)


def _streamed_store(runs: int, iterations: int = 40) -> RunStore:
    config = SimulationConfig(
        objective="quadratic", lrs=np.geomspace(1e-4, 0.15, runs), iterations=iterations
    )
    store = RunStore(config.lrs, config.iterations)
    for batch in config.build().run(batch_iterations=iterations):
        store.append(batch)
    return store


def test_loss_vs_lr_keeps_every_runs_point_and_colour_when_the_view_changes(qtbot):
    """The points were a PlotDataItem with a brush per run, which the plot's clip-to-view
    and downsampling thinned on every view-range change: "Number of brushes does not match
    number of points (1000 != 666)" was raised (and the points not drawn) at 1000 runs."""
    panel = LossVsLrPanel()
    qtbot.addWidget(panel)
    panel.resize(500, 300)
    panel.show()
    store = _streamed_store(1000)
    panel.set_store(store)  # draws the points
    view = panel.plot.getViewBox()
    for lo, hi in ((-4, -3), (-3.5, -1), (-2, -0.8), (-4, -0.8)):
        view.setXRange(lo, hi, padding=0)
        view.setYRange(-3, 0, padding=0)
        qtbot.waitUntil(lambda lo=lo, hi=hi: view.viewRange()[0] == [lo, hi])
        panel.graphics.grab()  # painted
    x, y = panel.points.getData()
    assert x.size == y.size == 1000  # every run's point, whatever the view shows
    np.testing.assert_allclose(10.0**x, store.lrs)
    np.testing.assert_allclose(10.0**y, store.final_loss())

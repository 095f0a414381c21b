"""Panels drawing one symbol per run render each run's symbol once, not once a frame."""

from __future__ import annotations

import numpy as np
import pytest

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

    # 3 runs a frame (a curve from the history counts as 2 x ZOOM_COLUMNS points)
    monkeypatch.setattr(run_curves, "STREAMING_POINTS_A_FRAME", 3 * 2 * run_curves.ZOOM_COLUMNS)
    config = SimulationConfig(
        objective="quadratic", lrs=np.geomspace(1e-3, 0.15, 10), iterations=60
    )
    # No envelopes: the curves are derived from the history (as a zoomed-in view's are;
    # the envelope's are mapped incrementally, tests/ui/test_streaming_curves.py)
    store = RunStore(config.lrs, config.iterations)
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


def test_streaming_frames_do_not_repaint_the_axes(qtbot, monkeypatch):
    """An axis's grid lines span the plot, so every frame of the curves painted the axes
    again, replaying their labels' text layout (4 ms an axis): cached, an axis is painted
    only when its range changes."""
    import pyqtgraph as pg

    from ui.panels.run_curves import LossVsIterationPanel

    config = SimulationConfig(
        objective="quadratic", lrs=np.geomspace(1e-3, 0.01, 8), iterations=400
    )
    store = RunStore(config.lrs, config.iterations, envelopes=True)
    painted = []
    real = pg.AxisItem.paint
    monkeypatch.setattr(pg.AxisItem, "paint", lambda s, *a: painted.append(s) or real(s, *a))
    panel = LossVsIterationPanel()
    qtbot.addWidget(panel)
    panel.resize(500, 300)
    panel.show()
    panel.set_store(store)
    panel.set_streaming(True)

    def frame(batch) -> None:
        seen = panel.graphics.paints
        store.append(batch)
        panel.refresh()
        qtbot.waitUntil(lambda: panel.graphics.paints > seen)

    batches = config.build().run(batch_iterations=20, batch_seconds=1e9)
    frame(next(batches))
    assert painted  # the axes were painted
    painted.clear()
    ranges, frames = set(), 0
    for batch in batches:
        frame(batch)
        ranges.add(tuple(map(tuple, panel.plot.getViewBox().viewRange())))
        frames += 1
    panel.set_streaming(False)
    assert frames == 19
    # an axis is painted again only when the view's range changed (72 paints, not 19, for
    # these 19 frames and 12 ranges before)
    assert len(painted) <= 2 * len(ranges)


def axisless_plot(qtbot, size):
    """A shown plot of ``size`` x ``size`` pixels without axes: its view fills the widget."""
    import pyqtgraph as pg

    widget = pg.PlotWidget()
    qtbot.addWidget(widget)
    widget.resize(size, size)
    widget.show()
    widget.hideAxis("left")
    widget.hideAxis("bottom")
    return widget


def test_dots_are_drawn_in_their_levels_colours(qtbot):
    """The dots' fragments are built once for all levels and drawn a level at a time: each
    dot in its level's colour, a NaN dot not at all."""
    import pyqtgraph as pg

    from ui.panels.sweep_dots import SweepDots

    widget = axisless_plot(qtbot, 300)
    dots = SweepDots("s", 12, pen=pg.mkPen(None))
    dots.set_palette([pg.mkBrush(255, 0, 0), pg.mkBrush(0, 200, 0), pg.mkBrush(0, 0, 255)])
    widget.addItem(dots)
    x = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    y = np.array([1.0, 2.0, 3.0, np.nan, 5.0])
    dots.set_points(x, y, np.array([2, 0, 1, 0, 2]))
    widget.setRange(xRange=(0, 6), yRange=(0, 6), padding=0)
    image = widget.grab().toImage()
    view = widget.getViewBox()

    def colour_at(px, py):
        point = widget.mapFromScene(view.mapViewToScene(pg.Point(px, py)))
        c = image.pixelColor(point.x(), point.y())
        return c.red(), c.green(), c.blue()

    assert colour_at(1, 1) == (0, 0, 255)
    assert colour_at(2, 2) == (255, 0, 0)
    assert colour_at(3, 3) == (0, 200, 0)
    assert colour_at(5, 5) == (0, 0, 255)
    assert colour_at(4, 4) != (255, 0, 0)  # NaN: no dot


def test_dots_of_256_levels_are_one_draw_call_each_in_its_levels_colour(qtbot):
    """A paint drew a level at a time: 256 drawPixmapFragments calls (and a shiboken wrap
    each, an import-hook call apiece) for a simulation's 256 colours of runs. The levels'
    symbols share one atlas now: one call a paint, and each dot still shows its own level's
    part of the atlas."""
    import pyqtgraph as pg
    from PySide6.QtGui import QImage, QPainter

    from ui.panels.sweep_dots import SweepDots

    levels = 256
    colours = [(k, 255 - k, (37 * k) % 256) for k in range(levels)]
    widget = axisless_plot(qtbot, 700)
    dots = SweepDots("s", 14, pen=pg.mkPen(None))
    dots.set_palette([pg.mkBrush(*c) for c in colours])
    widget.addItem(dots)
    x, y = np.meshgrid(np.arange(16.0), np.arange(16.0))
    dots.set_points(x.ravel(), y.ravel(), np.arange(levels)[::-1])  # dot i: level 255 - i
    widget.setRange(xRange=(-1, 16), yRange=(-1, 16), padding=0)
    image = widget.grab().toImage()
    view = widget.getViewBox()
    for i, (px, py) in enumerate(zip(x.ravel(), y.ravel(), strict=True)):
        point = widget.mapFromScene(view.mapViewToScene(pg.Point(px, py)))
        c = image.pixelColor(point.x(), point.y())
        assert (c.red(), c.green(), c.blue()) == colours[levels - 1 - i]

    calls = []

    class CountingPainter:
        def __init__(self, painter):
            self._painter = painter

        def drawPixmapFragments(self, *args):
            calls.append(args)
            return self._painter.drawPixmapFragments(*args)

        def __getattr__(self, name):
            return getattr(self._painter, name)

    target = QImage(700, 700, QImage.Format.Format_ARGB32_Premultiplied)
    painter = QPainter(target)
    try:
        painter.setTransform(dots.sceneTransform())
        dots.paint(CountingPainter(painter), None)
    finally:
        painter.end()
    assert len(calls) == 1


def test_a_bigger_palette_after_the_dots_paints_them(qtbot):
    """A second simulation of more runs gave loss vs λ's dots a palette of more levels than
    their last grouping had: paint indexed past the grouping's end, and the exception
    inside Qt's paint crashed the process."""
    import pyqtgraph as pg

    from ui.panels.sweep_dots import SweepDots

    widget = pg.PlotWidget()
    qtbot.addWidget(widget)
    widget.resize(200, 200)
    widget.show()
    dots = SweepDots("s", 12, pen=pg.mkPen(None))
    widget.addItem(dots)
    dots.set_palette([pg.mkBrush(255, 0, 0)])
    dots.set_points([1.0, 2.0], [1.0, 2.0], np.array([0, 0]))
    widget.grab()
    dots.set_palette([pg.mkBrush(255, 0, 0), pg.mkBrush(0, 200, 0), pg.mkBrush(0, 0, 255)])
    widget.setRange(xRange=(0, 3), yRange=(0, 3), padding=0)
    image = widget.grab().toImage()  # painted, the two dots in level 0's colour
    view = widget.getViewBox()
    point = widget.mapFromScene(view.mapViewToScene(pg.Point(2, 2)))
    assert image.pixelColor(point.x(), point.y()).red() == 255


@pytest.mark.parametrize("make", ["LossVsIterationPanel", "LossVsLrPanel"])
def test_a_panel_is_freed_as_soon_as_it_is_dropped(qtbot, make):
    """A legend held its panel's method (where the curves are): a cycle that only the
    garbage collector freed, in an order that crashed Qt about half the time
    (QGraphicsScene::clear on an item already deleted, tests/ui/test_panel_symbols.py)."""
    import gc
    import weakref

    from ui.panels import loss_vs_lr, run_curves

    kind = {
        "LossVsIterationPanel": run_curves.LossVsIterationPanel,
        "LossVsLrPanel": loss_vs_lr.LossVsLrPanel,
    }[make]
    gc.collect()
    gc.disable()
    try:
        panel = kind()
        ref = weakref.ref(panel)
        del panel
        assert ref() is None  # freed by its reference count, not left to the collector
    finally:
        gc.enable()

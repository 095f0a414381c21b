"""Paths on a loss surface as one item: their real extent (x not sorted) and hover names."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest

from ui.panels.trajectory_paths import PathCurve, TrajectoryPaths


def test_bounds_are_each_paths_real_extent_and_hover_finds_the_nearest(qtbot):
    widget = pg.PlotWidget()
    qtbot.addWidget(widget)
    widget.resize(400, 400)
    widget.show()
    item = TrajectoryPaths()
    widget.addItem(item)
    pens = [pg.mkPen("r"), pg.mkPen("b")]
    item.set_runs(pens, ["λ = 0.1", "λ = 1"])
    # a bounce: x goes right, back left past its start, then right again
    item.set_paths(
        [0, 1],
        [np.array([0.0, 2.0, -1.0, 1.0]), np.array([5.0, 6.0])],
        [np.array([0.0, 1.0, 2.0, 3.0]), np.array([-2.0, -3.0])],
    )
    assert item.dataBounds(0) == pytest.approx((-1.0, 6.0))
    assert item.dataBounds(1) == pytest.approx((-3.0, 3.0))
    widget.setRange(xRange=(-2, 7), yRange=(-4, 4), padding=0)
    qtbot.waitUntil(lambda: item.pixelVectors()[0] is not None)
    assert item.run_at(-1.0, 2.0) == 0 and item.run_at(5.0, -2.0) == 1
    assert item.run_at(3.5, 3.5) is None
    curve = PathCurve(item, 0, pens[0])
    np.testing.assert_array_equal(curve.getData()[0], [0.0, 2.0, -1.0, 1.0])
    assert curve.opts["pen"] is pens[0]

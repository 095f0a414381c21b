"""The runs of a panel drawn as one item: bounds, log mapping, visibility, hover names."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest

from ui.panels.run_paths import RunPaths


@pytest.fixture
def paths(qtbot):
    widget = pg.PlotWidget()
    qtbot.addWidget(widget)
    item = RunPaths()
    widget.addItem(item)
    item.set_runs([pg.mkPen("r"), pg.mkPen("b")], ["λ = 0.1", "λ = 1"])
    return widget, item


def test_bounds_are_the_shown_runs_finite_extent(paths):
    _widget, item = paths
    assert item.dataBounds(0) == (None, None)  # nothing yet
    x = np.arange(4.0)
    item.set_data([0, 1], x, [np.array([1.0, np.nan, 3.0, 2.0]), np.array([5.0, 6.0, np.inf, 7.0])])
    assert item.dataBounds(0) == pytest.approx((0.0, 3.0))
    assert item.dataBounds(1) == pytest.approx((1.0, 7.0))
    item.set_run_visible(1, False)
    assert item.dataBounds(1) == pytest.approx((1.0, 3.0))
    rect = item.boundingRect()
    assert (rect.top(), rect.bottom()) == pytest.approx((1.0, 3.0))


def test_log_axis_maps_to_log10_and_drops_non_positive(paths):
    widget, item = paths
    widget.setLogMode(x=False, y=True)
    item.set_data([0], np.arange(3.0), [np.array([10.0, 0.0, 1000.0])])
    _x, y = item.curve(0)
    assert y[0] == pytest.approx(1.0) and np.isnan(y[1]) and y[2] == pytest.approx(3.0)


def test_hover_names_the_nearest_run(paths, qtbot):
    widget, item = paths
    widget.resize(400, 300)
    widget.show()
    x = np.linspace(0.0, 10.0, 11)
    item.set_data([0, 1], x, [np.full(11, 1.0), np.full(11, 5.0)])
    widget.getViewBox().autoRange(padding=0.1)
    view = widget.getViewBox()
    qtbot.waitUntil(lambda: view.viewRange()[1][0] > 0.5 and item.pixelVectors()[1].y() > 0.01)
    assert item.run_at(5.0, 4.9) == 1
    assert item.run_at(5.0, 1.05) == 0
    assert item.run_at(5.0, 3.0) is None  # between the curves, far from both
    assert item.run_at(20.0, 1.0) is None  # beyond the data
    item.set_run_visible(1, False)
    assert item.run_at(5.0, 4.9) is None


def test_paint_draws_without_error(paths, qtbot):
    widget, item = paths
    item.set_data([0, 1], np.arange(5.0), [np.arange(5.0), np.arange(5.0)[::-1]])
    image = widget.grab()  # paints the item
    assert not image.isNull()


def test_flat_stretches_keep_only_their_ends(paths):
    _widget, item = paths
    x = np.arange(6.0)
    item.set_data([0, 1], x, [np.full(6, 0.1), np.array([1.0, 1.0, 1.0, 2.0, 2.0, np.nan])])
    np.testing.assert_array_equal(item.curve(0)[0], [0.0, 5.0])  # a constant: two points
    cx, cy = item.curve(1)
    np.testing.assert_array_equal(cx, [0.0, 2.0, 3.0, 4.0, 5.0])  # a step keeps its corner
    assert np.isnan(cy[-1]) and item.dataBounds(0) == pytest.approx((0.0, 5.0))

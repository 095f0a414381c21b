"""The runs of a panel drawn as one item: bounds, log mapping, visibility, hover names."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PySide6.QtGui import QImage

from ui.panels.run_paths import RunPaths, steady_range


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


def _pixels(widget) -> np.ndarray:
    image = widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    return np.array(image.constBits(), dtype=np.uint8).reshape(image.height(), -1)


def test_live_curves_are_stroked_off_the_gui_thread_into_the_same_picture(
    paths, qtbot, monkeypatch
):
    """While a run streams, the curves are stroked on a thread of their own and the GUI
    thread draws the image: the window shows the same pixels as painting them directly."""
    import threading

    from ui.panels import curve_raster

    widget, item = paths
    widget.resize(400, 300)
    widget.show()
    x = np.arange(200.0)
    item.set_data([0, 1], x, [np.sin(x / 9) + 2, np.cos(x / 7) + 2])
    widget.plotItem.vb.autoRange()
    qtbot.waitExposed(widget)
    _pixels(widget)  # the axes take their final widths
    stroked_in = []
    stroke = curve_raster.stroke
    monkeypatch.setattr(
        curve_raster,
        "stroke",
        lambda frame: stroked_in.append(threading.current_thread()) or stroke(frame),
    )
    item.set_live(True)
    widget.viewport().repaint()  # asks for the image of this view
    qtbot.waitUntil(lambda: item._image is not None and item._asked is None, timeout=10_000)
    live = _pixels(widget)
    assert item._asked is None  # the image shown is the current view's
    assert stroked_in and all(t is not threading.main_thread() for t in stroked_in)
    thread = item._raster._thread
    item.set_live(False)  # the run ended: vectors again, and the thread ends
    qtbot.waitUntil(lambda: not thread.is_alive(), timeout=10_000)
    exact = _pixels(widget)
    assert np.mean(live != exact) < 0.002  # the same picture


def test_live_image_follows_new_data(paths, qtbot):
    """Data that changes while live is stroked again; the newest frame wins."""
    widget, item = paths
    widget.resize(300, 200)
    widget.show()
    x = np.arange(50.0)
    item.set_live(True)
    for k in range(1, 4):
        item.set_data([0], x, [x * k])
        widget.viewport().repaint()
    version = item._version
    qtbot.waitUntil(
        lambda: item._image is not None and item._image[0].key[-1] == version, timeout=10_000
    )
    assert item._raster.busy is False


def test_a_live_view_shows_the_whole_run_and_a_steady_range(paths):
    """While a run streams, an auto-ranging view whose range followed the data changed on
    every frame, and its axes laid out their ticks again every frame: live, x and y widen
    only when the data crosses a round step."""
    _widget, item = paths
    x = np.arange(100.0)
    item.set_data([0, 1], x, [np.linspace(1.0, 2.0, 100), np.linspace(1.5, 1.9, 100)])
    assert item.dataBounds(0) == pytest.approx((0.0, 99.0))  # not live: exact
    item.set_live(True)
    assert item.dataBounds(0) == (0.0, 100.0)  # steps of 50
    item.set_data([0, 1], np.arange(121.0), [np.linspace(1.0, 2.0, 121)] * 2)
    assert item.dataBounds(0) == (0.0, 150.0)  # the next step
    item.set_data([0, 1], x, [np.linspace(1.0, 2.0, 100), np.linspace(1.5, 1.9, 100)])
    steady = item.dataBounds(1)
    assert steady[0] <= 1.0 and steady[1] >= 2.0
    # the data moves a little: the range stays
    item.set_data([0, 1], x, [np.linspace(1.02, 1.97, 100), np.linspace(1.5, 1.9, 100)])
    assert item.dataBounds(1) == steady
    item.set_live(False)
    assert item.dataBounds(1) == pytest.approx((1.02, 1.97))
    item.set_live(True)
    item.set_live(False)  # ends the stroking thread


@settings(max_examples=300, deadline=None)
@given(
    st.floats(-1e6, 1e6, allow_nan=False),
    st.floats(1e-6, 1e6, allow_nan=False),
    st.floats(0.0, 0.05),
)
def test_a_steady_range_holds_the_data_and_moves_only_in_round_steps(lo, span, nudge):
    hi = lo + span
    a, b = steady_range(lo, hi)
    assert a <= lo and b >= hi
    assert b - a <= 3 * span  # never much wider than the data
    # data a little inside the same grid keeps the same range unless it crossed a step
    inner = steady_range(lo + nudge * span, hi - nudge * span)
    assert inner[0] >= a - 1e-9 * abs(a) - 1e-12 and inner[1] <= b + 1e-9 * abs(b) + 1e-12

"""An axis's lines (the axis, its ticks, the grid across the plot) are filled as pixel
rectangles where Qt would stroke the same pixels (ui/panels/plot_panel.py: stroking a log
axis's 130 translucent grid lines took most of its paint): the same picture as stroking."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PySide6.QtCore import QPointF
from PySide6.QtGui import QColor, QImage, QPainter, QTransform

from ui.panels import plot_panel
from ui.panels.plot_panel import PlotPanel, ScientificAxis


def _pixels(image: QImage) -> np.ndarray:
    image = image.convertToFormat(QImage.Format.Format_ARGB32)
    return (
        np.frombuffer(image.constBits(), np.uint8)
        .reshape(image.height(), -1)[:, : 4 * image.width()]
        .copy()
    )


def _render(panel) -> np.ndarray:
    for side in ("left", "bottom"):
        axis = panel.plot.getAxis(side)
        axis.picture = None  # laid out and painted again
        axis.update()
    return _pixels(panel.graphics.grab().toImage())


@pytest.mark.parametrize("size", [(1024, 700), (613, 431), (1920, 1080)])
@pytest.mark.parametrize(
    "log_y, y_range, x_range",
    [
        (True, (-10.3, 3.1), (0, 20_000)),  # 13 decades: a grid line per decade and 2..9
        (True, (-307.6, 74.2), (-830.7, 20_830.7)),  # a loss that fell to 1e-300
        (False, (0.013, 0.71), (-3.3, 17.9)),
    ],
)
def test_an_axis_filled_paints_what_stroking_it_painted(
    qtbot, monkeypatch, size, log_y, y_range, x_range
):
    panel = PlotPanel("Loss vs iteration")
    qtbot.addWidget(panel)
    panel.resize(*size)
    panel.plot.setLogMode(x=False, y=log_y)
    panel.show()
    qtbot.waitExposed(panel)
    panel.plot.getViewBox().setRange(xRange=x_range, yRange=y_range, padding=0)
    filled = _render(panel)
    lines = panel.plot.getAxis("left")._draw_specs
    # every grid line and tick of these axes is horizontal or vertical: all filled
    assert len(lines) > 10
    assert all(plot_panel._pixel_rect(pen, a, b) is not None for pen, a, b in lines)
    monkeypatch.setattr(ScientificAxis, "paint", pg.AxisItem.paint)  # stroked, as pyqtgraph
    stroked = _render(panel)
    assert filled.shape == stroked.shape
    assert np.array_equal(filled, stroked), f"{np.count_nonzero(filled != stroked)} bytes differ"


coordinate = st.one_of(
    st.floats(2.0, 120.0),
    st.integers(2, 120).map(float),
    st.integers(2, 120).map(lambda v: v + 0.5),
)


@settings(max_examples=300, deadline=None)
@given(
    a=coordinate,
    b=coordinate,
    at=coordinate,
    vertical=st.booleans(),
    dx=st.sampled_from([0.0, 0.5, 0.3, 13.7, -2.25]),
    dy=st.sampled_from([0.0, 0.5, 0.7, 5.2]),
    alpha=st.sampled_from([38, 255, 90]),
    width=st.sampled_from([0.0, 1.0]),
)
def test_a_filled_line_covers_the_pixels_of_the_stroked_one(
    qapp, a, b, at, vertical, dx, dy, alpha, width
):
    pen = pg.mkPen(QColor(34, 34, 34, alpha), width=width)
    p1, p2 = (QPointF(at, a), QPointF(at, b)) if vertical else (QPointF(a, at), QPointF(b, at))

    def draw(how) -> np.ndarray:
        image = QImage(140, 140, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(QColor(250, 250, 245))
        painter = QPainter(image)
        painter.setTransform(QTransform.fromTranslate(dx, dy))
        how(painter)
        painter.end()
        return _pixels(image)

    def stroke(painter) -> None:
        painter.setPen(pen)
        painter.drawLine(p1, p2)

    assert plot_panel._pixel_rect(pen, p1, p2) is not None
    assert np.array_equal(draw(lambda p: plot_panel._draw_lines(p, [(pen, p1, p2)])), draw(stroke))


def test_slanted_lines_and_wide_pens_are_stroked(qapp):
    """Only what a rectangle draws exactly is filled."""
    thin = pg.mkPen("k", width=1)
    assert plot_panel._pixel_rect(thin, QPointF(0, 0), QPointF(10, 3)) is None
    assert plot_panel._pixel_rect(pg.mkPen("k", width=2), QPointF(0, 0), QPointF(10, 0)) is None
    dashed = pg.mkPen("k", width=1, style=pg.QtCore.Qt.PenStyle.DashLine)
    assert plot_panel._pixel_rect(dashed, QPointF(0, 0), QPointF(10, 0)) is None
    assert plot_panel._pixel_rect(thin, QPointF(0, 0), QPointF(10, 0)) is not None

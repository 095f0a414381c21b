"""Legends, tick labels and colour bars stay readable at 1024x700 and 1920x1080: nothing
clipped, nothing written over another label. Each test failed before its fix."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from PySide6.QtGui import QImage, QPainter

from ui.panels.plot_panel import PlotPanel


def _label_rects(axis):
    """The rectangles the axis draws its tick labels in (axis coordinates)."""
    image = QImage(10, 10, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    painter.setFont(axis.style["tickFont"] or axis.font())
    try:
        _axis, _ticks, texts = axis.generateDrawSpecs(painter)
    finally:
        painter.end()
    return [(rect, text) for rect, _flags, text in texts]


def _overlaps(rects):
    return [
        (a_text, b_text)
        for (a, a_text), (b, b_text) in itertools.combinations(rects, 2)
        if a.adjusted(-4, 0, 4, 0).intersects(b)
    ]


@pytest.mark.parametrize("width", [180, 230, 320, 500, 900])
@pytest.mark.parametrize("high", [17_000, 95_000, 1.7e5, 3e6, 460.0, 0.73])
def test_iteration_tick_labels_never_overlap_as_a_run_grows(qtbot, width, high):
    """Mid-run, the iteration axis of a narrow panel read '5000 10000 15000' run together
    (and '20000 40000 60000 80000' over each other at 180 px)."""
    panel = PlotPanel("Loss vs iteration")
    qtbot.addWidget(panel)
    panel.resize(width, 300)
    panel.show()
    qtbot.waitExposed(panel)
    panel.plot.plot([0, high], [1.0, 2.0])  # a run's curve so far; the view auto-ranges
    panel.plot.autoRange()
    panel.graphics.repaint()
    rects = _label_rects(panel.plot.getAxis("bottom"))
    assert len(rects) >= 2, [t for _r, t in rects]
    assert not _overlaps(rects)


@pytest.mark.parametrize("width", [170, 230, 500, 900])
@pytest.mark.parametrize("lrs", [(1.0, 8.0), (1e-3, 0.12), (1e-7, 1.0), (0.02, 0.6)])
def test_a_log_lr_axis_names_at_least_two_lrs_apart(qtbot, width, lrs):
    """The edge-of-stability example (λ = 1 to 8) at 1024x700: the λ axis read '1' alone."""
    panel = PlotPanel("Loss vs λ")
    qtbot.addWidget(panel)
    panel.plot.setLogMode(x=True, y=True)
    panel.resize(width, 300)
    panel.show()
    qtbot.waitExposed(panel)
    panel.plot.plot(list(lrs), [1.0, 2.0], symbol="o")
    panel.plot.autoRange()
    panel.graphics.repaint()
    rects = _label_rects(panel.plot.getAxis("bottom"))
    assert len(rects) >= 2, [t for _r, t in rects]
    assert not _overlaps(rects)


@pytest.mark.parametrize(
    ("lrs", "named"),
    [((1.0, 2.0, 4.0, 8.0), ["1", "2", "5"]), ((1e-3, 1.0), ["1e-3", "0.01", "0.1", "1"])],
)
def test_the_lr_colour_bar_names_at_least_two_lrs(qtbot, lrs, named):
    """The edge-of-stability example's colour bar (λ = 1 to 8) named '1' and nothing else."""
    from lrviz.run_store import RunStore
    from ui.panels.run_curves import LossVsIterationPanel

    panel = LossVsIterationPanel()
    qtbot.addWidget(panel)
    panel.set_store(RunStore(np.array(lrs), 10))
    ticks = panel.colorbar.axis._tickLevels[0]
    assert [text for _value, text in ticks] == named

"""Legends, tick labels and colour bars stay readable at 1024x700 and 1920x1080: nothing
clipped, nothing written over another label. Each test failed before its fix."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from PySide6.QtGui import QImage, QPainter
from rect_checks import inside

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


@pytest.mark.parametrize("padding", [0.02, 0.13])
@pytest.mark.parametrize("width", [170, 230, 500, 900])
@pytest.mark.parametrize("lrs", [(1.0, 8.0), (1e-3, 0.12), (1e-7, 1.0), (0.02, 0.6)])
def test_a_log_lr_axis_names_at_least_two_lrs_apart(qtbot, width, lrs, padding):
    """The edge-of-stability example (λ = 1 to 8) at 1024x700: the λ axis read '1' alone
    (its '10' stood past the axis end, so pyqtgraph left it out)."""
    panel = PlotPanel("Loss vs λ")
    qtbot.addWidget(panel)
    panel.plot.setLogMode(x=True, y=True)
    panel.resize(width, 300)
    panel.show()
    qtbot.waitExposed(panel)
    panel.plot.plot(list(lrs), [1.0, 2.0], symbol="o")
    panel.plot.setXRange(*np.log10(lrs), padding=padding)
    panel.graphics.repaint()
    rects = _label_rects(panel.plot.getAxis("bottom"))
    assert len(rects) >= 2, [t for _r, t in rects]
    assert not _overlaps(rects)


@pytest.mark.parametrize("height", [160, 300, 600])
@pytest.mark.parametrize("losses", [(0.55, 2.6), (0.3, 0.9), (1.2, 9.0), (0.9, 1.6)])
def test_a_log_loss_axis_within_a_decade_is_labelled_along_its_whole_length(qtbot, height, losses):
    """A log loss axis from 0.55 to 2.6 (a Keras log) read '1 1.5 2 2.5': evenly spaced
    values crowd the top of a log axis, and its lower 40% had no label at all."""
    panel = PlotPanel("Loss vs iteration")
    qtbot.addWidget(panel)
    panel.plot.setLogMode(x=False, y=True)
    panel.resize(500, height)
    panel.show()
    qtbot.waitExposed(panel)
    panel.plot.plot([0.0, 1.0], list(losses))
    lo, hi = np.log10(losses)
    panel.plot.setYRange(lo, hi, padding=0)
    panel.graphics.repaint()
    rects = _label_rects(panel.plot.getAxis("left"))
    texts = [t for _r, t in rects]
    assert len(rects) >= 3, texts
    assert not _overlaps(rects)
    marks = np.sort(np.log10([float(t) for t in texts]))
    # A label near each end (the first was 38% up the axis), none of it blank for half.
    assert marks[0] - lo <= 0.3 * (hi - lo) and hi - marks[-1] <= 0.3 * (hi - lo), texts
    assert np.diff(marks).max() <= 0.5 * (hi - lo), texts


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


# --- legends -------------------------------------------------------------------------------


def sized_window(qtbot, window, size):
    window.resize(*size)
    qtbot.waitUntil(lambda: window.width() == size[0])
    window._initial_dock_sizes()
    return window


def assert_legend_readable(panel, legend=None):
    """The legend is whole inside its view, each label whole inside the legend; or, if the
    plot has no room for it, the panel's header names its entries."""
    legend = legend or panel.legend
    panel.graphics.grab()  # layouts and auto-range settle on paint
    getattr(legend, "fit", lambda: None)()  # (a plain pyqtgraph legend does not fit itself)
    view = panel.plot.getViewBox().sceneBoundingRect()
    if legend.isVisible():
        box = legend.sceneBoundingRect()
        assert inside(box, view), (box, view)
        for _sample, label in legend.items:
            assert inside(label.sceneBoundingRect(), box), label.text
        return "plot"
    assert legend.wanted() and legend.entries
    assert panel.header_legend.isVisible()
    assert panel.header_legend.entries() == legend.entries
    return "header"


@pytest.mark.parametrize("size", [(1024, 700), (1920, 1080)])
def test_the_demo_legends_are_whole_inside_their_plots(qtbot, window, size):
    """At 1024x700 the demo's loss vs λ legend stood past the right edge of its view."""
    sized_window(qtbot, window, size)
    with qtbot.waitSignal(window.simulation_finished, timeout=60_000):
        window.start_demo()
    window.redraw()
    assert_legend_readable(window.loss_vs_lr)
    assert assert_legend_readable(window.loss_vs_iteration) == "plot"
    # and hides none of the runs' points (at 1024x700 it sat on the lowest loss)
    panel = window.loss_vs_lr
    if panel.legend.isVisible():
        box = panel.legend.sceneBoundingRect()
        view = panel.plot.getViewBox()
        for item in (panel.points, panel.diverged):
            x, y = item.getData()
            hidden = [
                (a, b)
                for a, b in zip(x, y, strict=True)
                if box.contains(view.mapViewToScene(pg_point(a, b)))
            ]
            assert not hidden


@pytest.mark.parametrize("size", [(1024, 700), (1920, 1080)])
def test_the_lab_strip_of_loss_vs_iteration_names_its_runs_readably(qtbot, window, size):
    """The Lab's small loss vs iteration panel cut its legend at the top and drew it over
    the curves: five rows in a plot 60 px high."""
    sized_window(qtbot, window, size)
    window.controls.setCurrentWidget(window.lab_tool.tab)
    with qtbot.waitSignal(window.simulation_finished, timeout=60_000):
        window.lab_tool.run_preset("effect-of-lr")
    window.redraw()
    panel = window.loss_vs_iteration
    where = assert_legend_readable(panel)
    if size == (1024, 700):
        assert where == "header"
        assert "λ = 0.01" in panel.header_legend.text()


def _points_panel(qtbot, size, points):
    """A loss vs λ-like plot of ``points`` with a three-entry legend."""
    import pyqtgraph as pg

    panel = PlotPanel("Loss vs λ")
    qtbot.addWidget(panel)
    panel.resize(*size)
    panel.show()
    qtbot.waitExposed(panel)
    legend = panel.add_legend()
    x, y = np.asarray(points, dtype=float).T
    item = pg.PlotDataItem(x, y, pen=None, symbol="o")
    panel.plot.addItem(item)
    panel.plot.setRange(xRange=(0, 10), yRange=(0, 10), padding=0)
    legend.addItem(item, "run (colour = λ)")
    legend.addItem(pg.PlotDataItem(pen=None, symbol="x"), "diverged")
    legend.addItem(pg.PlotDataItem(pen="r"), "likely best λ")
    return panel, legend, item


def test_a_legend_takes_the_corner_free_of_data(qtbot):
    """The legend sat bottom left whatever lay there (the demo's lowest point, a range
    test's raw curve)."""
    grid = [(x, y) for x in np.linspace(0.2, 4.5, 12) for y in np.linspace(0.2, 4.5, 12)]
    grid += [(x, y) for x in np.linspace(5.5, 9.8, 12) for y in np.linspace(0.2, 4.5, 12)]
    grid += [(x, y) for x in np.linspace(0.2, 4.5, 12) for y in np.linspace(5.5, 9.8, 12)]
    panel, legend, _item = _points_panel(qtbot, (600, 420), grid)  # only top right is free
    assert_legend_readable(panel, legend)
    assert legend.corner == "top-right"
    box = legend.sceneBoundingRect()
    view = panel.plot.getViewBox()
    covered = [p for p in grid if box.contains(view.mapViewToScene(pg_point(*p)))]
    assert not covered


def pg_point(x, y):
    from PySide6.QtCore import QPointF

    return QPointF(x, y)


def test_a_legend_too_tall_for_its_plot_lists_the_first_entries_then_how_many_more(qtbot):
    import pyqtgraph as pg

    panel = PlotPanel("Loss vs iteration")
    qtbot.addWidget(panel)
    panel.resize(420, 200)
    panel.show()
    qtbot.waitExposed(panel)
    legend = panel.add_legend(header=None)  # no header: the plot must hold it
    names = [f"λ = {k}" for k in range(1, 13)]
    for k, name in enumerate(names):
        legend.addItem(pg.PlotDataItem(pen=(k, 12)), name)
    assert_legend_readable(panel, legend)
    shown = [label.text for _sample, label in legend.items]
    assert 3 <= len(shown) < len(names)
    assert shown[-1] == f"+{len(names) - len(shown) + 1} more"
    assert legend.hidden_entries == names[len(shown) - 1 :]
    assert [name for _item, name in legend.entries] == names  # exports still name them all


def test_a_legend_with_no_room_in_its_plot_moves_to_the_header_and_back(qtbot):
    panel, legend, _item = _points_panel(qtbot, (420, 130), [(5, 5)])
    assert assert_legend_readable(panel, legend) == "header"
    text = panel.header_legend.text()
    assert "run (colour = λ)" in text and "diverged" in text
    panel.resize(600, 500)
    qtbot.waitUntil(lambda: legend.isVisible())
    assert assert_legend_readable(panel, legend) == "plot"
    assert not panel.header_legend.isVisible()
    legend.setVisible(False)  # its layer hidden: in neither place
    assert not legend.isVisible() and not panel.header_legend.isVisible()


def _store(diverge: bool):
    from lrviz.engine import Batch
    from lrviz.run_store import RunStore

    lrs = np.array([0.01, 0.1, 0.3])
    store = RunStore(lrs, 50)
    loss = np.outer(np.geomspace(1.0, 1e-2, 50), [1.0, 1.0, 1.0])
    diverged_at = np.full(3, -1)
    if diverge:
        loss[20:, 2] = np.nan
        diverged_at[2] = 20
    store.append(Batch(0, loss, np.tile(lrs, (50, 1)), None, diverged_at, None, True))
    return store


def test_the_legends_list_diverged_only_once_a_run_has(qtbot):
    """Every legend listed '× diverged' before any run diverged, and in the edge of
    stability's, where none does: a row for nothing on the plot."""
    from ui.panels.loss_vs_lr import LossVsLrPanel
    from ui.panels.run_curves import LossVsIterationPanel

    for panel in (LossVsLrPanel(), LossVsIterationPanel()):
        qtbot.addWidget(panel)
        panel.set_store(_store(diverge=False))
        panel.refresh()
        names = [name for _item, name in panel.legend.entries]
        assert "diverged" not in names
        panel.set_store(_store(diverge=True))
        panel.refresh()
        assert "diverged" in [name for _item, name in panel.legend.entries]


@pytest.mark.parametrize("kind", ["loss vs iteration", "loss surface"])
def test_a_legend_holds_its_panel_only_weakly(qtbot, kind):
    """The legend (an item of the panel's own scene) held a bound method of the panel: the
    panel lived until the collector freed the legend, whose dealloc then freed the panel
    and its scene, which deleted the legend again (a segfault in test_panel_symbols, about
    one run in six)."""
    from ui.panels.loss_surface import LossSurfacePanel
    from ui.panels.run_curves import LossVsIterationPanel

    panel = LossVsIterationPanel() if kind == "loss vs iteration" else LossSurfacePanel()
    qtbot.addWidget(panel)
    strong = [
        name
        for name, value in vars(panel.legend).items()
        if value is panel or getattr(value, "__self__", None) is panel
    ]
    assert not strong

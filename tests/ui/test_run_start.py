"""A run's start costs the GUI thread little: a panel given a new store keeps its plot items
(the λ colour bar, a plot of its own, took 15-50 ms to make; the × item a few ms) and the
runs' pens are made once for all panels (ui/colors.run_pens). What they show is the same."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from lrviz.run_store import RunStore
from ui import colors
from ui.panels.run_curves import LossVsIterationPanel


def _store(lrs) -> RunStore:
    return RunStore(np.asarray(lrs, dtype=np.float64), 10, envelopes=True)


def test_a_new_store_keeps_the_colour_bar_and_the_marks_item(qtbot):
    panel = LossVsIterationPanel()
    qtbot.addWidget(panel)
    bar = panel._spare_colorbar
    assert bar is not None  # made with the panel
    marks = panel.diverged_marks
    assert marks in panel.plot.listDataItems()
    panel.set_store(_store([1e-3, 1.0]))
    assert panel.colorbar is bar
    assert bar.levels() == (-3.0, 0.0)
    assert [text for _v, text in bar.axis._tickLevels[0]] == ["1e-3", "0.01", "0.1", "1"]
    marks.setData([3.0], [0.5])  # a run of the old store diverged
    panel.set_store(_store([1.0, 2.0, 4.0, 8.0]))
    assert panel.colorbar is bar and panel.diverged_marks is marks
    shown, _ = marks.getData()
    assert shown is None or shown.size == 0  # as a fresh item: (None, None)
    assert bar.levels() == (0.0, np.log10(8.0))
    assert [text for _v, text in bar.axis._tickLevels[0]] == ["1", "2", "5"]
    panel.set_store(_store([0.1]))  # one λ: no colour bar
    assert panel.colorbar is None
    assert bar not in panel.graphics.ci.items
    panel.set_store(_store([0.01, 0.1]))  # back, the same one
    assert panel.colorbar is bar and bar in panel.graphics.ci.items
    assert marks in panel.plot.listDataItems()


def test_run_pens_are_each_runs_colour_made_once(qtbot):
    store = _store(np.geomspace(1e-4, 0.5, 300))
    pens = colors.run_pens(store, 1)
    assert pens == [pg.mkPen(c, width=1) for c in colors.run_colors(store)]
    assert colors.run_pens(store, 1) is pens  # the second panel's are the first one's
    wide = colors.run_pens(store, 1.6)
    assert wide == [pg.mkPen(c, width=1.6) for c in colors.run_colors(store)]
    other = _store(np.geomspace(1e-4, 0.5, 300))
    assert colors.run_pens(other, 1) is not pens  # a new store: its own
    assert colors.run_pens(other, 1) == pens


def test_run_colours_follow_the_theme(qtbot, monkeypatch):
    store = _store([1e-3, 1e-2, 1e-1])
    light = [c.name() for c in colors.run_colors(store)]
    monkeypatch.setattr(colors, "on_dark_background", True)
    dark = [c.name() for c in colors.run_colors(store)]
    assert dark != light
    assert dark == [c.name() for c in colors.lr_colors(store.lrs)]

"""Issue 9: widgets whose first paints are costly are painted one per event-loop turn
(ui/paint_stagger.py): as a 10M-point log arrived, the logs' layout and the three panels'
first paints came in one go and froze the window 60-120 ms."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from ui.paint_stagger import PaintStagger


def test_staggered_widgets_are_painted_one_per_turn_in_order_then_told(qtbot):
    widgets = [QWidget() for _ in range(3)]
    for w in widgets:
        qtbot.addWidget(w)
    stagger = PaintStagger()
    ticks = [0]  # timeouts of the stagger's timer so far (each a turn of the event loop)
    stagger._timer.timeout.connect(lambda: ticks.__setitem__(0, ticks[0] + 1))
    enabled_at = []  # (widget, timeouts before the one that let it paint)
    for i, w in enumerate(widgets):

        def enabled(on, i=i, set_updates=w.setUpdatesEnabled):
            set_updates(on)
            if on:
                enabled_at.append((i, ticks[0]))

        w.setUpdatesEnabled = enabled
    done = []
    stagger.stagger(widgets, then=lambda: done.append(ticks[0]))
    assert [w.updatesEnabled() for w in widgets] == [True, False, False]  # this turn: the first
    qtbot.waitUntil(lambda: bool(done), timeout=5000)
    # one widget a timeout, in order (the first at once); told at the timeout after the last
    assert enabled_at == [(0, 0), (1, 0), (2, 1)] and done == [2]
    assert all(w.updatesEnabled() for w in widgets) and not stagger.active


def test_a_new_stagger_or_a_release_lets_the_held_ones_paint_at_once(qtbot):
    widgets = [QWidget() for _ in range(3)]
    stagger = PaintStagger()
    told = []
    stagger.stagger(widgets, then=lambda: told.append("first"))
    stagger.stagger(widgets[1:], then=lambda: told.append("second"))
    assert widgets[0].updatesEnabled() and widgets[1].updatesEnabled()
    assert not widgets[2].updatesEnabled()
    stagger.release()
    assert all(w.updatesEnabled() for w in widgets) and not stagger.active
    qtbot.wait(20)  # (no timer left to fire: neither is told)
    assert told == []


def test_the_logs_layout_paints_its_panels_one_per_turn(qtbot, window, tmp_path):
    path = tmp_path / "metrics.csv"
    path.write_text("step,lr,loss\n0,0.001,2.0\n1,0.002,1.5\n2,0.004,1.2\n")
    panels = (window.loss_vs_iteration, window.lr_vs_iteration, window.loss_vs_lr)
    held = []
    window.log_actions.logs_opened.connect(
        lambda: held.append([p.graphics.updatesEnabled() for p in panels])
    )
    with qtbot.waitSignal(window.log_actions.logs_opened, timeout=20_000):
        window.open_paths([str(path)])
    # the switch to the logs' layout holds the other panels' paints for later turns
    assert held == [[True, False, False]]
    qtbot.waitUntil(lambda: all(p.graphics.updatesEnabled() for p in panels), timeout=2000)

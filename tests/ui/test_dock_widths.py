"""The side docks' first widths follow the window: at 1024 px the plots get the room, at
1920 px the Controls dock is wide enough to read the suggestion's why without a wrap per word."""

from __future__ import annotations

import pytest

from ui.main_window import MainWindow, initial_side_widths


def test_the_widths_grow_with_the_window_within_bounds():
    assert initial_side_widths(1024) == (160, 300)
    sources, controls = initial_side_widths(1920)
    assert 200 <= sources <= 240 and 400 <= controls <= 440
    assert initial_side_widths(3840) == (240, 440)


@pytest.mark.parametrize("size", [(1024, 700), (1920, 1080)])
def test_a_new_window_gets_them(qtbot, size):
    window = MainWindow()
    qtbot.addWidget(window)
    window.resize(*size)
    window.show()
    sources, controls = initial_side_widths(size[0])
    qtbot.waitUntil(lambda: abs(window.controls_dock.width() - controls) <= 12, timeout=5000)
    assert abs(window.sources_dock.width() - sources) <= 12
    plots = window.width() - window.controls_dock.width() - window.sources_dock.width()
    assert plots >= 0.45 * window.width()  # the plots keep the most room
    window.close()

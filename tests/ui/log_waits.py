"""Waiting for logs to open in the window, as the UI tests that open files share it."""

from __future__ import annotations


def open_and_wait(qtbot, window, *paths, timeout=30_000):
    """Open ``paths`` in ``window`` and wait until the library is idle and the logs drawn."""
    with qtbot.waitSignal(
        window.library.busy, check_params_cb=lambda busy: not busy, timeout=timeout
    ):
        window.open_paths([str(p) for p in paths])
    # small logs are drawn at once, big ones once derived on the worker: drawn either way
    with qtbot.waitSignal(window.log_view.drawn, timeout=timeout):
        window.log_view.redraw()

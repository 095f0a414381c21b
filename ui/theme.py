"""Global look of the plots: light background, antialiased lines, legible fonts."""

from __future__ import annotations

import pyqtgraph as pg

_applied = False


def apply_plot_theme() -> None:
    """Set pyqtgraph's global options once, before any plot widget is created."""
    global _applied
    if _applied:
        return
    pg.setConfigOptions(background="w", foreground="#222", antialias=True)
    _applied = True

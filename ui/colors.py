"""One colour per learning rate, the same in every panel: small λ dark, large λ bright."""

from __future__ import annotations

import weakref

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor, QPen

DIVERGED = QColor(220, 40, 40)
LR_COLORMAP = "viridis"
#: set by ui.theme: the plots are dark, so the colour map drops its darkest end instead
on_dark_background = False


def lr_colormap() -> pg.ColorMap:
    """Viridis without the end that vanishes into the plot's background: its palest on
    white, its darkest on a dark theme."""
    base = pg.colormap.get(LR_COLORMAP)
    stops = np.linspace(0.0, 1.0, 32)
    span = 0.22 + 0.78 * stops if on_dark_background else 0.88 * stops
    return pg.ColorMap(stops, base.map(span, mode="byte"))


def lr_positions(lrs: np.ndarray) -> np.ndarray:
    """Where each lr sits in the colour map: 0 for the smallest, 1 for the largest (log scale)."""
    logs = np.log10(np.asarray(lrs, dtype=np.float64))
    span = logs.max() - logs.min() if logs.size else 0.0
    if span <= 0:
        return np.full(logs.shape, 0.5)
    return (logs - logs.min()) / span


def lr_colors(lrs: np.ndarray) -> list[QColor]:
    """A QColor per learning rate, from the perceptual colour map."""
    positions = lr_positions(lrs)
    return [QColor(*c) for c in lr_colormap().map(positions, mode="byte")]


def lr_palette(levels: int) -> np.ndarray:
    """(levels, 4) RGBA bytes evenly along the λ colour map: level k holds the λ at position
    p (:func:`lr_positions`) with ``round(p * (levels - 1)) == k``."""
    return lr_colormap().map(np.linspace(0.0, 1.0, levels), mode="byte")


def lr_brushes(levels: int) -> list:
    """A brush per level of :func:`lr_palette`: a study's thousands of dots share them."""
    return [pg.mkBrush(*c) for c in lr_palette(levels)]


#: Colours for runs that differ by more than λ (each its own optimizer): Okabe and Ito's
#: colour-blind-safe palette, without its yellow (faint on white) and with vermillion
#: last (close to the red of a divergence).
RUN_PALETTE = (
    QColor(0, 114, 178),
    QColor(230, 159, 0),
    QColor(0, 158, 115),
    QColor(204, 121, 167),
    QColor(86, 180, 233),
    QColor(60, 60, 60),
    QColor(213, 94, 0),
)


def _run_colors(store) -> list[QColor]:
    if getattr(store, "optimizers", None) is None:
        return lr_colors(store.lrs)
    return [RUN_PALETTE[i % len(RUN_PALETTE)] for i in range(store.runs)]


#: The last store's colours and pens: every panel of a run asks for them when it starts
#: (three lists of a colour per run, two of a pen per run: 10-20 ms at 1000 runs).
#: (weak reference to the store, the theme's background, colours, {width: pens})
_last_store: tuple | None = None


def _cached(store) -> tuple[list[QColor], dict]:
    global _last_store
    last = _last_store
    if last is not None and last[0]() is store and last[1] == on_dark_background:
        return last[2], last[3]
    colors = _run_colors(store)
    try:
        ref = weakref.ref(store)
    except TypeError:  # not weakly referable: not kept
        return colors, {}
    _last_store = (ref, on_dark_background, colors, {})
    return colors, _last_store[3]


def run_colors(store) -> list[QColor]:
    """A colour per run of a RunStore: by λ, or one of ``RUN_PALETTE`` each when the runs
    have optimizers of their own (the same λ₀ then means different runs). The list is
    shared by whoever asks about the same store: do not change it."""
    return _cached(store)[0]


def run_pens(store, width: float) -> list:
    """A pen of :func:`run_colors` per run, ``width`` pixels wide (shared, as above)."""
    colors, pens = _cached(store)
    if width not in pens:
        pens[width] = _pens(colors, width)
    return pens[width]


def _pens(colors: list[QColor], width: float) -> list:
    """``pg.mkPen(color, width=width)`` of each colour: copies of one such pen given each
    colour (mkPen parses its arguments: 10 µs a pen, 1000 runs' pens 10 ms)."""
    if not colors:
        return []
    template = pg.mkPen(colors[0], width=width)
    out = []
    for color in colors:
        pen = QPen(template)
        pen.setColor(color)
        out.append(pen)
    return out

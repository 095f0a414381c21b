"""Every run's path on a loss surface as one plot item (see :mod:`ui.panels.run_paths`).

A path doubles back on itself, so unlike a curve against iteration its x is not sorted: the
runs keep their own x, and hovering names the run with a point nearest the pointer.
"""

from __future__ import annotations

import numpy as np

from .run_paths import HOVER_PIXELS, RunPaths


class TrajectoryPaths(RunPaths):
    """``set_paths(runs, xs, ys)`` gives runs new paths (one x and one y array each)."""

    def set_paths(self, runs, xs, ys) -> None:
        runs = list(runs)
        if not runs:
            return
        for i, x, y in zip(runs, xs, ys, strict=True):
            x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
            ok = np.isfinite(x) & np.isfinite(y)
            if ok.any():  # x is not sorted: the real extent, not the first and last x
                self._bounds[i] = (x[ok].min(), x[ok].max(), y[ok].min(), y[ok].max())
            else:
                self._bounds[i] = np.nan
            self._x[i], self._y[i] = x, y
            self._paths[i] = None
        self._geometry_changed()

    def run_at(self, x: float, y: float) -> int | None:
        vectors = self.pixelVectors()
        if vectors is None or vectors[0] is None or vectors[1] is None:
            return None
        px, py = abs(vectors[0].x()) or 1.0, abs(vectors[1].y()) or 1.0
        best, best_distance = None, float(HOVER_PIXELS)
        for i in np.flatnonzero(self._shown):
            xs, ys = self._x[i], self._y[i]
            if xs.size == 0:
                continue
            distance = float(np.nanmin(np.hypot((xs - x) / px, (ys - y) / py)))
            if distance < best_distance:
                best, best_distance = int(i), distance
        return best


class PathCurve:
    """What one run's path shows: ``getData()`` and its ``opts["pen"]``, as pyqtgraph's
    curves answer them."""

    def __init__(self, paths: TrajectoryPaths, run: int, pen) -> None:
        self.paths, self.run = paths, run
        self.opts = {"pen": pen}

    def getData(self) -> tuple[np.ndarray, np.ndarray]:
        return self.paths.curve(self.run)

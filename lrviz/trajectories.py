"""Where each run of a 2-D problem went: its (x, y) at every iteration, and the path to draw.

:class:`Trajectories` takes the weights the engine records (``Batch.weights``, shape
(n, R, 2)) and keeps two things:

- the **history**, every iteration's position, at full resolution up to a memory budget (a
  longer run keeps every k-th iteration), like :class:`lrviz.run_store.RunStore`;
- the **path** to draw, at screen resolution: at most ``capacity`` points per run, whatever
  the number of iterations, so a frame costs O(capacity), not O(history). Up to
  ``capacity`` iterations every position is in it. Beyond, it keeps the iterations ``i``
  with ``i mod k`` in {0, 1}, k a power of two that doubles (halving the points) each time
  the path fills up: every k-th *step* stays whole. Keeping every k-th point alone would
  hide a bounce: a run jumping across a valley each step would, sampled at even iterations,
  seem to slide down one side of it. With step pairs the drawn line still crosses the valley
  at every kept step, and a slow crawl still shows its route.
"""

from __future__ import annotations

import math

import numpy as np

#: Bytes of full-resolution history; beyond it every k-th iteration is kept.
TRAJECTORY_BUDGET = 64 * 2**20
#: Points of each run's drawn path: about a plot's width in pixels, and even (step pairs).
DEFAULT_PATH_POINTS = 1024
#: Points of every run's path together, what one frame may have to paint: painting 64 paths
#: of 2,048 points took 170 ms a frame (this machine, hairlines), 64 of 1,024 half that.
PATH_POINTS_BUDGET = 65_536
MIN_PATH_POINTS = 128


def path_capacity(runs: int) -> int:
    """Points of each run's drawn path so that all of them stay within
    :data:`PATH_POINTS_BUDGET`: :data:`DEFAULT_PATH_POINTS` for up to 64 runs, fewer (down to
    :data:`MIN_PATH_POINTS`) for more."""
    share = PATH_POINTS_BUDGET // max(int(runs), 1)
    return int(max(MIN_PATH_POINTS, min(DEFAULT_PATH_POINTS, share)) // 2 * 2)


class Trajectories:
    """Positions of R runs in a 2-D problem over up to ``iterations`` iterations.

    Attributes
    ----------
    positions : ndarray (rows, R, 2)
        Row ``k`` holds iteration ``k * stride``; NaN where nothing was recorded (not yet run,
        or after a run diverged).
    stride : int
        1 unless the history would pass ``budget`` bytes.
    count : int
        Iterations recorded so far.
    version : int
        Increases with every add: views redraw when it differs from what they drew.
    """

    def __init__(
        self,
        runs: int,
        iterations: int,
        budget: int = TRAJECTORY_BUDGET,
        capacity: int | None = None,
    ) -> None:
        """``capacity``: points of each run's drawn path (default :func:`path_capacity`)."""
        if capacity is None:
            capacity = path_capacity(runs)
        if capacity < 4 or capacity % 2:
            raise ValueError(f"capacity must be an even number >= 4, got {capacity}")
        self.runs = int(runs)
        self.iterations = int(iterations)
        full = self.iterations * max(self.runs, 1) * 2 * 8
        self.stride = max(1, math.ceil(full / budget))
        rows = math.ceil(self.iterations / self.stride)
        self.positions = np.full((rows, self.runs, 2), np.nan)
        self.count = 0
        self.version = 0
        self.capacity = int(capacity)
        self.step = 1  # the drawn path keeps iterations i with i % step in {0, 1}
        self._path = np.full((self.capacity, self.runs, 2), np.nan)
        self._path_iterations = np.zeros(self.capacity, dtype=np.int64)
        self._path_count = 0
        self._last = np.full((self.runs, 2), np.nan)  # each run's latest finite position

    def add(self, start: int, weights: np.ndarray) -> None:
        """Record iterations ``start .. start + n - 1`` from ``weights`` of shape (n, R, 2);
        the part already recorded (a batch seen twice) adds nothing."""
        weights = np.asarray(weights, dtype=np.float64)
        if weights.ndim != 3 or weights.shape[1:] != (self.runs, 2):
            raise ValueError(f"expected (n, {self.runs}, 2) weights, got {weights.shape}")
        skip = max(self.count - start, 0)
        weights, start = weights[skip:], start + skip
        n = weights.shape[0]
        if n == 0:
            return
        stop = min(start + n, self.iterations)
        weights = weights[: stop - start]
        n = weights.shape[0]
        self._add_history(start, weights)
        self._add_path(start, weights)
        finite = np.all(np.isfinite(weights), axis=2)  # (n, R)
        seen = finite.any(axis=0)
        last_row = n - 1 - np.argmax(finite[::-1], axis=0)
        runs = np.flatnonzero(seen)
        self._last[runs] = weights[last_row[runs], runs]
        self.count = max(self.count, stop)
        self.version += 1

    def _add_history(self, start: int, weights: np.ndarray) -> None:
        stop = start + weights.shape[0]
        first = -(-start // self.stride) * self.stride
        if first < stop:
            keep = slice(first - start, stop - start, self.stride)
            row = first // self.stride
            taken = weights[keep]
            self.positions[row : row + taken.shape[0]] = taken

    def _add_path(self, start: int, weights: np.ndarray) -> None:
        iterations = np.arange(start, start + weights.shape[0])
        while True:
            keep = iterations % self.step < 2 if self.step > 1 else slice(None)
            chosen = iterations[keep]
            if self._path_count + chosen.size <= self.capacity:
                break
            self._thin_path()
        n = chosen.size
        at = self._path_count
        self._path[at : at + n] = weights[keep]
        self._path_iterations[at : at + n] = chosen
        self._path_count += n

    def _thin_path(self) -> None:
        """Double the step: keep the drawn points whose iteration is 0 or 1 mod 2·step."""
        self.step *= 2
        n = self._path_count
        keep = np.flatnonzero(self._path_iterations[:n] % self.step < 2)
        m = keep.size
        self._path[:m] = self._path[keep]
        self._path_iterations[:m] = self._path_iterations[keep]
        self._path[m:] = np.nan
        self._path_count = m

    def path(self, run: int) -> tuple[np.ndarray, np.ndarray]:
        """(x, y) of run ``run``'s path to draw (at most ``capacity + 1`` points), ending at
        its latest position; NaN-free (a diverged run ends where it blew up)."""
        points = self._path[: self._path_count, run]
        finite = np.all(np.isfinite(points), axis=1)
        points = points[finite]
        last = self._last[run]
        if np.all(np.isfinite(last)) and not (points.size and np.array_equal(points[-1], last)):
            points = np.vstack([points, last])
        return points[:, 0].copy(), points[:, 1].copy()

    def path_within(
        self, run: int, domain, capacity: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(x, y) of run ``run``'s path in a zoomed-in view ``domain`` ((x0, x1), (y0, y1)),
        re-derived from the full history: every recorded position inside ``domain`` and its
        neighbours on either side (so lines run on to the edge), NaN where the path leaves
        and comes back. At most about ``capacity`` points (default :attr:`capacity`): beyond,
        every k-th step is kept whole, as :meth:`path` does."""
        capacity = self.capacity if capacity is None else int(capacity)
        rows = -(-self.count // self.stride)
        points = self.positions[:rows, run]
        (x0, x1), (y0, y1) = domain
        with np.errstate(invalid="ignore"):
            inside = (
                (points[:, 0] >= x0) & (points[:, 0] <= x1) & (points[:, 1] >= y0)
                & (points[:, 1] <= y1)
            )  # fmt: skip
        near = inside.copy()
        near[1:] |= inside[:-1]
        near[:-1] |= inside[1:]
        near &= np.all(np.isfinite(points), axis=1)
        kept = np.flatnonzero(near)
        step = 1
        while kept.size > capacity:
            step *= 2
            kept = kept[kept % step < 2]
        gap = 1 if step == 1 else step - 1
        x, y = points[kept, 0], points[kept, 1]
        breaks = np.flatnonzero(np.diff(kept) > gap) + 1
        return np.insert(x, breaks, np.nan), np.insert(y, breaks, np.nan)

    def path_iterations(self) -> np.ndarray:
        """The iteration of each point of the drawn paths (shared by every run), before the
        latest position :meth:`path` appends."""
        return self._path_iterations[: self._path_count].copy()

    def latest(self) -> np.ndarray:
        """(R, 2): each run's most recent finite position (NaN before any)."""
        return self._last.copy()

    def start_point(self) -> np.ndarray | None:
        """Where the runs started (every run starts at the same point), once recorded."""
        if self.count == 0:
            return None
        first = self.positions[0]
        finite = np.all(np.isfinite(first), axis=1)
        return first[np.argmax(finite)].copy() if finite.any() else None


__all__ = ["DEFAULT_PATH_POINTS", "TRAJECTORY_BUDGET", "Trajectories", "path_capacity"]

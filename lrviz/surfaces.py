"""Loss surfaces of 2-D objectives: the region to show, the loss on a grid, contour lines.

Pure numpy, for the loss-surface panel and the formula box's preview:

- :func:`surface_domain` picks the region: the objective's own (a typed formula's domain,
  a landscape's) or one around the start and the minimum;
- :func:`loss_surface` evaluates the loss on a grid over it, vectorized, once;
- :func:`contour_segments` traces the contour lines (marching squares, vectorized over
  cells) as segment pairs a plot draws with ``connect="pairs"``.

Losses span decades (Rosenbrock's walls at 1e3 over a valley at 1e-3), so the surface is
shown on a log scale: ``log10(loss - lowest + offset)``, which also works for losses below 0.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from lrviz.objectives.base import Objective

Domain = tuple[tuple[float, float], tuple[float, float]]

#: Grid points per axis of a surface: finer than a contour needs at a plot's size, and
#: 65,536 evaluations cost a few milliseconds even for a long formula.
DEFAULT_RESOLUTION = 256
#: Contour lines drawn, evenly spaced on the log scale.
DEFAULT_LEVELS = 14


@dataclass(frozen=True)
class Surface:
    """The loss of a 2-D objective on a grid.

    Attributes
    ----------
    xs, ys : ndarray (nx,), (ny,)
        Grid coordinates.
    loss : ndarray (ny, nx)
        ``loss[i, j]`` at ``(xs[j], ys[i])``; non-finite where the loss is undefined.
    log_loss : ndarray (ny, nx)
        ``log10(loss - lowest + offset)``: what a colour map shows (NaN where undefined).
    lowest, offset : float
        The shift of the log scale: ``loss = 10**log_loss + lowest - offset``.
    levels : ndarray
        Contour levels on the log scale, low to high.
    """

    xs: np.ndarray
    ys: np.ndarray
    loss: np.ndarray
    log_loss: np.ndarray
    lowest: float
    offset: float
    levels: np.ndarray

    @property
    def domain(self) -> Domain:
        return (float(self.xs[0]), float(self.xs[-1])), (float(self.ys[0]), float(self.ys[-1]))

    def to_loss(self, log_value):
        """The loss at a value of the log scale (for colour-bar labels)."""
        return 10.0 ** np.asarray(log_value, dtype=np.float64) + self.lowest - self.offset

    def contours(self) -> np.ndarray:
        """(2m, 2) endpoints of the contour segments of every level (pairs)."""
        parts = [contour_segments(self.xs, self.ys, self.log_loss, lv) for lv in self.levels]
        return np.vstack(parts) if parts else np.empty((0, 2))


def surface_domain(objective: Objective) -> Domain | None:
    """The region to show for ``objective``, or None when it is not 2-D.

    A typed formula's domain when one was given (or its preset's); a landscape's own
    (Rosenbrock, Beale, ...); otherwise a box around the start and the minimum (the
    quadratic's is the origin; a formula's is searched for on a coarse grid), with a margin,
    square when the two spans are alike."""
    if objective.dim != 2:
        return None
    if getattr(objective, "domain_given", True) and getattr(objective, "domain", None):
        (x0, x1), (y0, y1) = objective.domain
        return (float(x0), float(x1)), (float(y0), float(y1))
    start = objective.initial_point()
    minima = getattr(objective, "minima", None)
    if minima:
        lowest = [np.asarray(m, dtype=np.float64) for m in minima]
    elif hasattr(objective, "matrix"):
        lowest = [np.zeros(2)]  # the quadratic's minimum
    else:
        found = _coarse_minimum(objective, start)
        lowest = [np.zeros(2) if found is None else found]
    # The start's mirror image through the nearest minimum too: where a run that bounces
    # across the bowl lands after its first step.
    nearest = min(lowest, key=lambda m: float(np.linalg.norm(m - start)))
    return _box_around(np.array([start, *lowest, 2.0 * nearest - start]))


def _coarse_minimum(objective: Objective, start: np.ndarray) -> np.ndarray | None:
    """The lowest point of a 61 x 61 grid around the origin wide enough to hold the start,
    widened (x4, twice) while the lowest point sits on the grid's edge; None when it still
    does (the loss may fall without end)."""
    half = max(2.0, 2.0 * float(np.max(np.abs(start))))
    for _ in range(3):
        axis = np.linspace(-half, half, 61)
        gx, gy = np.meshgrid(axis, axis)
        with np.errstate(all="ignore"):
            z = np.asarray(objective.loss_only(np.stack([gx.ravel(), gy.ravel()], axis=1)))
        z = np.where(np.isfinite(z), z, np.inf).reshape(gx.shape)
        if not np.isfinite(z).any():
            return None
        i, j = np.unravel_index(int(np.argmin(z)), z.shape)
        if 0 < i < z.shape[0] - 1 and 0 < j < z.shape[1] - 1:
            return np.array([axis[j], axis[i]])
        half *= 4.0
    return None


def _box_around(points: np.ndarray) -> Domain:
    lo, hi = points.min(axis=0), points.max(axis=0)
    centre = 0.5 * (lo + hi)
    half = np.maximum(0.5 * (hi - lo) * 1.35, 0.5)  # a 35% margin, at least ±0.5
    if half.max() <= 2.5 * half.min():
        half[:] = half.max()  # alike: square, so a round bowl looks round
    return (
        (float(centre[0] - half[0]), float(centre[0] + half[0])),
        (float(centre[1] - half[1]), float(centre[1] + half[1])),
    )


def loss_surface(
    objective: Objective,
    domain: Domain | None = None,
    resolution: int = DEFAULT_RESOLUTION,
    levels: int = DEFAULT_LEVELS,
) -> Surface:
    """The loss of a 2-D ``objective`` on a ``resolution`` x ``resolution`` grid over
    ``domain`` (default :func:`surface_domain`). Raises ValueError for other dimensions."""
    if objective.dim != 2:
        raise ValueError(f"a loss surface needs a 2-D objective, this one has {objective.dim}")
    (x0, x1), (y0, y1) = domain or surface_domain(objective)
    xs, ys = np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution)
    gx, gy = np.meshgrid(xs, ys)
    with np.errstate(all="ignore"):
        flat = objective.loss_only(np.stack([gx.ravel(), gy.ravel()], axis=1))
    loss = np.asarray(flat, dtype=np.float64).reshape(gx.shape)
    return surface_from_grid(xs, ys, loss, levels)


def surface_from_grid(xs, ys, loss: np.ndarray, levels: int = DEFAULT_LEVELS) -> Surface:
    """A :class:`Surface` of losses already on a grid (``loss[i, j]`` at ``(xs[j], ys[i])``)."""
    xs, ys = np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.float64)
    loss = np.asarray(loss, dtype=np.float64)
    finite = np.isfinite(loss)
    if not finite.any():
        nan = np.full(loss.shape, np.nan)
        return Surface(xs, ys, loss, nan, 0.0, 1.0, np.empty(0))
    lowest, highest = float(loss[finite].min()), float(loss[finite].max())
    # The offset sets how deep the log scale looks into the minimum: a millionth of the
    # range, so the contours nest down into the bowl without a bottomless -inf.
    span = highest - lowest
    offset = max(span * 1e-6, 1e-12 * max(1.0, abs(lowest)), 1e-300)
    with np.errstate(all="ignore"):
        log_loss = np.where(finite, np.log10(loss - lowest + offset), np.nan)
    values = log_loss[finite]
    lo, hi = np.percentile(values, (0.5, 99.5)) if values.size > 1 else (values[0], values[0])
    if hi > lo:
        # Spaced evenly on the log scale, skipping the two ends (a contour along the edge
        # of the domain, or around the single lowest grid point, says nothing).
        level_values = np.linspace(lo, hi, levels + 2)[1:-1]
    else:
        level_values = np.empty(0)
    return Surface(xs, ys, loss, log_loss, lowest, offset, level_values)


def contour_segments(xs, ys, z: np.ndarray, level: float) -> np.ndarray:
    """Segments of the contour ``z = level`` by marching squares: (2m, 2) endpoints, each
    consecutive pair one segment. Cells with a non-finite corner are skipped. Where a cell's
    corners alternate (a saddle cell), the cell's mean decides which corners connect."""
    xs, ys, z = (np.asarray(a, dtype=np.float64) for a in (xs, ys, z))
    a, b = z[:-1, :-1], z[:-1, 1:]  # (x0, y0), (x1, y0)
    c, d = z[1:, 1:], z[1:, :-1]  # (x1, y1), (x0, y1)
    valid = np.isfinite(a) & np.isfinite(b) & np.isfinite(c) & np.isfinite(d)
    above = [v > level for v in (a, b, c, d)]
    # Corner-pair edges of a cell: bottom a-b, right b-c, top d-c, left a-d.
    edges = ((0, 1), (1, 2), (3, 2), (0, 3))
    corners = (a, b, c, d)
    crosses = [valid & (above[p] != above[q]) for p, q in edges]
    count = sum(m.astype(np.int8) for m in crosses)
    rows, cols = np.nonzero(count > 0)
    if rows.size == 0:
        return np.empty((0, 2))
    x0, x1 = xs[cols], xs[cols + 1]
    y0, y1 = ys[rows], ys[rows + 1]
    corner_xy = ((x0, y0), (x1, y0), (x1, y1), (x0, y1))
    points = np.full((rows.size, 4, 2), np.nan)
    for e, (p, q) in enumerate(edges):
        zp, zq = corners[p][rows, cols], corners[q][rows, cols]
        with np.errstate(all="ignore"):
            t = (level - zp) / (zq - zp)
        (px, py), (qx, qy) = corner_xy[p], corner_xy[q]
        hit = crosses[e][rows, cols]
        with np.errstate(all="ignore"):  # t is NaN where the edge is not crossed
            points[hit, e, 0] = (px + t * (qx - px))[hit]
            points[hit, e, 1] = (py + t * (qy - py))[hit]
    n = count[rows, cols]
    two = n == 2
    mask = np.stack([m[rows, cols] for m in crosses], axis=1)
    # Cells with two crossings: their two points, in edge order.
    pairs = points[two][mask[two]].reshape(-1, 2)
    four = np.flatnonzero(n == 4)
    if four.size:
        mean = 0.25 * sum(v[rows[four], cols[four]] for v in corners)
        a_above = above[0][rows[four], cols[four]]
        joined = (mean > level) == a_above  # a and c joined through the centre
        p4 = points[four]
        # Joined: cut off b (bottom-right) and d (top-left); else a (bottom-left), c.
        first = p4[:, 0]
        second = np.where(joined[:, None], p4[:, 1], p4[:, 3])
        third = np.where(joined[:, None], p4[:, 2], p4[:, 1])
        fourth = np.where(joined[:, None], p4[:, 3], p4[:, 2])
        saddles = np.stack([first, second, third, fourth], axis=1).reshape(-1, 2)
        pairs = np.vstack([pairs, saddles])
    return pairs


_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?"
_RANGE = re.compile(rf"^\s*({_NUMBER})\s*(?:\.\.|:|to)\s*({_NUMBER})\s*$", re.IGNORECASE)


def parse_domain(text: str, dim: int = 2) -> tuple[tuple[float, float], ...] | None:
    """A domain typed as ``-3:3, -2:2``: the x range, then the y range (``..`` or ``to``
    also join the ends; one range serves both axes). Blank: None (the default). Raises
    ValueError saying what is wrong."""
    if not text.strip():
        return None
    ranges = []
    for part in (p.strip() for p in re.split(r"[,;]", text)):
        match = _RANGE.match(part)
        if match is None:
            raise ValueError(f"domain: {part!r} is not a range like -3:3")
        lo, hi = float(match.group(1)), float(match.group(2))
        if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
            raise ValueError(f"domain: a range needs finite low < high, got {part!r}")
        ranges.append((lo, hi))
    if len(ranges) == 1:
        ranges = ranges * dim
    if len(ranges) != dim:
        axes = "x" if dim == 1 else "x, then y"
        raise ValueError(f"domain: give {dim} range{'s' * (dim > 1)} ({axes}), e.g. -3:3, -2:2")
    return tuple(ranges)


def format_domain(domain) -> str:
    """The text :func:`parse_domain` reads back."""
    return ", ".join(f"{lo:g}:{hi:g}" for lo, hi in domain)


__all__ = [
    "DEFAULT_LEVELS",
    "DEFAULT_RESOLUTION",
    "Surface",
    "contour_segments",
    "format_domain",
    "loss_surface",
    "parse_domain",
    "surface_domain",
    "surface_from_grid",
]

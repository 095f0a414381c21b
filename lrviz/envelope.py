"""What a curve looks like at screen resolution: per run, the min and max over buckets of
iterations, grown incrementally as batches arrive.

A panel drawing 256 runs x 100,000 iterations cannot re-send 25.6 million points every frame
(pyqtgraph then redoes its log mapping on all of them: over a second a frame). A screen shows a
few thousand columns; :class:`Envelope` keeps, per run, at most ``capacity`` buckets of
``bucket`` iterations each, with the lowest and highest value seen in each. Drawn as a line
through (x, min), (x, max) per bucket it looks exactly like the full curve at that width:
every spike stays (a mean would hide it). When the buckets fill up, neighbours merge and the
bucket doubles, so the work per batch is O(batch) and per frame O(capacity), never
O(history). Run-major arrays: each run's curve is contiguous.
"""

from __future__ import annotations

import numpy as np

#: Buckets per run: about a plot's width in pixels (each bucket draws its min and its max, so
#: spikes survive); painting 256 curves costs what their points cost, so no more than that.
DEFAULT_CAPACITY = 1024


class Envelope:
    """Min/max per bucket of iterations for R runs.

    ``add(values)`` appends the next iterations (an ``(n, R)`` array, as engine batches hold
    them); ``curve(run)`` gives the (x, y) to draw; ``version`` changes with every add.
    NaN values (not recorded, or after divergence) are ignored inside a bucket; a bucket with
    none is NaN (a gap).
    """

    def __init__(self, runs: int, capacity: int = DEFAULT_CAPACITY) -> None:
        if capacity < 2 or capacity % 2:
            raise ValueError(f"capacity must be an even number >= 2, got {capacity}")
        self.runs = int(runs)
        self.capacity = int(capacity)
        self.bucket = 1  # iterations per bucket, a power of two
        self.count = 0  # full buckets
        self.iterations = 0  # iterations added (full buckets and the pending part)
        # Only the first ``count`` buckets are ever read: reserved, not NaN-filled (filling
        # 4 arrays of runs x 1024 at a run's start took 10-20 ms of the GUI thread at 1000
        # runs; each bucket's pages are touched as it fills).
        self.lo = np.empty((self.runs, self.capacity))
        self.hi = np.empty((self.runs, self.capacity))
        self._pending = np.empty((self.runs, 0))
        self.version = 0

    def add(self, values: np.ndarray) -> None:
        values = np.asarray(values, dtype=np.float64)
        if values.ndim != 2 or values.shape[1] != self.runs:
            raise ValueError(f"expected (n, {self.runs}) values, got {values.shape}")
        if values.shape[0] == 0:
            return
        data = np.concatenate([self._pending, values.T], axis=1)  # run-major
        self.iterations += values.shape[0]
        while True:
            full = data.shape[1] // self.bucket
            room = self.capacity - self.count
            take = min(full, room)
            if take:
                block = data[:, : take * self.bucket].reshape(self.runs, take, self.bucket)
                self.lo[:, self.count : self.count + take] = np.fmin.reduce(block, axis=2)
                self.hi[:, self.count : self.count + take] = np.fmax.reduce(block, axis=2)
                self.count += take
                data = data[:, take * self.bucket :]
            if self.count < self.capacity or data.shape[1] < self.bucket:
                break
            self._merge()
        self._pending = data.copy()
        self.version += 1

    def _merge(self) -> None:
        """Halve the resolution: neighbouring buckets become one twice as wide."""
        half = self.count // 2
        for a in (self.lo, self.hi):
            op = np.fmin if a is self.lo else np.fmax
            merged = op(a[:, 0 : 2 * half : 2], a[:, 1 : 2 * half : 2])
            a[:, :half] = merged
        self.count = half
        self.bucket *= 2

    def curve(self, run: int) -> tuple[np.ndarray, np.ndarray]:
        """(x, y) of run ``run`` to draw as one line: each bucket's min then max, at the
        bucket's first iteration, then the pending iterations as they are."""
        n, b = self.count, self.bucket
        starts = np.arange(n, dtype=np.float64) * b
        if b == 1:  # every iteration is its own bucket: draw it once
            x, y = starts, self.lo[run, :n].copy()
        else:
            x = np.repeat(starts, 2)
            y = np.empty(2 * n)
            y[0::2] = self.lo[run, :n]
            y[1::2] = self.hi[run, :n]
        pending = self._pending[run]
        if pending.size:
            x = np.concatenate([x, n * b + np.arange(pending.size, dtype=np.float64)])
            y = np.concatenate([y, pending])
        return x, y

    def curves(self, runs) -> tuple[np.ndarray, np.ndarray]:
        """(x, Y) of several runs at once: ``Y[k]`` is ``curve(runs[k])[1]`` (one array
        operation for all of them, where a panel redrawing 256 runs would call ``curve``
        256 times every frame)."""
        runs = np.asarray(runs, dtype=np.intp)
        n, b = self.count, self.bucket
        starts = np.arange(n, dtype=np.float64) * b
        if b == 1:
            x, y = starts, self.lo[runs, :n]
        else:
            x = np.repeat(starts, 2)
            y = np.empty((runs.size, 2 * n))
            y[:, 0::2] = self.lo[runs, :n]
            y[:, 1::2] = self.hi[runs, :n]
        pending = self._pending[runs]
        if pending.shape[1]:
            x = np.concatenate([x, n * b + np.arange(pending.shape[1], dtype=np.float64)])
            y = np.concatenate([y, pending], axis=1)
        return x, y

    def min_positive(self) -> float | None:
        """The smallest positive value of every run so far (None when there is none)."""
        with np.errstate(invalid="ignore"):
            parts = [self.lo[:, : self.count], self._pending]
            lows = [a[np.isfinite(a) & (a > 0)] for a in parts]
        found = [float(a.min()) for a in lows if a.size]
        return min(found) if found else None

    def last(self) -> np.ndarray:
        """Each run's most recent value (NaN where none)."""
        if self._pending.shape[1]:
            return self._pending[:, -1].copy()
        if self.count:
            return self.hi[:, self.count - 1].copy()
        return np.full(self.runs, np.nan)


class EnvelopeView:
    """An :class:`Envelope` as a panel draws it, kept up to date incrementally.

    ``x`` and ``y`` are what :meth:`Envelope.curves` gives for every run (each bucket's min
    then max, then the pending iterations), mapped to view units once: log10 where the axis
    is logarithmic, with a non-positive value as ``-inf`` (a gap on the axis, and the
    smallest value under min/max, so merging buckets in view units gives what mapping the
    merged buckets gives). :meth:`update` maps only the buckets completed since the last
    update and the pending iterations; when the envelope has merged its buckets, it merges
    the ones it has mapped the same way. A frame of 256 runs then costs the new columns, not
    the 2,000 of every curve (a dozen passes over them were most of a frame's refresh).

    Columns ``[0, frozen)`` of ``y`` never change once written (a merge makes new arrays),
    so another thread may read them while this one updates; the columns after them are
    rewritten by every update.
    """

    def __init__(self, envelope: Envelope, log: bool) -> None:
        self.envelope = envelope
        self.log = bool(log)
        self.bucket = 1
        self.full = 0  # buckets of the envelope mapped into y
        self.width = 0  # columns of y in use (the full buckets' and the pending ones)
        self.version = -1  # the envelope's version at the last update
        self.generation = 0  # changes when y is a new array (a merge): frozen columns differ
        runs = envelope.runs
        self.y = np.empty((runs, 0))
        self.x = np.empty(0)
        # per run, over the frozen columns: the finite min and max (NaN: none) and whether
        # a non-positive value (-inf) is among them
        self._lo = np.full(runs, np.nan)
        self._hi = np.full(runs, np.nan)
        self._nonpositive = np.zeros(runs, dtype=bool)

    @property
    def frozen(self) -> int:
        """Leading columns of ``y`` that no later update changes (until a merge)."""
        return self.full * self._per_bucket(self.bucket)

    @staticmethod
    def _per_bucket(bucket: int) -> int:
        return 1 if bucket == 1 else 2

    def update(self) -> bool:
        """Catch up with the envelope. Returns True if anything changed."""
        env = self.envelope
        if env.version == self.version:
            return False
        self.version = env.version
        if env.bucket != self.bucket:
            self._merge_to(env.bucket)
        per = self._per_bucket(env.bucket)
        pending = env._pending
        width = env.count * per + pending.shape[1]
        if self.y.shape[1] < width:
            self._grow(max(width, 2 * env.capacity + 2 * pending.shape[1]))
        if env.count > self.full:
            new = slice(self.full, env.count)
            cols = slice(self.full * per, env.count * per)
            if per == 1:
                self.y[:, cols] = self._map(env.lo[:, new])
            else:
                self.y[:, cols][:, 0::2] = self._map(env.lo[:, new])
                self.y[:, cols][:, 1::2] = self._map(env.hi[:, new])
            lo, hi, nonpositive = _summary(self.y[:, cols])
            self._lo, self._hi = np.fmin(self._lo, lo), np.fmax(self._hi, hi)
            self._nonpositive |= nonpositive
            starts = np.arange(self.full, env.count, dtype=np.float64) * env.bucket
            self.x[cols] = starts if per == 1 else np.repeat(starts, 2)
            self.full = env.count
        tail = slice(env.count * per, width)
        self.y[:, tail] = self._map(pending)
        self.x[tail] = env.count * env.bucket + np.arange(pending.shape[1], dtype=np.float64)
        self.width = width
        return True

    def summary(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per run: the lowest and highest finite value in view units (NaN: none) and
        whether there is a non-positive one (``-inf``), over every column in use."""
        lo, hi, nonpositive = _summary(self.y[:, self.frozen : self.width])
        return np.fmin(self._lo, lo), np.fmax(self._hi, hi), self._nonpositive | nonpositive

    def _map(self, values: np.ndarray) -> np.ndarray:
        if not self.log:
            return values
        out = np.full(values.shape, -np.inf)
        with np.errstate(invalid="ignore"):
            np.log10(values, out=out, where=values > 0)
        out[np.isnan(values)] = np.nan
        return out

    def _grow(self, width: int) -> None:
        y = np.empty((self.y.shape[0], width))
        x = np.empty(width)
        y[:, : self.width] = self.y[:, : self.width]
        x[: self.width] = self.x[: self.width]
        self.y, self.x = y, x
        self.generation += 1

    def _merge_to(self, bucket: int) -> None:
        """The envelope doubled its buckets (once or more): merge the mapped ones alike."""
        y, full, b = self.y, self.full, self.bucket
        lo = y[:, : self.frozen : self._per_bucket(b)]
        hi = y[:, self._per_bucket(b) - 1 : self.frozen : self._per_bucket(b)]
        while b < bucket:
            half = full // 2  # an odd last bucket is dropped: it is mapped again from env
            lo = np.fmin(lo[:, 0 : 2 * half : 2], lo[:, 1 : 2 * half : 2])
            hi = np.fmax(hi[:, 0 : 2 * half : 2], hi[:, 1 : 2 * half : 2])
            full, b = half, 2 * b
        self.y = np.empty((y.shape[0], y.shape[1]))  # a new array: frames keep the old one
        self.y[:, 0 : 2 * full : 2] = lo
        self.y[:, 1 : 2 * full : 2] = hi
        self.x = np.empty(y.shape[1])
        self.x[: 2 * full] = np.repeat(np.arange(full, dtype=np.float64) * b, 2)
        self.full, self.bucket, self.width = full, b, 2 * full
        self.generation += 1
        self._lo, self._hi, self._nonpositive = _summary(self.y[:, : 2 * full])


def _summary(part: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row of ``part``: finite min, finite max (NaN: none), any ``-inf``.

    Two reductions over ``part`` as it is (fmin and fmax pass NaN by), and the masked ones
    only for the rows where they met an infinity: a row's fmin is ``-inf`` exactly when it
    holds one. Masking every row first (a copy, then four passes) took 10 ms for 1000 runs x
    2,100 columns, each merge of an envelope view's buckets and every frame's tail; this
    1.5 ms (tests/core/test_envelope.py checks it against the masked reductions)."""
    rows = part.shape[0]
    if part.shape[1] == 0:
        nan = np.full(rows, np.nan)
        return nan, nan.copy(), np.zeros(rows, dtype=bool)
    lo = np.fmin.reduce(part, axis=1)
    hi = np.fmax.reduce(part, axis=1)
    nonpositive = lo == -np.inf
    infinite = np.flatnonzero(np.isinf(lo) | np.isinf(hi))
    if infinite.size:
        some = part[infinite]
        finite = np.where(np.isfinite(some), some, np.nan)
        lo[infinite] = np.fmin.reduce(finite, axis=1)
        hi[infinite] = np.fmax.reduce(finite, axis=1)
    return lo, hi, nonpositive


def window(values: np.ndarray, start: int, columns: int) -> tuple[np.ndarray, np.ndarray]:
    """Min/max envelope of ``values`` (``(n, R)`` full resolution, rows from iteration
    ``start``) at about ``columns`` buckets: what a zoomed-in view draws. Returns
    (x, y) with shapes ``(2m,)`` and ``(R, 2m)``."""
    values = np.asarray(values, dtype=np.float64)
    n = values.shape[0]
    bucket = max(1, int(np.ceil(n / max(columns, 1))))
    m = n // bucket
    if m == 0 or bucket == 1:
        return np.arange(start, start + n, dtype=np.float64), values.T.copy()
    block = values[: m * bucket].T.reshape(values.shape[1], m, bucket)
    lo, hi = np.fmin.reduce(block, axis=2), np.fmax.reduce(block, axis=2)
    y = np.empty((values.shape[1], 2 * m))
    y[:, 0::2], y[:, 1::2] = lo, hi
    x = np.repeat(start + np.arange(m, dtype=np.float64) * bucket, 2)
    rest = values[m * bucket :]
    if rest.shape[0]:
        x = np.concatenate([x, start + m * bucket + np.arange(rest.shape[0], dtype=np.float64)])
        y = np.concatenate([y, rest.T], axis=1)
    return x, y


def chunks(x: np.ndarray, y: np.ndarray, columns: int, how: str = "peak"):
    """A curve of any length at about ``columns`` chunks of consecutive points, in recorded
    order: what pyqtgraph's auto-downsampling draws, computed once off the GUI thread.

    ``how="peak"`` keeps each chunk's min and max (both at the chunk's first x: spikes stay
    visible); ``how="mean"`` its mean (a smoothed curve stays a line: the min and max of a
    lightly smoothed noisy curve fill a band). NaN points are ignored inside a chunk; a chunk
    of NaN only is NaN (a gap). Curves of at most ``2 * columns`` points come back as they
    are. Returns (x, y) float64 arrays.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if how not in ("peak", "mean"):
        raise ValueError(f"how must be 'peak' or 'mean', got {how!r}")
    n = y.size
    if n <= 2 * max(columns, 1):
        return x, y
    size = int(np.ceil(n / columns))
    m = -(-n // size)  # chunks, the last one maybe shorter
    # The whole chunks are a view of y; only the last is padded with NaN, which no chunk
    # counts (a padded copy of a 10M-point curve cost 50-100 ms, five of them a log).
    whole = n // size
    last = np.full((1, size), np.nan)
    last[0, : n - whole * size] = y[whole * size :]
    parts = (y[: whole * size].reshape(whole, size), last if whole < m else last[:0])
    starts = x[::size]
    if how == "peak":
        out_x = np.repeat(starts, 2)
        out_y = np.empty(2 * m)
        out_y[0::2] = np.concatenate([np.fmin.reduce(p, axis=1) for p in parts])
        out_y[1::2] = np.concatenate([np.fmax.reduce(p, axis=1) for p in parts])
        return out_x, out_y
    return starts.copy(), np.concatenate([_finite_means(p) for p in parts])


def _finite_means(rows: np.ndarray) -> np.ndarray:
    """Each row's mean of its finite values (NaN for a row of none). Rows whose plain sum is
    finite hold only finite values: summed as they are, the same sums the masked ones give."""
    with np.errstate(invalid="ignore", over="ignore"):
        sums = rows.sum(axis=1)
    out = sums / rows.shape[1]
    bad = np.flatnonzero(~np.isfinite(sums))
    if bad.size:
        some = rows[bad]
        finite = np.isfinite(some)
        counts = finite.sum(axis=1)
        masked = np.where(finite, some, 0.0).sum(axis=1)
        means = np.full(bad.size, np.nan)
        np.divide(masked, counts, out=means, where=counts > 0)
        out[bad] = means
    return out


def within(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Indices of the points of a curve with ``lo <= x <= hi``, and one more on each side of
    every stretch of them (the line runs on to the edge of a zoomed-in view). One
    ``searchsorted`` when x increases, one pass otherwise (a loss vs λ curve in recorded
    order)."""
    x = np.asarray(x, dtype=np.float64)
    if x.size == 0:
        return np.arange(0)
    if x.size < 2 or bool(np.all(x[1:] >= x[:-1])):
        start = max(int(np.searchsorted(x, lo, side="left")) - 1, 0)
        stop = min(int(np.searchsorted(x, hi, side="right")) + 1, x.size)
        return np.arange(start, stop)
    inside = (x >= lo) & (x <= hi)
    near = inside.copy()
    near[1:] |= inside[:-1]
    near[:-1] |= inside[1:]
    return np.flatnonzero(near)

"""Stroke many curves into an image on a thread of their own, for a panel that is streaming.

Qt's stroking of 256 curves of a couple of thousand points costs 40-80 ms a frame on the
2-core machine (docs/benchmarks.md, "Window responsiveness"), and a loss panel repaints several
times a second while a simulation streams into it: in the GUI thread that was most of every
stall. Qt allows a ``QPainter`` on a ``QImage`` in any thread, so :class:`CurveRaster` strokes
the curves there; the GUI thread only draws the finished image (about a millisecond). Requests
are coalesced, newest wins: a frame asked for while the previous one is being stroked replaces
any frame still waiting, so a slow stroke never queues frames behind it.
"""

from __future__ import annotations

import threading
import time
import weakref

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, QPointF, Qt, Signal
from PySide6.QtGui import QImage, QPainter, QPen, QTransform


class Frame:
    """What one image shows: the curves (item coordinates), their pens, and where they land.

    ``transform`` maps item coordinates to the image's pixels (device pixels of the view,
    shifted to the image's corner, at the device pixel ratio); ``key`` says which view and
    data it was made for, so the item knows whether the image is current.
    """

    def __init__(
        self, key, curves, pens, transform: QTransform, width: int, height: int, dpr, antialias
    ):
        self.key = key
        self.antialias = bool(antialias)  # as the view paints its other items
        self.curves = curves  # [(x, y)], one per pen
        self.pens = pens  # the stroking thread's own copies (see stroking_pens), never changed
        self.transform = QTransform(transform)
        self.width, self.height, self.dpr = int(width), int(height), float(dpr)
        # A frame of a streaming envelope (see run_paths._Block): its frozen columns are
        # stroked once into a picture the next frames reuse while ``base_key`` holds.
        self.block = None
        self.runs: list[int] = []
        self.base_key = None


def stroking_pens(pens) -> tuple:
    """Copies of ``pens`` for the stroking thread, made once for every frame of a set of
    runs (the GUI thread keeps its own): copying 256 pens a frame cost a millisecond of the
    GUI thread's frame."""
    return tuple(QPen(pen) for pen in pens)


def stroke(frame: Frame) -> QImage:
    """The image of ``frame``: transparent but for its curves (any thread)."""
    image = _blank(frame)
    _stroke_onto(image, frame, frame.curves)
    return image


def _blank(frame: Frame) -> QImage:
    # Pixel ratio 1: ``frame.transform`` already scales to the image's pixels.
    image = QImage(frame.width, frame.height, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    return image


def _stroke_onto(image: QImage, frame: Frame, curves) -> None:
    painter = QPainter(image)
    try:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, frame.antialias)
        painter.setTransform(frame.transform)
        for pen, (x, y) in zip(frame.pens, curves, strict=True):
            if len(x) < 2:
                continue
            painter.setPen(pen)
            painter.drawPath(pg.arrayToQPath(x, y, connect="finite"))
    finally:
        painter.end()


#: Columns that become frozen are drawn with the tail, frame after frame, until this many
#: have gathered; then they join the picture of the frozen part in one piece: a curve of
#: 2,000 columns is a dozen pieces, not one a frame (where pieces meet, Qt's cosmetic lines
#: may step a pixel apart from one path through them).
EXTEND_COLUMNS = 128


class FrozenPicture:
    """The frozen columns of a streaming envelope's curves, stroked once (stroking
    thread only).

    Stroking every curve whole, every frame, cost the stroking thread ~100 ms a frame at
    256 runs, and with it a core the engine and the window needed. The columns of an
    envelope view up to its ``frozen`` count never change until it merges its buckets; as
    long as the view, the transform and the runs drawn stay (``Frame.base_key``), a frame
    copies the picture of them and strokes only the rest, from the picture's last column
    on (the pieces meet at a shared point; pens are opaque, so drawing it twice changes
    nothing; where pieces meet, a pixel may differ, see EXTEND_COLUMNS)."""

    def __init__(self) -> None:
        self.key = None
        self.image: QImage | None = None
        self.columns = 0  # columns [0, columns) are in the picture

    def stroke(self, frame: Frame) -> QImage:
        block = frame.block
        frozen, width = block.frozen_count, block.width
        if self.image is None or self.key != frame.base_key or frozen < self.columns:
            self.key, self.image, self.columns = frame.base_key, _blank(frame), 0
        if frozen - self.columns >= EXTEND_COLUMNS or (self.columns == 0 and frozen >= 2):
            start = max(self.columns - 1, 0)
            _stroke_onto(self.image, frame, block.pieces(frame.runs, start, frozen))
            self.columns = frozen
        image = self.image.copy()
        start = max(self.columns - 1, 0)
        if width - start >= 2:
            _stroke_onto(image, frame, block.pieces(frame.runs, start, width))
        return image


class _Queue:
    """The newest frame waiting to be stroked, shared by the item and its thread (plain
    Python: the thread must not keep the Qt object alive)."""

    def __init__(self) -> None:
        self.wake = threading.Condition()
        self.wanted: Frame | None = None
        self.closed = False
        self.busy = False  # a frame is being stroked or waiting


class CurveRaster(QObject):
    """One stroking thread for one item. ``request(frame)`` asks for an image; ``ready(frame,
    image)`` arrives in the GUI thread once it is stroked. The thread ends with
    :meth:`close`, or by itself soon after the raster is gone."""

    ready = Signal(object, object)  # (frame, image)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._queue = _Queue()
        self._thread = threading.Thread(
            target=_stroke_frames,
            args=(weakref.ref(self), self._queue),
            name="lrviz-raster",
            daemon=True,
        )
        self._thread.start()

    @property
    def busy(self) -> bool:
        """A frame asked for has not arrived yet."""
        return self._queue.busy

    def request(self, frame: Frame) -> None:
        queue = self._queue
        with queue.wake:
            queue.wanted = frame  # newest wins: an older frame still waiting is dropped
            queue.busy = True
            queue.wake.notify()

    def close(self) -> None:
        queue = self._queue
        with queue.wake:
            queue.closed, queue.wanted, queue.busy = True, None, False
            queue.wake.notify()

    def _deliver(self, frame: Frame, image: QImage) -> None:
        try:
            self.ready.emit(frame, image)
        except RuntimeError:
            pass  # the item went away while its frame was stroked


#: Seconds the idle thread waits before it checks whether its raster still exists.
IDLE_CHECK_SECONDS = 1.0
#: After stroking a frame the thread rests this many times as long (at most
#: MAX_REST_SECONDS) before the next: at most half a core a panel while a run streams.
REST_FACTOR = 1.0
MAX_REST_SECONDS = 0.25


def _stroke_frames(raster_ref, queue: _Queue) -> None:
    frozen = FrozenPicture()
    while True:
        with queue.wake:
            while queue.wanted is None and not queue.closed:
                if raster_ref() is None:
                    return
                queue.wake.wait(IDLE_CHECK_SECONDS)
            if queue.closed:
                return
            frame, queue.wanted = queue.wanted, None
        started = time.perf_counter()
        image = stroke(frame) if frame.block is None else frozen.stroke(frame)
        stroked = time.perf_counter() - started
        with queue.wake:
            queue.busy = queue.wanted is not None
        raster = raster_ref()
        if raster is None:
            return
        raster._deliver(frame, image)
        del raster  # no reference while idle: the item may go away
        # Rest as long as the stroke took before the next one (a frame asked for meanwhile
        # waits, newest wins; closing does not): stroking back to back, the panels' threads
        # took CPU the engine needed on 2 cores, for frames the eye does not need at once.
        until = time.perf_counter() + min(stroked * REST_FACTOR, MAX_REST_SECONDS)
        with queue.wake:
            while not queue.closed and (left := until - time.perf_counter()) > 0:
                queue.wake.wait(left)


def image_transform(item_to_device: QTransform, corner: QPointF, dpr: float) -> QTransform:
    """Item coordinates to the pixels of an image whose top-left is ``corner`` (device
    pixels) at ``dpr`` image pixels per device pixel."""
    shift = QTransform.fromTranslate(-corner.x(), -corner.y())
    return item_to_device * shift * QTransform.fromScale(dpr, dpr)


def transform_key(t: QTransform) -> tuple:
    """A transform as a hashable key (rounded: the same view gives the same key)."""
    return tuple(np.round([t.m11(), t.m12(), t.m21(), t.m22(), t.dx(), t.dy()], 9).tolist())

"""Loss surfaces computed off the GUI thread, the latest request winning.

A surface is 65,536 evaluations of the loss and a dozen contour traces: a few milliseconds
for a quadratic, a few hundred for a long typed formula on a busy machine. Typing must never
wait for that, so the work runs through a :class:`~ui.jobs.JobRunner`, one job at a time: a
request while one runs replaces any request still waiting, and only the newest result is
shown. Nothing waits for a running job (halting it would block until its one batch is done).
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from lrviz.objectives.base import Objective
from lrviz.surfaces import DEFAULT_RESOLUTION, Surface, loss_surface

from .jobs import JobRunner


class SurfaceJobs(QObject):
    """Signals: ``computed(key, surface, segments)`` for the latest request (``segments``:
    the contour lines as (2m, 2) pairs); ``failed(key, message)``."""

    computed = Signal(object, object, object)
    failed = Signal(object, str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.jobs = JobRunner("lrviz-surface", self)
        self._waiting: tuple | None = None
        self._running = False
        self._latest_key: object = None

    @property
    def busy(self) -> bool:
        """A surface is being computed or waits to be."""
        return self._running or self._waiting is not None

    def request(
        self,
        key: object,
        objective: Objective,
        domain=None,
        resolution: int = DEFAULT_RESOLUTION,
    ) -> None:
        """Compute the surface of ``objective`` (2-D) over ``domain``; ``key`` comes back with
        it, so the caller knows what it is the surface of."""
        self._latest_key = key
        self._waiting = (key, objective, domain, resolution)
        if not self._running:
            self._start_waiting()

    def cancel(self) -> None:
        """Forget the waiting request and drop the result of the running one."""
        self._waiting = None
        self._latest_key = _NOTHING

    def shutdown(self) -> None:
        """Stop and wait for the thread (the window is closing)."""
        self._waiting = None
        self.jobs.shutdown()

    def _start_waiting(self) -> None:
        if self._waiting is None:
            return
        key, objective, domain, resolution = self._waiting
        self._waiting = None
        self._running = True

        def work():
            surface: Surface = loss_surface(objective, domain, resolution)
            yield key, surface, surface.contours()

        self.jobs.start(
            work,
            self._on_result,
            lambda message: self._on_failed(key, message),
            self._on_finished,
            exclusive=False,
        )

    def _on_result(self, result) -> None:
        key, surface, segments = result
        if key is self._latest_key and self._waiting is None:
            self.computed.emit(key, surface, segments)

    def _on_failed(self, key, message: str) -> None:
        if key is self._latest_key:
            self.failed.emit(key, message)

    def _on_finished(self, _completed: bool) -> None:
        self._running = False
        self._start_waiting()


_NOTHING = object()

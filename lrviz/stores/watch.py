"""Following a store that is still being written: each poll returns only what changed.

A poll lists every trial/run of the store with a cheap fingerprint (its state and how many
params, points and values it holds), compares it with what was read before, and reads in full
only the new and changed ones. Keys are the store's own ids (Optuna's trial id, MLflow's run
id), so nothing is reported twice, and since every poll lists them all, a trial that commits
late (after a newer one) is found on the next poll: nothing is lost.

No Qt and no threads here: call :meth:`StoreWatcher.poll` from a worker thread (one poll at a
time; a lock makes overlapping calls wait) and hand the :class:`StoreChanges` to the GUI.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field

from lrviz.loaders.model import Run
from lrviz.stores.model import StoreData, sort_runs


@dataclass
class StoreChanges:
    """What one :meth:`StoreWatcher.poll` found.

    Parameters
    ----------
    added : dict of str to Run
        Trials/runs seen for the first time, by key.
    updated : dict of str to Run
        Trials/runs that changed (grew, finished, were pruned), by key: the new Run replaces
        the one reported before under that key.
    removed : list of str
        Keys no longer in the store (an MLflow run deleted).
    """

    added: dict[str, Run] = field(default_factory=dict)
    updated: dict[str, Run] = field(default_factory=dict)
    removed: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.added or self.updated or self.removed)


class StoreWatcher:
    """Poll an Optuna study or MLflow store for new and grown trials.

    Parameters
    ----------
    url_or_path : str or PathLike
        As for :func:`lrviz.stores.open_store`.
    study : str, optional
        Which study (Optuna) or experiment (MLflow); by default the only one, else all.
    lr_param : str, optional
        The parameter holding λ.

    Examples
    --------
    >>> w = StoreWatcher("sqlite:///study.db")        # doctest: +SKIP
    >>> changes = w.poll()                             # doctest: +SKIP  (in a worker thread)
    >>> for key, run in changes.added.items(): ...     # doctest: +SKIP

    Notes
    -----
    The store is opened by the first :meth:`poll` (so constructing a watcher costs nothing on
    the GUI thread); that poll returns every trial as added. :meth:`poll` raises
    :class:`~lrviz.errors.LrvizError` when the store cannot be read; what was read stays, and
    the next poll tries again.
    """

    def __init__(
        self, url_or_path: str | os.PathLike, study: str | None = None, lr_param=None
    ) -> None:
        self.url_or_path = os.fspath(url_or_path)
        self.study = study
        self.lr_param = lr_param
        self._backend = None
        self._studies: list[str] = []
        self._runs: dict[str, tuple] = {}  # key -> (order, Run)
        self._fingerprints: dict[str, tuple] = {}
        self._lock = threading.Lock()

    @property
    def runs(self) -> dict[str, Run]:
        """Every trial/run read so far, by key."""
        return {key: run for key, (_, run) in self._runs.items()}

    @property
    def data(self) -> StoreData | None:
        """Everything read so far, in store order (None before the first poll)."""
        backend = self._backend
        if backend is None:
            return None
        return StoreData(
            backend.format,
            sort_runs(self._runs),
            backend.display,
            studies=list(self._studies),
            study=backend.selected,
        )

    def poll(self) -> StoreChanges:
        """Read what changed since the last poll (everything, the first time)."""
        from lrviz.stores import open_backend

        with self._lock:
            first = self._backend is None
            if first:
                self._backend = open_backend(self.url_or_path, self.study, self.lr_param)
                self._studies = list(self._backend.study_names)
            backend = self._backend
            changes = StoreChanges()
            if first:
                got = backend.read(None)
            else:
                current = backend.snapshot()
                changed = {k for k, fp in current.items() if self._fingerprints.get(k) != fp}
                for key in [k for k in self._runs if k not in current]:
                    del self._runs[key]
                    self._fingerprints.pop(key, None)
                    changes.removed.append(key)
                got = backend.read(changed) if changed else {}
            for key, (order, run, fingerprint) in got.items():
                target = changes.updated if key in self._runs else changes.added
                target[key] = run
                self._runs[key] = (order, run)
                self._fingerprints[key] = fingerprint
            return changes

    def close(self) -> None:
        """Let go of the store's connections."""
        with self._lock:
            if self._backend is not None:
                self._backend.close()
                self._backend = None

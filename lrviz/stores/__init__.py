"""Sweeps where they live: Optuna studies and MLflow tracking stores, read as lrviz logs.

>>> from lrviz.stores import is_store, list_studies, open_store     # doctest: +SKIP
>>> is_store("sqlite:///study.db")                                  # doctest: +SKIP
True
>>> [s.name for s in list_studies("sqlite:///study.db")]             # doctest: +SKIP
['lr-sweep', 'multi-objective']
>>> log = open_store("sqlite:///study.db", study="lr-sweep")         # doctest: +SKIP
>>> log.format, log.runs[0].params["lr"], log.runs[0].params["state"]  # doctest: +SKIP
('optuna', 0.01, 'complete')

What opens:

- an Optuna storage by URL (``sqlite:///study.db``, ``postgresql://user@host/db``, any RDB
  storage Optuna supports) or a SQLite ``.db`` file; needs ``pip install "lrviz[optuna]"``.
- MLflow's SQLite store (``mlflow.db``, or ``sqlite:///mlflow.db``) and its ``mlruns/`` file
  store (or ``file:./mlruns``): read with the standard library, no extra needed.

Ray Tune experiment folders are sweep folders: :func:`lrviz.loaders.load` reads them.

Trials become runs as :mod:`lrviz.stores.model` describes; :class:`StoreWatcher` follows a
store live. Nothing here imports Qt, and nothing writes to a store.
"""

from __future__ import annotations

import os

from lrviz.errors import LrvizError
from lrviz.stores.locate import MLFLOW_FILES, MLFLOW_SQLITE, OPTUNA, Location, locate
from lrviz.stores.model import (
    DIVERGED_STATES,
    LR_KEYS,
    STATES,
    STORE_FORMATS,
    StoreData,
    StudyInfo,
    find_lr_key,
    sort_runs,
)
from lrviz.stores.watch import StoreChanges, StoreWatcher


def is_store(url_or_path: str | os.PathLike) -> bool:
    """True when ``url_or_path`` names a store rather than a log: a database URL, a SQLite file
    holding an Optuna study or MLflow store, or an ``mlruns/`` folder. Never connects to a
    server; a bad database URL is a store too (opening it says what is wrong)."""
    try:
        return locate(url_or_path) is not None
    except LrvizError:
        return True


def open_backend(url_or_path: str | os.PathLike, study: str | None = None, lr_param=None):
    """The reader for a store (:class:`~lrviz.stores.optuna_store.OptunaStudies`,
    :class:`~lrviz.stores.mlflow_sqlite.MlflowSqlite` or
    :class:`~lrviz.stores.mlflow_files.MlflowFiles`)."""
    location = locate(url_or_path)
    if location is None:
        raise LrvizError(
            "not an Optuna study storage or MLflow tracking store", os.fspath(url_or_path)
        )
    return _backend(location, study, lr_param)


def _backend(location: Location, study, lr_param):
    if location.kind == OPTUNA:
        from lrviz.stores.optuna_store import OptunaStudies

        return OptunaStudies(location, study, lr_param)
    if location.kind == MLFLOW_SQLITE:
        from lrviz.stores.mlflow_sqlite import MlflowSqlite

        return MlflowSqlite(location, study, lr_param)
    if location.kind == MLFLOW_FILES:
        from lrviz.stores.mlflow_files import MlflowFiles

        return MlflowFiles(location, study, lr_param)
    raise LrvizError(f"unknown store kind {location.kind!r}", location.display)


def list_studies(url_or_path: str | os.PathLike) -> list[StudyInfo]:
    """The studies (Optuna) or active experiments (MLflow) of a store, with their number of
    trials/runs, to pick one from.

    Raises
    ------
    LrvizError
        Not a store, unreachable, or (Optuna) the optuna extra missing.
    """
    backend = open_backend(url_or_path)
    try:
        return backend.studies()
    finally:
        backend.close()


def open_store(
    url_or_path: str | os.PathLike, study: str | None = None, lr_param: str | None = None
) -> StoreData:
    """Read a whole store into lrviz's model.

    Parameters
    ----------
    url_or_path : str or PathLike
        ``sqlite:///study.db``, ``postgresql://user@host/db``, ``study.db``, ``mlflow.db``,
        ``mlruns/``, ``file:./mlruns``.
    study : str, optional
        The study (Optuna) or experiment (MLflow) to read. By default the only one (MLflow:
        the only one holding runs); when there are several, all of them, with run names
        ``<study>/trial N`` (``<experiment>/<run name>``).
    lr_param : str, optional
        The parameter holding λ; by default the first of ``lr``, ``learning_rate``,
        ``lr_init``, ... (:data:`LR_KEYS`). Copied to ``params["lr"]``.

    Returns
    -------
    StoreData
        A :class:`~lrviz.loaders.model.LogData` of format ``optuna`` or ``mlflow``, one run per
        trial in store order.

    Raises
    ------
    LrvizError
        Every problem, in one line naming the store.
    """
    backend = open_backend(url_or_path, study, lr_param)
    try:
        runs = {key: (order, run) for key, (order, run, _) in backend.read(None).items()}
        return StoreData(
            backend.format,
            sort_runs(runs),
            backend.display,
            studies=list(backend.study_names),
            study=backend.selected,
        )
    finally:
        backend.close()


__all__ = [
    "DIVERGED_STATES",
    "LR_KEYS",
    "STATES",
    "STORE_FORMATS",
    "StoreChanges",
    "StoreData",
    "StoreWatcher",
    "StudyInfo",
    "find_lr_key",
    "is_store",
    "list_studies",
    "open_store",
]

"""Optuna studies in any RDB storage Optuna supports, read with Optuna's own API, read-only.

Optuna is an optional extra (``pip install "lrviz[optuna]"``), imported only when a study is
opened. Optuna opens the storage (``RDBStorage``, which checks the schema version), lists the
studies (``optuna.get_all_study_names``) and decodes parameter values (its distributions);
trials are read as rows (:mod:`lrviz.stores.optuna_rows`, twenty times faster than Optuna's
ORM reader), with ``optuna.load_study(...).get_trials()`` as the fallback.

Read-only: SQLite files are opened through :mod:`sqlite3` in ``mode=ro``; PostgreSQL sessions
start with ``default_transaction_read_only``; MySQL sessions are set ``READ ONLY``; and the
storage is created with ``skip_table_creation``. A write lrviz never means to make is refused
by the database.

Following a study live (:meth:`OptunaStudies.snapshot`): one query lists every trial with its
state and how many params, intermediate values and values it has; only trials whose counts
moved are read again. Optuna's own cache reads "trials after the last finished one", which can
miss a trial whose insert commits after a later trial's (two workers at once); listing them all
cannot, and costs one light row per trial (see docs/benchmarks.md, "Stores").
"""

from __future__ import annotations

import sqlite3

from lrviz.errors import LrvizError
from lrviz.loaders.model import Run, Series
from lrviz.stores.locate import Location, sqlite_uri
from lrviz.stores.model import StudyInfo, diverged, run_params
from lrviz.stores.optuna_rows import TrialRows, read_trials

INSTALL = 'pip install "lrviz[optuna]"'
_STATES = {
    "COMPLETE": "complete",
    "PRUNED": "pruned",
    "FAIL": "failed",
    "RUNNING": "running",
    "WAITING": "waiting",
}
_CONNECT_TIMEOUT_S = 10  # a server that does not answer gives an error, not a hang
_COUNTS = """
SELECT s.study_name, COUNT(t.trial_id) FROM studies s LEFT JOIN trials t ON t.study_id = s.study_id
GROUP BY s.study_id, s.study_name
"""
_FINGERPRINTS = """
SELECT t.trial_id, t.study_id, t.state,
  (SELECT COUNT(*) FROM trial_params p WHERE p.trial_id = t.trial_id),
  (SELECT COUNT(*) FROM trial_intermediate_values v WHERE v.trial_id = t.trial_id),
  (SELECT COUNT(*) FROM trial_values w WHERE w.trial_id = t.trial_id)
FROM trials t
"""


def import_optuna(where: str):
    """The optuna module, or a one-line error naming the command that installs it."""
    try:
        import optuna
    except ImportError:
        raise LrvizError(
            f"opening Optuna studies needs the optuna extra: {INSTALL}", where
        ) from None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None)  # SQLAlchemy wraps the driver's own, clearer, message
    text = str(orig if orig is not None else exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _engine_kwargs(location: Location) -> dict:
    if location.path is not None:
        import sqlalchemy

        uri = sqlite_uri(location.path)
        # Our own connection, so the file is opened read-only whatever its name holds ('#', '?'
        # and '%' do not survive a sqlite:/// URL); a new one per use, cheap for SQLite and
        # safe from any thread.
        return {
            "creator": lambda: sqlite3.connect(uri, uri=True, timeout=5.0, check_same_thread=False),
            "poolclass": sqlalchemy.pool.NullPool,
        }
    scheme = location.url.split(":", 1)[0].split("+", 1)[0].lower()
    if scheme == "postgresql":
        return {
            "connect_args": {
                "options": "-c default_transaction_read_only=on",
                "connect_timeout": _CONNECT_TIMEOUT_S,
            }
        }
    if scheme in ("mysql", "mariadb"):
        # Not exercised by the tests (no MySQL server here); both common drivers take these.
        return {
            "connect_args": {
                "init_command": "SET SESSION TRANSACTION READ ONLY",
                "connect_timeout": _CONNECT_TIMEOUT_S,
            }
        }
    return {}


def _trial_fingerprint(trial) -> tuple:
    """What :data:`_FINGERPRINTS` says of a trial, from the trial as read."""
    return (
        str(getattr(trial.state, "name", trial.state)),
        len(trial.params),
        len(trial.intermediate_values),
        len(trial.values or ()),
    )


def trial_run(trial, study: str, directions: list[str], name: str, lr_param: str | None) -> Run:
    """One trial as a run (see :mod:`lrviz.stores.model`).

    Series: ``intermediate`` (the intermediate values, step → value) and ``value`` (the
    objective value, one point at the last reported step, or step 0) — ``value_0``,
    ``value_1``, ... for several objectives. An objective minimized is a ``loss``, one
    maximized a ``metric``.
    """
    stored = getattr(trial.state, "name", trial.state)  # Optuna's enum, or its name as stored
    state = _STATES.get(stored, str(stored).lower())
    meta: dict = {"trial": int(trial.number), "study": study, "state": state}
    meta["diverged"] = diverged(state)
    values = list(trial.values) if trial.values is not None else None
    roles = ["loss" if d == "MINIMIZE" else "metric" for d in directions]
    series = []
    steps = sorted(trial.intermediate_values)
    if steps:
        y = [float(trial.intermediate_values[s]) for s in steps]
        series.append(Series("intermediate", roles[0], "step", steps, y))
    if values is not None:
        last = float(steps[-1]) if steps else 0.0
        for i, v in enumerate(values):
            key = "value" if len(values) == 1 else f"value_{i}"
            meta[key] = float(v)
            role = roles[i] if i < len(roles) else "metric"
            series.append(Series(key, role, "step", [last], [float(v)]))
    main = {"loss": "intermediate"} if steps and roles[0] == "loss" else {}
    return Run(name, run_params(dict(trial.params), meta, lr_param), series, None, main)


class OptunaStudies:
    """The studies of one Optuna storage, read-only.

    Parameters
    ----------
    location : Location
        From :func:`lrviz.stores.locate.locate` (kind ``optuna``).
    study : str, optional
        The study to read; by default the only one, or all of them when there are several
        (run names are then ``<study>/trial N``).
    lr_param : str, optional
        The parameter holding λ (see :func:`lrviz.stores.model.find_lr_key`).

    Raises
    ------
    LrvizError
        Optuna missing, the storage unreachable, not an Optuna storage, or no such study.
    """

    format = "optuna"

    def __init__(self, location: Location, study: str | None = None, lr_param=None) -> None:
        self.display = location.display
        self.lr_param = lr_param
        self._optuna = import_optuna(self.display)
        self._check_tables(location)
        self.storage = self._open(location)
        self._studies: dict[int, tuple[str, list[str]]] = {}
        self._study_of: dict[str, int] = {}  # trial key -> study id, from the last listing
        names = self.study_names = [info.name for info in self.studies()]
        if study is not None and study not in names:
            raise LrvizError(f"no study {study!r} here; studies: {', '.join(names)}", self.display)
        if not names:
            raise LrvizError("this storage holds no study", self.display)
        self.selected = study if study is not None else (names[0] if len(names) == 1 else None)

    def _check_tables(self, location: Location) -> None:
        """Connect once and look for Optuna's tables before Optuna does: Optuna reports a
        refused connection and a database without its tables alike, and would try to create
        what it misses."""
        import sqlalchemy
        import sqlalchemy.exc

        url = location.url if location.path is None else "sqlite://"
        try:
            engine = sqlalchemy.create_engine(url, **_engine_kwargs(location))
        except ImportError as exc:
            raise LrvizError(
                f"no database driver for this URL ({_first_line(exc)}); "
                f"PostgreSQL's comes with {INSTALL}",
                self.display,
            ) from None
        except sqlalchemy.exc.ArgumentError as exc:
            raise LrvizError(f"not a database URL: {_first_line(exc)}", self.display) from None
        try:
            with engine.connect() as con:
                tables = set(sqlalchemy.inspect(con).get_table_names())
        except sqlalchemy.exc.SQLAlchemyError as exc:
            raise LrvizError(f"cannot open the storage: {_first_line(exc)}", self.display) from None
        finally:
            engine.dispose()
        missing = sorted({"studies", "trials", "version_info"} - tables)
        if missing:
            raise LrvizError(
                f"not an Optuna study storage (no {', '.join(missing)} table)", self.display
            )

    def _open(self, location: Location):
        import sqlalchemy.exc

        try:
            return self._optuna.storages.RDBStorage(
                location.url if location.path is None else "sqlite://",
                engine_kwargs=_engine_kwargs(location),
                skip_table_creation=True,
            )
        except (sqlalchemy.exc.SQLAlchemyError, self._optuna.exceptions.OptunaError) as exc:
            cause = exc.__cause__ if exc.__cause__ is not None else exc
            raise LrvizError(
                f"cannot open the storage: {_first_line(cause)}", self.display
            ) from None
        except RuntimeError as exc:  # a schema from another Optuna version
            raise LrvizError(_first_line(exc), self.display) from None

    def _guard(self, what):
        """Run ``what()``, turning database errors into one-line LrvizErrors."""
        import sqlalchemy.exc

        try:
            return what()
        except KeyError as exc:  # Optuna's "no such study": deleted while we follow it
            raise LrvizError(str(exc.args[0] if exc.args else exc), self.display) from None
        except (sqlalchemy.exc.SQLAlchemyError, self._optuna.exceptions.OptunaError) as exc:
            cause = exc.__cause__ if exc.__cause__ is not None else exc
            raise LrvizError(
                f"reading the storage failed: {_first_line(cause)}", self.display
            ) from None

    def studies(self) -> list[StudyInfo]:
        """Every study of the storage, with its number of trials, in creation order."""
        from sqlalchemy import text

        def listing():
            names = self._optuna.get_all_study_names(self.storage)
            # Counted in SQL: Optuna's study summaries load every trial of every study to
            # count them (a second per 1,000 trials).
            with self.storage.engine.connect() as con:
                counts = dict(con.execute(text(_COUNTS)).fetchall())
            return [StudyInfo(name, int(counts.get(name, 0))) for name in names]

        return self._guard(listing)

    # -- reading ---------------------------------------------------------------------------

    def _study(self, study_id: int) -> tuple[str, list[str]]:
        known = self._studies.get(study_id)
        if known is None:
            name = self.storage.get_study_name_from_id(study_id)
            directions = [d.name for d in self.storage.get_study_directions(study_id)]
            known = self._studies[study_id] = (name, directions)
        return known

    def _run(self, trial, study_id: int):
        name, directions = self._study(study_id)
        label = f"trial {trial.number}" if self.selected else f"{name}/trial {trial.number}"
        run = trial_run(trial, name, directions, label, self.lr_param)
        run.source = self.display
        trial_id = trial.trial_id if isinstance(trial, TrialRows) else trial._trial_id
        return (study_id, trial.number, trial_id), run, _trial_fingerprint(trial)

    def _selected_ids(self) -> list[int]:
        if self.selected is not None:
            return [self.storage.get_study_id_from_name(self.selected)]
        return [s._study_id for s in self.storage.get_all_studies()]

    def snapshot(self) -> dict[str, tuple]:
        """``{trial key: fingerprint}`` of every trial of the selected study (or studies)."""
        from sqlalchemy import text

        def read():
            ids = self._selected_ids()
            query = _FINGERPRINTS
            if self.selected is not None:
                query += " WHERE t.study_id = :study"
            with self.storage.engine.connect() as con:
                params = {"study": ids[0]} if self.selected is not None else {}
                rows = con.execute(text(query), params).fetchall()
            wanted = set(ids)
            out = {}
            for trial_id, study_id, state, n_params, n_steps, n_values in rows:
                if study_id in wanted:
                    key = str(trial_id)
                    self._study_of[key] = int(study_id)
                    state = getattr(state, "name", state)  # an enum on some dialects
                    out[key] = (str(state), int(n_params), int(n_steps), int(n_values))
            return out

        return self._guard(read)

    def read(self, keys: set[str] | None = None) -> dict[str, tuple]:
        """``{trial key: (order, Run, fingerprint)}`` for ``keys`` (all trials when None)."""

        def read_all():
            out = {}
            for study_id in self._selected_ids():
                for trial_id, trial in self._trials(study_id, None):
                    self._study_of[str(trial_id)] = study_id
                    out[str(trial_id)] = self._run(trial, study_id)
            return out

        def read_some():
            by_study: dict[int, set[int]] = {}
            for key in keys:
                study_id = self._study_of.get(key)
                if study_id is not None:
                    by_study.setdefault(study_id, set()).add(int(key))
            out = {}
            for study_id, ids in by_study.items():
                for trial_id, trial in self._trials(study_id, ids):
                    if trial_id in ids:
                        out[str(trial_id)] = self._run(trial, study_id)
            return out

        return self._guard(read_all if keys is None else read_some)

    def _trials(self, study_id: int, ids: set[int] | None) -> list[tuple[int, object]]:
        """``(trial id, trial)`` of a study (only ``ids`` when given): read as rows (fast),
        or by Optuna's own reader when that fails (a schema the row reader does not know)."""
        import sqlalchemy.exc

        try:
            return [(t.trial_id, t) for t in read_trials(self.storage.engine, study_id, ids)]
        except sqlalchemy.exc.SQLAlchemyError:
            return [(t._trial_id, t) for t in self._trials_by_optuna(study_id, ids)]

    def _trials_by_optuna(self, study_id: int, ids: set[int] | None) -> list:
        if ids is None:
            name, _ = self._study(study_id)
            study = self._optuna.load_study(study_name=name, storage=self.storage)
            return study.get_trials(deepcopy=False)
        bulk = getattr(self.storage, "_get_trials", None)
        if bulk is not None:
            try:
                # One query for all of them (what Optuna's own cache uses); it also returns
                # trials newer than the largest id, which the caller leaves for the next poll.
                return bulk(study_id, None, ids, max(ids))
            except TypeError:
                pass  # another signature in another Optuna version: the public way below
        return [self.storage.get_trial(i) for i in sorted(ids)]

    def close(self) -> None:
        self.storage.scoped_session.remove()
        self.storage.engine.dispose()

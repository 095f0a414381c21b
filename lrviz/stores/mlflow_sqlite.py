"""MLflow's SQLite tracking store (``mlflow.db``, the default from MLflow 3.7 on), read with the
standard library.

MLflow's own client would need ``mlflow-skinny`` plus SQLAlchemy and Alembic (about 120 MB
installed, 0.6 s to import; docs/benchmarks.md, "Stores"), where the tables lrviz reads
(``experiments``, ``runs``, ``params``, ``tags``, ``metrics``) are a few stable columns that
:mod:`sqlite3` reads in milliseconds. The file is opened in ``mode=ro``: lrviz cannot write to
it. Each call opens its own connection, so any thread may call.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from lrviz.errors import LrvizError
from lrviz.stores.locate import Location, sqlite_uri
from lrviz.stores.mlflow_runs import RUN_NAME_TAG, metric_value, mlflow_run
from lrviz.stores.model import StudyInfo

_CHUNK = 500  # ids per IN (...): below every SQLite build's limit on bound variables
_ACTIVE = "r.lifecycle_stage = 'active' AND e.lifecycle_stage = 'active'"


def pick_experiment(infos: list[StudyInfo], wanted: str | None, display: str) -> str | None:
    """The experiment to read: ``wanted``, else the only one with runs; None for all."""
    names = [i.name for i in infos]
    if wanted is not None:
        if wanted not in names:
            raise LrvizError(
                f"no experiment {wanted!r} here; experiments: {', '.join(names)}", display
            )
        return wanted
    with_runs = [i.name for i in infos if i.runs]
    if len(with_runs) == 1:
        return with_runs[0]
    if not with_runs and len(names) == 1:
        return names[0]
    return None


class MlflowSqlite:
    """The experiments of one ``mlflow.db``.

    Parameters
    ----------
    location : Location
        Kind ``mlflow-sqlite``.
    experiment : str, optional
        The experiment to read; by default the only one holding runs, or all of them (run names
        are then ``<experiment>/<run>``).
    lr_param : str, optional
        The parameter holding λ.
    """

    format = "mlflow"

    def __init__(self, location: Location, experiment: str | None = None, lr_param=None) -> None:
        self.path = location.path
        self.display = location.display
        self.lr_param = lr_param
        with self._connect() as con:
            columns = {r[1] for r in con.execute("PRAGMA table_info(runs)")}
        # ``runs.name`` came with MLflow 1.x's run names; before it the name is only a tag.
        self._name_column = "r.name" if "name" in columns else "NULL"
        infos = self.studies()
        self.study_names = [info.name for info in infos]
        self.selected = pick_experiment(infos, experiment, self.display)

    def _connect(self):
        try:
            con = sqlite3.connect(sqlite_uri(self.path), uri=True, timeout=5.0)
        except sqlite3.Error as exc:
            raise LrvizError(f"cannot open this MLflow store: {exc}", self.display) from None
        con.isolation_level = None  # transactions are begun explicitly, for one snapshot
        return _Closing(con, self.display)

    def studies(self) -> list[StudyInfo]:
        """Active experiments with their number of active runs, oldest first."""
        query = (
            "SELECT e.name, (SELECT COUNT(*) FROM runs r WHERE r.experiment_id = e.experiment_id "
            "AND r.lifecycle_stage = 'active') FROM experiments e "
            "WHERE e.lifecycle_stage = 'active' ORDER BY e.experiment_id"
        )
        with self._connect() as con:
            return [StudyInfo(str(name), int(n)) for name, n in con.execute(query)]

    def _where(self) -> tuple[str, list]:
        if self.selected is None:
            return _ACTIVE, []
        return _ACTIVE + " AND e.name = ?", [self.selected]

    def _fingerprint_query(self) -> str:
        return (
            f"SELECT r.run_uuid, r.status, {self._name_column}, "
            "(SELECT COUNT(*) FROM params p WHERE p.run_uuid = r.run_uuid), "
            "(SELECT COUNT(*) FROM tags g WHERE g.run_uuid = r.run_uuid), "
            "(SELECT COUNT(*) FROM metrics m WHERE m.run_uuid = r.run_uuid) "
            "FROM runs r JOIN experiments e ON e.experiment_id = r.experiment_id WHERE "
        )

    def snapshot(self) -> dict[str, tuple]:
        """``{run id: fingerprint}`` of every active run read (status, name and row counts:
        MLflow only ever adds params, tags and metric points)."""
        where, args = self._where()
        with self._connect() as con:
            rows = con.execute(self._fingerprint_query() + where, args).fetchall()
        return {str(r[0]): tuple(r[1:]) for r in rows}

    def read(self, keys: set[str] | None = None) -> dict[str, tuple]:
        """``{run id: (order, Run, fingerprint)}`` for ``keys`` (all runs read when None), all
        from one snapshot of the file."""
        where, args = self._where()
        with self._connect() as con:
            con.execute("BEGIN")
            try:
                fingerprints = _select(con, self._fingerprint_query() + where, args, keys)
                runs = _select(
                    con,
                    f"SELECT r.run_uuid, r.experiment_id, e.name, r.status, r.start_time, "
                    f"{self._name_column} FROM runs r JOIN experiments e "
                    f"ON e.experiment_id = r.experiment_id WHERE {where}",
                    args,
                    keys,
                )
                wanted = [str(r[0]) for r in runs]
                params = _by_run(con, "SELECT run_uuid, key, value FROM params WHERE", wanted)
                names = _by_run(
                    con,
                    f"SELECT run_uuid, key, value FROM tags WHERE key = '{RUN_NAME_TAG}' AND",
                    wanted,
                )
                points = _by_run(
                    con,
                    "SELECT run_uuid, key, step, timestamp, value, is_nan FROM metrics WHERE",
                    wanted,
                    " ORDER BY run_uuid, key, timestamp, step, value",
                )
            finally:
                con.execute("COMMIT")
        fp = {str(r[0]): tuple(r[1:]) for r in fingerprints}
        out = {}
        for run_id, exp_id, exp_name, status, start, column_name in runs:
            run_id = str(run_id)
            tag = dict((k, v) for k, v in names.get(run_id, ()))
            name = column_name or tag.get(RUN_NAME_TAG) or run_id[:8]
            metrics: dict[str, list] = {}
            for key, step, stamp, value, is_nan in points.get(run_id, ()):
                metrics.setdefault(str(key), []).append(
                    (int(step), int(stamp), metric_value(value, bool(is_nan)))
                )
            run = mlflow_run(
                run_id,
                name if self.selected else f"{exp_name}/{name}",
                str(exp_name),
                str(status),
                start,
                {str(k): str(v) for k, v in params.get(run_id, ())},
                metrics,
                self.lr_param,
            )
            run.source = self.display
            out[run_id] = ((int(exp_id), start or 0, run_id), run, fp.get(run_id))
        return out

    def close(self) -> None:
        """Nothing stays open between calls."""


class _Closing:
    """A connection closed on leaving ``with`` (sqlite3's own context manager only commits),
    whose errors become one-line LrvizErrors."""

    def __init__(self, con: sqlite3.Connection, display: str) -> None:
        self.con, self.display = con, display

    def __enter__(self) -> sqlite3.Connection:
        return self.con

    def __exit__(self, kind, exc, tb) -> None:
        self.con.close()
        if isinstance(exc, sqlite3.Error):
            raise LrvizError(f"reading this MLflow store failed: {exc}", self.display) from None


def _chunks(items: list, size: int = _CHUNK) -> Iterable[list]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _select(con, query: str, args: list, keys: set[str] | None) -> list:
    if keys is None:
        return con.execute(query, args).fetchall()
    rows = []
    for chunk in _chunks(sorted(keys)):
        marks = ",".join("?" * len(chunk))
        rows += con.execute(f"{query} AND r.run_uuid IN ({marks})", [*args, *chunk]).fetchall()
    return rows


def _by_run(con, query: str, run_ids: list[str], tail: str = "") -> dict[str, list]:
    """Rows of ``query ... run_uuid IN (...)`` grouped by their first column."""
    out: dict[str, list] = {}
    for chunk in _chunks(run_ids):
        marks = ",".join("?" * len(chunk))
        for row in con.execute(f"{query} run_uuid IN ({marks}){tail}", chunk):
            out.setdefault(str(row[0]), []).append(row[1:])
    return out

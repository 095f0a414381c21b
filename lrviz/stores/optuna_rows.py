"""Trials of an Optuna storage read as plain rows, decoded the way Optuna decodes them.

Optuna's own reader (``study.get_trials``) builds an ORM object for every param, value and
intermediate value: about 2 s per 1,000 trials of 20 steps on this project's machine, 20 s
for a 10,000-trial study (docs/benchmarks.md, "Stores"). The same tables read as rows through
SQLAlchemy Core take a twentieth of that. Only the reading is ours: parameter values are turned
back into the user's (categorical choices, ints, log floats) by Optuna's own distributions, and
the storage was opened, and its schema version checked, by Optuna (``RDBStorage``), so these
tables and columns are the ones of the schema that Optuna version writes.

Value types as Optuna's models store them: ``FINITE``, ``INF_POS``, ``INF_NEG`` and, for
intermediate values, ``NAN``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

_CHUNK = 500  # ids per IN (...): below every backend's limit on bound parameters
_SPECIAL = {"INF_POS": math.inf, "INF_NEG": -math.inf, "NAN": math.nan}


@dataclass
class TrialRows:
    """One trial, with the attributes of Optuna's ``FrozenTrial`` that lrviz reads."""

    trial_id: int
    number: int
    state: str
    params: dict = field(default_factory=dict)
    values: list | None = None
    intermediate_values: dict = field(default_factory=dict)


def stored_value(value, kind) -> float:
    """A stored value and its type (``FINITE``, ``INF_POS``, ``INF_NEG``, ``NAN``) as a float."""
    kind = getattr(kind, "name", kind)  # an enum on dialects with enum types
    special = _SPECIAL.get(str(kind))
    return special if special is not None else float(value)


def _in_chunks(ids: list[int] | None):
    if ids is None:
        yield None
        return
    for i in range(0, len(ids), _CHUNK):
        yield ids[i : i + _CHUNK]


def read_trials(engine, study_id: int, trial_ids: set[int] | None = None) -> list[TrialRows]:
    """The trials of a study (only ``trial_ids`` when given), by trial id.

    Raises
    ------
    sqlalchemy.exc.SQLAlchemyError
        From the database; the caller falls back to Optuna's own reader.
    """
    from optuna.distributions import json_to_distribution
    from sqlalchemy import bindparam, text

    ids = None if trial_ids is None else sorted(trial_ids)
    trials: dict[int, TrialRows] = {}
    distributions: dict[str, object] = {}

    def query(sql: str, chunk):
        where = "t.study_id = :study" + ("" if chunk is None else " AND t.trial_id IN :ids")
        statement = text(sql.format(where=where))
        args = {"study": study_id}
        if chunk is not None:
            statement = statement.bindparams(bindparam("ids", expanding=True))
            args["ids"] = chunk
        return con.execute(statement, args)

    with engine.connect() as con:
        # One read transaction, so the four tables agree with each other.
        with con.begin():
            for chunk in _in_chunks(ids):
                for tid, number, state in query(
                    "SELECT t.trial_id, t.number, t.state FROM trials t WHERE {where}", chunk
                ):
                    state = getattr(state, "name", state)
                    trials[tid] = TrialRows(int(tid), int(number), str(state))
                for tid, name, value, dist_json in query(
                    "SELECT p.trial_id, p.param_name, p.param_value, p.distribution_json "
                    "FROM trial_params p JOIN trials t ON t.trial_id = p.trial_id "
                    "WHERE {where} ORDER BY p.param_id",
                    chunk,
                ):
                    dist = distributions.get(dist_json)
                    if dist is None:
                        dist = distributions[dist_json] = json_to_distribution(dist_json)
                    if tid in trials:
                        trials[tid].params[name] = dist.to_external_repr(value)
                for tid, _objective, value, kind in query(  # in objective order
                    "SELECT v.trial_id, v.objective, v.value, v.value_type "
                    "FROM trial_values v JOIN trials t ON t.trial_id = v.trial_id "
                    "WHERE {where} ORDER BY v.trial_id, v.objective",
                    chunk,
                ):
                    if tid in trials:
                        trial = trials[tid]
                        trial.values = trial.values or []
                        trial.values.append(stored_value(value, kind))
                for tid, step, value, kind in query(
                    "SELECT v.trial_id, v.step, v.intermediate_value, v.intermediate_value_type "
                    "FROM trial_intermediate_values v JOIN trials t ON t.trial_id = v.trial_id "
                    "WHERE {where}",
                    chunk,
                ):
                    if tid in trials:
                        trials[tid].intermediate_values[int(step)] = stored_value(value, kind)
    return [trials[k] for k in sorted(trials)]

"""Hugging Face ``Trainer`` state: ``trainer_state.json`` (``log_history``).

Training entries (``loss``, ``learning_rate``, ``grad_norm``, ``epoch``, ``step``), evaluation
entries (``eval_loss``, ``eval_<name>``, runtimes) and a final summary (``train_loss``,
``train_runtime``, ...) share one list; each key becomes a series against ``step``. Bare ``NaN``
and ``Infinity`` occur (often in ``grad_norm``).
"""

from __future__ import annotations

from lrviz.errors import LrvizError
from lrviz.loaders.model import ColumnMapping, LogData
from lrviz.loaders.naming import run_name
from lrviz.loaders.records import flatten, load_document, records_table
from lrviz.loaders.tabular import table_run

FORMAT = "hf-trainer-state"
_PARAM_KEYS = (
    "global_step",
    "max_steps",
    "num_train_epochs",
    "train_batch_size",
    "logging_steps",
    "eval_steps",
    "save_steps",
    "best_metric",
)
_NOT_SERIES_ROLES = {
    "train_runtime": "other",
    "eval_runtime": "other",
    "total_flos": "other",
}


def is_state(doc) -> bool:
    return isinstance(doc, dict) and isinstance(doc.get("log_history"), list)


def build_from_document(doc, path: str, mapping: ColumnMapping | None = None) -> LogData:
    if not is_state(doc):
        raise LrvizError("JSON document is not a trainer_state.json (no log_history)", path)
    records = [flatten(r) for r in doc["log_history"] if isinstance(r, dict)]
    table = records_table(records)
    params = {
        k: doc[k]
        for k in _PARAM_KEYS
        if isinstance(doc.get(k), (int, float)) and not isinstance(doc.get(k), bool)
    }
    run = table_run(
        table,
        run_name(path),
        x="step",
        x_axis="step",
        roles=dict(_NOT_SERIES_ROLES),
        mapping=mapping,
        params=params,
        source=path,
    )
    if run.get("loss") is not None:
        run.main.setdefault("loss", "loss")
    return LogData(FORMAT, [run], path)


def build(raw: bytes, path: str, mapping: ColumnMapping | None = None) -> LogData:
    return build_from_document(load_document(raw, path), path, mapping)


def last_step(raw: bytes, path: str) -> float:
    """The ``global_step`` of a state file (to pick the latest checkpoint copy)."""
    doc = load_document(raw, path)
    step = doc.get("global_step") if isinstance(doc, dict) else None
    return float(step) if isinstance(step, (int, float)) else -1.0

"""Hugging Face ``Trainer`` state: ``trainer_state.json`` (``log_history``).

Training entries (``loss``, ``learning_rate``, ``grad_norm``, ``epoch``, ``step``), evaluation
entries (``eval_loss``, ``eval_<name>``, runtimes) and a final summary (``train_loss``,
``train_runtime``, ...) share one list; each key becomes a series against ``step``. Bare ``NaN``
and ``Infinity`` occur (often in ``grad_norm``).
"""

from __future__ import annotations

from collections.abc import Iterable

from lrviz.errors import LrvizError
from lrviz.loaders.jsonstream import read_trainer_state
from lrviz.loaders.model import ColumnMapping, LogData
from lrviz.loaders.naming import run_name
from lrviz.loaders.records import RecordColumns
from lrviz.loaders.registry import FileFormat
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


def read_state(chunks: Iterable[bytes], path: str) -> tuple[dict, RecordColumns]:
    """The top-level keys of a state file and its ``log_history`` as columns (read piece by
    piece: memory holds the columns, not the document).

    Raises
    ------
    LrvizError
        Invalid JSON, or a document without ``log_history``.
    """
    store = RecordColumns(keep_records=0)
    doc = read_trainer_state(chunks, path, store.add)
    if not is_state(doc):
        raise LrvizError("JSON document is not a trainer_state.json (no log_history)", path)
    return doc, store


def build_from_state(
    doc: dict, store: RecordColumns, path: str, mapping: ColumnMapping | None = None
) -> LogData:
    params = {
        k: doc[k]
        for k in _PARAM_KEYS
        if isinstance(doc.get(k), (int, float)) and not isinstance(doc.get(k), bool)
    }
    run = table_run(
        store.table(),
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


def build(chunks: Iterable[bytes], path: str, mapping: ColumnMapping | None = None) -> LogData:
    """The log of a state file, from its bytes (one ``bytes`` object or an iterable of pieces)."""
    if isinstance(chunks, (bytes, bytearray)):
        chunks = [bytes(chunks)]
    doc, store = read_state(chunks, path)
    return build_from_state(doc, store, path, mapping)


def last_step(chunks: Iterable[bytes], path: str) -> float:
    """The ``global_step`` of a state file (to pick the latest checkpoint copy)."""
    doc = read_trainer_state(chunks, path, lambda _entry: None)
    step = doc.get("global_step") if isinstance(doc, dict) else None
    if isinstance(step, bool) or not isinstance(step, (int, float)):
        return -1.0
    return float(step) if abs(step) < 2**1023 else -1.0


#: This format, for the registry (lrviz.loaders.registry).
FILE_FORMAT = FileFormat(FORMAT, "json-document", build)

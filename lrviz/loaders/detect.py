"""Which format a file is in, decided from its content (the name only breaks ties).

Rules, in order:

1. A valid TFRecord header (length + masked CRC32C), or an ``events.out.tfevents.*`` name:
   ``tensorboard-events``.
2. Text starting with ``{`` or ``[``: a JSON document with ``log_history`` is
   ``hf-trainer-state``; JSON lines with ``mode`` + ``iter``/``epoch`` (or a first line of
   ``env_info``) are ``mmcv-json``; with ``iteration``, ``detectron2-json``; with ``step``,
   ``mmengine-json``.
3. Otherwise delimited text, by header: ``Wall time,Step,Value`` -> ``tensorboard-csv``;
   ``__MIN``/``__MAX`` columns or quoted ``run - metric`` columns -> ``wandb-csv``; ``epoch``
   plus ``train/``, ``metrics/``, ``lr/`` columns -> ``ultralytics-csv``; ``step`` with
   ``epoch`` or ``lr-*`` -> ``lightning-csv``; ``epoch,train_loss,valid_loss`` ->
   ``fastai-csv``; exactly ``lr,loss`` (optionally after an unnamed index) ->
   ``lr-finder-csv``; an unnamed index then Keras metrics -> ``keras-history-csv``; ``epoch``
   first then Keras metrics -> ``keras-csv``; anything else -> ``csv``.
"""

from __future__ import annotations

import os

from lrviz.errors import LrvizError
from lrviz.loaders import (
    fastai,
    keras,
    lightning,
    lr_finder,
    tensorboard_csv,
    tfevents,
    ultralytics,
    wandb,
)
from lrviz.loaders.csvread import Dialect, sniff
from lrviz.loaders.records import read_json_lines
from lrviz.loaders.text import strip_bom
from lrviz.loaders.tfrecord import looks_like_tfrecord

HEAD_BYTES = 65536

_CSV_RULES = (
    (tensorboard_csv.matches, tensorboard_csv.FORMAT),
    (wandb.matches, wandb.FORMAT),
    (ultralytics.matches, ultralytics.FORMAT),
    (lightning.matches, lightning.FORMAT),
    (fastai.matches, fastai.FORMAT),
    (lr_finder.matches, lr_finder.FORMAT),
    (keras.matches_history, keras.HISTORY_FORMAT),
    (keras.matches_csv_logger, keras.CSV_FORMAT),
)


def csv_format(dialect: Dialect) -> str:
    """The format of a delimited file, from its dialect (header names, quoting)."""
    for rule, name in _CSV_RULES:
        if rule(dialect):
            return name
    return "csv"


def json_lines_format(records: list[dict], path: str | None = None) -> str:
    """The format of JSON-lines records (see module docstring)."""
    from lrviz.loaders import detectron2, mmengine

    if mmengine.matches_mmcv(records):
        return mmengine.MMCV_FORMAT
    if detectron2.matches(records):
        return detectron2.FORMAT
    if mmengine.matches_mmengine(records):
        return mmengine.MMENGINE_FORMAT
    raise LrvizError("JSON lines without iteration or step keys: not a known log", path)


def sniff_kind(head: bytes, name: str) -> str:
    """``"events"``, ``"json-document"``, ``"json-lines"`` or ``"delimited"``."""
    if looks_like_tfrecord(head) or tfevents.is_event_file(name):
        return "events"
    text = strip_bom(head).lstrip()
    if text[:1] in (b"{", b"["):
        first = text.split(b"\n", 1)[0].strip()
        if first in (b"{", b"[") or text[:1] == b"[":
            return "json-document"
        if first.endswith(b"}") and b"\n" not in text.strip():
            # One line: a JSON-lines file of one record or a minified document.
            return "json-document" if b'"log_history"' in first else "json-lines"
        return "json-lines"
    return "delimited"


def detect(path: str, head: bytes | None = None) -> str:
    """The format name of a file (one of the file formats of :data:`FORMATS`).

    Raises
    ------
    LrvizError
        Empty, binary or unrecognised JSON files.
    """
    if head is None:
        with open(path, "rb") as f:
            head = f.read(HEAD_BYTES)
    if not head.strip():
        raise LrvizError("empty file", path)
    kind = sniff_kind(head, os.path.basename(path))
    if kind == "events":
        return tfevents.FORMAT
    if kind == "json-document":
        return "hf-trainer-state"
    if kind == "json-lines":
        cut = head.rfind(b"\n") + 1 or len(head)
        return json_lines_format([r for _, r in read_json_lines(head[:cut], path)][:200], path)
    return csv_format(sniff(head, path))

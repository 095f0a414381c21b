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

The rules live with their formats (each module's ``FILE_FORMAT``); their order is the
registry's (:func:`lrviz.loaders.registry.file_formats`). Every reader decides from the same
:class:`~lrviz.loaders.fileio.Head` (the first 64 KB, and the whole first line when it is
longer; UTF-16 seen as its text): the command line, the app's live watcher and the column
dialog cannot disagree on what a file is.
"""

from __future__ import annotations

import os

from lrviz.errors import LrvizError
from lrviz.loaders import tfevents
from lrviz.loaders.csvread import Dialect, sniff
from lrviz.loaders.fileio import HEAD_BYTES, MAX_LINE_BYTES, Head, head_of, open_regular, read_head
from lrviz.loaders.jsonstream import iter_json_lines
from lrviz.loaders.registry import first_match
from lrviz.loaders.tfrecord import looks_like_tfrecord

__all__ = ["HEAD_BYTES", "csv_format", "detect", "json_lines_format", "sniff_kind"]


def csv_format(dialect: Dialect) -> str:
    """The format of a delimited file, from its dialect (header names, quoting)."""
    return first_match("delimited", dialect).name


def json_lines_format(records: list[dict], path: str | None = None) -> str:
    """The format of JSON-lines records (see module docstring)."""
    found = first_match("json-lines", records)
    if found is None:
        raise LrvizError("JSON lines without iteration or step keys: not a known log", path)
    return found.name


def _as_head(head: Head | bytes) -> Head:
    return head if isinstance(head, Head) else head_of(head, len(head) < HEAD_BYTES)


def sniff_kind(head: Head | bytes, name: str) -> str:
    """``"events"``, ``"json-document"``, ``"json-lines"`` or ``"delimited"``."""
    head = _as_head(head)
    if looks_like_tfrecord(head.raw) or tfevents.is_event_file(name):
        return "events"
    text = head.text.lstrip()
    if text[:1] == b"[":
        return "json-document"
    if text[:1] == b"{":
        first = text.partition(b"\n")[0].strip()
        if first == b"{" or b'"log_history"' in first:
            # An indented document, or one whose first line opens log_history (minified, or
            # hand-written as '{"log_history": ['): a trainer_state.json, never JSON lines.
            return "json-document"
        return "json-lines"
    return "delimited"


def _long_line(path: str | None) -> LrvizError:
    return LrvizError(
        f"the first line is longer than {MAX_LINE_BYTES >> 20} MB: not a log lrviz reads", path, 1
    )


def detect(path: str, head: Head | bytes | None = None) -> str:
    """The format name of a file (one of the file formats of :data:`FORMATS`).

    Raises
    ------
    LrvizError
        Empty, binary or unrecognised files, and special files (pipes, devices).
    """
    if head is None:
        with open_regular(path) as f:
            head = read_head(f, path)
    head = _as_head(head)
    if not head.text.strip():
        raise LrvizError("empty file", path)
    kind = sniff_kind(head, os.path.basename(path))
    if kind in ("events", "json-document"):
        return first_match(kind, head).name  # one format of each
    if head.line_cut:
        raise _long_line(path)
    if kind == "json-lines":
        text = head.text
        if not head.complete:
            text = text[: text.rfind(b"\n") + 1]  # whole lines only
        records = []
        for _, record in iter_json_lines([text], path):
            records.append(record)
            if len(records) == 200:
                break
        return json_lines_format(records, path)
    return csv_format(sniff(head.text, path))

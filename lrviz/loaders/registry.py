"""Every file format lrviz reads, in one place: each format module declares its
:class:`FileFormat` (name, what kind of file it is, how it is told apart, how it is built)
once, and this registry puts them in the order they are tried.

Detection (:mod:`lrviz.loaders.detect`), loading (:mod:`lrviz.loaders.files`) and the live
watcher (:mod:`lrviz.loaders.watch`) all look formats up here, so adding a format is one
declaration in its module and one place in :func:`file_formats`' order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

#: What a file is, before which format: decided from its first bytes
#: (:func:`lrviz.loaders.detect.sniff_kind`).
KINDS = ("delimited", "json-lines", "json-document", "events")
#: Formats of folders (:mod:`lrviz.loaders.folder`), not of single files.
FOLDER_FORMATS = ("sweep-dir", "lightning-dir", "tensorboard-dir")


@dataclass(frozen=True)
class FileFormat:
    """One file format.

    Attributes
    ----------
    name : str
        The format's name (``LogData.format``, ``inspect``'s ``format``).
    kind : str
        One of :data:`KINDS`.
    build : callable
        The reader: ``(Table, path, mapping)`` for delimited files, ``(RecordColumns, path,
        mapping)`` for JSON lines, ``(chunks, path, mapping)`` for a JSON document,
        ``(path, file)`` for event files.
    matches : callable or None
        Whether a file of ``kind`` is of this format: ``(Dialect) -> bool`` for delimited
        files, ``(records) -> bool`` for JSON lines (its first records). None: the kind's
        fallback, taken when no other format of the kind matches.
    """

    name: str
    kind: str
    build: Callable
    matches: Callable | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown kind {self.kind!r}")


@cache
def file_formats() -> tuple[FileFormat, ...]:
    """Every file format, in the order detection tries them (within a kind, the first that
    matches wins; a format without ``matches`` is its kind's fallback)."""
    from lrviz.loaders import (
        detectron2,
        fastai,
        hf,
        keras,
        lightning,
        lr_finder,
        mmengine,
        plain,
        tensorboard_csv,
        tfevents,
        ultralytics,
        wandb,
    )

    return (
        tensorboard_csv.FILE_FORMAT,
        wandb.FILE_FORMAT,
        ultralytics.FILE_FORMAT,
        lightning.FILE_FORMAT,
        fastai.FILE_FORMAT,
        lr_finder.FILE_FORMAT,
        keras.HISTORY_FILE_FORMAT,
        keras.CSV_FILE_FORMAT,
        plain.FILE_FORMAT,
        mmengine.MMCV_FILE_FORMAT,
        detectron2.FILE_FORMAT,
        mmengine.MMENGINE_FILE_FORMAT,
        hf.FILE_FORMAT,
        tfevents.FILE_FORMAT,
    )


def file_format(name: str) -> FileFormat:
    """The file format called ``name``; KeyError for any other name."""
    for found in file_formats():
        if found.name == name:
            return found
    raise KeyError(name)


def first_match(kind: str, evidence) -> FileFormat | None:
    """The first format of ``kind`` whose ``matches(evidence)`` holds, else the kind's
    fallback (None when it has none)."""
    fallback = None
    for found in file_formats():
        if found.kind != kind:
            continue
        if found.matches is None:
            fallback = fallback or found
        elif found.matches(evidence):
            return found
    return fallback

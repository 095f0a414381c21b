"""Reading training logs: one model for every format.

>>> from lrviz.loaders import load                              # doctest: +SKIP
>>> log = load("lightning_logs/version_0/metrics.csv")          # doctest: +SKIP
>>> log.format, log.runs[0].find("loss").name                   # doctest: +SKIP
('lightning-csv', 'train_loss')

Public API: :func:`load`, :func:`list_columns`, :class:`LogWatcher`, and the model classes
:class:`LogData`, :class:`Run`, :class:`Series`, :class:`ColumnMapping`.
"""

from __future__ import annotations

import os

from lrviz.errors import LrvizError
from lrviz.loaders.model import (
    ROLES,
    X_AXES,
    ColumnMapping,
    LogData,
    Run,
    Series,
    format_names,
    infer_role,
)
from lrviz.loaders.watch import LogWatcher

#: Every value :attr:`LogData.format` can take (from the format registry).
FORMATS = format_names()


def load(path: str | os.PathLike, mapping: ColumnMapping | None = None) -> LogData:
    """Read a training log file or a folder of runs.

    Parameters
    ----------
    path : str or PathLike
        A log file of any supported format (detected from its content), or a folder:
        Lightning ``lightning_logs``/``version_N``, TensorBoard run folders, a sweep with one
        sub-folder per trial, or a folder holding log files.
    mapping : ColumnMapping, optional
        For tables whose columns are not recognised: which column is x, lr and loss.

    Returns
    -------
    LogData

    Raises
    ------
    LrvizError
        Unreadable or malformed input, with file, line and column where known; a special
        file (pipe, device); a file past the size cap (``$LRVIZ_MAX_FILE_MB``, 2048 MB).
    OSError
        When reading fails half-way (an I/O error).
    """
    from lrviz.loaders.files import load_file
    from lrviz.loaders.folder import load_folder

    p = os.fspath(path)
    if os.path.isdir(p):
        return load_folder(p, mapping)
    if not os.path.lexists(p):
        raise LrvizError("no such file or folder", p)
    return load_file(p, mapping)


def list_columns(path: str | os.PathLike) -> list[str]:
    """Column names a mapping dialog can offer for a file.

    Parameters
    ----------
    path : str or PathLike
        A delimited file (header names), a JSON-lines log (keys, first-seen order), a
        ``trainer_state.json`` (keys of ``log_history``) or an event file (scalar tags).

    Raises
    ------
    LrvizError
        For folders, special files and unreadable files.
    """
    from lrviz.loaders import detect, hf, tfevents
    from lrviz.loaders.csvread import sniff
    from lrviz.loaders.fileio import iter_chunks, open_regular, read_head, transcoded
    from lrviz.loaders.jsonstream import iter_json_lines
    from lrviz.loaders.records import RecordColumns

    p = os.fspath(path)
    if os.path.isdir(p):
        raise LrvizError("a folder has no columns; open one of its files", p)
    with open_regular(p) as f:
        head = read_head(f, p)
        fmt = detect.detect(p, head)  # the same decision as load(): same errors too
        if fmt == tfevents.FORMAT:
            return list(tfevents.read_event_file(p, f=f).tags)
        kind = detect.sniff_kind(head, os.path.basename(p))
        if kind == "delimited":
            return list(sniff(head.text, p).names)
        src = transcoded(f, head, p) if head.encoding != "utf-8" else f
        src.seek(0)
        if kind == "json-lines":
            store = RecordColumns(keep_records=0)
            for _, record in iter_json_lines(iter_chunks(src, p), p):
                store.add(record)
        else:
            _, store = hf.read_state(iter_chunks(src, p), p)
    return list(store.names)


__all__ = [
    "FORMATS",
    "ROLES",
    "X_AXES",
    "ColumnMapping",
    "LogData",
    "LogWatcher",
    "LrvizError",
    "Run",
    "Series",
    "infer_role",
    "list_columns",
    "load",
]

"""Which store a URL or path names, decided without touching a server.

- ``sqlite:///file.db`` or a SQLite file (``study.db``, ``mlflow.db``): its tables tell an Optuna
  storage (``studies``, ``trials``) from an MLflow tracking store (``experiments``, ``runs``,
  ``metrics``), read with the standard library in read-only mode.
- ``postgresql://``, ``mysql://`` and the other database URLs SQLAlchemy knows: an Optuna
  storage (MLflow stores are read from their SQLite file or ``mlruns/`` folder).
- a folder whose experiment sub-folders hold MLflow's ``meta.yaml`` (``mlruns/``), or a
  ``file:`` URI of one: MLflow's file store.
"""

from __future__ import annotations

import os
import re
import sqlite3
from dataclasses import dataclass
from urllib.parse import quote, unquote

from lrviz.errors import LrvizError

OPTUNA = "optuna"
MLFLOW_SQLITE = "mlflow-sqlite"
MLFLOW_FILES = "mlflow-files"

_SQLITE_MAGIC = b"SQLite format 3\x00"
_URL = re.compile(r"^([a-zA-Z][a-zA-Z0-9]*)(\+[a-zA-Z0-9_]+)?://")
_SERVER_SCHEMES = (
    "postgresql",
    "postgres",
    "mysql",
    "mariadb",
    "oracle",
    "mssql",
    "cockroachdb",
)
_PASSWORD = re.compile(r"(://[^:/@]*:)[^@]*@")
_OPTUNA_TABLES = {"studies", "trials"}
_MLFLOW_TABLES = {"experiments", "runs", "metrics", "params"}
_MAX_CHILDREN = 500  # how many entries of a folder are looked at to call it an mlruns/ store


@dataclass(frozen=True)
class Location:
    """A store found by :func:`locate`.

    Parameters
    ----------
    kind : str
        ``"optuna"``, ``"mlflow-sqlite"`` or ``"mlflow-files"``.
    url : str
        For Optuna, the SQLAlchemy URL as given (``postgres://`` spelled ``postgresql://``).
    path : str, optional
        The local file or folder (SQLite stores, ``mlruns/``).
    display : str
        How messages name the store (a URL's password hidden).
    """

    kind: str
    url: str
    path: str | None
    display: str


def hide_password(url: str) -> str:
    """``postgresql://user:***@host/db`` for a URL holding a password."""
    return _PASSWORD.sub(r"\1***@", url)


def sqlite_uri(path: str) -> str:
    """The ``file:`` URI that opens ``path`` read-only with :mod:`sqlite3` (``uri=True``).

    Read-only mode means lrviz cannot write to the user's store, not even by accident, and
    never creates a file where none was."""
    return "file:" + quote(os.path.abspath(path)) + "?mode=ro"


def sqlite_tables(path: str) -> set[str] | None:
    """The table names of a SQLite file, or None when ``path`` is not one.

    Raises
    ------
    LrvizError
        A SQLite file that cannot be read (locked for longer than 5 s, corrupt).
    """
    try:
        with open(path, "rb") as f:
            if f.read(len(_SQLITE_MAGIC)) != _SQLITE_MAGIC:
                return None
    except OSError:
        return None
    try:
        con = sqlite3.connect(sqlite_uri(path), uri=True, timeout=5.0)
        try:
            rows = con.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
        finally:
            con.close()
    except sqlite3.Error as exc:
        raise LrvizError(f"cannot read this SQLite file: {exc}", path) from None
    return {str(r[0]) for r in rows}


def _sqlite_kind(path: str) -> str | None:
    tables = sqlite_tables(path)
    if tables is None:
        return None
    if _MLFLOW_TABLES <= tables:
        return MLFLOW_SQLITE
    if _OPTUNA_TABLES <= tables:
        return OPTUNA
    return None


def is_mlruns(folder: str) -> bool:
    """True for MLflow's file store: experiment folders holding ``meta.yaml`` with an
    ``experiment_id``."""
    try:
        with os.scandir(folder) as it:
            children = [e for _, e in zip(range(_MAX_CHILDREN), it, strict=False)]
    except OSError:
        return False
    for entry in children:
        if not entry.is_dir() or entry.name.startswith("."):
            continue
        meta = os.path.join(entry.path, "meta.yaml")
        try:
            with open(meta, "rb") as f:
                head = f.read(4096)
        except OSError:
            continue
        if b"experiment_id:" in head and b"artifact_location:" in head:
            return True
    return False


def _sqlite_url_path(url: str) -> str:
    """The file of a ``sqlite:///`` URL (``sqlite:////abs`` is absolute)."""
    rest = url.split("://", 1)[1]
    if not rest.startswith("/") or rest == "/":
        raise LrvizError("a SQLite URL names a file: sqlite:///study.db", url)
    rest = rest[1:].split("?", 1)[0]
    if rest.startswith("file:"):
        rest = rest[len("file:") :]
    if not rest or rest == ":memory:":
        raise LrvizError("an in-memory SQLite database holds no study to open", url)
    return unquote(rest)


def _file_uri_path(uri: str) -> str:
    rest = uri[len("file:") :]
    if rest.startswith("//"):
        rest = rest[2:]
        if not rest.startswith("/"):  # file://host/path: only the local host is reachable
            rest = "/" + rest.split("/", 1)[-1]
    return unquote(rest)


def locate(url_or_path: str | os.PathLike) -> Location | None:
    """The store ``url_or_path`` names, or None when it is not a store (a log file or folder).

    Raises
    ------
    LrvizError
        A database URL that cannot name a store (``sqlite://`` in memory, a SQLite file that
        is missing or holds neither an Optuna study nor an MLflow store).
    """
    text = os.fspath(url_or_path)
    m = _URL.match(text)
    if m:
        scheme = m.group(1).lower()
        if scheme == "sqlite":
            path = _sqlite_url_path(text)
            if not os.path.isfile(path):
                raise LrvizError("no such SQLite file", path)
            kind = _sqlite_kind(path)
            if kind is None:
                raise LrvizError("neither an Optuna study storage nor an MLflow store", path)
            if kind == MLFLOW_SQLITE:
                return Location(kind, text, path, path)
            return Location(kind, "sqlite:///" + os.path.abspath(path), path, path)
        if scheme in _SERVER_SCHEMES:
            if scheme == "postgres":  # SQLAlchemy 2 accepts only the long spelling
                text = "postgresql" + text[len("postgres") :]
            return Location(OPTUNA, text, None, hide_password(text))
        if scheme == "file":
            return locate(_file_uri_path(text))
        return None
    if text.startswith("file:"):
        return locate(_file_uri_path(text))
    if os.path.isdir(text):
        return Location(MLFLOW_FILES, text, text, text) if is_mlruns(text) else None
    if os.path.isfile(text):
        kind = _sqlite_kind(text)
        if kind == OPTUNA:
            return Location(kind, "sqlite:///" + os.path.abspath(text), text, text)
        if kind == MLFLOW_SQLITE:
            return Location(kind, text, text, text)
    return None

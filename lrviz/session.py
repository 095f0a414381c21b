"""Sessions: what the window shows, saved as a versioned JSON file (``.lrviz``) and read back.

A session lists the logs and stores that were open (their paths, never their data), and one
plain-JSON *section* per part of the window that has state worth keeping: the simulation and
its settings, the range test and the chosen range, the panels' options, ... The window's
parts fill and read their own sections (``get_state()`` / ``set_state(dict)`` in ``ui/``);
this module only defines the file and checks it, so a file that is corrupt, from a newer
lrviz, or hand-edited into nonsense is refused with one clear line *before* anything in the
window changes.

Layout of version 1::

    {
      "format": "lrviz-session",
      "version": 1,
      "saved_by": "lrviz 0.9.0",
      "active_tool": "Range test",
      "sources": [{"path": "runs/metrics.csv", "watch": true,
                   "mapping": {"x": null, "lr": "lr", "loss": "loss", "x_axis": null},
                   "hidden_runs": ["version_2"]}],
      "sections": {"simulate": {...form...}, "simulation": {"run": {...config...}},
                   "range test": {...}, "inspect": {...}, "loss vs iteration": {...}}
    }

Sections this module knows are checked field by field (:data:`SECTION_CHECKS`); a section
of a tool added later only has to be plain JSON (an object of strings, finite numbers,
booleans, nulls, lists and objects), and its tool can register a check of its own with
:func:`register_section_check`.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path

import numpy as np

from lrviz import __version__
from lrviz.errors import LrvizError

FORMAT = "lrviz-session"
#: The version this lrviz writes, and the newest it reads.
SCHEMA_VERSION = 1
SUFFIX = ".lrviz"
#: A session holds paths and settings, never data: anything bigger is not one of ours.
MAX_BYTES = 8 << 20
MAX_DEPTH = 32
MAX_SOURCES = 10_000
MAX_RUN_NAMES = 100_000
#: Learning rates a saved simulation may list (the command line's A:B:N limit).
MAX_LRS = 100_000


class SessionError(LrvizError):
    """A session file lrviz cannot open: unreadable, not JSON, not a session, from a newer
    lrviz, or with a value of the wrong kind (the message names the key)."""


@dataclass
class Source:
    """One opened log or store: where it is, and how it was shown."""

    path: str
    watch: bool = True
    #: ColumnMapping fields (``x``, ``lr``, ``loss``, ``x_axis``), or None (automatic)
    mapping: dict | None = None
    #: names of the runs unticked in the sources list
    hidden_runs: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "path": self.path,
            "watch": self.watch,
            "mapping": self.mapping,
            "hidden_runs": list(self.hidden_runs),
        }


@dataclass
class Session:
    """What a ``.lrviz`` file holds (see the module docstring)."""

    sources: list[Source] = field(default_factory=list)
    sections: dict[str, dict] = field(default_factory=dict)
    active_tool: str | None = None
    version: int = SCHEMA_VERSION

    def to_dict(self) -> dict:
        return {
            "format": FORMAT,
            "version": SCHEMA_VERSION,
            "saved_by": f"lrviz {__version__}",
            "active_tool": self.active_tool,
            "sources": [s.to_dict() for s in self.sources],
            "sections": self.sections,
        }


# --- writing ------------------------------------------------------------------------------


def dumps(session: Session) -> str:
    """The session as indented JSON text ending in a newline.

    Raises SessionError when a section is not plain JSON (a NaN, a numpy array, ...): a
    file that could not be read back is never written.
    """
    data = session.to_dict()
    try:
        for name, section in session.sections.items():
            _check_plain(section, f"sections.{name}", 0)
        return json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    except (TypeError, ValueError) as exc:
        raise SessionError(f"cannot save the session: {exc}") from None


def save(path: str | os.PathLike, session: Session) -> Path:
    """Write ``session`` to ``path`` atomically (a temporary file, then a rename; a planted
    symlink is never followed: :func:`lrviz.export.save_bytes_atomic`)."""
    from lrviz.export import save_text_atomic

    return save_text_atomic(path, dumps(session))


# --- reading ------------------------------------------------------------------------------


def load(path: str | os.PathLike) -> Session:
    """Read and check a session file. Raises SessionError (with the file, and the line and
    column of a JSON syntax error) for anything that is not a session this lrviz reads."""
    path = os.fspath(path)
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise SessionError("no such file", path) from None
    except IsADirectoryError:
        raise SessionError("a folder, not a session file", path) from None
    except OSError as exc:
        raise SessionError(exc.strerror or str(exc), path) from None
    if len(raw) > MAX_BYTES:
        raise SessionError(f"bigger than {MAX_BYTES >> 20} MB: not a session file", path)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SessionError(f"not UTF-8 text (byte {exc.start + 1})", path) from None
    return loads(text, path)


def loads(text: str, path: str | None = None) -> Session:
    """Parse and check session text (see :func:`load`)."""
    if not text.strip():
        raise SessionError("empty file: not a session", path)
    try:
        data = json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise SessionError(f"not valid JSON: {exc.msg}", path, exc.lineno, exc.colno) from None
    except (ValueError, RecursionError) as exc:
        raise SessionError(f"not valid JSON: {exc}", path) from None
    try:
        return from_dict(data)
    except (TypeError, ValueError) as exc:
        raise SessionError(str(exc), path) from None


def from_dict(data) -> Session:
    """A checked :class:`Session` from parsed JSON. Raises ValueError naming the bad key."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError(f'not an lrviz session (no "format": "{FORMAT}")')
    version = data.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ValueError(f"version: expected a whole number from 1, got {version!r}")
    if version > SCHEMA_VERSION:
        saved_by = data.get("saved_by")
        by = f" by {saved_by}" if isinstance(saved_by, str) and len(saved_by) < 80 else ""
        raise ValueError(
            f"saved{by} in session format {version}; this lrviz {__version__} reads up to "
            f"format {SCHEMA_VERSION}: update lrviz to open it"
        )
    active = data.get("active_tool")
    if active is not None and not isinstance(active, str):
        raise ValueError(f"active_tool: expected text, got {_kind(active)}")
    sources_data = data.get("sources", [])
    if not isinstance(sources_data, list):
        raise ValueError(f"sources: expected a list, got {_kind(sources_data)}")
    if len(sources_data) > MAX_SOURCES:
        raise ValueError(f"sources: more than {MAX_SOURCES:,} logs")
    sources = [_source(item, f"sources[{i}]") for i, item in enumerate(sources_data)]
    sections_data = data.get("sections", {})
    if not isinstance(sections_data, dict):
        raise ValueError(f"sections: expected an object, got {_kind(sections_data)}")
    sections = {}
    for name, section in sections_data.items():
        where = f"sections.{name}"
        if not isinstance(section, dict):
            raise ValueError(f"{where}: expected an object, got {_kind(section)}")
        _check_plain(section, where, 1)
        check = SECTION_CHECKS.get(name)
        if check is not None:
            check(section, where)
        sections[name] = section
    return Session(sources=sources, sections=sections, active_tool=active, version=version)


def _source(item, where: str) -> Source:
    if isinstance(item, str):  # the shortest hand-written form: just the path
        item = {"path": item}
    if not isinstance(item, dict):
        raise ValueError(f"{where}: expected an object, got {_kind(item)}")
    path = item.get("path")
    if not isinstance(path, str) or not path.strip() or "\x00" in path:
        raise ValueError(f"{where}.path: expected the path of a log, got {path!r}")
    watch = item.get("watch", True)
    if not isinstance(watch, bool):
        raise ValueError(f"{where}.watch: expected true or false, got {_kind(watch)}")
    mapping = item.get("mapping")
    if mapping is not None:
        mapping = _mapping(mapping, f"{where}.mapping")
    hidden = item.get("hidden_runs", [])
    if not isinstance(hidden, list) or not all(isinstance(h, str) for h in hidden):
        raise ValueError(f"{where}.hidden_runs: expected a list of run names")
    if len(hidden) > MAX_RUN_NAMES:
        raise ValueError(f"{where}.hidden_runs: more than {MAX_RUN_NAMES:,} names")
    return Source(path=path, watch=watch, mapping=mapping, hidden_runs=list(hidden))


def _mapping(mapping, where: str) -> dict:
    from lrviz.loaders.model import X_AXES

    if not isinstance(mapping, dict):
        raise ValueError(f"{where}: expected an object, got {_kind(mapping)}")
    known = ("x", "lr", "loss", "x_axis")
    unknown = sorted(set(mapping) - set(known))
    if unknown:
        raise ValueError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(known)})")
    out = {}
    for key in known:
        value = mapping.get(key)
        if value is not None and not isinstance(value, str):
            raise ValueError(f"{where}.{key}: expected a column name, got {_kind(value)}")
        out[key] = value
    if out["x_axis"] is not None and out["x_axis"] not in X_AXES:
        raise ValueError(f"{where}.x_axis: one of {', '.join(X_AXES)}, got {out['x_axis']!r}")
    return out


# --- the sections this module knows -------------------------------------------------------


def simulation_dict(config) -> dict:
    """A :class:`~lrviz.simulation_config.SimulationConfig` as plain JSON (the inverse of
    :func:`simulation_config`)."""
    data = config.to_dict()
    if data.get("start") is not None:
        data["start"] = [float(v) for v in data["start"]]
    return data


def simulation_config(data: Mapping, where: str = "simulation"):
    """A :class:`~lrviz.simulation_config.SimulationConfig` from its ``to_dict()``, checked:
    known keys only, values of the right kind, known objective and optimizer, positive
    finite learning rates. Raises ValueError naming the key."""
    from lrviz.objectives import OBJECTIVES
    from lrviz.optimizers import OPTIMIZERS
    from lrviz.simulation_config import SimulationConfig

    if not isinstance(data, Mapping):
        raise ValueError(f"{where}: expected an object, got {_kind(data)}")
    known = {f.name: f for f in fields(SimulationConfig)}
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise ValueError(f"{where}: unknown setting {unknown[0]!r}")
    values: dict = {}
    for key, value in data.items():
        kind = _CONFIG_KINDS.get(key)
        if kind is not None:
            value = kind(value, f"{where}.{key}")
        values[key] = value
    if "objective" in values and values["objective"] not in OBJECTIVES:
        raise ValueError(f"{where}.objective: unknown objective {values['objective']!r}")
    if "optimizer" in values and values["optimizer"] not in OPTIMIZERS:
        raise ValueError(f"{where}.optimizer: unknown optimizer {values['optimizer']!r}")
    return SimulationConfig(**values)


def _text(value, where):
    if not isinstance(value, str):
        raise ValueError(f"{where}: expected text, got {_kind(value)}")
    return value


def _optional(kind):
    def check(value, where):
        return None if value is None else kind(value, where)

    return check


def _whole(value, where):
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{where}: expected a whole number, got {_kind(value)}")
    return value


def _positive_whole(value, where):
    value = _whole(value, where)
    if value < 1:
        raise ValueError(f"{where}: expected a whole number from 1, got {value}")
    return value


def _number(value, where):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{where}: expected a finite number, got {_kind(value)}")
    return float(value)


def _lrs(value, where):
    if not isinstance(value, list) or not value:
        raise ValueError(f"{where}: expected a list of learning rates")
    if len(value) > MAX_LRS:
        raise ValueError(f"{where}: more than {MAX_LRS:,} learning rates")
    lrs = [_number(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if min(lrs) <= 0:
        raise ValueError(f"{where}: learning rates must be positive")
    return np.asarray(lrs, dtype=np.float64)


def _point(value, where):
    if not isinstance(value, list):
        raise ValueError(f"{where}: expected a list of numbers, got {_kind(value)}")
    return tuple(_number(v, f"{where}[{i}]") for i, v in enumerate(value))


def _schedule(value, where):
    if not isinstance(value, dict) or not isinstance(value.get("policy"), str):
        raise ValueError(f'{where}: expected an object with a "policy" name')
    return dict(value)


def _hypergrad_lr(value, where):
    """One β, or a {optimizer: β} mapping (the paper's β differ between SGD-HD and Adam-HD)."""
    if isinstance(value, dict):
        return {_text(k, where): _number(v, f"{where}.{k}") for k, v in value.items()}
    return _number(value, where)


def _optimizers(value, where):
    """One optimizer name per run, each known."""
    from lrviz.optimizers import OPTIMIZERS

    if not isinstance(value, list) or not value:
        raise ValueError(f"{where}: expected a list of optimizer names")
    for i, name in enumerate(value):
        if _text(name, f"{where}[{i}]") not in OPTIMIZERS:
            raise ValueError(f"{where}[{i}]: unknown optimizer {name!r}")
    return tuple(value)


_CONFIG_KINDS: dict[str, Callable] = {
    "objective": _text,
    "optimizer": _text,
    "lrs": _lrs,
    "iterations": _positive_whole,
    "seed": _whole,
    "dim": _positive_whole,
    "curvature": _number,
    "condition": _number,
    "samples": _positive_whole,
    "features": _positive_whole,
    "batch_size": _optional(_positive_whole),
    "momentum": _optional(_number),
    "beta1": _optional(_number),
    "beta2": _optional(_number),
    "weight_decay": _optional(_number),
    "divergence_factor": _optional(_number),
    "expr": _optional(_text),
    "start": _optional(_point),
    "gradient_noise": _number,
    "hypergrad_lr": _optional(_hypergrad_lr),
    "schedule": _optional(_schedule),
    "optimizers": _optional(_optimizers),
    "sharpness_every": _optional(_positive_whole),
}


def chosen_range(value, where: str = "range") -> tuple[float, float] | None:
    """``[min_lr, max_lr]`` as a tuple (None stays None). Raises ValueError unless both are
    positive, finite and in order."""
    if value is None:
        return None
    if not isinstance(value, list) or len(value) != 2:
        raise ValueError(f"{where}: expected [min λ, max λ], got {_kind(value)}")
    lo, hi = (_number(v, where) for v in value)
    if not (lo > 0 and hi > 0) or lo > hi:
        raise ValueError(f"{where}: expected 0 < min λ <= max λ, got {lo:g}, {hi:g}")
    return lo, hi


def _check_simulation(section: dict, where: str) -> None:
    run = section.get("run")
    if run is not None:
        simulation_config(run, f"{where}.run")


def _check_range_test(section: dict, where: str) -> None:
    chosen_range(section.get("range"), f"{where}.range")
    ran = section.get("ran", False)
    if not isinstance(ran, bool):
        raise ValueError(f"{where}.ran: expected true or false, got {_kind(ran)}")


def _check_fractions(*keys: str) -> Callable:
    """A check that ``keys`` (where present) are numbers in [0, 1)."""

    def check(section: dict, where: str) -> None:
        for key in keys:
            if key in section:
                value = _number(section[key], f"{where}.{key}")
                if not 0.0 <= value < 1.0:
                    raise ValueError(f"{where}.{key}: expected a number in [0, 1), got {value}")

    return check


#: section name -> check(section, where) raising ValueError; the sections of lrviz's own tools
SECTION_CHECKS: dict[str, Callable[[dict, str], None]] = {
    "simulation": _check_simulation,
    "range test": _check_range_test,
    "inspect": _check_fractions("smoothing"),
}


def register_section_check(name: str, check: Callable[[dict, str], None]) -> None:
    """Let a tool check its own section when a session is read (``check(section, where)``
    raises ValueError with a message that starts with ``where``)."""
    SECTION_CHECKS[name] = check


# --- helpers ------------------------------------------------------------------------------


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a number a session may hold")


def _check_plain(value, where: str, depth: int) -> None:
    """Raise ValueError unless ``value`` is plain JSON: text, finite numbers, booleans,
    nulls, lists and objects with text keys, nested at most MAX_DEPTH deep."""
    if depth > MAX_DEPTH:
        raise ValueError(f"{where}: nested more than {MAX_DEPTH} deep")
    if value is None or isinstance(value, (str, bool, int)):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{where}: {value} is not a number a session may hold")
        return
    if isinstance(value, list):
        for i, item in enumerate(value):
            _check_plain(item, f"{where}[{i}]", depth + 1)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValueError(f"{where}: key {key!r} is not text")
            _check_plain(item, f"{where}.{key}", depth + 1)
        return
    raise ValueError(f"{where}: {type(value).__name__} is not plain JSON")


def _kind(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return repr(value) if len(value) < 40 else "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__

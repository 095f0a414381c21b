"""Run parameters stored next to a log: ``hparams.yaml``, ``params.json``, ``config.json``.

PyYAML is not a dependency: Lightning's ``hparams.yaml`` is plain ``key: value`` lines (nested
blocks by indentation at most), which the small reader below handles. It reads each line with
string methods, never a backtracking pattern, so a line costs time linear in its length (a
regular expression here took 129 s on 4,000 spaces and an ``x``); and it reads what it can,
where a real YAML loader refuses the whole file over one ``!!python/object`` tag, which
Lightning writes for hyper-parameters it cannot represent (docs/benchmarks.md, Hardening).
"""

from __future__ import annotations

import json
import math
import os
import re

from lrviz.errors import LrvizError
from lrviz.loaders.fileio import open_regular
from lrviz.loaders.text import MISSING, TEXT, parse_cell

#: File names that hold a run's parameters, in order of preference.
PARAM_FILES = ("params.json", "hparams.yaml", "hparams.yml", "config.json", "params.yaml")
_LR_KEYS = ("lr", "learning_rate", "learning-rate", "lr0", "base_lr", "initial_lr", "max_lr")


def _scalar(text: str):
    s = text.strip()
    if not s or s in ("~", "null", "Null", "NULL"):
        return None
    if s[0] in "\"'" and s[-1:] == s[0] and len(s) >= 2:
        return s[1:-1]
    if s in ("true", "True", "TRUE", "yes", "Yes"):
        return True
    if s in ("false", "False", "FALSE", "no", "No"):
        return False
    if s in (".nan", ".NaN", ".NAN"):
        return math.nan
    if s in (".inf", ".Inf", "+.inf"):
        return math.inf
    if s in ("-.inf", "-.Inf"):
        return -math.inf
    v = parse_cell(s)
    if v is not MISSING and v is not TEXT:
        try:
            as_int = int(s)
        except ValueError:
            return v
        return as_int
    return s


def _key_line(line: str) -> tuple[int, str, str | None] | None:
    """(indent, key, value or None) of a ``key: value`` / ``key:`` line, else None.

    The key ends at the first colon, which must be followed by a space or the end of the line
    (``a:b`` is a scalar, not a mapping: URLs, times); an empty key is not a key.
    """
    body = line.lstrip()
    colon = body.find(":")
    if colon <= 0 or body[0] == "#":
        return None
    rest = body[colon + 1 :]
    if rest and not rest[0].isspace():
        return None
    key = body[:colon].strip().strip("\"'")
    if not key:
        return None
    value = rest.strip()
    return len(line) - len(body), key, value or None


def parse_yaml(text: str) -> dict:
    """Read simple YAML mappings (``key: value``, nested by indentation) into a flat dict.

    Nested keys are joined with ``.`` (``optimizer.lr``). Lists, tags (``!!python/...``) and
    anything else beyond scalars are skipped. ``{}`` gives an empty dict.

    >>> parse_yaml("lr: 0.1\\nmodel:\\n  depth: 18\\n")
    {'lr': 0.1, 'model.depth': 18}
    """
    out: dict = {}
    stack: list[tuple[int, str]] = []
    for raw_line in text.splitlines():
        line = raw_line.split(" #", 1)[0].rstrip()
        if not line.strip() or line.lstrip().startswith(("#", "-", "---", "...")):
            continue
        parsed = _key_line(line)
        if parsed is None:
            continue
        indent, key, value = parsed
        while stack and stack[-1][0] >= indent:
            stack.pop()
        full = ".".join([k for _, k in stack] + [key])
        if value is None or (value.startswith("!") and " " not in value):
            # ``key:`` or ``key: !!python/object:...`` alone: a nested block follows; its keys
            # are ``key.inner``, never top-level keys that would override the real ones.
            stack.append((indent, key))
            continue
        if value.startswith(("!!", "&", "*", "|", ">", "[", "{")):
            continue  # tags, anchors, block scalars, flow collections: not a plain scalar
        out[full] = _scalar(value)
    return out


def _flatten_json(obj, prefix: str = "") -> dict:
    out: dict = {}
    if isinstance(obj, dict):
        for k, v in obj.items():
            key = f"{prefix}{k}"
            if isinstance(v, dict):
                out.update(_flatten_json(v, key + "."))
            elif isinstance(v, (int, float, str, bool)) or v is None:
                out[key] = v
    return out


def read_params_file(path: str) -> dict:
    """Flat parameters from one ``.json`` or ``.yaml`` file; {} when unreadable."""
    try:
        with open_regular(path) as f:
            raw = f.read(1 << 20)
        text = raw.decode("utf-8", "replace")
    except (OSError, LrvizError):
        return {}
    if path.endswith(".json"):
        try:
            return _flatten_json(json.loads(text))
        except (ValueError, RecursionError):
            return {}
    return parse_yaml(text)


def find_params_file(folder: str) -> str | None:
    """The parameters file in a folder, if any."""
    for name in PARAM_FILES:
        p = os.path.join(folder, name)
        if os.path.isfile(p):
            return p
    return None


def find_lr(params: dict) -> float | None:
    """The learning rate among parameters: ``lr``, ``learning_rate``, ``lr0``, ``base_lr``...

    Keys may be nested (``optimizer.lr``, ``config/lr``); the least nested match wins.
    """
    best = None
    for key, value in params.items():
        parts = re.split(r"[./]", str(key).lower())
        if parts[-1] not in _LR_KEYS:
            continue
        if isinstance(value, bool):
            continue
        if isinstance(value, (int, float)):
            v = float(value)
        elif isinstance(value, str):
            v = parse_cell(value)
            if v is MISSING or v is TEXT:
                continue
        else:
            continue
        rank = (len(parts), _LR_KEYS.index(parts[-1]))
        if best is None or rank < best[0]:
            best = (rank, v)
    return None if best is None else best[1]


def params_with_lr(params: dict) -> dict:
    """``params`` plus ``params["lr"]`` when a learning rate is found under another key."""
    out = dict(params)
    lr = find_lr(params)
    if lr is not None:
        out["lr"] = lr
    return out


def folder_params(folder: str) -> dict:
    """Parameters (with ``lr`` when known) from the parameters file in a folder."""
    path = find_params_file(folder)
    return params_with_lr(read_params_file(path)) if path else {}

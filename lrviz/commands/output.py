"""How the sub-commands print JSON: one document on one line, strict (NaN and infinities are
refused, so every command's ``--json`` output parses with any JSON reader)."""

from __future__ import annotations

import json
import sys


def print_json(data) -> None:
    json.dump(data, sys.stdout, allow_nan=False)
    sys.stdout.write("\n")

"""Run the whole suite: the core tests in one pytest process, each UI test file in its own.

    python tests/run_suite.py [pytest options]      # what CI runs (README)

Why not one process: a single pytest process running every UI test segfaulted in Qt's event
processing now and then, always in the last 5% of the UI tests and at a different test each
time (3 of 4 full runs on 2026-12-01; not reproduced on demand, the cause is not found: see
the README). A process per UI file keeps what each file's windows leave behind from piling up.
A crash inside a file still fails the run. ``python -m pytest`` still runs everything in one
process.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str]) -> int:
    groups = [["tests/core"]] + [
        [str(path.relative_to(ROOT))] for path in sorted((ROOT / "tests" / "ui").glob("test_*.py"))
    ]
    failed = []
    for group in groups:
        code = subprocess.call([sys.executable, "-m", "pytest", *group, *argv], cwd=ROOT)
        if code not in (0, 5):  # 5: nothing collected (every test of a file deselected)
            failed.append((group[0], code))
    for name, code in failed:
        print(f"run_suite: {name} failed (exit {code})", file=sys.stderr)
    print(f"run_suite: {len(groups) - len(failed)} of {len(groups)} groups passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

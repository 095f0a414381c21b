"""lrviz entry point: headless sub-commands never import Qt; everything else opens the app."""

from __future__ import annotations

import os
import sys

# The engine's matrices are small: OpenBLAS's second thread gains nothing and, when the GUI
# thread holds the other core, makes a 100-D quadratic run 3-4x slower (docs/benchmarks.md).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    from lrviz.cli import is_headless

    if is_headless(argv):
        from lrviz.cli import main as cli_main

        return cli_main(argv)
    from ui.app import run

    return run(argv)


if __name__ == "__main__":
    sys.exit(main())

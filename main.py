"""lrviz from a source checkout (and the PyInstaller bundle's script): headless sub-commands
never import Qt; everything else opens the app from ``ui/``."""

from __future__ import annotations

import sys


def open_app(argv: list[str]) -> int:
    from ui.app import run

    return run(argv)


def main(argv: list[str] | None = None) -> int:
    # A long simulation runs in a child process (lrviz.engine_process); in the PyInstaller
    # bundle that child starts as this program again, and this is where it turns into one.
    import multiprocessing

    multiprocessing.freeze_support()
    from lrviz.launch import main as launch

    return launch(argv, open_app=open_app)


if __name__ == "__main__":
    sys.exit(main())

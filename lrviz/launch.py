"""The one way in: the installed ``lrviz`` command, ``python -m lrviz``, ``python main.py`` and
the frozen bundle all call :func:`main`.

Sub-commands and ``--version`` run here and never import Qt. Anything else opens the app, which
this core package never imports: the caller hands it in (``main.py`` and the bundle pass
``ui.app.run``), or the installed distribution registers it as the ``lrviz.app`` entry point
(the UI is installed as ``lrviz_app``, not under the generic name ``ui``).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

# The engine's matrices are small: OpenBLAS's second thread gains nothing and, when the GUI
# thread holds the other core, makes a 100-D quadratic run 3-4x slower (docs/benchmarks.md).
# Set before anything imports numpy.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

AppRunner = Callable[[list[str]], int]

#: The entry-point group and name under which the installed UI registers its ``run(argv)``.
APP_ENTRY_POINT = ("lrviz.app", "window")


def main(argv: list[str] | None = None, open_app: AppRunner | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    give_windowed_builds_streams()
    from lrviz.cli import is_headless

    if is_headless(argv):
        from lrviz.cli import main as cli_main

        return cli_main(argv)
    run = open_app or registered_app()
    if run is None:
        sys.stderr.write(
            "lrviz: error: the app is not installed with this copy of lrviz "
            "(from a source checkout: python main.py)\n"
        )
        return 2
    return int(run(argv) or 0)


def registered_app() -> AppRunner | None:
    """The ``run(argv)`` the installed lrviz distribution registers, or None without one.
    Only lrviz's own metadata is read: scanning every installed distribution's entry points
    costs start-up time in a large environment."""
    from importlib.metadata import PackageNotFoundError, distribution

    group, name = APP_ENTRY_POINT
    try:
        points = distribution("lrviz").entry_points
    except PackageNotFoundError:
        return None
    for point in points:
        if point.group == group and point.name == name:
            return point.load()
    return None


def give_windowed_builds_streams() -> None:
    """A windowed bundle (no console on Windows or macOS) starts with ``sys.stdout`` and
    ``sys.stderr`` set to None, and the first write of a message would raise. Such writes go
    nowhere instead."""
    if sys.stdout is None:
        sys.stdout = open(os.devnull, "w", encoding="utf-8")  # open as long as the process
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w", encoding="utf-8")

"""Headless command line. Never imports Qt: each sub-command is a thin shell over lrviz."""

from __future__ import annotations

import argparse
import importlib
import sys

from lrviz import __version__
from lrviz.errors import LrvizError

# Each module in lrviz.commands provides add_parser(subparsers) and run(args) -> int.
COMMAND_MODULES = ("simulate", "rangetest", "suggest", "inspect", "schedule", "sweep")


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports bad arguments as one line on stderr with exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        raise SystemExit(2)


APP_USAGE = """\
Without a sub-command, lrviz opens the app:
  lrviz [LOG ...]                open training logs, LR-finder CSVs or folders
  lrviz --demo                   run the demo simulation
  lrviz --screenshot PNG [--demo] [LOG ...]
                                 render the window offscreen, save a PNG, exit
"""


def build_parser() -> OneLineParser:
    parser = OneLineParser(
        prog="lrviz",
        description="See and choose learning rates.",
        epilog=APP_USAGE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"lrviz {__version__}")
    subparsers = parser.add_subparsers(dest="command", parser_class=OneLineParser)
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"lrviz.commands.{name}")
        module.add_parser(subparsers)
    return parser


def is_headless(argv: list[str]) -> bool:
    """True when argv names a sub-command or --version: those never need Qt. A mistyped
    sub-command (``simualte``) is headless too, so that it gets argparse's one-line
    "invalid choice" instead of opening the app on a file that does not exist."""
    if not argv:
        return False
    first = argv[0]
    if first in COMMAND_MODULES or first in ("--version", "-h", "--help"):
        return True
    return looks_like_a_command(first)


def looks_like_a_command(word: str) -> bool:
    """``word`` is not a path that exists but is close to a sub-command's name."""
    import difflib
    import os

    if word.startswith("-") or os.path.exists(word) or os.sep in word or "." in word:
        return False
    return bool(difflib.get_close_matches(word, COMMAND_MODULES, n=1, cutoff=0.6))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return int(args.run(args) or 0)
    except LrvizError as exc:
        sys.stderr.write(f"lrviz {args.command}: error: {exc}\n")
        return 2
    except (OSError, ValueError) as exc:
        message = str(exc).splitlines()[0] if str(exc) else repr(exc)
        sys.stderr.write(f"lrviz {args.command}: error: {message}\n")
        return 2
    except KeyboardInterrupt:
        return 130

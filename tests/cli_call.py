"""Run lrviz's command line in-process, as the CLI tests do."""

from __future__ import annotations

from lrviz.cli import main


def call(argv, capsys) -> tuple[int, str, str]:
    """Exit code (argparse's SystemExit included), stdout and stderr of ``lrviz argv``."""
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err

"""``lrviz suggest``: read a saved LR-finder curve (``lr,loss`` CSV) and print suggestions."""

from __future__ import annotations

import argparse
import sys

from lrviz.commands.output import print_json
from lrviz.errors import LrvizError
from lrviz.export import format_lr
from lrviz.suggest import RANGE_RULES, SOURCES, Suggestion, read_suggestion
from lrviz.suggest.check_run import DEFAULT_STEPS, check_script
from lrviz.suggest.check_run import TARGETS as CHECK_TARGETS
from lrviz.suggest.pairing import pair_lr_loss
from lrviz.suggest.refine import DEFAULT_RUNS, MeasuredBest, check_lrs, measured_best_from_log
from lrviz.suggest.sources import SMOOTHING

RULE_TEXT = {
    "start": "from where the loss starts to improve",
    "third": "from max / 3",
    "fourth": "from max / 4",
}


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "suggest",
        help="suggest learning rates from a saved LR-finder curve",
        description="Read an LR range test curve (a CSV with lr and loss columns, as saved "
        "from fastai, torch-lr-finder or Lightning) and print the suggested lr and range.",
    )
    p.add_argument("file", help="range-test log: a CSV with lr and loss columns")
    p.add_argument("--lr-col", default=None, help="name of the lr column (default: found)")
    p.add_argument("--loss-col", default=None, help="name of the loss column (default: found)")
    p.add_argument(
        "--source",
        choices=SOURCES,
        default=None,
        help="which library saved the curve, so its smoothing is undone exactly "
        "(default: found from the file's name and the signature its smoothing leaves; "
        "the app decides the same way)",
    )
    p.add_argument(
        "--input-smoothing",
        type=float,
        default=None,
        metavar="WEIGHT",
        help="instead of --source: undo a debiased EMA of this weight (fastai's convention); "
        "0 for raw losses",
    )
    p.add_argument(
        "--num-it",
        type=int,
        default=None,
        metavar="N",
        help="iterations the test was asked for (fastai's own rules trim by it; default: "
        "the number of points)",
    )
    add_suggest_arguments(p)
    p.add_argument(
        "--check-script",
        choices=CHECK_TARGETS,
        default=None,
        metavar="TARGET",
        help="print a ready-to-run script (pytorch, lightning or keras) that trains a few "
        "short runs across the likely band and logs them where lrviz reads them",
    )
    p.add_argument(
        "--check-runs", type=int, default=DEFAULT_RUNS, metavar="N", help="runs in the check"
    )
    p.add_argument(
        "--check-steps",
        type=int,
        default=DEFAULT_STEPS,
        metavar="N",
        help="steps per check run (the budget you will train with)",
    )
    p.add_argument(
        "--refine",
        default=None,
        metavar="FOLDER",
        help="the check runs' folder (or any sweep with an lr per run): refine the suggestion "
        "to the measured best",
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(run=run)


def add_suggest_arguments(p: argparse.ArgumentParser) -> None:
    """Options of the reading shared by ``suggest`` and ``rangetest``."""
    p.add_argument(
        "--range-rule",
        choices=RANGE_RULES,
        default="start",
        help="bottom of the recommended range: where the loss starts to improve (start), "
        "max/3 (third) or max/4 (fourth); default %(default)s",
    )
    p.add_argument(
        "--smoothing",
        type=float,
        default=None,
        help="smoothing width in decades of lr (default 0.15, wider for sparse curves)",
    )


def run(args: argparse.Namespace) -> int:
    if args.input_smoothing is not None and not 0.0 <= args.input_smoothing < 1.0:
        raise ValueError(f"--input-smoothing must be in [0, 1), got {args.input_smoothing}")
    if args.input_smoothing is not None and args.source is not None:
        raise ValueError("give --source or --input-smoothing, not both")
    if args.check_runs < 2:
        raise ValueError(f"--check-runs must be at least 2, got {args.check_runs}")
    if args.check_steps < 1:
        raise ValueError(f"--check-steps must be positive, got {args.check_steps}")
    if args.num_it is not None and args.num_it < 1:
        raise ValueError(f"--num-it must be a positive number of iterations, got {args.num_it}")
    lr, loss, log_format = read_curve(args.file, args.lr_col, args.loss_col, with_format=True)
    result = read_suggestion(
        lr,
        loss,
        path=args.file,
        log_format=log_format,
        source=args.source,
        input_smoothing=args.input_smoothing,
        range_rule=args.range_rule,
        smoothing=args.smoothing,
        num_it=args.num_it,
    )
    if args.check_script is not None:
        if result.likely_best is None:
            reason = result.warnings[0] if result.warnings else "the curve says nothing"
            raise LrvizError(f"no likely band to check: {reason}", path=str(args.file))
        lrs = check_lrs(result.likely_best, args.check_runs)
        sys.stdout.write(
            check_script(
                lrs, args.check_script, suggested_lr=result.suggested_lr, steps=args.check_steps
            )
        )
        return 0
    measured = _measured(args.refine) if args.refine is not None else None
    if args.json:
        data = {
            "file": str(args.file),
            "points": int(lr.size),
            "input_smoothing": _ema_weight(result.source, args.input_smoothing),
            **result.to_dict(),
        }
        if args.refine is not None:
            data["refined"] = measured.to_dict()
        print_json(data)
        return 0
    print(f"{args.file}: {lr.size} points")
    print_summary(result)
    if measured is not None:
        print(f"measured best lr:  {format_lr(measured.best_lr)}  ({measured.why})")
    return 0


def _measured(folder) -> MeasuredBest:
    """The measured best of a check's folder; LrvizError when it holds no usable runs."""
    from lrviz.loaders import load

    measured = measured_best_from_log(load(folder))
    if measured is None:
        raise LrvizError(
            "no two runs with an lr parameter and a finite loss to compare", path=str(folder)
        )
    return measured


def _ema_weight(source: str, input_smoothing: float | None) -> float:
    """The EMA weight that was undone (the ``input_smoothing`` key, kept for scripts)."""
    if input_smoothing is not None:
        return float(input_smoothing)
    smoothing = SMOOTHING.get(source)
    return 0.0 if smoothing is None else smoothing.weight


def print_summary(result: Suggestion, stream=None) -> None:
    """Print a suggestion for people: the lr, the range, the other rules, the warnings."""
    out = stream or sys.stdout

    def fmt(value: float | None) -> str:
        return "-" if value is None else format_lr(value)

    if result.tested_range is not None:
        lo, hi = result.tested_range
        out.write(f"tested lr:         {fmt(lo)} .. {fmt(hi)}\n")
    out.write(f"read as:           {result.source} ({result.source_reason})\n")
    out.write(f"suggested lr:      {fmt(result.suggested_lr)}  (confidence {result.confidence})\n")
    if result.likely_best is not None:
        a, b = result.likely_best
        out.write(f"likely best:       {fmt(a)} .. {fmt(b)}\n")
    if result.max_lr is not None:
        out.write(
            f"recommended range: {fmt(result.min_lr)} .. {fmt(result.max_lr)}  "
            f"({RULE_TEXT[result.range_rule]} to the max lr)\n"
        )
    if result.why:
        out.write(f"why:               {result.why}\n")
    others = ", ".join(f"{name} {fmt(value)}" for name, value in result.methods.items())
    out.write(f"other rules:       {others}\n")
    for warning in result.warnings:
        out.write(f"warning: {warning}\n")


def read_curve(
    path, lr_col: str | None = None, loss_col: str | None = None, with_format: bool = False
):
    """(lr, loss) float arrays of a range-test log, read with :func:`lrviz.loaders.load`
    (and the log's format when ``with_format``).

    The lr and loss series are paired by their step (row) so a missing value in one column
    drops only that row. Raises LrvizError naming the file and the problem.
    """
    from lrviz.loaders import ColumnMapping, list_columns, load

    mapping = ColumnMapping(lr=lr_col, loss=loss_col) if (lr_col or loss_col) else None
    data = load(path, mapping)
    for run in data.runs:
        lr, loss = run.find("lr"), run.find("loss")
        if lr is not None and loss is not None:
            pairs = pair_lr_loss(lr, loss)
            if pairs is None or pairs[0].size == 0:
                raise LrvizError("the lr and loss columns share no rows", path=str(path))
            if with_format:
                return pairs[0], pairs[1], data.format
            return pairs
    try:
        columns = ", ".join(list_columns(path)) or "none"
    except (LrvizError, OSError):
        columns = "unknown"
    has_lr = any(r.find("lr") is not None for r in data.runs)
    has_loss = any(r.find("loss") is not None for r in data.runs)
    missing = "lr and no loss" if not (has_lr or has_loss) else ("loss" if has_lr else "lr")
    raise LrvizError(
        f"no {missing} column with numbers (columns: {columns}); "
        "name them with --lr-col and --loss-col",
        path=str(path),
    )

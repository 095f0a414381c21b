"""``lrviz rangetest``: run an LR range test on a built-in problem, print the curve and the
suggested learning rates."""

from __future__ import annotations

import argparse

from lrviz.commands.argtypes import positive_float, positive_int, stop_factor
from lrviz.commands.output import print_json
from lrviz.commands.simulate import add_simulation_arguments, config_from_args
from lrviz.commands.suggest import add_suggest_arguments, print_summary
from lrviz.export import format_lr
from lrviz.rangetest import (
    DEFAULT_ITERATIONS,
    DEFAULT_MAX_LR,
    DEFAULT_MIN_LR,
    DEFAULT_SMOOTHING,
    DEFAULT_STOP_FACTOR,
    RangeTestSpec,
)
from lrviz.verify import Verification, verify_suggestion


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "rangetest",
        help="run an LR range test on a built-in problem",
        description="Ramp the learning rate from --min-lr to --max-lr over --iterations steps "
        "(Leslie Smith's LR range test), stop when the smoothed loss exceeds --stop-factor "
        "times its best, and print the curve and the suggested learning rates.",
    )
    add_simulation_arguments(p)
    p.add_argument("--min-lr", type=positive_float, default=DEFAULT_MIN_LR)
    p.add_argument("--max-lr", type=positive_float, default=DEFAULT_MAX_LR)
    p.add_argument("--iterations", type=positive_int, default=DEFAULT_ITERATIONS)
    p.add_argument("--mode", choices=("exp", "linear"), default="exp", help="ramp shape")
    p.add_argument(
        "--stop-factor",
        type=stop_factor,
        default=DEFAULT_STOP_FACTOR,
        help="stop when the smoothed loss exceeds this multiple of its best; 'none' never "
        "stops (default 4)",
    )
    p.add_argument(
        "--loss-smoothing",
        type=float,
        default=DEFAULT_SMOOTHING,
        help="EMA weight of the smoothed curve and the early stop (default 0.98)",
    )
    add_suggest_arguments(p)
    p.add_argument(
        "--verify",
        action="store_true",
        help="check the suggestion: train a short fixed-λ sweep around it on the same "
        "problem and report the measured best λ and the suggestion's regret",
    )
    p.add_argument(
        "--verify-iterations",
        type=positive_int,
        default=None,
        help="--verify: iterations of each check run, the budget you will train with "
        "(default: --iterations)",
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(run=run)


#: The flags the settings of a range test come from (its errors name them).
FLAGS = {
    "min_lr": "--min-lr",
    "max_lr": "--max-lr",
    "iterations": "--iterations",
    "mode": "--mode",
    "stop_factor": "--stop-factor",
    "smoothing": "--loss-smoothing",
}


def spec_from_args(args: argparse.Namespace) -> RangeTestSpec:
    """The range test the flags describe. Raises ValueError (naming the flag) when the
    settings are inconsistent, SizeError when the test is too big."""
    spec = RangeTestSpec(
        config_from_args(args),
        min_lr=args.min_lr,
        max_lr=args.max_lr,
        iterations=args.iterations,
        mode=args.mode,
        stop_factor=args.stop_factor,
        smoothing=args.loss_smoothing,
    )
    spec.check(FLAGS)
    spec.check_limits()  # before allocating
    return spec


def run(args: argparse.Namespace) -> int:
    if args.verify_iterations is not None and not args.verify:
        raise ValueError("--verify-iterations needs --verify")
    spec = spec_from_args(args)
    config = spec.config
    test = spec.build()
    result = test.run_to_end()
    suggestion = result.suggest(range_rule=args.range_rule, smoothing=args.smoothing)
    verification = None
    if args.verify:
        budget = args.verify_iterations or args.iterations
        verification = verify_suggestion(config, suggestion, budget)
    if args.json:
        data = {
            **suggestion.to_dict(),
            "range_test": result.describe(),
            "curve": result.curve_dict(),
        }
        if verification is not None:
            data["verified"] = verification.to_dict()
        print_json(data)
        return 0
    print(
        f"range test: {config.objective} / {config.optimizer}, lr {format_lr(result.min_lr)} .. "
        f"{format_lr(result.max_lr)} ({result.mode}), {result.lr.size} of "
        f"{result.iterations} iterations"
    )
    if result.stopped_early:
        print(f"stopped early at lr {format_lr(result.stop_lr)}: the loss diverged")
    print_summary(suggestion)
    if verification is not None:
        print_verification(verification)
    return 0


def print_verification(verification: Verification) -> None:
    runs = verification.lrs.size
    head = f"verified by {runs} runs of {verification.iterations:,} iterations"
    if verification.best_lr is None:
        print(f"{head}: fewer than 2 runs trained, no measured best")
        return
    print(f"{head}: {verification.why}")
    regret = verification.suggested_regret
    if verification.suggested_lr is not None and regret is not None:
        shown = f"{100 * regret:.3g}% above" if regret < 10 else f"{regret + 1:.3g} times"
        print(
            f"the suggestion {format_lr(verification.suggested_lr)} ends at {shown} the best "
            "loss measured"
        )

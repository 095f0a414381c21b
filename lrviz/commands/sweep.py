"""``lrviz sweep``: a coarse-to-fine search for the best constant λ of a built-in problem.

A thin shell over :class:`lrviz.search.LrSearch`, the search the app's Search tab runs.
(Not to be confused with the ``sweep`` key of ``lrviz inspect``, which describes a folder of
logged runs.)
"""

from __future__ import annotations

import argparse

from lrviz.commands.argtypes import above_one, fraction, lr_range, positive_int
from lrviz.commands.output import print_json
from lrviz.commands.simulate import add_simulation_arguments, config_from_args
from lrviz.export import format_lr
from lrviz.optimizers import OPTIMIZERS
from lrviz.search import (
    CRITERIA,
    DEFAULT_CRITERION,
    DEFAULT_ETA,
    DEFAULT_FACTOR,
    DEFAULT_MAX_LR,
    DEFAULT_MIN_LR,
    DEFAULT_PER_STAGE,
    DEFAULT_STAGES,
    DEFAULT_SUBSET,
    LrSearch,
    SearchResult,
    SearchSettings,
)

STOP_REASONS = {
    "bracket": "the bracket is narrower than the factor",
    "stages": "every stage ran",
    "budget": "the budget is spent",
    "diverged": "every λ of the coarse stage diverged",
    "stopped": "stopped",
}


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "sweep",
        help="search for the best constant λ, coarse to fine",
        description="Search for the best constant learning rate: one run per decade of "
        "--range first, then a few log-spaced candidates inside the best bracket, stage "
        "after stage, until the bracket is narrower than --factor. Inside a stage, "
        "successive halving (keep the best 1/--eta at each rung) gives hopeless candidates "
        "few iterations; logreg and mlp screen candidates on a --subset of the data first.",
    )
    add_simulation_arguments(p, OPTIMIZERS)
    p.add_argument(
        "--range",
        type=lr_range,
        default=(DEFAULT_MIN_LR, DEFAULT_MAX_LR),
        metavar="A:B",
        help=f"the λ range searched (default {DEFAULT_MIN_LR:g}:{DEFAULT_MAX_LR:g})",
    )
    p.add_argument(
        "--stages",
        type=positive_int,
        default=DEFAULT_STAGES,
        help=f"most stages, the coarse one included (default {DEFAULT_STAGES})",
    )
    p.add_argument(
        "--per-stage",
        type=positive_int,
        default=DEFAULT_PER_STAGE,
        help=f"candidates of each fine stage (default {DEFAULT_PER_STAGE})",
    )
    p.add_argument(
        "--eta",
        type=above_one,
        default=DEFAULT_ETA,
        help=f"successive halving keeps the best 1/eta at each rung (default {DEFAULT_ETA:g})",
    )
    p.add_argument(
        "--subset",
        type=fraction,
        default=DEFAULT_SUBSET,
        help="logreg, mlp: fraction of the samples the first rung trains on; 1: no subset "
        f"(default {DEFAULT_SUBSET:g})",
    )
    p.add_argument(
        "--criterion",
        choices=tuple(CRITERIA),
        default=DEFAULT_CRITERION,
        help="rank by final loss, best loss, or area under the loss curve (speed) "
        f"(default {DEFAULT_CRITERION})",
    )
    p.add_argument(
        "--factor",
        type=above_one,
        default=DEFAULT_FACTOR,
        help=f"stop once the bracket is at most this ratio wide (default {DEFAULT_FACTOR:g})",
    )
    p.add_argument(
        "--budget",
        type=positive_int,
        default=None,
        help="most run-iterations to spend (default: no limit)",
    )
    p.add_argument(
        "--iterations",
        type=positive_int,
        default=200,
        help="the full budget of one run (default 200)",
    )
    p.add_argument(
        "--divergence-factor",
        type=above_one,
        default=4.0,
        help="a run diverges (and stops) when its loss exceeds this multiple of its best "
        "(default 4)",
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    config = config_from_args(
        args, iterations=args.iterations, divergence_factor=args.divergence_factor
    )
    min_lr, max_lr = args.range
    settings = SearchSettings(
        min_lr=min_lr,
        max_lr=max_lr,
        stages=args.stages,
        per_stage=args.per_stage,
        eta=args.eta,
        subset=args.subset,
        criterion=args.criterion,
        factor=args.factor,
        budget=args.budget,
    )
    result = LrSearch(config, settings).run_to_end()
    if args.json:
        print_json(result.to_dict())
        return 0
    print_result(config, settings, result)
    return 0


def print_result(config, settings: SearchSettings, result: SearchResult) -> None:
    print(
        f"sweep: {config.objective} / {config.optimizer}, λ {format_lr(settings.min_lr)} .. "
        f"{format_lr(settings.max_lr)}, {result.iterations:,} iterations per run, ranked by "
        f"{result.criterion} loss" + ("" if result.criterion != "area" else " area")
    )
    for stage in result.stages:
        name = "coarse" if stage.stage == 0 else "fine"
        print(f"stage {stage.stage + 1} ({name}):")
        for lr, score, pruned, diverged, its in zip(
            stage.lrs, stage.scores, stage.pruned, stage.diverged, stage.iterations, strict=True
        ):
            shown = "diverged" if diverged else f"{score:.4g}"
            fate = f"pruned at {its:,}" if pruned and not diverged else ""
            if diverged:
                fate = f"at {its:,}"
            print(f"  {format_lr(lr):>10}  {shown:>12}  {fate}")
    why = STOP_REASONS.get(result.stopped_because, result.stopped_because)
    if result.best_lr is None:
        print(f"no best λ: {why}")
    else:
        a, b = result.bracket
        edge = " (an end of the range: the best may lie outside it)" if result.at_edge else ""
        print(
            f"best λ {format_lr(result.best_lr)}{edge}, between {format_lr(a)} and "
            f"{format_lr(b)} ({b / a:.3g}x); stopped: {why}"
        )
    ratio = result.grid_cost / max(result.iterations_spent, 1)
    print(
        f"spent {result.iterations_spent:,} run-iterations; a {result.grid_step:.3g}x log grid "
        f"over the range ({result.grid_points} λ) would take {result.grid_cost:,} "
        f"({ratio:.3g}x more)"
    )

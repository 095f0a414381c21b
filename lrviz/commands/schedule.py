"""``lrviz schedule``: print the λ (and momentum) a learning-rate policy gives each iteration."""

from __future__ import annotations

import argparse
import sys

from lrviz.commands.argtypes import count, finite_number, whole
from lrviz.commands.output import print_json
from lrviz.schedules import ANNEAL_STRATEGIES, POLICIES, make_schedule

# Policies that anneal over a horizon: without --total-steps it is the whole output.
HORIZON_POLICIES = ("cosine", "1cycle")
# Options passed to make_schedule only when given, so each policy keeps its own defaults
# (PyTorch's) and an option that does not apply to it is reported rather than ignored.
POLICY_OPTIONS = (
    "base_lr",
    "max_lr",
    "min_lr",
    "step_size",
    "step_size_down",
    "gamma",
    "total_steps",
    "restart_period",
    "period_mult",
    "pct_start",
    "div_factor",
    "final_div_factor",
    "anneal",
    "three_phase",
    "cycle_momentum",
    "base_momentum",
    "max_momentum",
)


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "schedule",
        help="print a learning-rate schedule",
        description="Print the learning rate (and the momentum, for the policies that cycle "
        "it) at each iteration, with the formulas and defaults of torch.optim.lr_scheduler.",
    )
    p.add_argument("--policy", required=True, choices=POLICIES)
    p.add_argument("--iterations", required=True, type=count, help="how many iterations")
    add_policy_arguments(p)
    p.add_argument("--json", action="store_true", help='print {"lr": [...], "momentum": [...]}')
    p.set_defaults(run=run)


def add_policy_arguments(p: argparse.ArgumentParser) -> None:
    """The policies' parameters, shared by schedule and simulate --schedule."""
    p.add_argument("--base-lr", type=finite_number, help="starting λ; the low end for cyclical")
    p.add_argument("--max-lr", type=finite_number, help="peak λ (cyclical, 1cycle)")
    p.add_argument("--min-lr", type=finite_number, help="cosine, cosine_restarts: the floor (0)")
    p.add_argument(
        "--step-size",
        type=whole,
        help="step: iterations between decays; cyclical: iterations of the rising half (2000)",
    )
    p.add_argument("--step-size-down", type=whole, help="cyclical: the falling half")
    p.add_argument(
        "--gamma", type=finite_number, help="step: decay per step (0.1); exponential, exp_range"
    )
    p.add_argument(
        "--total-steps",
        type=whole,
        help="cosine: the annealing horizon; 1cycle: the cycle (default: to the last iteration)",
    )
    p.add_argument("--restart-period", type=whole, help="cosine_restarts: the first period")
    p.add_argument("--period-mult", type=whole, help="cosine_restarts: growth per period (1)")
    p.add_argument("--pct-start", type=finite_number, help="1cycle: share spent rising (0.3)")
    p.add_argument("--div-factor", type=finite_number, help="1cycle: start = max-lr / this (25)")
    p.add_argument(
        "--final-div-factor", type=finite_number, help="1cycle: end = start / this (1e4)"
    )
    p.add_argument("--anneal", choices=ANNEAL_STRATEGIES, help="1cycle: annealing shape (cos)")
    p.add_argument(
        "--three-phase",
        action="store_const",
        const=True,
        help="1cycle: come back to the start, then anneal (the paper's version)",
    )
    p.add_argument(
        "--no-cycle-momentum",
        dest="cycle_momentum",
        action="store_const",
        const=False,
        help="cyclical, 1cycle: leave the momentum alone",
    )
    p.add_argument(
        "--base-momentum", type=finite_number, help="momentum at the λ peak (0.8 / 0.85)"
    )
    p.add_argument(
        "--max-momentum", type=finite_number, help="momentum at the λ trough (0.9 / 0.95)"
    )
    p.add_argument("--warmup-steps", type=whole, default=0, help="linear warm-up in front")
    p.add_argument(
        "--warmup-start-factor",
        type=finite_number,
        default=None,
        help="warm-up starts at this fraction of the policy's first λ (0)",
    )


def policy_parameters(args: argparse.Namespace, policy: str, iterations: int) -> dict:
    """:func:`lrviz.schedules.make_schedule`'s keyword arguments (warm-up included) from the
    options :func:`add_policy_arguments` defines, for ``iterations`` iterations."""
    params = {k: getattr(args, k) for k in POLICY_OPTIONS if getattr(args, k) is not None}
    start_factor = args.warmup_start_factor
    if start_factor is not None and not args.warmup_steps:
        raise ValueError("--warmup-start-factor needs --warmup-steps")
    if policy in HORIZON_POLICIES and "total_steps" not in params:
        horizon = iterations - args.warmup_steps
        if horizon < 1:
            raise ValueError("--warmup-steps leaves no iterations for the policy itself")
        params["total_steps"] = horizon
    return {
        "warmup_steps": args.warmup_steps,
        "warmup_start_factor": 0.0 if start_factor is None else start_factor,
        **params,
    }


def run(args: argparse.Namespace) -> int:
    schedule = make_schedule(args.policy, **policy_parameters(args, args.policy, args.iterations))
    lr = schedule.lr(range(args.iterations))[:, 0]
    momentum = schedule.momentum(range(args.iterations))
    if args.json:
        data = {"lr": lr.tolist()}
        if momentum is not None:
            data["momentum"] = momentum[:, 0].tolist()
        print_json(data)
        return 0
    header = f"{'iteration':>9} {'lr':>14}" + (f" {'momentum':>10}" if momentum is not None else "")
    lines = [header]
    for t, value in enumerate(lr):
        line = f"{t:9d} {value:14.6g}"
        if momentum is not None:
            line += f" {momentum[t, 0]:10.4f}"
        lines.append(line)
    sys.stdout.write("\n".join(lines) + "\n")
    return 0

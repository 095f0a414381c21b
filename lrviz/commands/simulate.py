"""``lrviz simulate``: run R learning rates on one objective and print each run's outcome."""

from __future__ import annotations

import argparse
import inspect
import math

from lrviz.adaptive_lr import ADAPTIVE_OPTIMIZERS, HYPERGRADIENT_DEFAULTS
from lrviz.commands.argtypes import positive_int
from lrviz.commands.output import print_json
from lrviz.commands.schedule import POLICY_OPTIONS, add_policy_arguments, policy_parameters
from lrviz.limits import check_simulation
from lrviz.lr_spec import parse_lrs
from lrviz.objectives import OBJECTIVES
from lrviz.objectives.expression import PRESETS
from lrviz.optimizers import OPTIMIZERS
from lrviz.schedules import PEAK_PARAMETER, POLICIES
from lrviz.simulation_config import SimulationConfig

#: The optimizers that step with the λ they are given, not one they adapt.
FIXED_LR_OPTIMIZERS = tuple(name for name in OPTIMIZERS if name not in ADAPTIVE_OPTIMIZERS)


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "simulate",
        help="run gradient descent at many learning rates",
        description="Run gradient descent at many learning rates at once and report each run.",
    )
    add_simulation_arguments(p, OPTIMIZERS)
    p.add_argument(
        "--lrs",
        default="1e-4:10:64",
        type=_lrs,
        help="A:B:N for N log-spaced lrs from A to B, or a comma list (default %(default)s)",
    )
    p.add_argument("--iterations", type=positive_int, default=200)
    p.add_argument(
        "--divergence-factor",
        type=float,
        default=4.0,
        help="a run diverges when its loss exceeds this multiple of its best (default 4)",
    )
    p.add_argument(
        "--hypergrad-lr",
        type=float,
        default=None,
        help="sgd-hd, sgdn-hd, adam-hd: β, the learning rate of λ (default: the authors' "
        + ", ".join(f"{k} {v:g}" for k, v in HYPERGRADIENT_DEFAULTS.items())
        + ")",
    )
    schedule = p.add_argument_group(
        "learning-rate schedule",
        "train under a policy (the parameters of the schedule command); each run's λ is "
        "its peak: "
        + ", ".join(
            f"{name} ({'--' + PEAK_PARAMETER[name].replace('_', '-')})" for name in POLICIES
        ),
    )
    schedule.add_argument("--schedule", choices=POLICIES, default=None, help="the policy")
    add_policy_arguments(schedule)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(run=run)


def add_simulation_arguments(
    p: argparse.ArgumentParser, optimizers: tuple[str, ...] = FIXED_LR_OPTIMIZERS
) -> None:
    """Objective and optimizer options shared by simulate and rangetest (which offers only
    the optimizers that use the λ they are given: the others would ignore its ramp)."""
    p.add_argument("--objective", choices=sorted(OBJECTIVES), default="quadratic")
    p.add_argument("--optimizer", choices=optimizers, default="sgd")
    p.add_argument(
        "--curvature", type=float, default=10.0, help="quadratic: largest eigenvalue L (default 10)"
    )
    p.add_argument(
        "--condition",
        type=float,
        default=1.0,
        help="quadratic: L over the smallest eigenvalue (default 1)",
    )
    p.add_argument("--dim", type=positive_int, default=2, help="quadratic: dimension (default 2)")
    p.add_argument("--samples", type=positive_int, default=1000, help="logreg: dataset size")
    p.add_argument("--features", type=positive_int, default=10, help="logreg: features")
    p.add_argument(
        "--batch-size",
        type=positive_int,
        default=None,
        help="logreg: minibatch size (default: full batch)",
    )
    p.add_argument("--momentum", type=float, default=None, help="momentum/nesterov (default 0.9)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--expr",
        default=None,
        help="expr: the loss as a formula in x, in x and y, or in w[0] .. w[n-1], e.g. "
        '"x**2 + 10*y**2" (write --expr=... when it starts with a minus)',
    )
    p.add_argument(
        "--preset",
        choices=sorted(PRESETS),
        default=None,
        help="expr: a ready-made formula with its start point and noise",
    )
    p.add_argument(
        "--start",
        type=_start_point,
        default=None,
        help="expr, quadratic and the 2-D objectives (rosenbrock, beale, himmelblau, "
        "rastrigin, saddle): the start point, e.g. 1,1 (expr default: 1 per coordinate; "
        "write --start=-1,2 when it starts with a minus)",
    )
    p.add_argument(
        "--gradient-noise",
        type=float,
        default=None,
        help="expr: standard deviation of the noise added to each gradient coordinate, "
        "seeded by --seed (default 0)",
    )


def config_from_args(args: argparse.Namespace, **overrides) -> SimulationConfig:
    fields = dict(
        objective=args.objective,
        optimizer=args.optimizer,
        seed=args.seed,
        dim=args.dim,
        curvature=args.curvature,
        condition=args.condition,
        samples=args.samples,
        features=args.features,
        batch_size=args.batch_size,
        momentum=args.momentum,
    )
    fields.update(_expression_fields(args))
    fields.update(overrides)
    return SimulationConfig(**fields)


def run(args: argparse.Namespace) -> int:
    factor = args.divergence_factor
    if factor is not None and not factor > 1:
        raise ValueError(f"--divergence-factor must be above 1, got {factor}")
    config = config_from_args(
        args,
        lrs=args.lrs,
        iterations=args.iterations,
        divergence_factor=factor,
        hypergrad_lr=_hypergrad_lr(args),
        schedule=_schedule(args),
    )
    check_simulation(config)  # before anything is allocated
    simulation = config.build()
    # The engine keeps each run's final and best loss (and λ) as it goes: no history needed.
    for _ in simulation.run(batch_iterations=1000, batch_seconds=1.0):
        pass
    runs = simulation.summaries()
    for run_summary, final_lr in zip(runs, simulation.final_lr, strict=True):
        run_summary["final_lr"] = _finite_or_none(final_lr)
    if args.json:
        print_json({"runs": runs})
        return 0
    print(
        f"{config.objective} / {config.optimizer}, {config.iterations} iterations, "
        f"{len(runs)} learning rates"
        + (f", {config.schedule['policy']} schedule" if config.schedule else "")
        + _momentum_note(simulation)
    )
    print(f"{'lr':>12} {'final loss':>12} {'best loss':>12} {'final lr':>12}  outcome")
    for r in runs:
        outcome = f"diverged at {r['diverged_at']}" if r["diverged"] else "ok"
        print(
            f"{r['lr']:12.4g} {_fmt(r['final_loss'])} {_fmt(r['best_loss'])} "
            f"{_fmt(r['final_lr'])}  {outcome}"
        )
    return 0


def _hypergrad_lr(args: argparse.Namespace) -> float | None:
    beta = args.hypergrad_lr
    if beta is None:
        return None
    if args.optimizer not in HYPERGRADIENT_DEFAULTS:
        names = ", ".join(HYPERGRADIENT_DEFAULTS)
        raise ValueError(f"--hypergrad-lr needs --optimizer {names} (got {args.optimizer})")
    if not (math.isfinite(beta) and beta >= 0):
        raise ValueError(f"--hypergrad-lr must be at least 0 and finite, got {beta}")
    return beta


def _schedule(args: argparse.Namespace) -> dict | None:
    """The config's schedule from --schedule and the policy's options; checked here, so a
    bad policy or parameter is one line before anything runs."""
    if args.schedule is None:
        given = [k for k in POLICY_OPTIONS if getattr(args, k) is not None]
        if args.warmup_steps:
            given.append("warmup_steps")
        if args.warmup_start_factor is not None:
            given.append("warmup_start_factor")
        if given:
            flag = "--" + given[0].replace("_", "-")
            raise ValueError(f"{flag} needs --schedule")
        return None
    spec = {"policy": args.schedule, **policy_parameters(args, args.schedule, args.iterations)}
    SimulationConfig(schedule=spec).make_schedule()  # raises ValueError on a bad parameter
    return spec


def _momentum_note(simulation) -> str:
    """Says how a schedule's momentum cycle was used: applied (start → lowest → end), or
    not, for the optimizers without a momentum to cycle."""
    schedule = simulation.schedule
    if not getattr(schedule, "cycles_momentum", False):
        return ""
    name = simulation.optimizer.name
    if not simulation.cycles_momentum:
        return f" (momentum cycle not applied: {name} has no momentum)"
    m = schedule.momentum(range(simulation.iterations))[:, 0]
    what = "β1" if name == "adam" else "momentum"
    return f", {what} cycled {m[0]:.3g} → {m.min():.3g} → {m[-1]:.3g}"


def _finite_or_none(value) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def _fmt(value: float | None) -> str:
    return f"{'inf/nan':>12}" if value is None else f"{value:12.4g}"


def _lrs(text: str):
    try:
        return parse_lrs(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _expression_fields(args: argparse.Namespace) -> dict:
    """The config's expr, start and gradient_noise from --expr, --preset, --start and
    --gradient-noise; a preset fills in what the others leave out."""
    given = [
        flag for flag in ("expr", "preset", "gradient_noise") if getattr(args, flag) is not None
    ]
    if given and args.objective != "expr":
        flag = "--" + given[0].replace("_", "-")
        raise ValueError(f"{flag} needs --objective expr (got --objective {args.objective})")
    if args.start is not None:
        accepted = inspect.signature(OBJECTIVES[args.objective].__init__).parameters
        if "start" not in accepted:
            raise ValueError(f"--start does not apply to --objective {args.objective}")
    fields = {"expr": args.expr, "start": args.start, "gradient_noise": args.gradient_noise}
    if args.preset is not None:
        preset = PRESETS[args.preset]
        defaults = {
            "expr": preset.formula,
            "start": preset.start,
            "gradient_noise": preset.gradient_noise,
        }
        fields = {k: defaults[k] if v is None else v for k, v in fields.items()}
    if fields["gradient_noise"] is None:
        del fields["gradient_noise"]  # the config's default
    return fields


def _start_point(text: str) -> tuple[float, ...]:
    try:
        point = tuple(float(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a comma-separated list of numbers"
        ) from None
    if not all(math.isfinite(v) for v in point):
        raise argparse.ArgumentTypeError(f"{text!r} must be finite numbers")
    return point

"""The parameters of a learning-rate policy as a form asks for them, and the simulation's
schedule they make.

The command line takes every parameter of every policy (``lrviz schedule`` and ``lrviz
simulate --schedule``, :func:`lrviz.commands.schedule.add_policy_arguments`); the Simulate
form shows the same parameters, each only for the policies that use it (:data:`FIELDS`).
A field left at "auto" (``None``) takes the value fitted to the run
(:func:`lrviz.schedules.schedule_for_run`: steps and periods a share of the run, not
PyTorch's 2,000-step half cycle) where the fit sets one, else PyTorch's default, as the
command line does when an option is not given. λ-valued parameters are fractions of each
run's own λ, the policy's peak (a run of λ 0.5 with a low end of 0.1 cycles from 0.05 to
0.5), which is what the command line's values mean with ``--base-lr``/``--max-lr`` left out.

:func:`form_schedule` turns the fields' values into the ``schedule`` of a
:class:`lrviz.simulation_config.SimulationConfig`: for the same parameters, the very
dictionary ``lrviz simulate`` builds, so the app and the command line give the same λ.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lrviz.schedules import (
    ANNEAL_STRATEGIES,
    CYCLIC_MODES,
    POLICIES,
    run_schedule,
    schedule_for_run,
)

CYCLIC = tuple(CYCLIC_MODES)
MOMENTUM_CYCLES = (*CYCLIC, "1cycle")


@dataclass(frozen=True)
class PolicyField:
    """One parameter of :func:`lrviz.schedules.make_schedule` as a form field.

    ``kind``: ``count`` (a whole number, 0 for auto), ``number`` (a float from ``lo`` to
    ``hi``; without a ``default``, ``lo`` itself stands for auto), ``choice`` (one of
    ``choices``) or ``flag`` (on/off). ``policies``: where it applies (every policy when
    empty). ``default``: PyTorch's value, which the form starts from (None: auto).
    ``auto``: what the form shows for auto. ``tip``: one sentence."""

    name: str
    label: str
    kind: str
    tip: str
    policies: tuple[str, ...] = ()
    default: object = None
    auto: str = "auto"
    lo: float = 0.0
    hi: float = 1.0
    decimals: int = 3
    choices: tuple[str, ...] = ()

    def applies_to(self, policy: str) -> bool:
        return not self.policies or policy in self.policies

    @property
    def option(self) -> str:
        """The command line's option for this parameter (``--step-size``)."""
        return "--" + self.name.replace("_", "-")


FIELDS: tuple[PolicyField, ...] = (
    PolicyField(
        "warmup_steps",
        "Warm-up",
        "count",
        "Iterations of linear warm-up before the schedule starts, λ rising to its first "
        "value (off: none; --warmup-steps).",
        auto="off",
        hi=10_000_000,
    ),
    PolicyField(
        "warmup_start_factor",
        "From ×",
        "number",
        "The fraction of the schedule's first λ the warm-up starts at (0: from zero, as "
        "Hugging Face's warm-up does; --warmup-start-factor).",
        default=0.0,
        lo=0.0,
        hi=1.0,
    ),
    PolicyField(
        "step_size",
        "Every",
        "count",
        "Iterations between two decays of λ (auto: a third of the run, so λ drops twice; "
        "--step-size).",
        policies=("step",),
        hi=10_000_000,
    ),
    PolicyField(
        "step_size",
        "Rise over",
        "count",
        "Iterations of each cycle's rising half (auto: a quarter of the run, two cycles; "
        "--step-size).",
        policies=CYCLIC,
        hi=10_000_000,
    ),
    PolicyField(
        "step_size_down",
        "Fall over",
        "count",
        "Iterations of each cycle's falling half (auto: as long as the rise; --step-size-down).",
        policies=CYCLIC,
        hi=10_000_000,
    ),
    PolicyField(
        "gamma",
        "Decay γ",
        "number",
        "The factor λ is multiplied by at each decay (auto: 0.1; --gamma).",
        policies=("step",),
        lo=0.0,
        hi=10.0,
        decimals=4,
    ),
    PolicyField(
        "gamma",
        "Decay γ",
        "number",
        "The factor λ is multiplied by at every iteration (auto: down to 1 % at the end of "
        "the run; --gamma).",
        policies=("exponential",),
        lo=0.0,
        hi=10.0,
        decimals=6,
    ),
    PolicyField(
        "gamma",
        "Decay γ",
        "number",
        "The factor the cycle's height is multiplied by at every iteration (auto: halved "
        "every cycle; --gamma).",
        policies=("exp_range",),
        lo=0.0,
        hi=10.0,
        decimals=6,
    ),
    PolicyField(
        "total_steps",
        "Horizon",
        "count",
        "Iterations the schedule anneals over (auto: to the end of the run, after any "
        "warm-up; --total-steps).",
        policies=("cosine", "1cycle"),
        hi=10_000_000,
    ),
    PolicyField(
        "restart_period",
        "Period",
        "count",
        "Iterations until the first warm restart (auto: a quarter of the run; --restart-period).",
        policies=("cosine_restarts",),
        hi=10_000_000,
    ),
    PolicyField(
        "period_mult",
        "Period ×",
        "count",
        "How many times longer each period is than the one before (auto: 1, all equal; "
        "--period-mult).",
        policies=("cosine_restarts",),
        hi=1000,
    ),
    PolicyField(
        "min_lr",
        "Floor × λ",
        "number",
        "The lowest λ the cosine reaches, as a fraction of each run's λ (0: down to zero; "
        "--min-lr).",
        policies=("cosine", "cosine_restarts"),
        default=0.0,
        lo=0.0,
        hi=1.0,
        decimals=4,
    ),
    PolicyField(
        "base_lr",
        "Low × λ",
        "number",
        "The bottom of each cycle as a fraction of each run's λ, the cycle's top (auto: "
        "0.1; --base-lr).",
        policies=CYCLIC,
        lo=0.0,
        hi=1.0,
        decimals=4,
    ),
    PolicyField(
        "pct_start",
        "Rise part",
        "number",
        "The share of the cycle spent raising λ to its peak (auto: 0.3; --pct-start).",
        policies=("1cycle",),
        lo=0.0,
        hi=1.0,
    ),
    PolicyField(
        "div_factor",
        "Start λ ÷",
        "number",
        "The cycle starts at each run's λ divided by this (auto: 25; --div-factor).",
        policies=("1cycle",),
        lo=0.0,
        hi=1e4,
        decimals=1,
    ),
    PolicyField(
        "final_div_factor",
        "End ÷",
        "number",
        "The cycle ends at its start divided by this (auto: 10,000; --final-div-factor).",
        policies=("1cycle",),
        lo=0.0,
        hi=1e7,
        decimals=0,
    ),
    PolicyField(
        "anneal",
        "Shape",
        "choice",
        "How λ moves between the cycle's points, along a cosine or a straight line (--anneal).",
        policies=("1cycle",),
        default="cos",
        choices=tuple(ANNEAL_STRATEGIES),
    ),
    PolicyField(
        "three_phase",
        "three phases",
        "flag",
        "Come back down to the start before annealing, as in Smith's paper (--three-phase).",
        policies=("1cycle",),
        default=False,
    ),
    PolicyField(
        "cycle_momentum",
        "cycle momentum",
        "flag",
        "Move the momentum against λ, lowest at λ's peak, for the optimizers that have one "
        "(off: --no-cycle-momentum).",
        policies=MOMENTUM_CYCLES,
        default=True,
    ),
    PolicyField(
        "base_momentum",
        "μ low",
        "number",
        "The momentum at λ's peak (auto: 0.8 for the cyclical policies, 0.85 for 1cycle; "
        "--base-momentum).",
        policies=MOMENTUM_CYCLES,
        lo=-0.01,
        hi=0.999,
    ),
    PolicyField(
        "max_momentum",
        "μ high",
        "number",
        "The momentum at λ's trough (auto: 0.9 for the cyclical policies, 0.95 for 1cycle; "
        "--max-momentum).",
        policies=MOMENTUM_CYCLES,
        lo=-0.01,
        hi=0.999,
    ),
)


def fields_for(policy: str) -> list[PolicyField]:
    """The fields of ``policy``, in the form's order."""
    return [f for f in FIELDS if f.applies_to(policy)]


def form_schedule(policy: str, iterations: int, values: dict) -> dict | None:
    """The simulation's ``schedule`` for ``policy`` over a run of ``iterations`` from the
    form's ``values`` (``{name: value}``, ``None`` or absent for auto; values of fields
    that do not apply to ``policy`` are ignored). None for a constant λ without warm-up.

    Raises ValueError, in the form's words (its labels, not the command line's options),
    for a parameter out of range or a warm-up that leaves the policy no iterations."""
    if policy not in POLICIES:
        raise ValueError(f"unknown schedule {policy!r}; choose one of {', '.join(POLICIES)}")
    fields = fields_for(policy)
    given = {}
    for field in fields:
        value = values.get(field.name)
        if value is None:
            continue  # auto
        if value == field.default and field.name != "warmup_start_factor":
            continue  # PyTorch's default: an option the command line is not given
        given[field.name] = value
    warmup = int(given.pop("warmup_steps", 0) or 0)
    start_factor = given.pop("warmup_start_factor", None)
    if not warmup:
        if start_factor:
            raise ValueError("“From ×” needs a warm-up: set “Warm-up” to some steps")
        start_factor = None
    if policy == "constant" and not warmup:
        return None
    left = iterations - warmup
    if left < 1:
        raise ValueError(
            f"“Warm-up” ({warmup:,} steps) leaves no iterations of a {iterations:,}-step run "
            "for the schedule itself"
        )
    fitted = schedule_for_run(policy, left) or {}
    spec: dict = {
        "policy": policy,
        "warmup_steps": warmup,
        "warmup_start_factor": 0.0 if start_factor is None else float(start_factor),
    }
    names = {f.name for f in fields}
    for name, value in fitted.items():
        if name != "policy" and name in names and name not in given:
            spec[name] = value
    spec.update(given)
    try:
        params = dict(spec)
        run_schedule(params.pop("policy"), **params)
    except ValueError as exc:
        raise ValueError(_in_form_words(str(exc), fields)) from None
    return spec


def _in_form_words(message: str, fields: list[PolicyField]) -> str:
    """The policy's message with its command-line options named by the form's labels."""
    labels = {f.option: f"“{f.label}”" for f in fields}
    return re.sub(r"--[a-z][a-z-]*", lambda m: labels.get(m.group(0), m.group(0)), message)

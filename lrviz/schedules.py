"""Learning-rate schedules: the lr each run uses at each iteration.

A schedule is called with the iteration index and the runs' base learning rates (R,) and
returns the learning rates (R,) to use at that iteration (the engine's per-step call).

The policies (:class:`Policy` and below: constant, step, exponential, cosine, cosine with
warm restarts, Smith's cyclical ``triangular``/``triangular2``/``exp_range``, 1cycle, and a
linear warm-up in front of any of them) follow ``torch.optim.lr_scheduler``'s formulas and
defaults and also give λ and momentum for whole arrays of iterations and runs at once.
"""

from __future__ import annotations

import inspect
import math

import numpy as np


class Schedule:
    """Constant learning rate: each run keeps its base lr."""

    name = "constant"

    def __call__(self, iteration: int, base_lrs: np.ndarray) -> np.ndarray:
        return base_lrs


class RangeRamp(Schedule):
    """Leslie Smith's LR range test ramp from ``min_lr`` to ``max_lr`` over ``iterations``.

    ``mode="exp"`` spaces the lrs geometrically (fastai, torch-lr-finder, Lightning);
    ``mode="linear"`` spaces them evenly (Smith's paper). Every run gets the same lr; base lrs
    are ignored.
    """

    name = "range"

    def __init__(self, min_lr: float, max_lr: float, iterations: int, mode: str = "exp"):
        if not (min_lr > 0 and max_lr > min_lr):
            raise ValueError(f"need 0 < min lr < max lr, got {min_lr:g} and {max_lr:g}")
        if iterations < 2:
            raise ValueError(f"a range test needs at least 2 iterations, got {iterations}")
        if mode not in ("exp", "linear"):
            raise ValueError(f"ramp mode must be 'exp' or 'linear', got {mode!r}")
        self.min_lr, self.max_lr, self.iterations, self.mode = min_lr, max_lr, iterations, mode

    def lr_at(self, iteration: int | np.ndarray) -> float | np.ndarray:
        frac = np.minimum(np.asarray(iteration, dtype=np.float64) / (self.iterations - 1), 1.0)
        if self.mode == "exp":
            return self.min_lr * (self.max_lr / self.min_lr) ** frac
        return self.min_lr + (self.max_lr - self.min_lr) * frac

    def __call__(self, iteration: int, base_lrs: np.ndarray) -> np.ndarray:
        return np.full(base_lrs.shape, float(self.lr_at(iteration)))


# --- Learning-rate policies -------------------------------------------------------------
#
# Each policy holds its own λ parameters, scalars or one value per run, and returns the λ of
# every run at any array of iterations at once. Iteration t is the λ in use after t calls to
# the matching ``torch.optim.lr_scheduler`` class's ``step()`` (t = 0: before the first).


class Policy(Schedule):
    """A learning-rate policy with its own parameters, vectorized over iterations and runs.

    λ-valued parameters (``base_lr``, ``max_lr``, ``min_lr``, the momentum bounds) may be a
    number or an array with one value per run; counts and factors are shared by all runs.
    ``runs`` is the number of runs the parameters describe (1 when all are numbers).

    :meth:`lr` and :meth:`momentum` take an iteration or a 1-D array of n iterations and
    return shape (runs,) or (n, runs). :meth:`__call__` is the engine's per-iteration call;
    the engine's base lrs are not used (the policy has its own), only their shape. The
    engine drops diverged runs from the base lrs it passes, which a policy with per-run
    parameters cannot follow: to simulate, use :func:`run_schedule` (each run's own λ as the
    policy's peak).
    """

    cycles_momentum = False
    runs = 1

    def lr(self, iterations) -> np.ndarray:
        t = _iterations(iterations)
        return _per_run_shape(self._lr(t[..., None]), t, self.runs)

    def momentum(self, iterations) -> np.ndarray | None:
        """The momentum (or Adam's β1) each run uses, or None if this policy leaves it alone."""
        if not self.cycles_momentum:
            return None
        t = _iterations(iterations)
        return _per_run_shape(self._momentum(t[..., None]), t, self.runs)

    def __call__(self, iteration: int, base_lrs: np.ndarray) -> np.ndarray:
        lrs = self.lr(iteration)
        if self.runs != 1 and self.runs != base_lrs.shape[-1]:
            raise ValueError(
                f"the schedule has {self.runs} runs, the simulation {base_lrs.size} "
                "(use run_schedule to follow each run's own lr)"
            )
        return np.broadcast_to(lrs, base_lrs.shape).copy()

    def _lr(self, t: np.ndarray) -> np.ndarray:
        """λ at iterations ``t`` of shape (..., 1), broadcasting against the (runs,) parameters."""
        raise NotImplementedError

    def _momentum(self, t: np.ndarray) -> np.ndarray:
        raise NotImplementedError


class Constant(Policy):
    """λ = ``base_lr`` at every iteration."""

    name = "constant"

    def __init__(self, base_lr):
        self.base_lr = _lr_parameter("--base-lr", base_lr)
        self.runs = self.base_lr.size

    def _lr(self, t):
        return np.broadcast_to(self.base_lr, t.shape[:-1] + self.base_lr.shape)


class Step(Policy):
    """``StepLR``: λ = base_lr · gamma^⌊t / step_size⌋ (PyTorch's default gamma 0.1)."""

    name = "step"

    def __init__(self, base_lr, step_size: int, gamma: float = 0.1):
        self.base_lr = _lr_parameter("--base-lr", base_lr)
        self.step_size = _count("--step-size", step_size)
        self.gamma = _positive("--gamma", gamma)
        self.runs = self.base_lr.size

    def _lr(self, t):
        return self.base_lr * self.gamma ** (t // self.step_size).astype(np.float64)


class Exponential(Policy):
    """``ExponentialLR``: λ = base_lr · gamma^t."""

    name = "exponential"

    def __init__(self, base_lr, gamma: float):
        self.base_lr = _lr_parameter("--base-lr", base_lr)
        self.gamma = _positive("--gamma", gamma)
        self.runs = self.base_lr.size

    def _lr(self, t):
        return self.base_lr * self.gamma ** t.astype(np.float64)


class Cosine(Policy):
    """``CosineAnnealingLR``: λ = min + (base − min)(1 + cos(π t / total_steps)) / 2.

    This is the closed form PyTorch documents; its ``step()`` computes the same values
    recursively (they agree to rounding). Past ``total_steps`` the cosine rises again, as
    PyTorch's does: use :class:`CosineRestarts` to restart instead.
    """

    name = "cosine"

    def __init__(self, base_lr, total_steps: int, min_lr=0.0):
        self.base_lr = _lr_parameter("--base-lr", base_lr)
        self.total_steps = _count("--total-steps", total_steps)
        self.min_lr = _lr_parameter("--min-lr", min_lr, allow_zero=True)
        self.runs = _runs(self.base_lr, self.min_lr)

    def _lr(self, t):
        phase = np.pi * t.astype(np.float64) / self.total_steps
        return self.min_lr + (self.base_lr - self.min_lr) * (1.0 + np.cos(phase)) / 2.0


class CosineRestarts(Policy):
    """``CosineAnnealingWarmRestarts`` (SGDR): cosine from base to min over a period, then a
    restart at base; the first period is ``restart_period`` iterations, each next one
    ``period_mult`` times longer."""

    name = "cosine_restarts"

    def __init__(self, base_lr, restart_period: int, period_mult: int = 1, min_lr=0.0):
        self.base_lr = _lr_parameter("--base-lr", base_lr)
        self.restart_period = _count("--restart-period", restart_period)
        self.period_mult = _count("--period-mult", period_mult)
        self.min_lr = _lr_parameter("--min-lr", min_lr, allow_zero=True)
        self.runs = _runs(self.base_lr, self.min_lr)

    def position(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(iterations since the last restart, length of the current period) at ``t``.

        Found with integer arithmetic: PyTorch's closed form for ``step(epoch)`` goes through
        a floating-point logarithm that can land one period early exactly at a restart.
        """
        if self.period_mult == 1:
            return t % self.restart_period, np.full(t.shape, self.restart_period)
        last = int(t.max(initial=0))
        lengths = [self.restart_period]
        while sum(lengths) <= last:
            lengths.append(lengths[-1] * self.period_mult)
        ends = np.cumsum(lengths)
        cycle = np.searchsorted(ends, t, side="right")
        starts = ends - np.asarray(lengths)
        return t - starts[cycle], np.asarray(lengths)[cycle]

    def _lr(self, t):
        since, length = self.position(t)
        phase = np.pi * since.astype(np.float64) / length
        return self.min_lr + (self.base_lr - self.min_lr) * (1.0 + np.cos(phase)) / 2.0


CYCLIC_MODES = ("triangular", "triangular2", "exp_range")


class Cyclic(Policy):
    """Leslie Smith's cyclical learning rates with ``torch.optim.lr_scheduler.CyclicLR``'s
    formulas and defaults.

    λ climbs from ``base_lr`` to ``max_lr`` over ``step_size`` iterations and falls back over
    ``step_size_down`` (default: the same). The amplitude is scaled by 1 (``triangular``),
    1/2^(cycle−1) (``triangular2``) or gamma^t (``exp_range``). Momentum moves the other
    way, from ``max_momentum`` at λ's trough to ``base_momentum`` at its peak.
    """

    def __init__(
        self,
        base_lr,
        max_lr,
        step_size: int = 2000,
        step_size_down: int | None = None,
        mode: str = "triangular",
        gamma: float = 1.0,
        cycle_momentum: bool = True,
        base_momentum=0.8,
        max_momentum=0.9,
    ):
        if mode not in CYCLIC_MODES:
            raise ValueError(f"cyclic mode must be one of {', '.join(CYCLIC_MODES)}, got {mode!r}")
        self.name = mode
        self.base_lr = _lr_parameter("--base-lr", base_lr)
        self.max_lr = _lr_parameter("--max-lr", max_lr)
        self.step_size = _count("--step-size", step_size)
        self.step_size_down = (
            self.step_size if step_size_down is None else _count("--step-size-down", step_size_down)
        )
        self.gamma = _positive("--gamma", gamma)
        self.mode = mode
        self.cycles_momentum = bool(cycle_momentum)
        self.base_momentum = _momentum_parameter("--base-momentum", base_momentum)
        self.max_momentum = _momentum_parameter("--max-momentum", max_momentum)
        self.runs = _runs(self.base_lr, self.max_lr, self.base_momentum, self.max_momentum)
        # As CyclicLR: sizes as floats, so the cycle position below rounds as PyTorch's does.
        self.total_size = float(self.step_size) + float(self.step_size_down)
        self.step_ratio = float(self.step_size) / self.total_size

    def _shape(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(height in [0, 1] within the cycle, amplitude scale) at iterations ``t``."""
        t = t.astype(np.float64)
        cycle = np.floor(1.0 + t / self.total_size)
        x = 1.0 + t / self.total_size - cycle
        # 0 < step_ratio < 1: both half-cycles have at least one iteration.
        rising = x / self.step_ratio
        falling = (x - 1.0) / (self.step_ratio - 1.0)
        height = np.where(x <= self.step_ratio, rising, falling)
        if self.mode == "triangular":
            scale = np.ones_like(t)
        elif self.mode == "triangular2":
            # 0.5**k underflows quietly to 0 after ~1075 cycles; 1 / 2**k overflowed first.
            scale = 0.5 ** (cycle - 1.0)
        else:
            scale = self.gamma**t
        return height, scale

    def _lr(self, t):
        height, scale = self._shape(t)
        return self.base_lr + (self.max_lr - self.base_lr) * height * scale

    def _momentum(self, t):
        height, scale = self._shape(t)
        return self.max_momentum - (self.max_momentum - self.base_momentum) * height * scale


ANNEAL_STRATEGIES = ("cos", "linear")


class OneCycle(Policy):
    """The 1cycle policy with ``torch.optim.lr_scheduler.OneCycleLR``'s formulas and defaults.

    λ rises from max_lr/div_factor to ``max_lr`` over the first ``pct_start`` of
    ``total_steps``, then anneals to max_lr/(div_factor·final_div_factor). With
    ``three_phase`` it comes back down to the start symmetrically first, then anneals to the
    minimum. Momentum moves the other way between ``max_momentum`` and ``base_momentum``.
    Iterations from ``total_steps`` on keep the last λ (PyTorch raises there instead).
    """

    name = "1cycle"

    def __init__(
        self,
        max_lr,
        total_steps: int,
        pct_start: float = 0.3,
        anneal: str = "cos",
        cycle_momentum: bool = True,
        base_momentum=0.85,
        max_momentum=0.95,
        div_factor: float = 25.0,
        final_div_factor: float = 1e4,
        three_phase: bool = False,
    ):
        self.max_lr = _lr_parameter("--max-lr", max_lr)
        self.total_steps = _count("--total-steps", total_steps)
        if not 0.0 <= pct_start <= 1.0:
            raise ValueError(f"--pct-start must be in [0, 1], got {pct_start:g}")
        if anneal not in ANNEAL_STRATEGIES:
            raise ValueError(f"--anneal must be 'cos' or 'linear', got {anneal!r}")
        self.pct_start, self.anneal, self.three_phase = float(pct_start), anneal, bool(three_phase)
        self.div_factor = _positive("--div-factor", div_factor)
        self.final_div_factor = _positive("--final-div-factor", final_div_factor)
        self.cycles_momentum = bool(cycle_momentum)
        self.base_momentum = _momentum_parameter("--base-momentum", base_momentum)
        self.max_momentum = _momentum_parameter("--max-momentum", max_momentum)
        self.runs = _runs(self.max_lr, self.base_momentum, self.max_momentum)
        self.initial_lr = self.max_lr / self.div_factor
        self.min_lr = self.initial_lr / self.final_div_factor
        warmup_end = self.pct_start * self.total_steps - 1.0
        if warmup_end == 0.0:
            # OneCycleLR divides 0 by 0 at the first step here.
            raise ValueError("--pct-start × --total-steps is 1: the warm-up phase has no length")
        # (end step, start λ, end λ, start momentum, end momentum), as OneCycleLR's phases.
        lr0, lr1, lr2 = self.initial_lr, self.max_lr, self.min_lr
        m_hi, m_lo = self.max_momentum, self.base_momentum
        if self.three_phase:
            self.phases = [
                (warmup_end, lr0, lr1, m_hi, m_lo),
                (2.0 * self.pct_start * self.total_steps - 2.0, lr1, lr0, m_lo, m_hi),
                (float(self.total_steps - 1), lr0, lr2, m_hi, m_hi),
            ]
        else:
            self.phases = [
                (warmup_end, lr0, lr1, m_hi, m_lo),
                (float(self.total_steps - 1), lr1, lr2, m_lo, m_hi),
            ]

    def _phase_fractions(self, t: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        """For each phase: (mask of the iterations in it, fraction of the phase done there)."""
        t = np.minimum(t, self.total_steps - 1).astype(np.float64)
        unassigned = np.ones(t.shape, dtype=bool)
        start = 0.0
        out = []
        for i, (end, *_values) in enumerate(self.phases):
            last = i == len(self.phases) - 1
            mask = unassigned & ((t <= end) | last)
            unassigned &= ~mask
            # A phase of zero length is never selected (the warm-up case is refused above).
            length = end - start if end != start else 1.0
            out.append((mask, (t - start) / length))
            start = end
        return out

    def _anneal(self, start, end, fraction):
        if self.anneal == "cos":
            return end + (start - end) / 2.0 * (np.cos(np.pi * fraction) + 1.0)
        return (end - start) * fraction + start

    def _interpolate(self, t, start_index: int) -> np.ndarray:
        out = np.zeros(np.broadcast_shapes(t.shape, (self.runs,)))
        for (mask, fraction), phase in zip(self._phase_fractions(t), self.phases, strict=True):
            value = self._anneal(phase[start_index], phase[start_index + 1], fraction)
            out = np.where(mask, value, out)
        return out

    def _lr(self, t):
        return self._interpolate(t, 1)

    def _momentum(self, t):
        return self._interpolate(t, 3)


class Warmup(Policy):
    """Linear warm-up in front of any policy.

    For t < ``steps``: λ = λ_inner(0) · (start_factor + (1 − start_factor) · t / steps), a
    straight line up to where the inner policy starts; afterwards λ = λ_inner(t − steps). With
    start_factor 0 this is Hugging Face's ``get_*_schedule_with_warmup``; any start factor in
    (0, 1] matches ``SequentialLR([LinearLR(start_factor, total_iters=steps), inner],
    milestones=[steps])``. Momentum holds the inner policy's first value during the warm-up.
    """

    def __init__(self, inner: Policy, steps: int, start_factor: float = 0.0):
        if not isinstance(inner, Policy):
            raise ValueError("warm-up needs a learning-rate policy to lead into")
        self.inner = inner
        self.steps = _count("--warmup-steps", steps)
        if not 0.0 <= start_factor <= 1.0:
            raise ValueError(f"--warmup-start-factor must be in [0, 1], got {start_factor:g}")
        self.start_factor = float(start_factor)
        self.name = inner.name
        self.cycles_momentum = inner.cycles_momentum
        self.runs = inner.runs

    def _split(self, t: np.ndarray):
        warming = t < self.steps
        return warming, np.where(warming, 0, t - self.steps)

    def _lr(self, t):
        warming, inner_t = self._split(t)
        ramp = self.start_factor + (1.0 - self.start_factor) * t.astype(np.float64) / self.steps
        first = self.inner._lr(np.zeros_like(t))
        return np.where(warming, first * ramp, self.inner._lr(inner_t))

    def _momentum(self, t):
        _warming, inner_t = self._split(t)
        return self.inner._momentum(inner_t)


POLICIES = (
    "constant",
    "step",
    "exponential",
    "cosine",
    "cosine_restarts",
    *CYCLIC_MODES,
    "1cycle",
)

# The parameter a simulated run's own λ stands for under each policy (its starting λ, or
# the peak for the cyclical policies and 1cycle).
PEAK_PARAMETER = {
    "constant": "base_lr",
    "step": "base_lr",
    "exponential": "base_lr",
    "cosine": "base_lr",
    "cosine_restarts": "base_lr",
    "triangular": "max_lr",
    "triangular2": "max_lr",
    "exp_range": "max_lr",
    "1cycle": "max_lr",
}

_BUILDERS = {
    "constant": Constant,
    "step": Step,
    "exponential": Exponential,
    "cosine": Cosine,
    "cosine_restarts": CosineRestarts,
    "1cycle": OneCycle,
}


def make_schedule(
    policy: str, *, warmup_steps: int = 0, warmup_start_factor: float = 0.0, **params
) -> Policy:
    """Build policy ``policy`` from its parameters (those of the class that implements it).

    ``warmup_steps`` > 0 puts a linear warm-up in front (see :class:`Warmup`). A parameter
    that does not apply to the policy is an error, not silently ignored.
    """
    if policy in CYCLIC_MODES:
        builder, params = Cyclic, {**params, "mode": policy}
    elif policy in _BUILDERS:
        builder = _BUILDERS[policy]
    else:
        raise ValueError(f"unknown policy {policy!r}; choose one of {', '.join(POLICIES)}")
    accepted = dict(inspect.signature(builder.__init__).parameters)
    accepted.pop("self")
    for key in params:
        if key not in accepted:
            raise ValueError(f"{_option(key)} does not apply to {policy}")
    missing = [k for k, p in accepted.items() if p.default is p.empty and k not in params]
    if missing:
        raise ValueError(f"{policy} needs {' and '.join(_option(k) for k in missing)}")
    schedule = builder(**params)
    if warmup_steps:
        schedule = Warmup(schedule, warmup_steps, warmup_start_factor)
    return schedule


class PeakScaled(Schedule):
    """A one-run policy's shape, scaled so that each simulated run's own λ is its peak.

    λ_run(t) = base_lr_run · policy(t) / peak. Every policy here is linear in its λ
    parameters, so this is the same policy with all of them multiplied by
    base_lr_run / peak. The runs' λ come from the engine's base lrs at every call, so
    runs the engine drops (diverged) simply drop out. Momentum is not scaled.
    """

    def __init__(self, policy: Policy, peak: float):
        if policy.runs != 1:
            raise ValueError("a peak-scaled schedule needs one-run (number) parameters")
        self.policy, self.peak = policy, _positive("peak lr", peak)
        self.name = policy.name
        self.cycles_momentum = policy.cycles_momentum

    def lr(self, iterations, base_lrs) -> np.ndarray:
        """λ of runs with these base lrs (R,) at ``iterations``: (R,) or (n, R)."""
        return self.policy.lr(iterations) / self.peak * np.asarray(base_lrs, dtype=np.float64)

    def momentum(self, iterations) -> np.ndarray | None:
        """The policy's momentum, the same for every run: (1,) or (n, 1), or None."""
        return self.policy.momentum(iterations)

    def __call__(self, iteration: int, base_lrs: np.ndarray) -> np.ndarray:
        return base_lrs * (float(self.policy.lr(iteration)[0]) / self.peak)


def run_schedule(
    policy: str, *, warmup_steps: int = 0, warmup_start_factor: float = 0.0, **params
) -> PeakScaled:
    """The schedule a simulation runs under ``policy``: each run's own λ is the peak.

    ``params`` are :func:`make_schedule`'s, for a reference run whose λ is the value of
    the policy's peak parameter (``PEAK_PARAMETER``: ``base_lr`` for the decays, ``max_lr``
    for the cyclical policies and 1cycle; 1 when not given). The other λ parameters keep
    their ratio to it: ``triangular`` with base 0.01 and max 0.1 gives a run of λ 0.5 a
    cycle from 0.05 to 0.5.
    """
    peak_name = PEAK_PARAMETER.get(policy)
    if peak_name is None:
        raise ValueError(f"unknown policy {policy!r}; choose one of {', '.join(POLICIES)}")
    params = {peak_name: 1.0, **params}
    schedule = make_schedule(
        policy, warmup_steps=warmup_steps, warmup_start_factor=warmup_start_factor, **params
    )
    return PeakScaled(schedule, float(np.asarray(params[peak_name]).reshape(-1)[0]))


#: What each policy is called where one is chosen from a list (the Simulate form; its
#: parameters, fitted or set, are in the rows below it: the name promises no numbers).
POLICY_LABELS = {
    "constant": "constant λ",
    "step": "step decay",
    "exponential": "exponential decay",
    "cosine": "cosine annealing",
    "cosine_restarts": "cosine, warm restarts",
    "triangular": "cyclical: triangular",
    "triangular2": "cyclical: triangular2",
    "exp_range": "cyclical: exp_range",
    "1cycle": "1cycle",
}


def schedule_for_run(policy: str, iterations: int) -> dict | None:
    """A simulation's ``schedule`` (see :class:`lrviz.simulation_config.SimulationConfig`)
    for ``policy`` fitted to a run of ``iterations``: each run's λ the peak, the steps and
    periods a share of the run rather than PyTorch's defaults (a 2,000-step half cycle would
    never turn in a 300-iteration run). None for ``constant``.

    step: ÷10 at a third and two thirds; exponential: down to 1 % at the end; cosine:
    annealed over the run; cosine_restarts: four periods; the cyclical policies: two cycles
    from a tenth of the peak (exp_range's amplitude halving every cycle); 1cycle:
    PyTorch's defaults over the run."""
    if policy not in PEAK_PARAMETER:
        raise ValueError(f"unknown policy {policy!r}; choose one of {', '.join(POLICIES)}")
    n = max(int(iterations), 1)
    quarter = max(n // 4, 1)
    params: dict = {
        "constant": None,
        "step": {"step_size": -(-n // 3), "gamma": 0.1},
        "exponential": {"gamma": 0.01 ** (1.0 / max(n - 1, 1))},
        "cosine": {"total_steps": n},
        "cosine_restarts": {"restart_period": quarter},
        "triangular": {"base_lr": 0.1, "step_size": quarter},
        "triangular2": {"base_lr": 0.1, "step_size": quarter},
        "exp_range": {"base_lr": 0.1, "step_size": quarter, "gamma": 0.5 ** (0.5 / quarter)},
        "1cycle": {"total_steps": n},
    }[policy]
    return None if params is None else {"policy": policy, **params}


def _iterations(iterations) -> np.ndarray:
    t = np.asarray(iterations)
    if t.ndim > 1:
        raise ValueError("iterations must be a number or a 1-D array")
    if t.dtype.kind not in "iu":
        if t.dtype.kind != "f" or not np.all(np.isfinite(t) & (t == np.floor(t))):
            raise ValueError("iterations must be whole numbers")
        t = t.astype(np.int64)
    if np.any(t < 0):
        raise ValueError("iterations must be at least 0")
    return t.astype(np.int64)


def _per_run_shape(values: np.ndarray, t: np.ndarray, runs: int) -> np.ndarray:
    return np.broadcast_to(values, (*t.shape, runs)).astype(np.float64, copy=True)


def _per_run(label: str, value) -> np.ndarray:
    array = np.atleast_1d(np.asarray(value, dtype=np.float64))
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"{label} must be a number or one number per run")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{label} must be finite")
    return array


def _lr_parameter(label: str, value, allow_zero: bool = False) -> np.ndarray:
    array = _per_run(label, value)
    if np.any(array < 0) or (not allow_zero and np.any(array == 0)):
        kind = "at least 0" if allow_zero else "positive"
        raise ValueError(f"{label} must be {kind}, got {_show(array)}")
    return array


def _momentum_parameter(label: str, value) -> np.ndarray:
    array = _per_run(label, value)
    if np.any((array < 0) | (array >= 1)):
        raise ValueError(f"{label} must be in [0, 1), got {_show(array)}")
    return array


def _runs(*arrays: np.ndarray) -> int:
    sizes = {a.size for a in arrays} - {1}
    if len(sizes) > 1:
        raise ValueError(f"per-run parameters disagree on the number of runs: {sorted(sizes)}")
    return sizes.pop() if sizes else 1


def _count(label: str, value) -> int:
    try:
        whole = not isinstance(value, bool) and int(value) == value and value >= 1
    except (TypeError, ValueError, OverflowError):
        whole = False
    if not whole:
        raise ValueError(f"{label} must be a whole number of at least 1, got {value}")
    return int(value)


def _option(parameter: str) -> str:
    return "--" + parameter.replace("_", "-")


def _positive(label: str, value) -> float:
    value = float(value)
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{label} must be positive and finite, got {value:g}")
    return value


def _show(array: np.ndarray) -> str:
    return f"{array[0]:g}" if array.size == 1 else "[" + ", ".join(f"{v:g}" for v in array) + "]"

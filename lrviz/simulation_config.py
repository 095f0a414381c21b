"""One description of a simulation, shared by the command line and the app.

Both build a :class:`SimulationConfig` and call :meth:`SimulationConfig.build`, so what the
command line prints is what the app shows.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from lrviz.adaptive_lr import ADAPTIVE_OPTIMIZERS
from lrviz.engine import Simulation
from lrviz.lr_format import format_lr
from lrviz.objectives import Objective, make_objective
from lrviz.optimizers import hypergrad_lr_for
from lrviz.schedules import PeakScaled, run_schedule


@dataclass
class SimulationConfig:
    """Everything that determines a simulation's numbers.

    ``lrs`` holds the base learning rate of each run. Objective options that do not apply to
    the chosen objective are ignored (e.g. ``curvature`` for ``rosenbrock``).
    """

    objective: str = "quadratic"
    optimizer: str = "sgd"
    lrs: np.ndarray = field(default_factory=lambda: np.geomspace(1e-4, 10.0, 64))
    iterations: int = 200
    seed: int = 0
    # objective options
    dim: int = 2
    curvature: float = 10.0
    condition: float = 1.0
    samples: int = 1000
    features: int = 10
    batch_size: int | None = None
    # optimizer options
    momentum: float | None = None
    beta1: float | None = None
    beta2: float | None = None
    weight_decay: float | None = None
    # divergence: loss above this multiple of the run's best (None: only inf/NaN)
    divergence_factor: float | None = 4.0
    # expr objective: the formula, its start point (also rosenbrock's) and the standard
    # deviation of the noise added to its gradient
    expr: str | None = None
    start: tuple[float, ...] | None = None
    gradient_noise: float = 0.0
    # expr objective: the region its contour plots show, ((x0, x1), (y0, y1)); None: chosen
    # around the start and the minimum (lrviz.surfaces.surface_domain)
    domain: tuple | None = None
    # hypergradient descent (sgd-hd, sgdn-hd, adam-hd): β, the learning rate of λ, or a
    # {optimizer: β} mapping (None, or an optimizer missing from it: the authors' code
    # default)
    hypergrad_lr: float | dict | None = None
    # learning-rate policy: {"policy": NAME, **its make_schedule parameters}, each run's own λ
    # the policy's peak (lrviz.schedules.run_schedule); None: constant λ
    schedule: dict | None = None
    # each run its own optimizer (one name per λ; None: every run uses ``optimizer``), to
    # compare a hand-picked λ with the optimizers that pick their own on one problem
    optimizers: tuple[str, ...] | None = None
    # measure each run's sharpness (top Hessian eigenvalue) every this many iterations
    sharpness_every: int | None = None

    def make_schedule(self) -> PeakScaled | None:
        """The schedule ``schedule`` describes, None for a constant λ."""
        if self.schedule is None:
            return None
        params = dict(self.schedule)
        return run_schedule(params.pop("policy"), **params)

    def make_objective(self) -> Objective:
        """The objective this configuration describes (its data built from ``seed``)."""
        objective = make_objective(
            self.objective,
            dim=self.dim,
            curvature=self.curvature,
            condition=self.condition,
            samples=self.samples,
            features=self.features,
            batch_size=self.batch_size,
            seed=self.seed,
            expr=self.expr,
            start=self.start,
            gradient_noise=self.gradient_noise,
            domain=self.domain,
        )
        if objective.initial_point().shape != (objective.dim,):
            # An objective that takes a start point but does not check its length.
            raise ValueError(
                f"the start point has {objective.initial_point().size} coordinates but "
                f"{self.objective} has {objective.dim} parameters"
            )
        return objective

    def build(self, objective: Objective | None = None, **engine_options) -> Simulation:
        """The :class:`Simulation` this configuration describes (a ``schedule`` passed here
        replaces the configured one). ``objective``: one already built, so that a caller
        running many simulations of one problem (a search) builds its data once, or one on a
        part of the data (:meth:`lrviz.objectives.DatasetObjective.on_samples`)."""
        if objective is None:
            objective = self.make_objective()
        optimizer_options = {
            "momentum": self.momentum,
            "beta1": self.beta1,
            "beta2": self.beta2,
            "weight_decay": self.weight_decay,
            "hypergrad_lr": self.hypergrad_lr,
        }
        if self.optimizers is None:
            optimizer_options["hypergrad_lr"] = hypergrad_lr_for(self.optimizer, self.hypergrad_lr)
        if "schedule" not in engine_options:
            engine_options["schedule"] = self.make_schedule()
        if self.optimizers is not None and len(self.optimizers) != len(self.lrs):
            raise ValueError(
                f"{len(self.optimizers)} optimizers for {len(self.lrs)} learning rates: "
                "give one per run"
            )
        if self.sharpness_every is not None:
            engine_options.setdefault("sharpness_every", self.sharpness_every)
        return Simulation(
            objective,
            self.optimizer if self.optimizers is None else list(self.optimizers),
            self.lrs,
            self.iterations,
            seed=self.seed,
            divergence_factor=self.divergence_factor,
            optimizer_options=optimizer_options,
            **engine_options,
        )

    def run_names(self) -> list[str]:
        """A short name per run: "λ = 0.02", or with each run's own optimizer "sgd-hd,
        λ₀ = 1e-3" (its starting λ) and "dog" (DoG picks its λ from scratch)."""
        names = []
        for i, lr in enumerate(np.asarray(self.lrs, dtype=np.float64)):
            optimizer = self.optimizer if self.optimizers is None else self.optimizers[i]
            value = format_lr(lr)
            if self.optimizers is None:
                names.append(f"λ = {value}")
            elif optimizer == "dog":
                names.append("dog" if lr == 1.0 else f"dog × {value}")
            elif optimizer in ADAPTIVE_OPTIMIZERS:
                names.append(f"{optimizer}, λ₀ = {value}")
            else:
                names.append(f"{optimizer}, λ = {value}")
        return names

    def to_dict(self) -> dict:
        data = asdict(self)
        data["lrs"] = [float(v) for v in np.asarray(self.lrs)]
        if self.optimizers is not None:
            data["optimizers"] = list(self.optimizers)
        return data

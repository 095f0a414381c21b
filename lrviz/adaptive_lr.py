"""Optimizers that choose their own λ as they go, vectorized across R runs.

* Hypergradient descent (Baydin et al. 2018, "Online Learning Rate Adaptation with
  Hypergradient Descent"): before each step, λ_t = λ_{t-1} + β g_t · u_{t-1}, where g_t is
  the current gradient and u_{t-1} the previous update direction (w_t = w_{t-1} − λ u_{t-1}).
  −g_t · u_{t-1} is the derivative of the loss at w_t with respect to λ, so this is
  gradient descent on λ with learning rate β. SGD-HD (u = g), SGDN-HD (u = g + μ b, the
  Nesterov direction) and Adam-HD (u = m̂ / (√v̂ + ε)).
* DoG (Ivgi et al. 2023, "DoG is SGD's Best Friend"): η_t = c · r̄_t / sqrt(Σ_{i≤t} ‖g_i‖² + ε)
  with r̄_t = max(r_ε, max_{i≤t} ‖x_i − x_0‖) and r_ε = reps_rel · (1 + ‖x_0‖).

Every class offers both interfaces of :mod:`lrviz.optimizers`, so the engine can drive them
as it drives SGD and Adam: ``select(rows)`` then ``step(weights, grad, lr) -> new weights``
for those rows (the committed one), and ``update(weights, grad, lr, live)`` in place with
``keep(mask)`` to drop frozen runs (the one that module is moving to). The ``lr`` the
engine passes means:

* hypergradient descent: each run's starting λ, read at that run's first step only;
* DoG: the multiplier c (1 for the paper's DoG), read at every step.

After each step ``lr_in_use`` (R,) holds the λ each run just used (the engine should record
that rather than the schedule's value), and ``clipped`` (R,) says whether a guard held it.
This module does not import ``lrviz.optimizers``, so that module can import this one.
"""

from __future__ import annotations

import math

import numpy as np

# β ("hypergrad_lr") defaults of the authors' code (sgd_hd.py, adam_hd.py).
HYPERGRADIENT_DEFAULTS = {"sgd-hd": 1e-6, "sgdn-hd": 1e-6, "adam-hd": 1e-8}

# β of the paper's experiments (the authors' run.sh), all started from λ0 = 1e-3, with
# momentum 0.9 for SGDN-HD and weight decay 1e-4 (train.py's defaults).
HYPERGRADIENT_PRESETS = {
    "code-default": HYPERGRADIENT_DEFAULTS,
    "paper-mnist": {"sgd-hd": 1e-3, "sgdn-hd": 1e-3, "adam-hd": 1e-7},  # logreg and MLP
    "paper-cifar10": {"sgd-hd": 1e-3, "sgdn-hd": 1e-3, "adam-hd": 1e-8},  # VGG
}
PAPER_INITIAL_LR = 1e-3

# lrviz's guard (not in the paper): λ stays within these factors of each run's starting λ.
# A hypergradient step can overshoot below zero (gradient ascent) or far up (the loss then
# explodes); four decades either way leaves room to recover from a λ 100x off.
DEFAULT_MIN_LR_FACTOR = 1e-4
DEFAULT_MAX_LR_FACTOR = 1e4

ADAPTIVE_OPTIMIZERS = ("sgd-hd", "sgdn-hd", "adam-hd", "dog")

NO_CLIP, CLIPPED_LOW, CLIPPED_HIGH = 0, -1, 1


class AdaptiveOptimizer:
    """State shared by the optimizers here: rows, weight decay, the λ in use, clip records.

    Attributes
    ----------
    lr_in_use : ndarray (R,)
        The λ each run used at its latest step (NaN before its first).
    clipped : ndarray (R,) of int8
        At each run's latest step: ``CLIPPED_LOW`` (−1) if λ was raised to the floor,
        ``CLIPPED_HIGH`` (+1) if cut to the ceiling, 0 otherwise.
    low_clips, high_clips : ndarray (R,) of int
        How many steps each run was clipped at the floor / the ceiling so far.
    """

    name = "adaptive"
    adapts_lr = True
    # Per-run state: every array whose rows follow the runs (see keep).
    state_arrays: tuple[str, ...] = ("started", "lr_in_use", "clipped", "low_clips", "high_clips")

    def __init__(self, runs: int, dim: int, weight_decay: float = 0.0):
        self.runs, self.dim = int(runs), int(dim)
        self.weight_decay = float(weight_decay)
        if not (math.isfinite(self.weight_decay) and self.weight_decay >= 0):
            raise ValueError(f"--weight-decay must be at least 0, got {weight_decay}")
        self._rows: np.ndarray | slice = slice(None)
        self.started = np.zeros(runs, dtype=bool)
        self.lr_in_use = np.full(runs, np.nan)
        self.clipped = np.zeros(runs, dtype=np.int8)
        self.low_clips = np.zeros(runs, dtype=np.int64)
        self.high_clips = np.zeros(runs, dtype=np.int64)

    def select(self, rows: np.ndarray | slice) -> None:
        """Tell the optimizer which rows of its state the next step concerns."""
        self._rows = rows

    def step(self, weights: np.ndarray, grad: np.ndarray, lr: np.ndarray) -> np.ndarray:
        """The updated weights of the selected rows (weights, grad (n, dim); lr (n,))."""
        raise NotImplementedError

    def update(
        self, weights: np.ndarray, grad: np.ndarray, lr: np.ndarray, live: np.ndarray | None
    ) -> None:
        """One step of ``weights`` (n, dim) in place for the ``live`` rows (None: all).

        ``lr`` is (n,), or (n, dim) with each run's value repeated along its row, as the
        engine passes it (:meth:`lrviz.optimizers.Optimizer.update`).
        """
        lr = np.asarray(lr)
        if lr.ndim == 2:
            lr = lr[:, 0]
        rows = slice(None) if live is None else np.flatnonzero(live)
        self.select(rows)
        weights[rows] = self.step(weights[rows], grad[rows], lr[rows])

    def keep(self, rows: np.ndarray) -> None:
        """Keep the state of these rows only (a boolean mask over the current rows)."""
        for name in self.state_arrays:
            setattr(self, name, getattr(self, name)[rows])
        self.runs = int(np.count_nonzero(rows))
        self._rows = slice(None)

    def _decayed(self, weights: np.ndarray, grad: np.ndarray) -> np.ndarray:
        return grad + self.weight_decay * weights if self.weight_decay else grad

    def clip_messages(self) -> list[str | None]:
        """One line per run saying how often its λ was clipped, None if never (for the UI)."""
        messages: list[str | None] = []
        for low, high in zip(self.low_clips, self.high_clips, strict=True):
            parts = []
            if low:
                parts.append(f"raised to its floor {low} time{'' if low == 1 else 's'}")
            if high:
                parts.append(f"cut to its ceiling {high} time{'' if high == 1 else 's'}")
            messages.append(f"λ was {' and '.join(parts)}" if parts else None)
        return messages


class HypergradientDescent(AdaptiveOptimizer):
    """Hypergradient descent on λ over a base direction rule (subclasses give ``_direction``).

    Parameters
    ----------
    runs, dim : int
    hypergrad_lr : float
        β, the learning rate of λ (≥ 0; 0 gives the base optimizer with a constant λ).
    weight_decay : float
        L2 penalty added to the gradient before everything else, as the authors' code does.
    min_lr_factor, max_lr_factor : float or None
        λ is clipped to [factor × starting λ] at every step; None turns that side off
        (a λ below 0 is then possible, and is gradient ascent).
    """

    def __init__(
        self,
        runs: int,
        dim: int,
        hypergrad_lr: float,
        weight_decay: float = 0.0,
        min_lr_factor: float | None = DEFAULT_MIN_LR_FACTOR,
        max_lr_factor: float | None = DEFAULT_MAX_LR_FACTOR,
    ):
        super().__init__(runs, dim, weight_decay)
        self.hypergrad_lr = float(hypergrad_lr)
        if not (math.isfinite(self.hypergrad_lr) and self.hypergrad_lr >= 0):
            raise ValueError(f"--hypergrad-lr must be at least 0, got {hypergrad_lr}")
        for label, factor in (("min", min_lr_factor), ("max", max_lr_factor)):
            if factor is not None and not (math.isfinite(factor) and factor > 0):
                raise ValueError(f"{label} lr factor must be positive, got {factor}")
        if min_lr_factor is not None and max_lr_factor is not None:
            if not min_lr_factor <= 1 <= max_lr_factor:
                raise ValueError("the λ bounds must contain the starting λ (factors 1)")
        self.min_lr_factor, self.max_lr_factor = min_lr_factor, max_lr_factor
        self.state_arrays += ("lr", "initial_lr", "previous_direction")
        self.lr = np.full(runs, np.nan)  # each run's current λ
        self.initial_lr = np.full(runs, np.nan)
        self.previous_direction = np.zeros((runs, dim))  # u_{t-1}; zero before the first step

    def step(self, weights: np.ndarray, grad: np.ndarray, lr: np.ndarray) -> np.ndarray:
        rows = self._rows
        grad = self._decayed(weights, grad)
        first = ~self.started[rows]
        initial = np.where(first, lr, self.initial_lr[rows])
        current = np.where(first, lr, self.lr[rows])
        hypergradient = np.einsum("rd,rd->r", grad, self.previous_direction[rows])
        proposed = current + self.hypergrad_lr * hypergradient
        new_lr, clipped = self._guard(proposed, initial)
        direction = self._direction(rows, grad)
        self.previous_direction[rows] = direction
        self.initial_lr[rows] = initial
        self.lr[rows] = new_lr
        self.lr_in_use[rows] = new_lr
        self.started[rows] = True
        self._record_clips(rows, clipped)
        return weights - new_lr[:, None] * direction

    def _guard(self, proposed: np.ndarray, initial: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """λ clipped to its bounds, and which way each run was clipped."""
        low = -np.inf if self.min_lr_factor is None else self.min_lr_factor * initial
        high = np.inf if self.max_lr_factor is None else self.max_lr_factor * initial
        # A non-finite hypergradient (the loss overflowed) counts as exploding.
        proposed = np.where(np.isnan(proposed), np.inf, proposed)
        clipped = np.where(proposed < low, CLIPPED_LOW, np.where(proposed > high, CLIPPED_HIGH, 0))
        return np.clip(proposed, low, high), clipped.astype(np.int8)

    def _record_clips(self, rows, clipped: np.ndarray) -> None:
        self.clipped[rows] = clipped
        self.low_clips[rows] += clipped == CLIPPED_LOW
        self.high_clips[rows] += clipped == CLIPPED_HIGH

    def _direction(self, rows, grad: np.ndarray) -> np.ndarray:
        """The update direction u_t (w_{t+1} = w_t − λ_t u_t); updates the rule's own state."""
        raise NotImplementedError


class SGDHD(HypergradientDescent):
    """SGD-HD, and SGDN-HD with ``nesterov=True``: the authors' ``SGDHD`` (dampening 0).

    With momentum μ: b = g at the first step, μ b + g afterwards (as ``torch.optim.SGD``);
    u = b, or g + μ b with Nesterov.
    """

    def __init__(
        self,
        runs: int,
        dim: int,
        hypergrad_lr: float = HYPERGRADIENT_DEFAULTS["sgd-hd"],
        momentum: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
        min_lr_factor: float | None = DEFAULT_MIN_LR_FACTOR,
        max_lr_factor: float | None = DEFAULT_MAX_LR_FACTOR,
    ):
        super().__init__(runs, dim, hypergrad_lr, weight_decay, min_lr_factor, max_lr_factor)
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"--momentum must be in [0, 1), got {momentum}")
        if nesterov and momentum == 0:
            raise ValueError("Nesterov momentum needs a momentum above 0")
        self.momentum, self.nesterov = float(momentum), bool(nesterov)
        self.name = "sgdn-hd" if nesterov else "sgd-hd"
        self.buffer = np.zeros((runs, dim))
        self.state_arrays += ("buffer",)

    def _direction(self, rows, grad):
        if self.momentum == 0:
            return grad
        started = self.started[rows]
        buffer = np.where(started[:, None], self.momentum * self.buffer[rows] + grad, grad)
        self.buffer[rows] = buffer
        return grad + self.momentum * buffer if self.nesterov else buffer


class AdamHD(HypergradientDescent):
    """Adam-HD as the paper's algorithm writes it: u = m̂ / (√v̂ + ε), the same direction as
    ``torch.optim.Adam`` and :class:`lrviz.optimizers.Adam` (the authors' code puts ε outside
    the bias correction, which differs by an ε-sized term)."""

    name = "adam-hd"

    def __init__(
        self,
        runs: int,
        dim: int,
        hypergrad_lr: float = HYPERGRADIENT_DEFAULTS["adam-hd"],
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        min_lr_factor: float | None = DEFAULT_MIN_LR_FACTOR,
        max_lr_factor: float | None = DEFAULT_MAX_LR_FACTOR,
    ):
        super().__init__(runs, dim, hypergrad_lr, weight_decay, min_lr_factor, max_lr_factor)
        for label, beta in (("--beta1", beta1), ("--beta2", beta2)):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"{label} must be in [0, 1), got {beta}")
        self.beta1, self.beta2, self.eps = float(beta1), float(beta2), float(eps)
        self.m = np.zeros((runs, dim))
        self.v = np.zeros((runs, dim))
        self.t = np.zeros(runs)
        self.state_arrays += ("m", "v", "t")

    def _direction(self, rows, grad):
        t = self.t[rows] + 1.0
        self.t[rows] = t
        m = self.beta1 * self.m[rows] + (1.0 - self.beta1) * grad
        v = self.beta2 * self.v[rows] + (1.0 - self.beta2) * grad * grad
        self.m[rows], self.v[rows] = m, v
        m_hat = m / (1.0 - self.beta1**t)[:, None]
        v_hat = v / (1.0 - self.beta2**t)[:, None]
        return m_hat / (np.sqrt(v_hat) + self.eps)


class DoG(AdaptiveOptimizer):
    """DoG, "Distance over Gradients" (Ivgi et al. 2023), as the authors' ``DoG`` class.

    η_t = c · r̄_t / sqrt(G_t), G_t = ε + Σ_{i≤t} ‖g_i‖², r̄_0 = reps_rel · (1 + ‖x_0‖),
    r̄_t = max(r̄_{t−1}, ‖x_t − x_0‖); x_{t+1} = x_t − η_t g_t. c is the ``lr`` passed to
    :meth:`step` (1 for the paper's DoG). Weight decay is added to g before G sums it.
    """

    name = "dog"

    def __init__(
        self,
        runs: int,
        dim: int,
        reps_rel: float = 1e-6,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ):
        super().__init__(runs, dim, weight_decay)
        if not (math.isfinite(reps_rel) and reps_rel > 0):
            raise ValueError(f"--reps-rel must be positive, got {reps_rel}")
        if not (math.isfinite(eps) and eps >= 0):
            raise ValueError(f"DoG's eps must be at least 0, got {eps}")
        self.reps_rel, self.eps = float(reps_rel), float(eps)
        self.origin = np.zeros((runs, dim))  # x_0 of each run
        self.max_distance = np.zeros(runs)  # r̄
        self.gradient_sum = np.zeros(runs)  # G
        self.state_arrays += ("origin", "max_distance", "gradient_sum")

    def step(self, weights: np.ndarray, grad: np.ndarray, lr: np.ndarray) -> np.ndarray:
        rows = self._rows
        grad = self._decayed(weights, grad)
        first = ~self.started[rows]
        origin = np.where(first[:, None], weights, self.origin[rows])
        initial_distance = self.reps_rel * (1.0 + np.linalg.norm(weights, axis=1))
        distance = np.linalg.norm(weights - origin, axis=1)
        max_distance = np.where(
            first, initial_distance, np.maximum(self.max_distance[rows], distance)
        )
        squared = np.einsum("rd,rd->r", grad, grad)
        gradient_sum = np.where(first, squared + self.eps, self.gradient_sum[rows] + squared)
        # G = 0 only when every gradient so far is exactly 0 (and ε = 0): no step to take.
        with np.errstate(divide="ignore", invalid="ignore"):
            eta = np.where(gradient_sum > 0, lr * max_distance / np.sqrt(gradient_sum), 0.0)
        self.origin[rows] = origin
        self.max_distance[rows] = max_distance
        self.gradient_sum[rows] = gradient_sum
        self.lr_in_use[rows] = eta
        self.started[rows] = True
        self.clipped[rows] = NO_CLIP
        return weights - eta[:, None] * grad


def make_adaptive_optimizer(name: str, runs: int, dim: int, **options) -> AdaptiveOptimizer:
    """Build ``name`` (one of ``ADAPTIVE_OPTIMIZERS``) for ``runs`` x ``dim`` parameters.

    Options, as :func:`lrviz.optimizers.make_optimizer` takes them (None or absent: the
    default): ``hypergrad_lr`` (HD; default: the authors' code default), ``momentum``
    (sgdn-hd, default 0.9), ``beta1``, ``beta2``, ``eps`` (adam-hd; eps also DoG's),
    ``reps_rel`` (dog), ``min_lr_factor``, ``max_lr_factor`` (HD), ``weight_decay`` (all).
    Options that do not apply are ignored.
    """
    given = {k: v for k, v in options.items() if v is not None}
    wd = given.get("weight_decay", 0.0)
    bounds = {k: given[k] for k in ("min_lr_factor", "max_lr_factor") if k in given}
    if name in ("sgd-hd", "sgdn-hd", "adam-hd"):
        beta = given.get("hypergrad_lr", HYPERGRADIENT_DEFAULTS[name])
        if name == "adam-hd":
            adam = {k: given[k] for k in ("beta1", "beta2", "eps") if k in given}
            return AdamHD(runs, dim, beta, weight_decay=wd, **adam, **bounds)
        nesterov = name == "sgdn-hd"
        momentum = given.get("momentum", 0.9) if nesterov else 0.0
        return SGDHD(runs, dim, beta, momentum, nesterov, weight_decay=wd, **bounds)
    if name == "dog":
        dog = {k: given[k] for k in ("reps_rel", "eps") if k in given}
        return DoG(runs, dim, weight_decay=wd, **dog)
    raise ValueError(f"unknown optimizer {name!r}; choose one of {', '.join(ADAPTIVE_OPTIMIZERS)}")

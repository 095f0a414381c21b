"""Optimizers with PyTorch's update rules, vectorized across R runs.

Every optimizer updates an (n, dim) weight array in place; the learning rate is an (n,) array
so each run may have its own (and a schedule may change it). A boolean ``live`` mask leaves
the other rows, and their optimizer state, untouched (a diverged run is frozen where it
stands). The updates work in reused buffers and allocate nothing per step: at thousands of
steps a second, fresh (n, dim) temporaries cost more in page faults than the arithmetic.

The engine drops frozen runs between batches; :meth:`Optimizer.keep` shrinks the state to
the rows it keeps. Every live row takes every step, so step counts (Adam's bias correction,
momentum's first step) are one number for all of them.
"""

from __future__ import annotations

import numpy as np

from lrviz.adaptive_lr import ADAPTIVE_OPTIMIZERS, AdaptiveOptimizer, make_adaptive_optimizer


class Optimizer:
    """Base: plain SGD, ``w <- w - lr * g`` (``torch.optim.SGD`` with momentum 0)."""

    name = "sgd"

    def __init__(self, runs: int, dim: int, weight_decay: float = 0.0):
        self.runs = runs
        self.dim = dim
        self.weight_decay = float(weight_decay)
        self._scratch: dict[str, np.ndarray] = {}
        self._constants: dict[str, np.ndarray] = {}
        self._set_constants(weight_decay=self.weight_decay)

    def update(
        self, weights: np.ndarray, grad: np.ndarray, lr: np.ndarray, live: np.ndarray | None
    ) -> None:
        """Take one step of ``weights`` (n, dim) in place.

        Parameters
        ----------
        weights, grad : ndarray (n, dim)
            The rows of the runs the optimizer holds state for (``grad`` is not modified).
        lr : ndarray (n,), or (n, dim) with each run's lr repeated along the row
            (ufuncs run about twice as fast on that as on a broadcast (n, 1) column).
        live : ndarray (n,) of bool, or None
            Only these rows step; None: all of them.
        """
        step = self._buffer("step", weights.shape)
        np.multiply(_rows(lr), self._decayed(weights, grad), out=step)
        _subtract_from(weights, step, live)

    def keep(self, rows: np.ndarray) -> None:
        """Keep the state of these rows only (a boolean mask over the current rows)."""

    def _decayed(self, weights: np.ndarray, grad: np.ndarray) -> np.ndarray:
        if self.weight_decay:
            decayed = np.multiply(
                self._constants["weight_decay"], weights, out=self._buffer("decayed", grad.shape)
            )
            return np.add(grad, decayed, out=decayed)
        return grad

    def _set_constants(self, **values: float) -> None:
        """The hyperparameters as 0-d arrays, which ufuncs take ~200 ns faster than Python
        floats (same arithmetic). Set once: changing a hyperparameter mid-run is not supported."""
        self._constants.update({name: np.array(value) for name, value in values.items()})

    def _buffer(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """A scratch array reused from step to step while the shape stays the same."""
        buffer = self._scratch.get(name)
        if buffer is None or buffer.shape != shape:
            buffer = self._scratch[name] = np.empty(shape)
        return buffer


class Momentum(Optimizer):
    """``torch.optim.SGD(momentum=mu, dampening=0)``: ``b <- mu b + g`` (b = g at first),
    ``w <- w - lr * b``; with ``nesterov=True`` the step uses ``g + mu b``."""

    name = "momentum"

    def __init__(
        self,
        runs: int,
        dim: int,
        momentum: float = 0.9,
        nesterov: bool = False,
        weight_decay: float = 0.0,
    ):
        super().__init__(runs, dim, weight_decay)
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"--momentum must be in [0, 1), got {momentum}")
        self.momentum = float(momentum)
        self.nesterov = nesterov
        self.buffer = np.zeros((runs, dim))
        self.steps = 0
        self._set_constants(momentum=self.momentum)
        if nesterov:
            self.name = "nesterov"

    def set_momentum(self, momentum: float) -> None:
        """Use ``momentum`` from the next step on (a schedule that cycles it, as
        ``OneCycleLR`` and ``CyclicLR`` set ``param_group["momentum"]`` before each step)."""
        self.momentum = float(momentum)
        self._constants["momentum"][()] = self.momentum

    def update(self, weights, grad, lr, live):
        grad = self._decayed(weights, grad)
        buf = self.buffer
        where = True if live is None else live[:, None]
        if self.steps == 0:
            np.copyto(buf, grad, where=where)
        else:
            np.multiply(self._constants["momentum"], buf, out=buf, where=where)
            np.add(buf, grad, out=buf, where=where)
        self.steps += 1
        direction = buf
        if self.nesterov:
            direction = np.multiply(
                self._constants["momentum"], buf, out=self._buffer("direction", buf.shape)
            )
            np.add(grad, direction, out=direction)
        step = np.multiply(_rows(lr), direction, out=self._buffer("step", buf.shape))
        _subtract_from(weights, step, live)

    def keep(self, rows):
        self.buffer = self.buffer[rows]


class Adam(Optimizer):
    """``torch.optim.Adam``: bias-corrected first and second moments,
    ``w <- w - lr * m_hat / (sqrt(v_hat) + eps)``."""

    name = "adam"

    def __init__(
        self,
        runs: int,
        dim: int,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ):
        super().__init__(runs, dim, weight_decay)
        for label, beta in (("--beta1", beta1), ("--beta2", beta2)):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"{label} must be in [0, 1), got {beta}")
        self.beta1, self.beta2, self.eps = float(beta1), float(beta2), float(eps)
        self.m = np.zeros((runs, dim))
        self.v = np.zeros((runs, dim))
        self.steps = 0
        self._set_constants(
            beta1=self.beta1,
            beta2=self.beta2,
            eps=self.eps,
            one_minus_beta1=1.0 - self.beta1,
            one_minus_beta2=1.0 - self.beta2,
        )

    def set_momentum(self, momentum: float) -> None:
        """Use β1 = ``momentum`` from the next step on (``OneCycleLR`` and ``CyclicLR`` cycle
        Adam's β1; as ``torch.optim.Adam``, the bias correction uses the current β1)."""
        self.beta1 = float(momentum)
        self._constants["beta1"][()] = self.beta1
        self._constants["one_minus_beta1"][()] = 1.0 - self.beta1

    def update(self, weights, grad, lr, live):
        grad = self._decayed(weights, grad)
        where = True if live is None else live[:, None]
        self.steps += 1
        # numpy's vectorized power rounds differently from Python's in the last bit now and
        # then; a one-element array keeps the bias correction what it always was.
        t = np.array([float(self.steps)])
        m, v = self.m, self.v
        shape = m.shape
        c = self._constants
        # m <- beta1 m + (1 - beta1) g ; v <- beta2 v + (1 - beta2) g g
        part = np.multiply(c["one_minus_beta1"], grad, out=self._buffer("part", shape))
        np.multiply(c["beta1"], m, out=m, where=where)
        np.add(m, part, out=m, where=where)
        np.multiply(c["one_minus_beta2"], grad, out=part)
        np.multiply(part, grad, out=part)
        np.multiply(c["beta2"], v, out=v, where=where)
        np.add(v, part, out=v, where=where)
        # w <- w - lr m_hat / (sqrt(v_hat) + eps)
        step = np.divide(m, 1.0 - self.beta1**t, out=part)
        np.multiply(_rows(lr), step, out=step)
        denominator = np.divide(v, 1.0 - self.beta2**t, out=self._buffer("denominator", shape))
        np.sqrt(denominator, out=denominator)
        np.add(denominator, c["eps"], out=denominator)
        np.divide(step, denominator, out=step)
        _subtract_from(weights, step, live)

    def keep(self, rows):
        self.m, self.v = self.m[rows], self.v[rows]


def _rows(lr: np.ndarray) -> np.ndarray:
    """Per-run learning rates shaped to multiply (n, dim) arrays."""
    return lr[:, None] if lr.ndim == 1 else lr


def _subtract_from(weights: np.ndarray, step: np.ndarray, live: np.ndarray | None) -> None:
    if live is None:
        np.subtract(weights, step, out=weights)
    else:
        np.subtract(weights, step, out=weights, where=live[:, None])


OPTIMIZERS = ("sgd", "momentum", "nesterov", "adam", *ADAPTIVE_OPTIMIZERS)


class PerRunOptimizers:
    """Each run its own optimizer: ``names[i]`` steps run ``i`` (a hand-picked λ beside
    hypergradient descent and DoG on the same problem, the same minibatches).

    The runs of each optimizer form a group, stepped by one vectorized optimizer of that
    kind. ``lr_in_use`` is the λ each run used at its latest step: what its optimizer chose
    for those that adapt λ, the λ given for the others. ``low_clips`` and ``high_clips``
    count each run's clipped steps (0 for the optimizers without a guard).
    """

    name = "per run"
    adapts_lr = True  # the engine records lr_in_use: right for every group

    def __init__(self, names, dim: int, **options):
        names = [str(n) for n in names]
        self.names = names
        self.runs, self.dim = len(names), dim
        self.groups: list[tuple[str, np.ndarray, Optimizer | AdaptiveOptimizer]] = []
        for name in dict.fromkeys(names):
            rows = np.flatnonzero(np.array(names) == name)
            own = {**options, "hypergrad_lr": hypergrad_lr_for(name, options.get("hypergrad_lr"))}
            self.groups.append((name, rows, make_optimizer(name, rows.size, dim, **own)))
        self.lr_in_use = np.full(self.runs, np.nan)

    def update(self, weights, grad, lr, live):
        for _name, rows, optimizer in self.groups:
            if rows.size == 0:
                continue
            part = weights[rows]
            group_live = None if live is None else live[rows]
            group_lr = lr[rows]
            optimizer.update(part, grad[rows], group_lr, group_live)
            weights[rows] = part
            if getattr(optimizer, "adapts_lr", False):
                self.lr_in_use[rows] = optimizer.lr_in_use
            else:
                given = group_lr if group_lr.ndim == 1 else group_lr[:, 0]
                stepped = rows if group_live is None else rows[group_live]
                self.lr_in_use[stepped] = given if group_live is None else given[group_live]

    def keep(self, rows: np.ndarray) -> None:
        position = np.cumsum(rows) - 1  # each kept run's row from now on
        groups = []
        for name, group_rows, optimizer in self.groups:
            kept = rows[group_rows]
            optimizer.keep(kept)
            groups.append((name, position[group_rows[kept]], optimizer))
        self.groups = groups
        self.lr_in_use = self.lr_in_use[rows]
        self.names = [n for n, k in zip(self.names, rows, strict=True) if k]
        self.runs = len(self.names)

    @property
    def low_clips(self) -> np.ndarray:
        return self._per_run("low_clips")

    @property
    def high_clips(self) -> np.ndarray:
        return self._per_run("high_clips")

    def _per_run(self, attribute: str) -> np.ndarray:
        out = np.zeros(self.runs, dtype=np.int64)
        for _name, rows, optimizer in self.groups:
            values = getattr(optimizer, attribute, None)
            if values is not None and rows.size:
                out[rows] = values
        return out


def hypergrad_lr_for(name: str, hypergrad_lr):
    """β for optimizer ``name`` from one β for all, or a {optimizer: β} mapping (the paper
    used a different β for SGD-HD and Adam-HD); None: the optimizer's default."""
    if isinstance(hypergrad_lr, dict):
        return hypergrad_lr.get(name)
    return hypergrad_lr


def make_optimizer(name, runs: int, dim: int, **options):
    """Build optimizer ``name`` for ``runs`` x ``dim`` parameters (a list of ``runs`` names:
    each run its own, :class:`PerRunOptimizers`).

    Options: ``momentum`` (momentum, nesterov, sgdn-hd), ``beta1``, ``beta2``, ``eps`` (adam,
    adam-hd), ``weight_decay`` (all); for the optimizers that adapt their own λ
    (:mod:`lrviz.adaptive_lr`), also ``hypergrad_lr`` and the rest
    :func:`~lrviz.adaptive_lr.make_adaptive_optimizer` takes. Options that do not apply are
    ignored.
    """
    if not isinstance(name, str):
        names = list(name)
        if len(names) != runs:
            raise ValueError(f"{len(names)} optimizers for {runs} runs: give one per run")
        return PerRunOptimizers(names, dim, **options)
    if name in ADAPTIVE_OPTIMIZERS:
        return make_adaptive_optimizer(name, runs, dim, **options)
    wd = options.get("weight_decay") or 0.0
    if name == "sgd":
        return Optimizer(runs, dim, weight_decay=wd)
    if name in ("momentum", "nesterov"):
        mu = options.get("momentum")
        return Momentum(
            runs,
            dim,
            momentum=0.9 if mu is None else mu,
            nesterov=name == "nesterov",
            weight_decay=wd,
        )
    if name == "adam":
        kw = {k: options[k] for k in ("beta1", "beta2", "eps") if options.get(k) is not None}
        return Adam(runs, dim, weight_decay=wd, **kw)
    raise ValueError(f"unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZERS)}")

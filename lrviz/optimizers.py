"""Optimizers with PyTorch's update rules, vectorized across R runs.

Every optimizer updates an (R, dim) weight array in place for the rows it is given; the
learning rate is an (R,) array so each run may have its own (and a schedule may change it).
"""

from __future__ import annotations

import numpy as np


class Optimizer:
    """Base: plain SGD, ``w <- w - lr * g`` (``torch.optim.SGD`` with momentum 0)."""

    name = "sgd"

    def __init__(self, runs: int, dim: int, weight_decay: float = 0.0):
        self.runs = runs
        self.dim = dim
        self.weight_decay = float(weight_decay)

    def _decayed(self, weights: np.ndarray, grad: np.ndarray) -> np.ndarray:
        if self.weight_decay:
            return grad + self.weight_decay * weights
        return grad

    def step(self, weights: np.ndarray, grad: np.ndarray, lr: np.ndarray) -> np.ndarray:
        """Return the updated weights for these rows.

        Parameters
        ----------
        weights, grad : ndarray (n, dim)
            The rows being updated (a subset of the R runs, see ``rows``).
        lr : ndarray (n,)
        """
        return weights - lr[:, None] * self._decayed(weights, grad)

    def select(self, rows: np.ndarray | slice) -> None:
        """Tell the optimizer which rows of its state the next step concerns."""
        self._rows = rows


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
        self.started = np.zeros(runs, dtype=bool)
        self._rows: np.ndarray | slice = slice(None)
        if nesterov:
            self.name = "nesterov"

    def step(self, weights, grad, lr):
        rows = self._rows
        grad = self._decayed(weights, grad)
        started = self.started[rows]
        buf = np.where(started[:, None], self.momentum * self.buffer[rows] + grad, grad)
        self.buffer[rows] = buf
        self.started[rows] = True
        direction = grad + self.momentum * buf if self.nesterov else buf
        return weights - lr[:, None] * direction


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
        self.t = np.zeros(runs)
        self._rows: np.ndarray | slice = slice(None)

    def step(self, weights, grad, lr):
        rows = self._rows
        grad = self._decayed(weights, grad)
        t = self.t[rows] + 1.0
        self.t[rows] = t
        m = self.beta1 * self.m[rows] + (1.0 - self.beta1) * grad
        v = self.beta2 * self.v[rows] + (1.0 - self.beta2) * grad * grad
        self.m[rows] = m
        self.v[rows] = v
        m_hat = m / (1.0 - self.beta1**t)[:, None]
        v_hat = v / (1.0 - self.beta2**t)[:, None]
        return weights - lr[:, None] * m_hat / (np.sqrt(v_hat) + self.eps)


OPTIMIZERS = ("sgd", "momentum", "nesterov", "adam")


def make_optimizer(name: str, runs: int, dim: int, **options) -> Optimizer:
    """Build optimizer ``name`` for ``runs`` x ``dim`` parameters.

    Options: ``momentum`` (momentum, nesterov), ``beta1``, ``beta2``, ``eps`` (adam),
    ``weight_decay`` (all). Options that do not apply are ignored.
    """
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

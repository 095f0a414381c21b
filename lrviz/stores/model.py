"""How a store's trials and runs are put into lrviz's model (``LogData`` → ``Run`` → ``Series``).

A trial (Optuna) or run (MLflow) becomes one :class:`~lrviz.loaders.model.Run`:

- ``params`` holds the hyperparameters as the store has them, ``params["lr"]`` the λ (found
  under ``lr``, ``learning_rate``, ``lr_init``, ... or the key the caller chose), and these
  entries describing the trial itself:

  ``state``
      ``"complete"``, ``"pruned"``, ``"failed"``, ``"running"``, ``"waiting"`` or ``"killed"``.
  ``diverged``
      True for pruned and failed trials: they are drawn and weighed like runs whose loss
      diverged (their last loss is not a result to compare λ by). Logs mark divergence with a
      non-finite loss; a store says it in the trial's state, and no point is invented for it.
  ``value`` / ``value_0``, ``value_1``, ...
      The objective value(s) of an Optuna trial, when it has them.
  ``trial``, ``study`` (Optuna) / ``run_id``, ``experiment`` (MLflow)
      Where the run comes from.

  A hyperparameter that has one of these names (or ``lr`` while λ is another key) is kept
  under ``params.<name>``.
- the series are the learning curve(s): Optuna's intermediate values (step → value), MLflow's
  metric histories (step → value, plus the wall time of each step).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from lrviz.loaders.model import LogData, Run

#: :attr:`LogData.format` of a store.
STORE_FORMATS = ("optuna", "mlflow")
#: Every value ``params["state"]`` can take.
STATES = ("complete", "pruned", "failed", "running", "waiting", "killed")
#: States drawn like diverged runs (``params["diverged"]`` is True).
DIVERGED_STATES = ("pruned", "failed")
#: Names lrviz sets in ``params``; a hyperparameter called so moves to ``params.<name>``.
RESERVED = ("lr", "state", "diverged", "value", "trial", "study", "run_id", "experiment")
_VALUE_KEY = re.compile(r"^value_\d+$")

#: Keys λ is looked for under, most likely first (the last component of a nested key counts).
LR_KEYS = (
    "lr",
    "learning_rate",
    "learning-rate",
    "lr_init",
    "init_lr",
    "initial_lr",
    "learning_rate_init",
    "initial_learning_rate",
    "base_lr",
    "lr0",
    "max_lr",
    "peak_lr",
)


@dataclass
class StoreData(LogData):
    """What :func:`lrviz.stores.open_store` returns: a :class:`LogData` of format ``optuna`` or
    ``mlflow``.

    Parameters
    ----------
    studies : list of str
        Every study (Optuna) or active experiment (MLflow) the store holds.
    study : str, optional
        The one the runs come from; None when they come from all of them (run names are then
        prefixed with the study's name).
    """

    studies: list[str] = field(default_factory=list)
    study: str | None = None

    def __post_init__(self) -> None:
        # LogData checks its format against the log formats only; a store has its own.
        if self.format not in STORE_FORMATS:
            raise ValueError(f"unknown store format {self.format!r}")


@dataclass(frozen=True)
class StudyInfo:
    """One study (Optuna) or experiment (MLflow) of a store, as offered to pick from."""

    name: str
    runs: int


def as_number(value) -> float | None:
    """A finite number from a parameter value (MLflow keeps them as text), or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        v = float(value)
    elif isinstance(value, str):
        try:
            v = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return v if math.isfinite(v) else None


_INT = re.compile(r"^[+-]?\d+$")


def text_param(text: str):
    """A parameter MLflow stored as text, read back as the number or flag it was when logged:
    ``"32"`` -> 32, ``"0.001"`` -> 0.001, ``"True"`` -> True; other text stays text."""
    s = text.strip()
    if _INT.match(s):
        return int(s)
    if s in ("True", "False"):
        return s == "True"
    try:
        return float(s)
    except ValueError:
        return text


def find_lr_key(params: dict, chosen: str | None = None) -> str | None:
    """The key holding λ among a trial's hyperparameters, or None.

    Parameters
    ----------
    params : dict
        The hyperparameters as stored (before :func:`run_params` adds anything).
    chosen : str, optional
        The key the user picked; it is used when present with a number, and no other key is
        guessed.

    Returns
    -------
    str or None
        ``chosen``, else the least nested key whose last component is one of :data:`LR_KEYS`
        (``config/lr``, ``optimizer.lr``), earliest in that list on ties.
    """
    if chosen is not None:
        return chosen if as_number(params.get(chosen)) is not None else None
    best = None
    for key, value in params.items():
        parts = re.split(r"[./:]", str(key).lower())
        if parts[-1] not in LR_KEYS or as_number(value) is None:
            continue
        rank = (len(parts), LR_KEYS.index(parts[-1]), str(key))
        if best is None or rank < best[0]:
            best = (rank, key)
    return None if best is None else best[1]


def _reserved(key: str) -> bool:
    return key in RESERVED or bool(_VALUE_KEY.match(key))


def run_params(hyper: dict, meta: dict, lr_param: str | None = None) -> dict:
    """A run's ``params``: the hyperparameters, ``lr`` (λ as a float) and the trial's ``meta``.

    Parameters
    ----------
    hyper : dict
        Hyperparameters as stored.
    meta : dict
        Entries lrviz sets (``state``, ``diverged``, ``trial``...; see the module docstring).
    lr_param : str, optional
        The key holding λ (see :func:`find_lr_key`).
    """
    key = find_lr_key(hyper, lr_param)
    out: dict = {}
    for k, v in hyper.items():
        name = str(k)
        if _reserved(name) and not (name == "lr" and key == "lr"):
            name = f"params.{name}"
        out[name] = v
    if key is not None:
        out["lr"] = as_number(hyper[key])
    out.update(meta)
    return out


def diverged(state: str) -> bool:
    """True for the states drawn like diverged runs."""
    return state in DIVERGED_STATES


def sort_runs(runs: dict) -> list[Run]:
    """Runs of ``{key: (order, run)}`` in store order."""
    return [run for _, run in sorted(runs.values(), key=lambda item: item[0])]

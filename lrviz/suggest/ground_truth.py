"""Real ground truth for suggestions: range-test curves paired with trained sweeps.

A *truth set* (``shared/lr_truth``, vendored in ``tests/fixtures/lr_truth``) holds range-test
curves recorded by torch-lr-finder, Lightning and fastai, and for each training setup (a
*case*) the seed-mean final validation loss of training at 25 constant learning rates. This
module reads it and scores a suggested lr against it, with the definitions of the advice
benchmark (issue 7), which must match exactly:

- error = ``|log10(s / best_lr)|``, 6 when there is no suggestion; a *hit* is error <= log10 3;
- regret = ``val_loss(s) / best_val_loss - 1``, val_loss interpolated linearly in log lr on
  the sweep's seed-mean final val loss; the untrained model's regret when ``s`` is at or
  above ``diverged_lr_min``, or next to a diverged grid lr above the best (or missing).
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: error for a curve with no suggestion (decades)
NO_SUGGESTION_ERROR = 6.0
HIT_DECADES = math.log10(3.0)
REGRET_HIT = 0.25
#: the truth set's library names -> lrviz's source names
SOURCE_OF_LIBRARY = {
    "torch_lr_finder": "torch-lr-finder",
    "lightning": "lightning",
    "fastai": "fastai",
}


@dataclass(frozen=True)
class Sweep:
    """Constant-lr training results of one case: seed-mean final val loss per lr."""

    lr: np.ndarray
    val_loss: np.ndarray
    diverged: np.ndarray  # bool per lr: any seed diverged
    best_lr: float
    best_val_loss: float
    untrained_val_loss: float
    diverged_lr_min: float | None

    def regret(self, s: float | None) -> float:
        """Regret of training at ``s`` (see the module docstring)."""
        worst = self.untrained_val_loss / self.best_val_loss - 1.0
        if s is None or not (math.isfinite(s) and s > 0):
            return worst
        if self.diverged_lr_min is not None and s >= self.diverged_lr_min * (1 - 1e-9):
            return worst
        x = np.log10(self.lr)
        xs = min(max(math.log10(s), float(x[0])), float(x[-1]))
        right = int(np.searchsorted(x, xs))
        right = min(right, x.size - 1)
        left = right if xs == x[right] else max(right - 1, 0)
        for i in {left, right}:
            if self.diverged[i] and self.lr[i] > self.best_lr:
                return worst
        value = float(np.interp(xs, x, self.val_loss))
        if not math.isfinite(value):
            return worst
        return value / self.best_val_loss - 1.0


@dataclass(frozen=True)
class TruthCurve:
    """One range-test curve with its case's ground truth."""

    name: str
    case: str
    library: str  # "torch_lr_finder", "lightning" or "fastai"
    lr: np.ndarray
    loss: np.ndarray  # as the library saved it (smoothed)
    num_it: int | None
    best_lr: float
    good_range: tuple[float, float]
    diverged_lr_min: float | None
    sweep: Sweep
    recorded_rules: dict  # the truth set's own anchor suggestions (lr per rule)
    sweep_file: str = ""  # the case's seed-mean sweep CSV

    @property
    def source(self) -> str:
        return SOURCE_OF_LIBRARY[self.library]

    def error(self, s: float | None) -> float:
        if s is None or not (math.isfinite(s) and s > 0):
            return NO_SUGGESTION_ERROR
        return abs(math.log10(s / self.best_lr))

    def regret(self, s: float | None) -> float:
        return self.sweep.regret(s)


def default_truth_dir() -> Path:
    """``../shared/lr_truth`` next to the checkout if there, else the vendored copy."""
    root = Path(__file__).resolve().parents[2]
    shared = root.parent / "shared" / "lr_truth"
    return shared if (shared / "truth.json").is_file() else root / "tests" / "fixtures" / "lr_truth"


def load_truth(folder: str | Path | None = None) -> list[TruthCurve]:
    """Every curve of a truth set, in truth.json's order."""
    folder = Path(folder) if folder is not None else default_truth_dir()
    meta = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
    sweeps = {name: _read_sweep(folder, case) for name, case in meta["cases"].items()}
    out = []
    for name, c in meta["curves"].items():
        lr, loss = _read_curve(folder / c["file"])
        out.append(
            TruthCurve(
                name=name,
                case=c["case"],
                library=c["library"],
                lr=lr,
                loss=loss,
                num_it=c.get("num_it_for_fastai_trim"),
                best_lr=float(c["best_lr"]),
                good_range=tuple(c["good_range_25pct"]),
                diverged_lr_min=c["diverged_lr_min"],
                sweep=sweeps[c["case"]],
                recorded_rules={k: v["lr"] for k, v in c["anchors"].items()},
                sweep_file=str(folder / meta["cases"][c["case"]]["sweep_files"][0]),
            )
        )
    return out


def _read_curve(path: Path) -> tuple[np.ndarray, np.ndarray]:
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    lr = np.array([float(r["lr"]) for r in rows])
    loss = np.array([float(r["loss"]) for r in rows])
    return lr, loss


def _read_sweep(folder: Path, case: dict) -> Sweep:
    path = folder / case["sweep_files"][0]
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return Sweep(
        lr=np.array([float(r["lr"]) for r in rows]),
        val_loss=np.array([float(r["final_val_loss"]) for r in rows]),
        diverged=np.array([r["diverged"].strip() == "True" for r in rows]),
        best_lr=float(case["best_lr"]),
        best_val_loss=float(case["best_final_val_loss"]),
        untrained_val_loss=float(case["initial_val_loss_mean"]),
        diverged_lr_min=case["diverged_lr_min"],
    )

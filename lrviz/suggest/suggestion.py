"""The assembled result of reading a range-test curve: :class:`Suggestion` and its markers."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from lrviz.suggest.anchors import METHODS

#: Rules for the bottom of the recommended range.
RANGE_RULES = ("start", "third", "fourth")

LABELS = {
    "suggested": "suggested lr",
    "start": "loss starts to improve",
    "jumpy": "loss starts to jump",
    "stops_improving": "loss stops improving",
    "max": "max lr",
    "steepest": "steepest descent",
    "valley": "valley (fastai)",
    "minimum": "minimum / 10",
    "slide": "slide (fastai)",
}


@dataclass(frozen=True)
class Marker:
    """A point to draw on the loss-vs-lr plot.

    ``name`` is ``"suggested"``, ``"start"``, ``"jumpy"``, ``"stops_improving"``, ``"max"`` or
    one of :data:`METHODS`; ``label`` a short human label; ``loss`` the height of the smoothed
    curve (:attr:`Suggestion.curve_loss`) at ``lr``.
    """

    name: str
    label: str
    lr: float
    loss: float


@dataclass(frozen=True)
class Suggestion:
    """What a range-test curve says about the learning rate.

    Attributes
    ----------
    suggested_lr : float or None
        The one constant lr lrviz recommends (:mod:`lrviz.suggest.best_lr` says how). None
        when the curve cannot say (flat, never improved, too few points where it falls).
    min_lr, max_lr : float or None
        The recommended range for a cyclical or one-cycle schedule:
        ``min_lr < suggested_lr < max_lr``; ``max_lr`` stays below where training diverges.
    likely_best : tuple of float or None
        "The best constant lr is likely between a and b": the band around the suggestion
        that held the measured best lr on most real curves (coverage in docs/benchmarks.md).
    why : str
        One sentence: why this lr.
    source : str
        Which library's saved smoothing was undone (``"raw"``: none).
    start_lr, stops_improving_lr, jumpy_lr : float or None
        Where the loss starts to improve, stops improving (enters the bottom), and where the
        raw loss starts to jump (the reading's anchor).
    methods : dict
        ``{"steepest", "valley", "minimum", "slide"}`` read off lrviz's cleaned curve.
    library_rules : dict
        The libraries' own rules on the curve as saved (:data:`anchors.LIBRARY_RULES`).
    confidence : str
        ``"high"``, ``"medium"`` or ``"low"``.
    warnings : list of str
        Why confidence is not high, one sentence each, saying what to rerun.
    range_rule : str
        How ``min_lr`` was chosen: ``"start"``, ``"third"`` (max/3) or ``"fourth"`` (max/4),
        never above half the suggestion.
    lr_at_min_loss, diverged_lr : float or None
        Where the smoothed loss is lowest; where the curve blew up (None if it did not).
    tested_range : tuple of float or None
        Smallest and largest lr with a finite loss.
    curve_lr, curve_loss : ndarray
        The cleaned, resampled, smoothed curve every number was read from.
    """

    suggested_lr: float | None
    min_lr: float | None
    max_lr: float | None
    start_lr: float | None
    stops_improving_lr: float | None
    methods: dict[str, float | None]
    confidence: str
    warnings: list[str]
    range_rule: str = "start"
    lr_at_min_loss: float | None = None
    diverged_lr: float | None = None
    tested_range: tuple[float, float] | None = None
    likely_best: tuple[float, float] | None = None
    why: str = ""
    source: str = "raw"
    source_reason: str = ""
    jumpy_lr: float | None = None
    library_rules: dict[str, float | None] = field(default_factory=dict)
    curve_lr: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False)
    curve_loss: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False)

    def loss_at(self, lr: float | None) -> float | None:
        """Height of the smoothed curve at ``lr`` (None outside it or without a curve)."""
        if lr is None or self.curve_lr.size == 0 or not lr > 0:
            return None
        x = math.log10(lr)
        grid = np.log10(self.curve_lr)
        if x < grid[0] - 1e-9 or x > grid[-1] + 1e-9:
            return None
        return float(np.interp(x, grid, self.curve_loss))

    def markers(self) -> list[Marker]:
        """Every suggestion that has a value, as a named point on the smoothed curve."""
        values = {
            "suggested": self.suggested_lr,
            "start": self.start_lr,
            "jumpy": self.jumpy_lr,
            "stops_improving": self.stops_improving_lr,
            "max": self.max_lr,
            **self.methods,
        }
        out = []
        for name, lr in values.items():
            loss = self.loss_at(lr)
            if lr is not None and loss is not None:
                out.append(Marker(name, LABELS[name], lr, loss))
        return out

    def to_dict(self) -> dict:
        """JSON-ready summary (no NaN: missing numbers are None)."""
        return {
            "suggested_lr": self.suggested_lr,
            "min_lr": self.min_lr,
            "max_lr": self.max_lr,
            "likely_best": None if self.likely_best is None else list(self.likely_best),
            "why": self.why,
            "source": self.source,
            "source_reason": self.source_reason,
            "start_lr": self.start_lr,
            "stops_improving_lr": self.stops_improving_lr,
            "jumpy_lr": self.jumpy_lr,
            "lr_at_min_loss": self.lr_at_min_loss,
            "methods": dict(self.methods),
            "library_rules": dict(self.library_rules),
            "confidence": self.confidence,
            "warnings": list(self.warnings),
            "range_rule": self.range_rule,
            "diverged_lr": self.diverged_lr,
            "tested_range": None if self.tested_range is None else list(self.tested_range),
        }


def empty_methods() -> dict[str, float | None]:
    return dict.fromkeys(METHODS)

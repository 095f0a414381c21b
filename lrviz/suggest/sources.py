"""Where a range-test curve came from, and how to undo the smoothing its library saved.

The three LR finders save a *smoothed* training loss, each in its own way (checked against
their code: torch-lr-finder 0.2.2, Lightning 2.6.6, fastai 2.8.12):

- **torch-lr-finder**: an EMA *without* bias correction started at the first raw loss,
  ``loss[0] = raw[0]``, ``loss[i] = smooth_f * raw[i] + (1 - smooth_f) * loss[i-1]`` with
  ``smooth_f = 0.05``;
- **Lightning** (``Tuner.lr_find``): ``avg = 0.98 avg + 0.02 raw``, ``loss = avg / (1 - 0.98 **
  (step + 1))`` with the step already 1 at the first batch, so the first point is about half
  the raw loss;
- **fastai** (``AvgSmoothLoss``): the same EMA debiased with ``1 - 0.98 ** n`` from ``n = 1``,
  so the first point is the raw loss;
- **raw**: lrviz's own range tests and hand-rolled loops record the loss as it was.

Every weight lives here under one name. :func:`undo_smoothing` recovers the raw losses
exactly (in recorded order) and :func:`detect_source` tells the source from what a file says:
its name, then the signature the smoothing leaves at the start of the curve.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: The sources ``suggest --source`` accepts, in the order the app lists them.
SOURCES = ("torch-lr-finder", "lightning", "fastai", "raw")

#: torch-lr-finder's ``smooth_f``: weight of the *new* loss in its EMA.
TORCH_LR_FINDER_SMOOTH_F = 0.05
#: fastai's and Lightning's EMA weight (of the running average): ``beta = 0.98``.
FINDER_BETA = 0.98
#: Back-compatible name: the EMA weight fastai and Lightning save their finder's loss with.
FINDER_SMOOTHING = FINDER_BETA

#: Lightning's first point divided by the next few: about 0.5 (its debias starts at step 2);
#: below this the curve carries Lightning's signature.
LIGHTNING_FIRST_POINT_RATIO = 0.8
#: fastai's debiased EMA moves its first points half-way to each new raw loss, so they jump
#: ~25x more than the later points; torch-lr-finder's first points move 5% like the rest.
#: Mean |step| of the first 3 steps over the median |step| of steps 5-25: above this, fastai.
FASTAI_EARLY_JUMP_RATIO = 2.75


@dataclass(frozen=True)
class Smoothing:
    """An EMA ``avg = weight * avg + (1 - weight) * raw``.

    ``debias_from`` is the exponent of the first bias correction ``1 - weight ** k`` (1 for
    fastai, 2 for Lightning), None for torch-lr-finder's un-debiased EMA started at raw[0].
    """

    weight: float
    debias_from: int | None


#: How each source smoothed its losses (None: not at all).
SMOOTHING: dict[str, Smoothing | None] = {
    "torch-lr-finder": Smoothing(1.0 - TORCH_LR_FINDER_SMOOTH_F, None),
    "lightning": Smoothing(FINDER_BETA, 2),
    "fastai": Smoothing(FINDER_BETA, 1),
    "raw": None,
}

#: Words in a file's path that name its source (lower-case).
_NAME_HINTS = {
    "torch-lr-finder": ("torch_lr_finder", "torch-lr-finder", "lrfinder", "tlf"),
    "lightning": ("lightning", "lr_find_lightning", "pl_lr_find"),
    "fastai": ("fastai",),
}


@dataclass(frozen=True)
class SourceGuess:
    """The assumed source and, in a few words, why (for the JSON and the app)."""

    source: str
    reason: str


def undo_smoothing(loss, source: str) -> np.ndarray:
    """The raw losses behind a curve saved by ``source``, in recorded (iteration) order.

    Exact on the finite prefix (a finder's EMA turns NaN at the first non-finite loss and
    stays so); values after it are returned unchanged.
    """
    if source not in SMOOTHING:
        raise ValueError(f"source must be one of {', '.join(SOURCES)}, got {source!r}")
    out = np.array(loss, dtype=np.float64).ravel()
    smoothing = SMOOTHING[source]
    bad = np.flatnonzero(~np.isfinite(out))
    end = int(bad[0]) if bad.size else out.size
    if smoothing is None or end < 2:
        return out
    w = smoothing.weight
    s = out[:end]
    with np.errstate(all="ignore"):  # losses near the float limit overflow to inf: fine
        out[:end] = _undo(s, w, smoothing.debias_from)
    return out


def _undo(s: np.ndarray, w: float, debias_from: int | None) -> np.ndarray:
    end = s.size
    if debias_from is None:
        raw = np.empty(end)
        raw[0] = s[0]
        raw[1:] = (s[1:] - w * s[:-1]) / (1.0 - w)
        return raw
    steps = np.arange(debias_from, debias_from + end)
    average = s * (1.0 - w**steps)
    raw = np.empty(end)
    raw[0] = average[0] / (1.0 - w)
    raw[1:] = (average[1:] - w * average[:-1]) / (1.0 - w)
    return raw


def undo_ema(smoothed, weight: float) -> np.ndarray:
    """The raw values behind a debiased EMA (:func:`lrviz.smoothing.debiased_ema`) of any
    ``weight``: fastai's convention, debiased from the first step. Kept for callers that
    know a weight, not a source."""
    out = np.array(smoothed, dtype=np.float64).ravel()
    if weight == 0:
        return out
    bad = np.flatnonzero(~np.isfinite(out))
    end = int(bad[0]) if bad.size else out.size
    if end < 2:
        return out
    with np.errstate(all="ignore"):
        out[:end] = _undo(out[:end], weight, 1)
    return out


def _plausible(loss: np.ndarray, source: str) -> bool:
    """Undoing ``source``'s smoothing keeps a non-negative loss non-negative.

    Undoing an EMA the losses never had multiplies their noise 20-50 times and drives some
    of them below zero; the right source gives back losses as positive as the saved ones.
    """
    finite = loss[np.isfinite(loss)]
    if finite.size < 3 or np.any(finite < 0):
        return source == "raw"
    raw = undo_smoothing(loss, source)
    return bool(np.all(raw[np.isfinite(raw)] >= 0))


def _signature(loss: np.ndarray) -> str | None:
    """The source whose smoothing the start of the curve shows, or None if it shows none."""
    finite = loss[np.isfinite(loss)]
    if finite.size < 26 or np.any(finite <= 0):
        return None
    following = float(np.median(finite[1:4]))
    if finite[0] < LIGHTNING_FIRST_POINT_RATIO * following:
        return "lightning"
    with np.errstate(all="ignore"):
        early = float(np.mean(np.abs(np.diff(finite[:4]))))
        later = float(np.median(np.abs(np.diff(finite[5:26]))))
    if not (later > 0 and np.isfinite(early) and np.isfinite(later)):
        return None
    return "fastai" if early / later > FASTAI_EARLY_JUMP_RATIO else "torch-lr-finder"


def detect_source(loss, path: str | Path | None = None, log_format: str | None = None):
    """Which library saved this curve, from what the file says.

    1. the file's name (``…lightning…``, ``…fastai…``, ``…torch_lr_finder…``), if undoing that
       library's smoothing gives plausible losses;
    2. otherwise, for an LR-finder CSV (``log_format == "lr-finder-csv"``), the signature the
       smoothing leaves at the start (Lightning's half-height first point, fastai's large early
       steps, torch-lr-finder's steady ones), if plausible;
    3. otherwise raw.

    ``loss`` is in recorded order. Returns a :class:`SourceGuess`.
    """
    y = np.asarray(loss, dtype=np.float64).ravel()
    if path is not None:
        name = Path(path).name.lower()
        for source, words in _NAME_HINTS.items():
            if any(word in name for word in words):
                if _plausible(y, source):
                    return SourceGuess(source, f"the file name says {source}")
                return SourceGuess(
                    "raw",
                    f"the file name says {source}, but undoing its smoothing gives negative "
                    "losses, so the losses are read as raw",
                )
    if log_format not in (None, "lr-finder-csv"):
        return SourceGuess("raw", "a training log, not an LR-finder file: raw losses")
    if log_format is None:
        return SourceGuess("raw", "no source stated: raw losses")
    signature = _signature(y)
    if signature is not None and _plausible(y, signature):
        return SourceGuess(signature, f"the start of the curve shows {signature}'s smoothing")
    # No clear signature: fastai's and Lightning's common EMA, when plausible.
    if _plausible(y, "fastai"):
        return SourceGuess("fastai", "smoothed like fastai (the curve is too short to tell more)")
    return SourceGuess("raw", "the losses do not look smoothed: raw")


def input_smoothing_for(log_format: str | None, loss: np.ndarray | None = None) -> float:
    """The fastai-style EMA weight to undo before reading a saved curve (0 for raw).

    Kept for callers that pass a weight; new code asks :func:`detect_source` for a source.
    """
    if log_format != "lr-finder-csv":
        return 0.0
    if loss is None:
        return FINDER_SMOOTHING
    guess = detect_source(loss, log_format=log_format)
    smoothing = SMOOTHING[guess.source]
    return 0.0 if smoothing is None else smoothing.weight

"""Suggested learning rates from an LR range-test curve (loss against lr).

One place for the rules:

- :mod:`~lrviz.suggest.sources`: where a curve came from (torch-lr-finder, Lightning, fastai,
  raw) and how to undo the smoothing each library saved; every smoothing weight lives there;
- :mod:`~lrviz.suggest.clean`: cleaning, resampling and lag-free smoothing of the curve;
- :mod:`~lrviz.suggest.anchors`: the libraries' own rules, in one registry;
- :mod:`~lrviz.suggest.best_lr`: lrviz's reading, where the best constant lr sits, with its
  cross-validated constants;
- :mod:`~lrviz.suggest.reading`: :func:`suggest`, assembling the :class:`Suggestion`;
- :mod:`~lrviz.suggest.pairing`: pairing lr with loss from a loaded log (the CLI and the app
  both call it);
- :mod:`~lrviz.suggest.check_run` and :mod:`~lrviz.suggest.refine`: closing the loop, a
  ready-to-run check over the likely band, and the refined suggestion from its logs.
"""

from lrviz.suggest.anchors import LIBRARY_RULES, METHODS, library_rules
from lrviz.suggest.best_lr import DEFAULT, Constants
from lrviz.suggest.reading import assemble, prepare, read_suggestion, suggest
from lrviz.suggest.sources import (
    FINDER_SMOOTHING,
    SOURCES,
    SourceGuess,
    detect_source,
    input_smoothing_for,
    undo_ema,
    undo_smoothing,
)
from lrviz.suggest.suggestion import RANGE_RULES, Marker, Suggestion

__all__ = [
    "DEFAULT",
    "FINDER_SMOOTHING",
    "LIBRARY_RULES",
    "METHODS",
    "RANGE_RULES",
    "SOURCES",
    "Constants",
    "Marker",
    "SourceGuess",
    "Suggestion",
    "assemble",
    "detect_source",
    "input_smoothing_for",
    "library_rules",
    "prepare",
    "read_suggestion",
    "suggest",
    "undo_ema",
    "undo_smoothing",
]

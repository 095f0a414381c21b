"""Run names from file paths."""

from __future__ import annotations

import os

#: File names that say nothing about the run: the run is named after their folder.
GENERIC_FILES = {
    "metrics.csv",
    "progress.csv",
    "history.csv",
    "results.csv",
    "log.csv",
    "training.log",
    "trainer_state.json",
    "metrics.json",
    "scalars.json",
    "result.json",
}


def run_name(path: str) -> str:
    """``version_3`` for ``.../version_3/metrics.csv``; the file stem otherwise."""
    base = os.path.basename(path)
    if base.lower() in GENERIC_FILES or base.startswith("events.out.tfevents"):
        folder = os.path.dirname(os.path.abspath(path))
        parent = os.path.basename(folder)
        if parent == "vis_data":  # MMEngine: <work_dir>/<timestamp>/vis_data/scalars.json
            parent = os.path.basename(os.path.dirname(folder)) or parent
        return parent or os.path.splitext(base)[0]
    stem, ext = os.path.splitext(base)
    if ext.lower() == ".json" and stem.endswith(".log"):
        stem = stem[:-4]
    return stem

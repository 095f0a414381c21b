"""Run names from file paths."""

from __future__ import annotations

import os
import re

#: Folders a trainer saves copies of a run's state in (Hugging Face ``checkpoint-600``): a
#: run in one is named after the run's folder too.
CHECKPOINT_FOLDER = re.compile(r"checkpoint-\d+")

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
    """``version_3`` for ``.../version_3/metrics.csv``; ``out/checkpoint-600`` for
    ``.../out/checkpoint-600/trainer_state.json`` (every checkpoint is called that); the
    file stem otherwise."""
    base = os.path.basename(path)
    if base.lower() in GENERIC_FILES or base.startswith("events.out.tfevents"):
        folder = os.path.dirname(os.path.abspath(path))
        parent = os.path.basename(folder)
        if parent == "vis_data":  # MMEngine: <work_dir>/<timestamp>/vis_data/scalars.json
            parent = os.path.basename(os.path.dirname(folder)) or parent
        elif CHECKPOINT_FOLDER.fullmatch(parent):
            run = os.path.basename(os.path.dirname(folder))
            parent = f"{run}/{parent}" if run else parent
        return parent or os.path.splitext(base)[0]
    stem, ext = os.path.splitext(base)
    if ext.lower() == ".json" and stem.endswith(".log"):
        stem = stem[:-4]
    return stem

"""OpenMMLab logs: MMEngine ``vis_data/scalars.json`` and MMCV 1.x ``<timestamp>.log.json``.

MMEngine (JSON lines): training lines carry ``iter`` and ``step`` (the global iteration);
validation lines carry only metrics and ``step``, which is the epoch for epoch-based runners.
MMCV 1.x: a first line of run metadata (``env_info``, ``config``), then lines with ``mode``
(``train``/``val``), ``epoch`` and ``iter`` restarting every epoch; ``lr`` may be a dict per
parameter group; some values are strings.
"""

from __future__ import annotations

import re

import numpy as np

from lrviz.loaders.model import ColumnMapping, LogData, Run
from lrviz.loaders.naming import run_name
from lrviz.loaders.records import RecordColumns
from lrviz.loaders.registry import FileFormat
from lrviz.loaders.tabular import table_run

MMENGINE_FORMAT = "mmengine-json"
MMCV_FORMAT = "mmcv-json"
_ROLES = {"time": "other", "data_time": "other", "memory": "other", "eta": "other"}
_CONFIG_LR = re.compile(r"optimizer\s*=\s*dict\([^)]*?\blr\s*=\s*([0-9.eE+-]+)")


def matches_mmcv(records: list[dict]) -> bool:
    return any("mode" in r and ("iter" in r or "epoch" in r) for r in records) or any(
        "env_info" in r for r in records[:1]
    )


def matches_mmengine(records: list[dict]) -> bool:
    return any("step" in r for r in records)


def _merge(runs: list[Run], name: str, path: str) -> Run:
    out = Run(name=name, source=path)
    taken = set()
    for r in runs:
        for s in r.series:
            if s.name in taken:
                s.name = f"val/{s.name}"
            taken.add(s.name)
            out.series.append(s)
        out.params.update(r.params)
        for role, col in r.main.items():
            out.main.setdefault(role, col)
    return out


#: String values the MMCV reader needs (which rows are training rows).
KEEP_STRINGS = ("mode",)


def build_mmengine(
    records: RecordColumns, path: str, mapping: ColumnMapping | None = None
) -> LogData:
    train = records.has_key("iter")
    val = ~train
    epoch_based = bool((records.has_key("epoch") & train).any())
    parts = []
    if train.any():
        parts.append(
            table_run(
                records.table(train),
                "train",
                x="step",
                x_axis="step",
                roles=dict(_ROLES),
                mapping=mapping,
                skip=("iter",),
                source=path,
            )
        )
    if val.any():
        parts.append(
            table_run(
                records.table(val),
                "val",
                x="step",
                x_axis="epoch" if epoch_based else "step",
                roles=dict(_ROLES),
                mapping=mapping,
                source=path,
            )
        )
    return LogData(MMENGINE_FORMAT, [_merge(parts, run_name(path), path)], path)


def _mmcv_params(meta: dict) -> dict:
    params = {}
    config = meta.get("config")
    if isinstance(config, str):
        m = _CONFIG_LR.search(config)
        if m:
            try:
                params["lr"] = float(m.group(1))
            except ValueError:
                pass
    if isinstance(meta.get("seed"), int):
        params["seed"] = meta["seed"]
    return params


def global_iterations(epochs: np.ndarray, iters: np.ndarray) -> np.ndarray:
    """Global iteration numbers from per-epoch ``iter`` counters.

    Iterations per epoch are taken as the largest ``iter`` logged in a completed epoch (as
    MMCV's own ``analyze_logs`` does); with a single epoch, ``iter`` is used as is.
    """
    finite = np.isfinite(epochs) & np.isfinite(iters)
    e = epochs[finite]
    if e.size == 0:
        return iters
    last_epoch = e.max()
    completed = finite & (epochs < last_epoch)
    per_epoch = float(iters[completed].max()) if completed.any() else 0.0
    with np.errstate(over="ignore", invalid="ignore"):  # absurd counters: inf, dropped as x
        return (epochs - epochs[finite].min()) * per_epoch + iters


def build_mmcv(records: RecordColumns, path: str, mapping: ColumnMapping | None = None) -> LogData:
    params = {}
    for r in records.head:
        if "env_info" in r or "config" in r:
            params.update(_mmcv_params(r))
    meta = records.has_key("env_info") | records.has_key("config")
    modes = records.strings("mode")
    is_train = np.array([m == "train" for m in modes], dtype=bool).reshape(-1)
    train = is_train & ~meta
    val = ~is_train & ~meta
    parts = []
    if train.any():
        table = records.table(train)
        epochs = table.values.get("epoch")
        iters = table.values.get("iter")
        x_values = None
        if epochs is not None and iters is not None:
            x_values = global_iterations(epochs, iters)
        parts.append(
            table_run(
                table,
                "train",
                x="iter",
                x_axis="step",
                x_values=x_values,
                roles=dict(_ROLES),
                skip=("iter",),
                mapping=mapping,
                source=path,
            )
        )
    if val.any():
        parts.append(
            table_run(
                records.table(val),
                "val",
                x="epoch",
                x_axis="epoch",
                roles=dict(_ROLES),
                skip=("iter",),
                mapping=mapping,
                source=path,
            )
        )
    run = _merge(parts, run_name(path), path)
    run.params.update(params)
    if run.get("loss") is not None:
        run.main.setdefault("loss", "loss")
    return LogData(MMCV_FORMAT, [run], path)


#: This format, for the registry (lrviz.loaders.registry).
MMENGINE_FILE_FORMAT = FileFormat(MMENGINE_FORMAT, "json-lines", build_mmengine, matches_mmengine)
MMCV_FILE_FORMAT = FileFormat(MMCV_FORMAT, "json-lines", build_mmcv, matches_mmcv)

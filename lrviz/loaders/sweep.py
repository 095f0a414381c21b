"""Loss against learning rate across the runs of a sweep."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lrviz.loaders.model import LogData


@dataclass
class SweepTable:
    """One row per run with a known learning rate, sorted by lr.

    Parameters
    ----------
    names : list of str
        Run names.
    lr : ndarray of float64, shape (n,)
    final_loss : ndarray of float64, shape (n,)
        The last logged loss (NaN or inf when the run diverged at the end).
    best_loss : ndarray of float64, shape (n,)
        The smallest finite loss logged (NaN when none was finite).
    """

    names: list[str]
    lr: np.ndarray
    final_loss: np.ndarray
    best_loss: np.ndarray

    def __len__(self) -> int:
        return len(self.names)


def sweep_table(log: LogData, series: str | None = None) -> SweepTable:
    """Loss against λ across runs (trials of a ``sweep-dir``, or any runs with ``lr`` params).

    Parameters
    ----------
    log : LogData
    series : str, optional
        Name of the loss series to use in every run; default each run's main loss
        (:meth:`Run.find` ``("loss")``).
    """
    rows = []
    for run in log.runs:
        lr = run.params.get("lr")
        if isinstance(lr, bool) or not isinstance(lr, (int, float)):
            continue
        s = run.get(series) if series else run.find("loss")
        if s is None or len(s) == 0:
            final = best = np.nan
        else:
            final = float(s.y[-1])
            finite = s.y[np.isfinite(s.y)]
            best = float(finite.min()) if finite.size else np.nan
        rows.append((float(lr), run.name, final, best))
    rows.sort(key=lambda r: (r[0], r[1]))
    return SweepTable(
        names=[r[1] for r in rows],
        lr=np.array([r[0] for r in rows], dtype=np.float64),
        final_loss=np.array([r[2] for r in rows], dtype=np.float64),
        best_loss=np.array([r[3] for r in rows], dtype=np.float64),
    )

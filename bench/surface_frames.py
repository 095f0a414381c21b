"""What a frame of the loss-surface panel costs while a 2-D simulation streams into it.

    python bench/surface_frames.py          # 4, 64 and 256 runs of Rosenbrock
    python bench/surface_frames.py --quick  # CI: small runs (checks that it runs)

Offscreen, each batch is appended to the run store and the panel redraws and paints
(``refresh`` + ``processEvents``). Baseline, measured in the same run on the same paths: one
pyqtgraph ``PlotDataItem`` per run at 2 px (the panel's first version). ``ratio`` is
baseline time / panel time per frame (above 1: the panel is that much cheaper).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np


def frames(runs: int, iterations: int, baseline: bool) -> list[float]:
    import pyqtgraph as pg
    from PySide6.QtWidgets import QApplication

    from lrviz.run_store import RunStore
    from lrviz.simulation_config import SimulationConfig
    from ui.colors import lr_colors
    from ui.panels.loss_surface import LossSurfacePanel

    app = QApplication.instance() or QApplication([])
    config = SimulationConfig(
        objective="rosenbrock", lrs=np.geomspace(1e-5, 2e-3, runs), iterations=iterations
    )
    simulation = config.build()
    simulation.record_weights = True
    store = RunStore(config.lrs, iterations, envelopes=True, trajectories=True)
    panel = LossSurfacePanel()
    panel.resize(700, 550)
    panel.show()
    panel.show_run(store, simulation.objective)
    items = []
    if baseline:
        view = panel.views[0]
        view.trajectory_item.setVisible(False)
        for color in lr_colors(store.lrs):
            item = pg.PlotDataItem(pen=pg.mkPen(color, width=2), connect="finite")
            view.plot.addItem(item)
            items.append(item)
    costs = []
    for batch in simulation.run(batch_iterations=max(iterations // 20, 1), batch_seconds=60):
        store.append(batch)
        started = time.perf_counter()
        if baseline:
            for i, item in enumerate(items):
                item.setData(*view.clipped(*store.trajectories.path(i)))
        else:
            panel.refresh()
        app.processEvents()
        costs.append(time.perf_counter() - started)
    while panel.surfaces.busy:
        app.processEvents()
    panel.shutdown()
    panel.close()
    return costs


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    scenarios = (
        [(4, 2000), (16, 2000)] if args.quick else [(4, 100_000), (64, 100_000), (256, 20_000)]
    )
    print(f"{'runs':>5} {'iterations':>11} {'panel ms':>9} {'baseline ms':>12} {'ratio':>6}")
    for runs, iterations in scenarios:
        panel = float(np.median(frames(runs, iterations, baseline=False)))
        base = float(np.median(frames(runs, iterations, baseline=True)))
        ratio = base / panel
        print(f"{runs:>5} {iterations:>11,} {1e3 * panel:>9.1f} {1e3 * base:>12.1f} {ratio:>6.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Does the window stay responsive while a long simulation streams into it?

    python bench/ui_latency.py            # 256 λ x 100,000 iterations, 1000 λ x 20,000, and
                                          # opening and panning a 10,000,000-point log
    python bench/ui_latency.py --quick    # CI: small runs (checks that it runs, not timings)
    python bench/ui_latency.py --json     # one object per scenario

The real main window runs offscreen. A 5 ms probe timer measures how late the GUI event loop
serves it (p50 / p99 / max delay); the loss panel's redraws are counted (Hz); the run's
throughput (iterations x runs per second) is compared with the same engine run headless in
this process just before (same config, same machine, same run): ``throughput_vs_headless``
is app time / headless time (1.0 = the window costs nothing).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from lrviz.simulation_config import SimulationConfig

PROBE_MS = 5
SCENARIOS = {
    "256 λ x 100,000 it, quadratic dim 100": (256, 100_000),
    "1000 λ x 20,000 it, quadratic dim 100": (1000, 20_000),
}
QUICK = {
    "64 λ x 5,000 it, quadratic dim 100": (64, 5_000),
    "256 λ x 2,000 it, quadratic dim 100": (256, 2_000),
}
#: (c) of issue 9: rows of the step,lr,loss log opened and panned (full, quick)
LOG_ROWS = (10_000_000, 200_000)
PANS = 10


def config(runs: int, iterations: int) -> SimulationConfig:
    # λ below the stability limit 2/L = 0.2: every run does every iteration.
    return SimulationConfig(
        objective="quadratic",
        optimizer="sgd",
        lrs=np.geomspace(1e-4, 0.15, runs),
        iterations=iterations,
        dim=100,
        curvature=10.0,
        condition=100.0,
        seed=0,
    )


class Probe:
    """A 5 ms timer that records how late the GUI event loop serves it."""

    #: a bench.stall_watch.StallWatch every probe arms (``--stalls``), or None
    watch = None

    def __init__(self) -> None:
        from PySide6.QtCore import QElapsedTimer, QTimer

        self.delays: list[float] = []
        self.clock = QElapsedTimer()
        self.timer = QTimer()
        self.timer.setInterval(PROBE_MS)
        self.timer.timeout.connect(self._tick)
        self._last: float | None = None

    def start(self) -> None:
        self.clock.start()
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()
        if Probe.watch is not None:
            Probe.watch.disarm()

    def _tick(self) -> None:
        now = self.clock.nsecsElapsed() / 1e6
        if self._last is not None:
            self.delays.append(max(0.0, now - self._last - PROBE_MS))
            if Probe.watch is not None:
                Probe.watch.tick(now - self._last, self.delays[-1])
        self._last = now

    def figures(self) -> dict:
        d = np.array(self.delays) if self.delays else np.zeros(1)
        return {
            "p50_ms": float(np.percentile(d, 50)),
            "p99_ms": float(np.percentile(d, 99)),
            "max_ms": float(d.max()),
        }


def headless_seconds(cfg: SimulationConfig) -> float:
    sim = cfg.build()
    started = time.perf_counter()
    for _ in sim.run(batch_iterations=5000, batch_seconds=0.03):
        pass
    return time.perf_counter() - started


def in_the_window(cfg: SimulationConfig, app) -> dict:

    from ui.main_window import MainWindow

    window = MainWindow()
    window.resize(1400, 860)
    window.show()
    app.processEvents()
    probe = Probe()
    redraws = {"n": 0}
    panel = window.loss_vs_iteration
    original = panel.refresh

    def counted() -> bool:
        drew = original()
        redraws["n"] += bool(drew)
        return drew

    panel.refresh = counted
    done = {"t": None}
    window.simulation_finished.connect(lambda: done.update(t=time.perf_counter()))
    probe.start()
    started = time.perf_counter()
    window.start_simulation(cfg)
    while done["t"] is None and time.perf_counter() - started < 600:
        app.processEvents()
        time.sleep(0.0005)
    elapsed = (done["t"] or time.perf_counter()) - started
    probe.stop()
    window.close()
    app.processEvents()
    return {
        **probe.figures(),
        "redraw_hz": redraws["n"] / elapsed if elapsed > 0 else 0.0,
        "seconds": elapsed,
        "finished": done["t"] is not None,
    }


def _open_in_a_window(source: str, app):
    """(window, running probe, seconds): a new window opens ``source`` (a file or a store
    URL); returns once it is loaded and its logs are drawn (derived on a worker for a big
    log: ``LogView.drawn``), the probe still measuring."""
    from ui.gui_thread_gc import freeze_startup
    from ui.main_window import MainWindow

    window = MainWindow()
    freeze_startup()  # as the app does once its window is made
    window.resize(1400, 860)
    window.show()
    # a second on screen before the user opens something, as a user would
    _serve(app, lambda: False, seconds=1.0)
    probe = Probe()
    done = {"loaded": None, "drawn": None}
    window.library.busy.connect(lambda busy: busy or done.update(loaded=time.perf_counter()))
    window.log_view.drawn.connect(
        lambda: done["loaded"] is not None and done.update(drawn=time.perf_counter())
    )
    probe.start()
    started = time.perf_counter()
    window.open_paths([source])
    _serve(app, lambda: done["drawn"] is not None and not window.log_view.derivations.running)
    return window, probe, (done["drawn"] or time.perf_counter()) - started


def _serve(app, until, seconds: float = 600) -> None:
    """Run the event loop (as the app would) until ``until()`` or ``seconds`` pass."""
    deadline = time.perf_counter() + seconds
    while not until() and time.perf_counter() < deadline:
        app.processEvents()
        time.sleep(0.0005)


def _pan(app, view, lo: float, hi: float, pans: int = PANS, span: float = 0.05) -> None:
    """Pan ``view`` from ``lo`` to ``hi`` (view units) in ``pans`` steps showing ``span`` of
    it each, serving the event loop 0.2 s after each (zoomed-in detail arrives meanwhile)."""
    width = (hi - lo) * span
    for k in range(pans):
        start = lo + k * (hi - lo) / pans
        view.setXRange(start, start + width, padding=0)
        deadline = time.perf_counter() + 0.2
        _serve(app, lambda deadline=deadline: time.perf_counter() >= deadline)


def open_and_pan_a_log(rows: int, app) -> dict:
    """Open a ``rows``-row step,lr,loss CSV in the window, wait until it is drawn, then pan
    the loss panel across it ``PANS`` times: the GUI event-loop delays meanwhile."""
    import tempfile

    import load  # bench/load.py writes the same file for the loading benchmark

    path = Path(tempfile.mkdtemp()) / "big_log.csv"
    load.write_step_lr_loss(path, rows)
    window, probe, opened = _open_in_a_window(str(path), app)
    _pan(app, window.loss_vs_iteration.plot.getViewBox(), 0, rows)  # a tenth at a time
    probe.stop()
    window.close()
    path.unlink()
    return {**probe.figures(), "seconds_to_drawn": opened}


def open_a_study(trials: int, app) -> dict:
    """Open a ``trials``-trial Optuna study (SQLite) in the window: time until it is loaded
    and drawn, and the GUI event-loop delays meanwhile."""
    import tempfile

    import stores  # bench/stores.py: builds the study with the real optuna

    path = Path(tempfile.mkdtemp()) / "study.db"
    stores.build_study(path, trials, 20)
    window, probe, drawn = _open_in_a_window(f"sqlite:///{path}", app)
    opened = probe.figures()
    # then pan loss vs λ (log λ from 1e-5 to 1) and the learning curves across
    _pan(app, window.loss_vs_lr.plot.getViewBox(), -5, 0, pans=5, span=0.3)
    _pan(app, window.loss_vs_iteration.plot.getViewBox(), 0, 20, pans=5, span=0.3)
    probe.stop()
    runs = sum(len(log.runs) for log in window.library.logs)
    window.close()
    return {
        **probe.figures(),
        "seconds": drawn,
        "runs": runs,
        "opening": opened,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small runs, for CI")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument(
        "--log-only",
        action="store_true",
        help="only scenario (c): open and pan the big log",
    )
    parser.add_argument(
        "--study",
        type=int,
        default=None,
        metavar="TRIALS",
        help="instead: open an Optuna study of this many trials (needs optuna)",
    )
    parser.add_argument(
        "--stalls",
        metavar="FILE",
        help="dump every thread's stack during each stall over 30 ms into FILE and print "
        "the stalls' causes with counts (bench/stall_watch.py)",
    )
    args = parser.parse_args(argv)
    if args.stalls:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        import stall_watch

        Probe.watch = stall_watch.StallWatch(args.stalls)
        from ui import worker

        made = worker.GeneratorWorker.__init__

        def registered(self, make_batches):  # each job's thread known by its ident
            def batches():
                stall_watch.register_thread()
                return make_batches()

            made(self, batches)

        worker.GeneratorWorker.__init__ = registered
        import atexit

        atexit.register(
            lambda: print(stall_watch.causes(args.stalls, Probe.watch.main), file=sys.stderr)
        )
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    from ui import session
    from ui.app import share_the_gil_often

    share_the_gil_often()  # as the app does
    from ui.gui_thread_gc import GuiThreadCollector

    GuiThreadCollector(app)  # as the app does: cycles freed in the GUI thread
    session.PROMPT_ON_CLOSE = False  # the benchmark's windows close without a question
    if args.study:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        row = open_a_study(args.study, app)
        print(
            json.dumps(row, indent=2)
            if args.json
            else f"{args.study:,}-trial study: loaded and drawn in {row['seconds']:.2f} s; "
            f"event-loop delay while it opened and was panned: p50 {row['p50_ms']:.1f} ms, "
            f"p99 {row['p99_ms']:.1f} ms, max {row['max_ms']:.1f} ms (while it opened: p99 "
            f"{row['opening']['p99_ms']:.1f} ms, max {row['opening']['max_ms']:.1f} ms)"
        )
        return 0
    rows = []
    simulations = {} if args.log_only else QUICK if args.quick else SCENARIOS
    for name, (runs, iterations) in simulations.items():
        cfg = config(runs, iterations)
        headless = headless_seconds(cfg)
        measured = in_the_window(cfg, app)
        measured["throughput_vs_headless"] = measured.pop("seconds") / headless
        rows.append({"name": name, **measured, "headless_seconds": headless})
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    log_rows = LOG_ROWS[1] if args.quick else LOG_ROWS[0]
    measured = open_and_pan_a_log(log_rows, app)
    rows.append({"name": f"open and pan a {log_rows:,}-point log", **measured})
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print("GUI event-loop delay (5 ms probe), loss-panel redraws, app time / headless time")
    print(
        f"{'scenario':<40} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'redraw Hz':>10} "
        f"{'vs headless':>12}"
    )
    for r in rows:
        hz = f"{r['redraw_hz']:10.1f}" if "redraw_hz" in r else f"{'-':>10}"
        ratio = (
            f"{r['throughput_vs_headless']:11.2f}x"
            if "throughput_vs_headless" in r
            else f"{'-':>12}"
        )
        print(
            f"{r['name']:<40} {r['p50_ms']:8.1f} {r['p99_ms']:8.1f} {r['max_ms']:8.1f} {hz} {ratio}"
        )
    opened = [r for r in rows if "seconds_to_drawn" in r]
    for r in opened:
        print(f"{r['name']}: opened and drawn in {r['seconds_to_drawn']:.2f} s")
    print("targets: p99 <= 20 ms, max <= 50 ms, redraw >= 20 Hz, within 1.3x of headless")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

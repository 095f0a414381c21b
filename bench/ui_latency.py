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
        self.sampler = None  # a bench.stall_sampler.StallSampler told of every tick (--stalls)

    def start(self) -> None:
        self.clock.start()
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()
        if Probe.watch is not None:
            Probe.watch.disarm()

    def _tick(self) -> None:
        if self.sampler is not None:
            self.sampler.ticked()
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


def in_the_window(cfg: SimulationConfig, app, stalls: bool = False) -> dict:

    from ui.gui_thread_gc import freeze_startup
    from ui.main_window import MainWindow

    paints = _time_paints() if stalls else None
    window = MainWindow()
    # As the app does once its window is made: left out, the first collection of the
    # youngest generation walked the whole new window (35-56 ms) while the run streamed.
    freeze_startup()
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
    timings = _time_the_gui_work(window, paints) if stalls else None
    done = {"t": None}
    window.simulation_finished.connect(lambda: done.update(t=time.perf_counter()))
    if stalls:
        from stall_sampler import StallSampler

        probe.sampler = StallSampler()
    probe.start()
    started = time.perf_counter()
    window.start_simulation(cfg)
    while done["t"] is None and time.perf_counter() - started < 600:
        app.processEvents()
        time.sleep(0.0005)
    elapsed = (done["t"] or time.perf_counter()) - started
    probe.stop()
    if stalls:
        probe.sampler.stop()
        print(probe.sampler.report(), file=sys.stderr)
        print(_timings_report(timings), file=sys.stderr)
    window.close()
    app.processEvents()
    return {
        **probe.figures(),
        "redraw_hz": redraws["n"] / elapsed if elapsed > 0 else 0.0,
        "seconds": elapsed,
        "finished": done["t"] is not None,
    }


def _time_paints() -> dict:
    """Record each plot widget's paint times (before the window is made: Qt looks the
    override up once): {"_paints": [(widget id, seconds)], "_restore": [undo]}."""
    from ui.panels.plot_panel import TimedGraphicsLayoutWidget

    paints: list = []
    paint = TimedGraphicsLayoutWidget.paintEvent

    def timed_paint(widget, event) -> None:
        paint(widget, event)
        paints.append((id(widget), widget.paint_seconds))

    TimedGraphicsLayoutWidget.paintEvent = timed_paint
    return {
        "_paints": paints,
        "_restore": [lambda: setattr(TimedGraphicsLayoutWidget, "paintEvent", paint)],
    }


def _time_the_gui_work(window, timings: dict) -> dict:
    """Record how long each panel's refresh and paint and each batch's handling take (GUI
    thread, --stalls): {what: [seconds, ...]}."""
    names = {}
    for panel in (*window._simulation_panels(), window.loss_surface):
        name = type(panel).__name__
        names[id(panel.graphics)] = name
        refresh = panel.refresh

        def timed(refresh=refresh, name=name) -> bool:
            t0 = time.perf_counter()
            drew = refresh()
            if drew:
                timings.setdefault(f"refresh {name}", []).append(time.perf_counter() - t0)
            return drew

        panel.refresh = timed
    timings["_names"] = names
    runner = window.runner
    on_batch = runner._on_batch

    def timed_batch(batch) -> None:
        t0 = time.perf_counter()
        on_batch(batch)
        timings.setdefault("batch handling", []).append(time.perf_counter() - t0)

    runner._on_batch = timed_batch
    redraw = window.redraw

    def timed_redraw(*args, **kwargs) -> None:
        t0 = time.perf_counter()
        redraw(*args, **kwargs)
        timings.setdefault("redraw tick", []).append(time.perf_counter() - t0)

    window.redraw_timer.timeout.disconnect()
    window.redraw_timer.timeout.connect(lambda: timed_redraw(drop_unpainted=True))
    return timings


def _timings_report(timings: dict) -> str:
    for restore in timings.pop("_restore"):
        restore()
    names = timings.pop("_names")
    for widget, seconds in timings.pop("_paints"):
        timings.setdefault(f"paint {names.get(widget, 'other')}", []).append(seconds)
    lines = ["GUI-thread work (count, median / p99 / max ms, total s):"]
    for key in sorted(timings):
        t = np.array(timings[key]) * 1000
        lines.append(
            f"  {key:<32} {t.size:6d}  {np.median(t):7.1f} / {np.percentile(t, 99):7.1f} / "
            f"{t.max():7.1f}  {t.sum() / 1000:6.2f} s"
        )
    return "\n".join(lines)


class Phases:
    """When each step of opening a big log or store happened, in seconds from the open
    (``--log-only`` and ``--study`` print them): the child's start, its read, the hand-over
    of the data, the derivation of the scene and its drawing."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.marks: list[tuple[str, float]] = []
        self._undo: list = []

    def mark(self, what: str) -> None:
        self.marks.append((what, time.perf_counter() - self.started))

    def wrap(self, owner, name: str, before: str, after: str) -> None:
        original = getattr(owner, name)

        def marked(*args, **kwargs):
            self.mark(before)
            try:
                return original(*args, **kwargs)
            finally:
                self.mark(after)

        setattr(owner, name, marked)
        self._undo.append(lambda: setattr(owner, name, original))

    def install(self) -> None:
        from lrviz import log_scene, watch_process

        self.wrap(watch_process.ChildWatcher, "_start", "child started", "child running")
        self.wrap(watch_process, "receive_data", "child read it", "handed over")
        self.wrap(log_scene, "derive", "derivation starts", "derived")

    def undo(self) -> None:
        for undo in self._undo:
            undo()

    def report(self) -> str:
        return "; ".join(f"{what} {t:.2f} s" for what, t in self.marks)


def _open_in_a_window(source: str, app, phases: Phases | None = None, stalls: bool = False):
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
    if stalls:
        from stall_sampler import StallSampler

        probe.sampler = StallSampler()
    done = {"loaded": None, "drawn": None}
    window.library.busy.connect(lambda busy: busy or done.update(loaded=time.perf_counter()))
    window.log_view.drawn.connect(
        lambda: done["loaded"] is not None and done.update(drawn=time.perf_counter())
    )
    probe.start()
    started = time.perf_counter()
    if probe.sampler is not None:
        probe.sampler.started = started
    if phases is not None:
        phases.started = started
        phases.install()
        window.library.busy.connect(lambda busy: busy or phases.mark("loaded"))
        window.log_view.drawn.connect(lambda: phases.mark("drawn"))
    window.open_paths([source])
    _serve(app, lambda: done["drawn"] is not None and not window.log_view.derivations.running)
    if phases is not None:
        phases.undo()
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


def _stall_report(probe) -> None:
    """--gui-stalls: where the GUI thread was in each stall over 30 ms (stderr)."""
    if probe.sampler is not None:
        probe.sampler.stop()
        print(probe.sampler.report(), file=sys.stderr)
        print(probe.sampler.each_stall(), file=sys.stderr)


def open_and_pan_a_log(rows: int, app, stalls: bool = False) -> dict:
    """Open a ``rows``-row step,lr,loss CSV in the window, wait until it is drawn, then pan
    the loss panel across it ``PANS`` times: the GUI event-loop delays meanwhile."""
    import tempfile

    import load  # bench/load.py writes the same file for the loading benchmark

    path = Path(tempfile.mkdtemp()) / "big_log.csv"
    load.write_step_lr_loss(path, rows)
    phases = Phases()
    window, probe, opened = _open_in_a_window(str(path), app, phases, stalls)
    _pan(app, window.loss_vs_iteration.plot.getViewBox(), 0, rows)  # a tenth at a time
    probe.stop()
    _stall_report(probe)
    window.close()
    path.unlink()
    return {**probe.figures(), "seconds_to_drawn": opened, "phases": phases.report()}


def open_a_study(trials: int, app, stalls: bool = False) -> dict:
    """Open a ``trials``-trial Optuna study (SQLite) in the window: time until it is loaded
    and drawn, and the GUI event-loop delays meanwhile."""
    import tempfile

    import stores  # bench/stores.py: builds the study with the real optuna

    path = Path(tempfile.mkdtemp()) / "study.db"
    stores.build_study(path, trials, 20)
    phases = Phases()
    window, probe, drawn = _open_in_a_window(f"sqlite:///{path}", app, phases, stalls)
    opened = probe.figures()
    # then pan loss vs λ (log λ from 1e-5 to 1) and the learning curves across
    _pan(app, window.loss_vs_lr.plot.getViewBox(), -5, 0, pans=5, span=0.3)
    _pan(app, window.loss_vs_iteration.plot.getViewBox(), 0, 20, pans=5, span=0.3)
    probe.stop()
    _stall_report(probe)
    runs = sum(len(log.runs) for log in window.library.logs)
    window.close()
    return {
        **probe.figures(),
        "seconds": drawn,
        "runs": runs,
        "opening": opened,
        "phases": phases.report(),
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
    parser.add_argument(
        "--gui-stalls",
        action="store_true",
        help="print where the GUI thread was during each stall over 30 ms (its Python stack; "
        "whether it ran, waited for a core or was blocked), and each panel's refresh and "
        "paint times (stderr; bench/stall_sampler.py)",
    )
    parser.add_argument(
        "--simulations-only",
        action="store_true",
        help="only scenarios (a) and (b): the simulations streaming into the window",
    )
    parser.add_argument(
        "--runs", type=int, default=None, help="only the simulation of this many runs"
    )
    parser.add_argument(
        "--iterations", type=int, default=None, help="the simulations' iterations instead"
    )
    parser.add_argument(
        "--read-in-thread",
        action="store_true",
        help="read big logs and stores on the loader's thread, not in a child process "
        "(the way before lrviz/watch_process.py, for comparison)",
    )
    args = parser.parse_args(argv)
    if args.read_in_thread:
        from lrviz import watch_process

        watch_process.wants_child = lambda size_bytes, store: False
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
        row = open_a_study(args.study, app, stalls=args.gui_stalls)
        print(
            json.dumps(row, indent=2)
            if args.json
            else f"{args.study:,}-trial study: loaded and drawn in {row['seconds']:.2f} s; "
            f"event-loop delay while it opened and was panned: p50 {row['p50_ms']:.1f} ms, "
            f"p99 {row['p99_ms']:.1f} ms, max {row['max_ms']:.1f} ms (while it opened: p99 "
            f"{row['opening']['p99_ms']:.1f} ms, max {row['opening']['max_ms']:.1f} ms)"
            f"\n  {row['phases']}"
        )
        return 0
    rows = []
    simulations = {} if args.log_only else QUICK if args.quick else SCENARIOS
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    for name, (runs, iterations) in simulations.items():
        if args.runs is not None and runs != args.runs:
            continue
        if args.iterations is not None:
            iterations = args.iterations
            name = f"{runs} λ x {iterations:,} it, quadratic dim 100"
        cfg = config(runs, iterations)
        headless = headless_seconds(cfg)
        measured = in_the_window(cfg, app, stalls=args.gui_stalls)
        measured["throughput_vs_headless"] = measured.pop("seconds") / headless
        rows.append({"name": name, **measured, "headless_seconds": headless})
    log_rows = LOG_ROWS[1] if args.quick else LOG_ROWS[0]
    if not (args.simulations_only or args.runs is not None):
        measured = open_and_pan_a_log(log_rows, app, stalls=args.gui_stalls)
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
        print(f"  {r['phases']}")
    print("targets: p99 <= 20 ms, max <= 50 ms, redraw >= 20 Hz, within 1.3x of headless")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

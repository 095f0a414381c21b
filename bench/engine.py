"""Engine speed: against a bare numpy loop of the same update, against one lr at a time, and
how it scales in runs and in dimension.

    python bench/engine.py            # every table at full size (~4 min on 2 cores)
    python bench/engine.py --quick    # CI: the same tables, smaller (~10 s)

Every figure is the median of ``--repeats`` timings taken in this run on this machine, the
two sides of each ratio interleaved so that both see the same load. Timings are this
process's CPU time by default (``--clock cpu``): on a shared 2-core machine another busy
process stretches the wall clock of whichever side it happens to overlap, not the CPU time
(the engine and BLAS run on one thread); ``--clock wall`` times the wall clock.

1. **Bare numpy.** The engine (``Simulation.run`` consumed as the command line does) against
   a plain numpy loop written here for the same maths: loss and gradient inline, the
   divergence test (non-finite, or above 4x the run's best), diverged runs frozen with
   ``np.where``, the loss and lr of every iteration recorded in chunks of 1000 iterations,
   plain SGD. Cases: the Rosenbrock sweep of ``simulate --objective rosenbrock --lrs
   1e-7:1:256 --iterations 20000`` (most runs diverge early) and the 100-D quadratic
   (256 lrs below 2/L, 1000 iterations). Both sides must end with the same divergence
   iterations and weights (checked). Target: ratio <= 1.0.
2. **Vectorized vs sequential.** One Simulation over 256 lrs against 256 one-lr Simulations
   (what the engine would cost without vectorization); lr grids below each objective's
   divergence limit so both sides do every run-iteration. Target: >= 20x.
3. **Scaling in runs** (16 .. 16,384) on the 100-D quadratic and on Rosenbrock, and **in
   dimension** (2 .. 1000) on the quadratic at 256 runs: seconds, nanoseconds per
   run-iteration, and the bare-loop ratio at each size. Linear scaling means a flat
   ns / run-iteration once the per-iteration overhead is amortized.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


def _set_blas_threads(argv: list[str]) -> None:
    """``--blas-threads N`` must reach OpenBLAS before numpy loads it. Without it the
    benchmark runs like the app, which starts with one BLAS thread (main.py)."""
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    for i, arg in enumerate(argv):
        value = arg.split("=", 1)[1] if arg.startswith("--blas-threads=") else None
        if arg == "--blas-threads" and i + 1 < len(argv):
            value = argv[i + 1]
        if value is not None:
            for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
                os.environ[name] = value


if __name__ == "__main__":
    _set_blas_threads(sys.argv[1:])

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lrviz.engine import Simulation  # noqa: E402
from lrviz.objectives import Objective  # noqa: E402
from lrviz.objectives.logreg import LogisticRegression  # noqa: E402
from lrviz.objectives.quadratic import Quadratic  # noqa: E402
from lrviz.objectives.rosenbrock import Rosenbrock  # noqa: E402

TARGET_SPEEDUP = 20.0
TARGET_BARE_RATIO = 1.0
DIVERGENCE_FACTOR = 4.0
CHUNK = 1000  # iterations per recorded chunk: what the command line asks of the engine
CLOCKS = {"cpu": time.process_time, "wall": time.perf_counter}
clock = CLOCKS["cpu"]  # set by --clock


def quadratic_100d() -> Quadratic:
    return Quadratic(dim=100, curvature=10.0, condition=100.0, seed=0)


def quadratic_lrs(runs: int) -> np.ndarray:
    return np.geomspace(1e-4, 0.19, runs)  # 2/L = 0.2: none diverges


def rosenbrock_lrs(runs: int) -> np.ndarray:
    return np.geomspace(1e-6, 1e-3, runs)  # none diverges


# --- the bare numpy loop --------------------------------------------------------------------


def rosenbrock_loss_and_grad(objective: Rosenbrock) -> Callable:
    a, b = objective.a, objective.b

    def loss_and_grad(w):
        x, y = w[:, 0], w[:, 1]
        dx = a - x
        ravine = y - x * x
        loss = dx * dx + b * ravine * ravine
        grad = np.empty_like(w)
        grad[:, 0] = -2.0 * dx - 4.0 * b * x * ravine
        grad[:, 1] = 2.0 * b * ravine
        return loss, grad

    return loss_and_grad


def quadratic_loss_and_grad(objective: Quadratic) -> Callable:
    matrix = objective.matrix

    def loss_and_grad(w):
        grad = w @ matrix
        return 0.5 * np.einsum("rd,rd->r", grad, w), grad

    return loss_and_grad


def bare_numpy_sgd(loss_and_grad, start, lrs, iterations):
    """SGD with the engine's divergence rule and freezing, as plain numpy: what the engine
    does, without its generality. Returns (diverged_at, final weights)."""
    runs = lrs.size
    w = np.tile(start, (runs, 1))
    best = np.full(runs, np.inf)
    diverged_at = np.full(runs, -1)
    live = np.ones(runs, dtype=bool)
    for t in range(iterations):
        if t % CHUNK == 0:
            shape = (min(CHUNK, iterations - t), runs)
            recorded_loss, recorded_lr = np.full(shape, np.nan), np.full(shape, np.nan)
        loss, grad = loss_and_grad(w)
        finite = np.isfinite(loss)
        bad = live & (~finite | (loss > DIVERGENCE_FACTOR * best))
        best = np.where(live & finite, np.minimum(best, loss), best)
        recorded_loss[t % CHUNK] = np.where(live, loss, np.nan)
        recorded_lr[t % CHUNK] = np.where(live, lrs, np.nan)
        if bad.any():
            diverged_at[bad] = t
            live &= ~bad
            if not live.any():
                break
        w = np.where(live[:, None], w - lrs[:, None] * grad, w)
    return diverged_at, w


def engine_sgd(objective, lrs, iterations):
    """The engine as the command line drives it. Returns (diverged_at, final weights)."""
    sim = Simulation(objective, "sgd", lrs, iterations, divergence_factor=DIVERGENCE_FACTOR)
    for _ in sim.run(batch_iterations=CHUNK, batch_seconds=1.0):
        pass
    return sim.diverged_at, sim.weights


@dataclass
class BareCase:
    name: str
    objective: Objective
    lrs: np.ndarray
    iterations: int
    loss_and_grad: Callable


def bare_cases(quick: bool) -> list[BareCase]:
    rosenbrock, quadratic = Rosenbrock(), quadratic_100d()
    return [
        BareCase(
            "Rosenbrock sweep, 256 lrs 1e-7..1",
            rosenbrock,
            np.geomspace(1e-7, 1.0, 256),
            2_000 if quick else 20_000,
            rosenbrock_loss_and_grad(rosenbrock),
        ),
        BareCase(
            "quadratic 100-D, 256 lrs",
            quadratic,
            quadratic_lrs(256),
            200 if quick else 1_000,
            quadratic_loss_and_grad(quadratic),
        ),
    ]


def time_bare_vs_engine(case: BareCase, repeats: int) -> dict:
    start = case.objective.initial_point()
    # warm caches, BLAS and the code paths
    engine_sgd(case.objective, case.lrs[:2], 10)
    bare_numpy_sgd(case.loss_and_grad, start, case.lrs[:2], 10)
    engine_times, bare_times = [], []
    for _ in range(repeats):
        t0 = clock()
        engine_result = engine_sgd(case.objective, case.lrs, case.iterations)
        t1 = clock()
        bare_result = bare_numpy_sgd(case.loss_and_grad, start, case.lrs, case.iterations)
        t2 = clock()
        engine_times.append(t1 - t0)
        bare_times.append(t2 - t1)
    same = _same_outcome(engine_result, bare_result)
    engine_s, bare_s = statistics.median(engine_times), statistics.median(bare_times)
    return {
        "engine_s": engine_s,
        "bare_s": bare_s,
        "ratio": engine_s / bare_s,
        "diverged": int(np.sum(engine_result[0] >= 0)),
        "same": same,
    }


def _same_outcome(engine_result, bare_result) -> bool:
    """The same divergence iterations exactly, the same weights within rounding (BLAS
    kernels round differently for different row counts)."""
    (e_at, e_w), (b_at, b_w) = engine_result, bare_result
    finite = np.isfinite(e_w) & np.isfinite(b_w)
    return bool(
        np.array_equal(e_at, b_at)
        and np.array_equal(np.isfinite(e_w), np.isfinite(b_w))
        and np.allclose(e_w[finite], b_w[finite], rtol=1e-9, atol=1e-12)
    )


# --- vectorized vs sequential ------------------------------------------------------------


@dataclass
class Case:
    name: str
    objective: Objective
    lrs: np.ndarray


def sequential_cases(runs: int) -> list[Case]:
    return [
        Case("Rosenbrock 2-D", Rosenbrock(), rosenbrock_lrs(runs)),
        Case("quadratic 100-D (L=10, K=100)", quadratic_100d(), quadratic_lrs(runs)),
        Case(
            "logreg 11-D, minibatch 32 of 1000",
            LogisticRegression(samples=1000, features=10, batch_size=32, seed=0),
            np.geomspace(1e-5, 2e-3, runs),
        ),
    ]


def time_simulation(objective, optimizer, lrs, iterations) -> tuple[float, int]:
    """Seconds to run one Simulation to the end, as the CLI does; and how many runs diverged."""
    start = clock()
    sim = Simulation(objective, optimizer, lrs, iterations)
    for _ in sim.run(batch_iterations=CHUNK, batch_seconds=1.0):
        pass
    return clock() - start, int(np.sum(sim.diverged_at >= 0))


def measure_sequential(case: Case, optimizer: str, iterations: int, subset_runs: int, repeats):
    runs = case.lrs.size
    time_simulation(case.objective, optimizer, case.lrs[:2], 10)  # warm caches and BLAS
    subset = case.lrs[np.linspace(0, runs - 1, subset_runs).round().astype(int)]
    vectorized, sequential = [], []
    for _ in range(repeats):
        seconds, diverged = time_simulation(case.objective, optimizer, case.lrs, iterations)
        vectorized.append(seconds)
        total, diverged_alone = 0.0, 0
        for lr in subset:
            seconds, d = time_simulation(case.objective, optimizer, [lr], iterations)
            total += seconds
            diverged_alone += d
        sequential.append(total * runs / subset.size)
    vec = statistics.median(vectorized)
    seq = statistics.median(sequential)
    return {
        "case": case.name,
        "vectorized_s": vec,
        "throughput": runs * iterations / vec,
        "sequential_s": seq,
        "sequential_throughput": runs * iterations / seq,
        "speedup": seq / vec,
        "diverged": f"{diverged} / {diverged_alone}",
    }


# --- scaling ------------------------------------------------------------------------------


def scaling_row(objective, loss_and_grad, lrs, iterations, repeats) -> dict:
    case = BareCase("", objective, lrs, iterations, loss_and_grad)
    r = time_bare_vs_engine(case, repeats)
    r["ns_per_run_iteration"] = r["engine_s"] / (lrs.size * iterations) * 1e9
    r["bare_ns_per_run_iteration"] = r["bare_s"] / (lrs.size * iterations) * 1e9
    return r


def runs_scaling(objective, loss_and_grad, make_lrs, run_counts, run_iterations, repeats):
    """Same work (run-iterations) at every size, so that a flat ns / run-iteration is linear."""
    rows = []
    for runs in run_counts:
        iterations = max(8, run_iterations // runs)
        r = scaling_row(objective, loss_and_grad, make_lrs(runs), iterations, repeats)
        rows.append({"size": runs, "iterations": iterations, **r})
    return rows


def dim_scaling(dims, iterations_at, runs, repeats):
    rows = []
    for dim in dims:
        objective = Quadratic(dim=dim, curvature=10.0, condition=100.0 if dim > 1 else 1.0)
        iterations = iterations_at[dim]
        r = scaling_row(
            objective, quadratic_loss_and_grad(objective), quadratic_lrs(runs), iterations, repeats
        )
        rows.append({"size": dim, "iterations": iterations, **r})
    return rows


def print_scaling(title: str, label: str, rows: list[dict]) -> None:
    print(f"**{title}**")
    print()
    print(
        f"| {label} | iterations | engine s | ns / run-iteration | bare numpy s | "
        "bare ns / run-iteration | engine / bare |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['size']:,} | {r['iterations']:,} | {r['engine_s']:.3f} | "
            f"{r['ns_per_run_iteration']:.1f} | {r['bare_s']:.3f} | "
            f"{r['bare_ns_per_run_iteration']:.1f} | {r['ratio']:.2f}x{_flag(r)} |",
            flush=True,
        )
    print()


def _flag(r: dict) -> str:
    return "" if r["same"] else " (results differ!)"


# --- report -------------------------------------------------------------------------------


def describe_machine() -> str:
    blas = "unknown"
    try:
        config = np.show_config(mode="dicts")
        info = config["Build Dependencies"]["blas"]
        blas = f"{info.get('name')} {info.get('version')}"
    except Exception:  # older numpy: no dict mode
        pass
    coretype = os.environ.get("OPENBLAS_CORETYPE", "(unset)")
    threads = os.environ.get("OPENBLAS_NUM_THREADS", "(unset: one per core)")
    return (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
        f"Python {platform.python_version()}, numpy {np.__version__}, BLAS {blas}, "
        f"OPENBLAS_CORETYPE={coretype}, OPENBLAS_NUM_THREADS={threads}"
    )


def load() -> str:
    try:
        return f"load average {os.getloadavg()[0]:.2f}"
    except OSError:
        return "load average unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short profile (CI)")
    parser.add_argument("--runs", type=int, default=256, help="lrs of the sequential table")
    parser.add_argument("--iterations", type=int, default=1000, help="of the sequential table")
    parser.add_argument("--repeats", type=int, default=3, help="timings per figure (default 3)")
    parser.add_argument("--optimizer", default="sgd", help="of the sequential table")
    parser.add_argument(
        "--clock",
        choices=sorted(CLOCKS),
        default="cpu",
        help="time this process's CPU time (default) or the wall clock",
    )
    parser.add_argument(
        "--blas-threads",
        type=int,
        default=None,
        help="set OPENBLAS_NUM_THREADS for this run (default: 1, as the app does, unless the "
        "environment says otherwise)",
    )
    args = parser.parse_args(argv)
    global clock
    clock = CLOCKS[args.clock]
    repeats = args.repeats
    quick = args.quick

    print(f"lrviz engine benchmark, {datetime.date.today().isoformat()}")
    print(describe_machine())
    print(f"before: {load()} (other busy processes slow both sides, BLAS threads most)")
    print(
        f"median of {repeats} interleaved repeats, {args.clock} time"
        f"{'; --quick profile' if quick else ''}"
    )
    print()

    print("**Engine vs a bare numpy loop of the same update** (plain SGD, divergence at 4x)")
    print()
    print("| case | iterations | diverged | engine s | bare numpy s | engine / bare | same |")
    print("|---|---:|---:|---:|---:|---:|---|")
    bare_results = []
    for case in bare_cases(quick):
        r = time_bare_vs_engine(case, repeats)
        bare_results.append(r)
        print(
            f"| {case.name} | {case.iterations:,} | {r['diverged']} | {r['engine_s']:.3f} | "
            f"{r['bare_s']:.3f} | **{r['ratio']:.2f}x** | {'yes' if r['same'] else 'NO'} |",
            flush=True,
        )
    print()

    subset_runs = min(16, args.runs) if quick else args.runs
    print(
        f"**Vectorized vs sequential**: {args.runs} lrs x {args.iterations} iterations, "
        f"optimizer {args.optimizer}"
        + (
            f"; the sequential side runs {subset_runs} evenly spaced lrs, scaled by "
            f"{args.runs}/{subset_runs}"
            if subset_runs < args.runs
            else ""
        )
    )
    print()
    print(
        "| case | vectorized s | iterations x runs / s | sequential s | "
        "sequential it x runs / s | speed-up | diverged (vec / seq) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    sequential_results = []
    for case in sequential_cases(args.runs):
        r = measure_sequential(case, args.optimizer, args.iterations, subset_runs, repeats)
        sequential_results.append(r)
        print(
            f"| {r['case']} | {r['vectorized_s']:.3f} | {r['throughput']:,.0f} | "
            f"{r['sequential_s']:.2f} | {r['sequential_throughput']:,.0f} | "
            f"{r['speedup']:.1f}x | {r['diverged']} |",
            flush=True,
        )
    print()

    run_counts = (16, 64, 256, 1024, 4096, 16384)
    quadratic = quadratic_100d()
    print_scaling(
        "Scaling in runs, quadratic 100-D (the same run-iterations at every size)",
        "runs",
        runs_scaling(
            quadratic,
            quadratic_loss_and_grad(quadratic),
            quadratic_lrs,
            run_counts,
            2**16 if quick else 2**20,
            repeats,
        ),
    )
    rosenbrock = Rosenbrock()
    print_scaling(
        "Scaling in runs, Rosenbrock 2-D (the same run-iterations at every size)",
        "runs",
        runs_scaling(
            rosenbrock,
            rosenbrock_loss_and_grad(rosenbrock),
            rosenbrock_lrs,
            run_counts,
            2**18 if quick else 2**22,
            repeats,
        ),
    )
    dims = (2, 10, 100, 1000)
    iterations_at = (
        {2: 500, 10: 500, 100: 100, 1000: 4} if quick else {2: 5000, 10: 5000, 100: 1000, 1000: 20}
    )
    print_scaling(
        "Scaling in dimension, quadratic at 256 runs",
        "dim",
        dim_scaling(dims, iterations_at, 256, repeats),
    )

    print(f"after: {load()}")
    worst = min(r["speedup"] for r in sequential_results)
    verdict = "met" if worst >= TARGET_SPEEDUP else "NOT met"
    print(
        f"vectorized >= {TARGET_SPEEDUP:.0f}x sequential on every case: {verdict} "
        f"(lowest {worst:.1f}x)"
    )
    worst_bare = max(r["ratio"] for r in bare_results)
    verdict = "met" if worst_bare <= TARGET_BARE_RATIO else "NOT met"
    print(
        f"engine <= {TARGET_BARE_RATIO:.1f}x bare numpy on both cases: {verdict} "
        f"(highest {worst_bare:.2f}x)"
    )
    if not all(r["same"] for r in bare_results):
        print("WARNING: the engine and the bare loop disagree on some case")
    return 0


if __name__ == "__main__":
    sys.exit(main())

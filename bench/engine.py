"""Engine throughput: R learning rates advanced together vs the same runs one lr at a time.

    python bench/engine.py            # 256 lrs x 1000 iterations, sequential baseline in full
    python bench/engine.py --quick    # sequential baseline on 16 of the 256 lrs, scaled up

For each objective (2-D Rosenbrock, 100-D quadratic, minibatch logistic regression) it times

* vectorized: one Simulation with all 256 lrs;
* sequential: 256 Simulations with one lr each, the same objective, optimizer and iterations;

and prints iterations x runs per second for the vectorized engine and the speed-up. Both are
measured in this run on this machine; each figure is the median of ``--repeats`` timings.
The lr grids stay below each objective's divergence limit so that both sides do all
256 x 1000 run-iterations (a diverged run is frozen and stops costing time, which would
flatter whichever side had more of them). The column "diverged" shows that none did.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import sys
import time
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


@dataclass
class Case:
    name: str
    objective: Objective
    lrs: np.ndarray


def cases(runs: int) -> list[Case]:
    return [
        Case("rosenbrock 2-D", Rosenbrock(), np.geomspace(1e-6, 1e-3, runs)),
        Case(
            "quadratic 100-D (L=10, K=100)",
            Quadratic(dim=100, curvature=10.0, condition=100.0, seed=0),
            np.geomspace(1e-4, 0.19, runs),  # 2/L = 0.2
        ),
        Case(
            "logreg 11-D, minibatch 32 of 1000",
            LogisticRegression(samples=1000, features=10, batch_size=32, seed=0),
            np.geomspace(1e-5, 2e-3, runs),
        ),
    ]


def time_simulation(objective, optimizer, lrs, iterations) -> tuple[float, int]:
    """Seconds to run one Simulation to the end, as the CLI does; and how many runs diverged."""
    start = time.perf_counter()
    sim = Simulation(objective, optimizer, lrs, iterations)
    for _ in sim.run(batch_iterations=1000, batch_seconds=1.0):
        pass
    return time.perf_counter() - start, int(np.sum(sim.diverged_at >= 0))


def measure(case: Case, optimizer: str, iterations: int, sequential_runs: int, repeats: int):
    runs = case.lrs.size
    time_simulation(case.objective, optimizer, case.lrs[:2], 10)  # warm caches and BLAS
    subset = case.lrs[np.linspace(0, runs - 1, sequential_runs).round().astype(int)]
    vectorized, sequential = [], []
    # Interleaved, so that both sides see the same machine load.
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
    parser.add_argument("--quick", action="store_true", help="sequential baseline on a subset")
    parser.add_argument("--runs", type=int, default=256, help="learning rates (default 256)")
    parser.add_argument("--iterations", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3, help="timings per figure (default 3)")
    parser.add_argument("--optimizer", default="sgd")
    parser.add_argument(
        "--blas-threads",
        type=int,
        default=None,
        help="set OPENBLAS_NUM_THREADS for this run (default: 1, as the app does, unless the "
        "environment says otherwise)",
    )
    args = parser.parse_args(argv)
    repeats = args.repeats
    sequential_runs = min(16, args.runs) if args.quick else args.runs

    print(f"lrviz engine benchmark, {datetime.date.today().isoformat()}")
    print(describe_machine())
    print(f"before: {load()} (other busy processes slow both sides, BLAS threads most)")
    print(
        f"{args.runs} lrs x {args.iterations} iterations, optimizer {args.optimizer}; "
        f"median of {repeats} repeats"
    )
    if sequential_runs < args.runs:
        print(
            f"--quick: the sequential baseline runs {sequential_runs} of the {args.runs} lrs "
            f"(evenly spaced) and is scaled by {args.runs}/{sequential_runs}"
        )
    else:
        print(f"sequential baseline: all {args.runs} lrs, one Simulation each")
    print()
    header = (
        "| case | vectorized s | iterations x runs / s | sequential s | "
        "sequential it x runs / s | speed-up | diverged (vec / seq) |"
    )
    print(header)
    print("|---|---:|---:|---:|---:|---:|---:|")
    results = []
    for case in cases(args.runs):
        r = measure(case, args.optimizer, args.iterations, sequential_runs, repeats)
        results.append(r)
        print(
            f"| {r['case']} | {r['vectorized_s']:.3f} | {r['throughput']:,.0f} | "
            f"{r['sequential_s']:.2f} | {r['sequential_throughput']:,.0f} | "
            f"{r['speedup']:.1f}x | {r['diverged']} |",
            flush=True,
        )
    print()
    print(f"after: {load()}")
    worst = min(r["speedup"] for r in results)
    verdict = "met" if worst >= TARGET_SPEEDUP else "NOT met"
    print(f"target >= {TARGET_SPEEDUP:.0f}x on every case: {verdict} (lowest {worst:.1f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

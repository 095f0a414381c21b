"""The coarse-to-fine λ search against an exhaustive log grid of the same final resolution.

    python bench/search.py            # every case at full size (~1-2 min on 2 cores)
    python bench/search.py --quick    # CI: the same cases, smaller (~10 s)

For each problem, in this run on this machine, both vectorized:

* **search**: :class:`lrviz.search.LrSearch` with its defaults (range 1e-7 .. 1, 4
  candidates per fine stage, η = 3, a 25% subset for dataset objectives, final loss), run
  headless as ``lrviz sweep`` runs it;
* **grid**: one :class:`lrviz.engine.Simulation` over a log grid of the same range whose step
  is the search's final bracket ratio (the same resolution), every λ trained the full budget
  on the full data (a diverged run stops at once there too).

Printed per case: run-iterations each side spent (the grid's nominal points x iterations, and
what it really ran once diverged runs stopped), CPU seconds (median of ``--repeats``, the two
sides interleaved), the ratios grid / search, whether the grid's winner lies inside the
search's bracket, and the search winner's regret on the grid (its final loss over the grid's
best, minus 1). Always exits 0: timings on shared machines are too noisy to gate on.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import os
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as the app runs

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.engine import describe_machine, load
from lrviz.export import format_lr
from lrviz.search import LrSearch, SearchResult, SearchSettings, grid_points
from lrviz.simulation_config import SimulationConfig

CLOCKS = {"cpu": time.process_time, "wall": time.perf_counter}


@dataclass(frozen=True)
class Case:
    name: str
    config: SimulationConfig


def cases(quick: bool) -> list[Case]:
    scale = 0.5 if quick else 1.0
    its = lambda n: max(20, int(n * scale))  # noqa: E731
    return [
        Case(
            "quadratic 20-D, eigenvalues 1 .. 100",
            SimulationConfig(
                objective="quadratic", dim=20, curvature=100.0, condition=100.0, iterations=its(600)
            ),
        ),
        Case(
            "Rosenbrock",
            SimulationConfig(objective="rosenbrock", iterations=its(2000)),
        ),
        Case(
            "formula x² + 25y² (bowl preset)",
            SimulationConfig(
                objective="expr", expr="x**2 + 25*y**2", start=(2.0, 1.0), iterations=its(300)
            ),
        ),
        Case(
            f"logistic regression, {300 if quick else 1000} samples, full batch",
            SimulationConfig(
                objective="logreg", samples=300 if quick else 1000, iterations=its(200)
            ),
        ),
        Case(
            f"MLP, {300 if quick else 1000} samples, minibatch 32, Adam",
            SimulationConfig(
                objective="mlp",
                optimizer="adam",
                samples=300 if quick else 1000,
                batch_size=32,
                iterations=its(300),
            ),
        ),
    ]


def run_search(config: SimulationConfig, settings: SearchSettings) -> SearchResult:
    return LrSearch(config, settings).run_to_end()


def run_grid(config: SimulationConfig, lrs: np.ndarray) -> tuple[np.ndarray, int]:
    """Final full-data loss of every λ (inf: diverged) and the run-iterations really run."""
    simulation = dataclasses.replace(config, lrs=lrs).build()
    ran = 0
    for batch in simulation.run(batch_iterations=1000, batch_seconds=3600.0):
        ran += int(np.count_nonzero(~(np.isnan(batch.loss) & np.isnan(batch.lr))))
    with np.errstate(all="ignore"):
        final = simulation.objective.loss_only(simulation.weights)
    final = np.where((simulation.diverged_at >= 0) | ~np.isfinite(final), np.inf, final)
    return final, ran


def measure(case: Case, settings: SearchSettings, repeats: int, clock) -> dict:
    result = run_search(case.config, settings)
    step = result.grid_step
    lrs = np.geomspace(
        settings.min_lr, settings.max_lr, grid_points(settings.min_lr, settings.max_lr, step)
    )
    search_times, grid_times = [], []
    for _ in range(repeats):
        t0 = clock()
        again = run_search(case.config, settings)
        t1 = clock()
        final, ran = run_grid(case.config, lrs)
        t2 = clock()
        search_times.append(t1 - t0)
        grid_times.append(t2 - t1)
        assert again == result  # the search is deterministic
    best = int(np.argmin(final))
    winner = float(lrs[best])
    low, high = result.bracket if result.bracket is not None else (np.nan, np.nan)
    # The search winner's loss on the grid: the grid point nearest to it in log λ.
    nearest = int(np.argmin(np.abs(np.log(lrs / result.best_lr)))) if result.best_lr else best
    regret = float(final[nearest] / final[best] - 1.0) if final[best] > 0 else 0.0
    return {
        "result": result,
        "points": lrs.size,
        "grid_nominal": lrs.size * case.config.iterations,
        "grid_ran": ran,
        "search_s": statistics.median(search_times),
        "grid_s": statistics.median(grid_times),
        "winner": winner,
        "inside": bool(low <= winner <= high),
        "regret": regret,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short profile (CI)")
    parser.add_argument("--repeats", type=int, default=3, help="timings per figure (default 3)")
    parser.add_argument(
        "--clock", choices=sorted(CLOCKS), default="cpu", help="CPU time (default) or wall clock"
    )
    args = parser.parse_args(argv)
    repeats = 1 if args.quick else args.repeats
    clock = CLOCKS[args.clock]
    settings = SearchSettings()

    print(f"lrviz search benchmark, {datetime.date.today().isoformat()}")
    print(describe_machine())
    print(f"before: {load()}")
    print(
        f"median of {repeats} interleaved repeat{'s' * (repeats > 1)}, {args.clock} time; "
        f"search defaults (λ {format_lr(settings.min_lr)} .. {format_lr(settings.max_lr)}, "
        f"{settings.per_stage} per stage, η {settings.eta:g}, subset {settings.subset:g}, "
        f"{settings.criterion} loss){'; --quick profile' if args.quick else ''}"
    )
    print()
    print(
        "| case | iterations | search: best λ, bracket | run-iterations search | grid (step, "
        "points) | grid nominal | grid ran | nominal / search | ran / search | search s | "
        "grid s | time grid / search | grid winner in bracket | regret on grid |"
    )
    print("|---|---:|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---|---:|")
    rows = []
    for case in cases(args.quick):
        row = measure(case, settings, repeats, clock)
        rows.append(row)
        r = row["result"]
        a, b = r.bracket
        spent = r.iterations_spent
        print(
            f"| {case.name} | {r.iterations:,} | {format_lr(r.best_lr)} in {format_lr(a)} .. "
            f"{format_lr(b)} | {spent:,} | {r.grid_step:.3g}x, {row['points']} | "
            f"{row['grid_nominal']:,} | {row['grid_ran']:,} | "
            f"{row['grid_nominal'] / spent:.1f}x | {row['grid_ran'] / spent:.1f}x | "
            f"{row['search_s']:.3f} | {row['grid_s']:.3f} | "
            f"{row['grid_s'] / max(row['search_s'], 1e-9):.1f}x | "
            f"{'yes' if row['inside'] else 'NO'} ({format_lr(row['winner'])}) | "
            f"{100 * row['regret']:.2g}% |"
        )
    print()
    print(f"after: {load()}")
    nominal = [row["grid_nominal"] / row["result"].iterations_spent for row in rows]
    timing = [row["grid_s"] / max(row["search_s"], 1e-9) for row in rows]
    inside = sum(row["inside"] for row in rows)
    print(
        f"run-iterations: the grid costs {min(nominal):.1f}x to {max(nominal):.1f}x the search's; "
        f"time: {min(timing):.1f}x to {max(timing):.1f}x; the grid's winner in the search's "
        f"bracket on {inside} of {len(rows)} cases"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

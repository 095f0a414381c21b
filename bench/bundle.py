"""How big is the PyInstaller bundle, and how fast does it start compared with the source app?

    packaging/build.sh                   # first: builds dist/lrviz (and smoke-checks it)
    python bench/bundle.py               # size, and start-up: 7 rounds, source vs frozen
    python bench/bundle.py --rounds 3 --bundle DIR --json

Start-up is timed from the outside, from launching the process to the app's first painted
window (``LRVIZ_STARTUP_PROBE=1``: the app prints ``painted`` then and quits; ui/startup_probe.py),
offscreen, the same way for ``python main.py`` (the source app, this Python) and the bundle's
executable. Rounds alternate source and frozen after one unmeasured warm-up of each (files in
the page cache); medians are compared: ``ratio`` = frozen / source (issue 15's target: <= 1.2).
Size is the bundle folder's files (symbolic links not counted twice), in MB (10^6 bytes, the
target's unit) and MiB (what ``du -sh`` says, rounded up by blocks), with its largest parts.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT_S = 120
SIZE_TARGET_MB = 180
RATIO_TARGET = 1.2


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def largest_parts(internal: Path, count: int = 8) -> list[tuple[str, int]]:
    """The biggest entries of the bundle's _internal folder (a package, a Qt library)."""
    sizes = []
    for entry in internal.iterdir():
        if entry.is_symlink():
            continue
        size = folder_bytes(entry) if entry.is_dir() else entry.stat().st_size
        sizes.append((entry.name, size))
    return sorted(sizes, key=lambda item: -item[1])[:count]


def time_to_first_paint(command: list[str], cwd: Path) -> float:
    """Seconds from starting ``command`` to its ``painted`` line."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "LRVIZ_STARTUP_PROBE": "1"}
    started = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    try:
        for line in process.stdout:
            if line.strip() == "painted":
                elapsed = time.perf_counter() - started
                break
        else:
            raise RuntimeError(f"{command[0]} exited ({process.wait()}) without painting")
        process.wait(timeout=TIMEOUT_S)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return elapsed


def measure_start_up(source: list[str], frozen: list[str], rounds: int) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        cwd = Path(folder)  # neither run sees the source tree as its current directory
        time_to_first_paint(source, cwd)
        time_to_first_paint(frozen, cwd)
        times: dict[str, list[float]] = {"source": [], "frozen": []}
        for _ in range(rounds):
            times["source"].append(time_to_first_paint(source, cwd))
            times["frozen"].append(time_to_first_paint(frozen, cwd))
    source_s = statistics.median(times["source"])
    frozen_s = statistics.median(times["frozen"])
    return {
        "rounds": rounds,
        "source_median_s": round(source_s, 3),
        "frozen_median_s": round(frozen_s, 3),
        "source_s": [round(t, 3) for t in times["source"]],
        "frozen_s": [round(t, 3) for t in times["frozen"]],
        "ratio": round(frozen_s / source_s, 3),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", type=Path, default=ROOT / "dist" / "lrviz")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    executable = args.bundle / ("lrviz.exe" if sys.platform == "win32" else "lrviz")
    if not executable.is_file():
        sys.stderr.write(f"bundle.py: error: no {executable} (build it: packaging/build.sh)\n")
        return 2

    size = folder_bytes(args.bundle)
    internal = args.bundle / "_internal"
    parts = largest_parts(internal) if internal.is_dir() else []
    start_up = measure_start_up(
        [sys.executable, str(ROOT / "main.py")], [str(executable)], args.rounds
    )
    result = {
        "bundle": str(args.bundle),
        "size_mb": round(size / 1e6, 1),
        "size_mib": round(size / 2**20, 1),
        "largest_mb": {name: round(b / 1e6, 1) for name, b in parts},
        **start_up,
    }
    if args.json:
        print(json.dumps(result))
        return 0
    print(
        f"bundle {args.bundle}: {result['size_mb']} MB = {result['size_mib']} MiB"
        f" (target <= {SIZE_TARGET_MB} MB)"
    )
    print("  largest: " + ", ".join(f"{n} {mb} MB" for n, mb in result["largest_mb"].items()))
    print(
        f"start-up to the first painted window, median of {args.rounds} (offscreen): "
        f"source {start_up['source_median_s']:.3f} s, frozen {start_up['frozen_median_s']:.3f} s"
    )
    print(f"  ratio frozen / source: {start_up['ratio']:.2f}x (target <= {RATIO_TARGET}x)")
    print(f"  source runs: {start_up['source_s']}")
    print(f"  frozen runs: {start_up['frozen_s']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

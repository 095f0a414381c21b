"""Log loading speed and memory against pandas.read_csv, measured in the same run.

    python bench/load.py          # 1,000,000-row Lightning metrics.csv, 10,000,000-row step,lr,loss
    python bench/load.py --quick  # ten times smaller (CI)

For each file: the time of ``lrviz.loaders.load`` (file -> plottable series: missing cells
dropped, repeated steps resolved; lrviz reads CSV with pandas' C parser) against
``pandas.read_csv`` (file -> DataFrame), the baseline, as the best of ``--repeat`` interleaved
runs; and the
peak memory of each, measured in a fresh subprocess with tracemalloc (numpy reports its buffers
to it) and as the growth of the peak resident set size. Targets: time <= 1.5x pandas, peak
memory <= 3x the file size.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def write_lightning(path: Path, rows: int, seed: int = 0) -> None:
    """Lightning CSVLogger style: sparse rows (train loss per step, lr every 50 steps, val loss
    every 500), CRLF, floats at full precision."""
    import numpy as np

    rng = np.random.default_rng(seed)
    with open(path, "w", newline="") as f:
        f.write("epoch,lr-SGD,step,train_loss,val_loss\r\n")
        step = 0
        written = 0
        chunk = 200_000
        while written < rows:
            n = min(chunk, rows - written)
            losses = (
                2.3 * np.exp(-np.arange(written, written + n) / 3e5) + rng.random(n) * 0.1
            ).tolist()
            vals = rng.random(n).tolist()
            out = []
            for i in range(n):
                if step % 50 == 0 and (written + i) % 3 == 1:
                    out.append(f",{0.1 * 0.999 ** (step // 50)!r},{step},,\r\n")
                elif step % 500 == 0 and (written + i) % 3 == 2:
                    out.append(f"{step // 1000},,{step},,{vals[i]!r}\r\n")
                else:
                    out.append(f"{step // 1000},,{step},{losses[i]!r},\r\n")
                    step += 1
            f.write("".join(out))
            written += n


def write_step_lr_loss(path: Path, rows: int, seed: int = 0) -> None:
    """An LR-range-test style ``step,lr,loss`` file, floats at full precision."""
    import numpy as np

    rng = np.random.default_rng(seed)
    with open(path, "w", newline="") as f:
        f.write("step,lr,loss\n")
        chunk = 1_000_000
        for start in range(0, rows, chunk):
            n = min(chunk, rows - start)
            steps = np.arange(start, start + n)
            lr = (1e-7 * (1e8 ** (steps / max(rows - 1, 1)))).tolist()
            loss = (2.3 * np.exp(-steps / (rows / 3)) + rng.random(n) * 0.1).tolist()
            f.write(
                "".join(
                    f"{s},{a!r},{b!r}\n" for s, a, b in zip(steps.tolist(), lr, loss, strict=True)
                )
            )


# --- measured in subprocesses -------------------------------------------------------------

_CHILD = r"""
import json, os, resource, sys, time, tracemalloc
sys.path.insert(0, {root!r})
tool, path, workers = sys.argv[1], sys.argv[2], int(sys.argv[3])
if tool == "pandas":
    import pandas as pd
    run = lambda: pd.read_csv(path)
else:
    # Like pandas' baseline, time the read, not the import: the app imports pandas once, on
    # its first CSV log (about 0.5 s), then keeps it.
    import pandas
    from lrviz.loaders import load
    run = lambda: load(path)
def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
base = rss()
if sys.argv[4] == "trace":
    tracemalloc.start()
    t = time.perf_counter(); result = run(); elapsed = time.perf_counter() - t
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(json.dumps({{"peak_traced": peak, "time": elapsed}}))
else:
    t = time.perf_counter(); result = run(); elapsed = time.perf_counter() - t
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({{"rss_growth": peak_rss - base, "time": elapsed}}))
"""


def child(tool: str, path: Path, workers: int, mode: str) -> dict:
    code = _CHILD.format(root=str(ROOT))
    out = subprocess.run(
        [sys.executable, "-c", code, tool, str(path), str(workers), mode],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


def timings(path: Path, repeat: int) -> dict:
    """Best of ``repeat`` interleaved runs, each in a fresh process (no warm caches in numpy
    buffers or pandas between runs; the file itself stays in the page cache for all)."""
    best: dict = {}
    for _ in range(repeat):
        for key, tool, workers in (("pandas", "pandas", 0), ("lrviz", "lrviz", 0)):
            t = child(tool, path, workers, "rss")["time"]
            best[key] = min(best.get(key, float("inf")), t)
    return best


def memory(path: Path) -> dict:
    out = {}
    for key, tool, workers in (("pandas", "pandas", 0), ("lrviz", "lrviz", 0)):
        traced = child(tool, path, workers, "trace")["peak_traced"]
        rss = child(tool, path, workers, "rss")["rss_growth"]
        out[key] = {"traced": traced, "rss": rss}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="10x smaller files")
    parser.add_argument("--repeat", type=int, default=3, help="timing runs per tool (best is kept)")
    parser.add_argument("--json", action="store_true", help="print results as JSON")
    args = parser.parse_args(argv)
    scale = 10 if args.quick else 1
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        files = [
            (
                "lightning metrics.csv",
                Path(tmp) / "metrics.csv",
                1_000_000 // scale,
                write_lightning,
            ),
            ("step,lr,loss", Path(tmp) / "steps.csv", 10_000_000 // scale, write_step_lr_loss),
        ]
        for label, path, rows, writer in files:
            t0 = time.perf_counter()
            writer(path, rows)
            size = path.stat().st_size
            took = time.perf_counter() - t0
            print(
                f"{label}: {rows:,} rows, {size / 1e6:.1f} MB (written in {took:.1f} s)", flush=True
            )
            t = timings(path, args.repeat)
            m = memory(path)
            res = {
                "file": label,
                "rows": rows,
                "bytes": size,
                "pandas_s": t["pandas"],
                "lrviz_s": t["lrviz"],
                "ratio": t["lrviz"] / t["pandas"],
                "lrviz_peak_traced_x_size": m["lrviz"]["traced"] / size,
                "lrviz_peak_rss_growth_x_size": m["lrviz"]["rss"] / size,
                "pandas_peak_traced_x_size": m["pandas"]["traced"] / size,
                "pandas_peak_rss_growth_x_size": m["pandas"]["rss"] / size,
            }
            results.append(res)
            print(
                f"  time   pandas.read_csv {res['pandas_s']:.3f} s | lrviz load "
                f"{res['lrviz_s']:.3f} s ({res['ratio']:.2f}x; target <= 1.5x)",
                flush=True,
            )
            print(
                f"  memory lrviz peak {res['lrviz_peak_traced_x_size']:.2f}x file (tracemalloc), "
                f"{res['lrviz_peak_rss_growth_x_size']:.2f}x (RSS growth); target <= 3x | "
                f"pandas {res['pandas_peak_traced_x_size']:.2f}x / "
                f"{res['pandas_peak_rss_growth_x_size']:.2f}x",
                flush=True,
            )
            path.unlink()
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, numpy {_version('numpy')}, "
        f"pandas {_version('pandas')}"
    )
    if args.json:
        print(json.dumps(results, indent=2))
    return 0


def _version(mod: str) -> str:
    try:
        return __import__(mod).__version__
    except ImportError:
        return "absent"


if __name__ == "__main__":
    sys.exit(main())

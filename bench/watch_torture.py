"""Live-watch torture: a writer process rewrites a log under a polling LogWatcher.

    python bench/watch_torture.py            # 10 ms and 1 s polls, 3 rounds each (~1 min)
    python bench/watch_torture.py --quick    # CI: 10 ms polls, one short round (a few seconds)

The writer (its own process, ~1 kHz) writes ``loss,n`` rows, each in two ``write`` calls with a
pause between them, cut inside the last cell: a poll can land on a line that has all its cells
but not all its digits (``n`` has seven digits or more, so a cut one is never a valid value).
It runs four phases and pauses after each so that the watcher can be checked against the file:

1. ``append``: header and rows, split lines;
2. ``rewrite``: Lightning's rewrite-with-new-header (a ``val`` column appears): the file is
   truncated and written again, header and every row so far, in 4 KB pieces with pauses, then
   rows go on being appended;
3. ``restart``: a training restarted into the same file: truncated (same inode) and written
   again by a new run with another header, faster than the poll, so that it is longer than
   before by the next poll;
4. ``same-header``: restarted again with the same header.

After each phase the watcher polls twice more and its rows (the ``n`` series, drawn against
the row index, so order and repeats count) are compared with the rows in the file: *lost*
(in the file, not shown), *duplicated* (shown more than once), *stale* (shown, not in the file:
the old run's). During the phases every poll is checked for *partial* rows (a value the writer
never wrote: a line shown before it ended). Target: 0 / 0 / 0 and 0 partial.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PHASES = ("append", "rewrite", "restart", "same-header")


def value(generation: int, i: int) -> int:
    """The ``n`` of row ``i`` of a run: seven digits or more, so a cut one is invalid."""
    return 1_000_000 * (generation + 1) + i


def _pause(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def writer(path: str, rows: int, phase_done, go, rate: float) -> None:
    """Write the four phases (see the module docstring), waiting for ``go`` after each."""
    period = 1.0 / rate

    def row(f, cells: str) -> None:
        half = len(cells) - 4  # inside n: "...,100193" of "...,1001939\n"
        f.write(cells[:half])
        f.flush()
        _pause(period / 2)  # a poll may land here, mid-line
        f.write(cells[half:])
        f.flush()
        _pause(period / 2)

    def wait_for_check(k: int) -> None:
        phase_done[k].set()
        go[k].wait()

    with open(path, "w") as f:  # 1. append
        f.write("loss,n\n")
        f.flush()
        for i in range(rows):
            row(f, f"{1.0 / (i + 1)!r},{value(0, i)}\n")
    wait_for_check(0)

    # 2. Lightning >= 2.2: rewrite with a new header, in 4 KB pieces, then go on.
    text = "loss,val,n\n" + "".join(f"{1.0 / (i + 1)!r},,{value(0, i)}\n" for i in range(rows))
    with open(path, "r+") as f:
        f.truncate(0)
        for k in range(0, len(text), 4096):
            f.write(text[k : k + 4096])
            f.flush()
            _pause(0.002)
        for i in range(rows, rows + rows // 2):
            row(f, f"{1.0 / (i + 1)!r},{i * 0.5!r},{value(0, i)}\n")
    wait_for_check(1)

    for k, header in ((2, "loss,n"), (3, "loss,n")):  # 3. and 4.: restarted, same inode
        generation = k - 1
        with open(path, "r+") as f:
            f.truncate(0)
            f.seek(0)
            f.write(header + "\n")
            burst = rows * 2  # longer than before, well before the next 1 s poll
            for i in range(burst):
                f.write(f"{2.0 / (i + 1)!r},{value(generation, i)}\n")
                if i % 200 == 0:
                    f.flush()
            f.flush()
            for i in range(burst, burst + rows // 4):
                row(f, f"{2.0 / (i + 1)!r},{value(generation, i)}\n")
        wait_for_check(k)


def rows_in_file(path: str) -> list[int]:
    """The ``n`` (last cell) of every complete row, read with string operations (not lrviz)."""
    with open(path) as f:
        text = f.read()
    lines = text.split("\n")[1:-1]  # header; the last piece has no line end
    return [int(line.split(",")[-1]) for line in lines if line]


def shown(watcher) -> list[int]:
    data = watcher.data
    if data is None or not data.runs:
        return []
    s = data.runs[0].get("n")
    return [] if s is None else [int(v) for v in s.y]


def valid_values(rows: int) -> set[int]:
    return {value(g, i) for g in range(4) for i in range(rows * 3)}


def torture(interval: float, rows: int, rate: float) -> dict:
    from lrviz.errors import LrvizError
    from lrviz.loaders import LogWatcher

    folder = tempfile.mkdtemp(prefix="lrviz-torture-")
    path = os.path.join(folder, "metrics.csv")
    ctx = mp.get_context("fork")
    phase_done = [ctx.Event() for _ in PHASES]
    go = [ctx.Event() for _ in PHASES]
    proc = ctx.Process(target=writer, args=(path, rows, phase_done, go, rate), daemon=True)
    valid = valid_values(rows)
    totals = Counter()
    per_phase = []
    proc.start()
    while not os.path.exists(path):
        time.sleep(0.001)
    watcher = LogWatcher(path)
    try:
        for k, phase in enumerate(PHASES):
            while not phase_done[k].is_set():
                try:
                    watcher.poll()
                except LrvizError as exc:  # a header caught mid-write: the next poll reads it
                    totals["errors"] += 1
                    totals.setdefault("first error", str(exc))
                totals["polls"] += 1
                bad = [v for v in shown(watcher) if v not in valid]
                totals["partial"] += bool(bad)
                phase_done[k].wait(interval)
            for _ in range(2):
                time.sleep(min(interval, 0.05))
                watcher.poll()
            truth = rows_in_file(path)
            seen = shown(watcher)
            counts = Counter(seen)
            truth_set = set(truth)
            result = {
                "phase": phase,
                "rows": len(truth),
                "lost": sum(1 for v in truth if v not in counts),
                "duplicated": sum(c - 1 for c in counts.values() if c > 1),
                "stale": sum(c for v, c in counts.items() if v not in truth_set),
                "order": seen == truth,
            }
            per_phase.append(result)
            go[k].set()
    finally:
        for e in go:
            e.set()
        proc.join(30)
        if proc.is_alive():
            proc.kill()
    for r in per_phase:
        for key in ("rows", "lost", "duplicated", "stale"):
            totals[key] += r[key]
    return {"interval": interval, "phases": per_phase, "totals": totals}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="CI: 10 ms polls, one round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rows", type=int, default=3000, help="rows per phase")
    parser.add_argument("--rate", type=float, default=1000.0, help="rows per second")
    args = parser.parse_args(argv)
    intervals = (0.01,) if args.quick else (0.01, 1.0)
    rounds = 1 if args.quick else args.rounds
    rows = 600 if args.quick else args.rows
    bad = 0
    print(f"{'poll':>6s} {'round':>5s} {'phase':12s} {'rows':>6s} {'lost':>5s} {'dup':>5s}", end="")
    print(f" {'stale':>5s} {'in order':>8s}")
    for interval in intervals:
        grand = Counter()
        for r in range(rounds):
            result = torture(interval, rows, args.rate)
            for p in result["phases"]:
                print(
                    f"{interval * 1000:4.0f}ms {r + 1:5d} {p['phase']:12s} {p['rows']:6d}"
                    f" {p['lost']:5d} {p['duplicated']:5d} {p['stale']:5d} {p['order']!s:>8s}"
                )
                bad += p["lost"] + p["duplicated"] + p["stale"] + (not p["order"])
            t = result["totals"]
            bad += t["partial"]
            grand.update({k: v for k, v in t.items() if isinstance(v, int)})
            if t.get("first error"):
                print(f"       (errors during polls: {t['errors']}; first: {t['first error']})")
        print(
            f"poll {interval * 1000:.0f} ms: {grand['polls']} polls, {grand['rows']} rows checked:"
            f" lost {grand['lost']}, duplicated {grand['duplicated']}, stale {grand['stale']},"
            f" polls showing a partial row {grand['partial']}, errors {grand['errors']}"
        )
    print("target 0 / 0 / 0, no partial rows: " + ("met" if not bad else "NOT met"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

"""Where the GUI thread's stalls come from: every thread's Python stack, taken during a stall.

A sampler in Python cannot see a stall caused by another thread holding the interpreter lock
(it needs the lock to run). :mod:`faulthandler`'s watchdog is a C thread that dumps every
thread's Python stack without taking the lock: the probe re-arms it on each tick, so it fires
only when the event loop has not served the probe for :data:`THRESHOLD_MS` (and every
``THRESHOLD_MS`` more while the stall lasts). When the probe is served again it writes a marker
with the stall's length, so each dump belongs to the stall that follows it in the file.

:func:`causes` reads the file back: per stall, the GUI thread's innermost frames of this
project (or "event loop" when it is inside Qt with no project frame: painting in C++, or
waiting for the lock) and what each other thread is running, counted over all samples.
"""

from __future__ import annotations

import collections
import faulthandler
import os
import re
import threading
import time

#: A probe this late (ms) gets every thread's stack dumped, and again each THRESHOLD_MS more.
THRESHOLD_MS = 30.0
_THREAD = re.compile(r"^(?:Current thread|Thread) (0x[0-9a-f]+) \(most recent call first\):")
_FRAME = re.compile(r'^  File "(.*)", line (\d+) in (.*)$')
_STALL = re.compile(r"^=== stall ([\d.]+) ms wall ([\d.]+) cpu ?(.*)$")


class StallWatch:
    """Armed by :meth:`tick` on every probe tick, :meth:`disarm` when the probe stops;
    :func:`causes` reads the file. Call :func:`register_thread` first thing in every worker
    thread (QThreads are unknown to :mod:`threading` otherwise): their stacks are then matched
    to the CPU time their OS thread used."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._file = open(path, "w")  # faulthandler writes to its fd, the stall markers too
        self.main = threading.main_thread().ident
        self._cpu: dict[int, float] = {}  # OS thread id -> its CPU seconds at the last tick

    def tick(self, since_last_ms: float, late_ms: float) -> None:
        """The probe was served ``since_last_ms`` after its previous tick, ``late_ms`` late."""
        cpu = _thread_cpu()
        if since_last_ms >= THRESHOLD_MS:  # the watchdog may have dumped: close the stall
            # What each OS thread spent on a CPU meanwhile: the GUI thread's own work, or
            # another thread's (which held the lock while the GUI thread waited for it).
            idents = {t.native_id: t.ident for t in threading.enumerate()}
            used = []
            for tid, seconds in sorted(cpu.items()):
                ms = (seconds - self._cpu.get(tid, seconds)) * 1000
                if ms >= 1.0:
                    used.append(f"{tid}:{_comm(tid)}:{idents.get(tid, 0):#x}={ms:.1f}")
            self._file.flush()
            line = f"=== stall {late_ms:.1f} ms wall {since_last_ms:.1f} cpu {' '.join(used)}\n"
            os.write(self._file.fileno(), line.encode())
        self._cpu = cpu
        faulthandler.dump_traceback_later(THRESHOLD_MS / 1000, repeat=True, file=self._file)

    def disarm(self) -> None:
        """The probe stopped: no more dumps until it ticks again."""
        faulthandler.cancel_dump_traceback_later()
        self._file.flush()


def register_thread() -> None:
    """Make the calling thread known to :mod:`threading` (its ident and OS thread id)."""
    threading.current_thread()


def _thread_cpu() -> dict[int, float]:
    """CPU seconds each OS thread of this process has used (Linux: each thread's own CPU
    clock, ``MAKE_THREAD_CPUCLOCK(tid, CPUCLOCK_SCHED)``); empty elsewhere."""
    try:
        tids = [int(t) for t in os.listdir("/proc/self/task")]
    except OSError:
        return {}
    out = {}
    for tid in tids:
        try:
            out[tid] = time.clock_gettime(((~tid) << 3) | 6)
        except OSError:
            continue  # ended meanwhile
    return out


def _comm(tid: int) -> str:
    try:
        with open(f"/proc/self/task/{tid}/comm") as f:
            return f.read().strip().replace(" ", "_").replace(":", "_") or "?"
    except OSError:
        return "?"


def _where(frames: list[tuple[str, int, str]]) -> str:
    """A thread's stack (innermost first) as its innermost project or library frames."""
    if not frames:
        return "(no Python frame)"
    picked = []
    for path, line, func in frames:
        short = _short(path)
        if short is None:
            continue
        picked.append(f"{short}:{line} {func}")
        if len(picked) == 3:
            break
    inner = f"{_short(frames[0][0], keep_all=True)}:{frames[0][1]} {frames[0][2]}"
    if not picked or not picked[0].startswith(inner.split(" ")[0]):
        picked.insert(0, inner)
    return " < ".join(picked[:4])


def _short(path: str, keep_all: bool = False) -> str | None:
    """``lrviz/x.py``, ``ui/x.py``, ``bench/x.py``, ``pandas/…``, ``sqlalchemy/…``,
    ``pyqtgraph/…`` (None for other files unless ``keep_all``)."""
    parts = path.replace("\\", "/").split("/")
    for root in ("lrviz", "ui", "bench", "pandas", "sqlalchemy", "optuna", "pyqtgraph", "numpy"):
        if root in parts[:-1]:
            i = len(parts) - 1 - parts[::-1].index(root)
            return "/".join(parts[i:])
    return parts[-1] if keep_all else None


def read(path: str, main: int) -> list[dict]:
    """The stalls in ``path``: ``{"ms", "cpu": {ident: ms}, "samples": [{ident: frames}]}``
    (frames innermost first); ``main`` is the GUI thread's ident."""
    stalls: list[dict] = []
    samples: list[dict] = []
    threads: dict[int, list] = {}
    current: list | None = None

    def end_dump() -> None:
        nonlocal threads
        if threads:
            samples.append(threads)
        threads = {}

    with open(path, errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("Timeout ("):
                end_dump()
                current = None
            elif m := _THREAD.match(line):
                current = threads.setdefault(int(m.group(1), 16), [])
            elif m := _FRAME.match(line):
                if current is not None:
                    current.append((m.group(1), int(m.group(2)), m.group(3)))
            elif m := _STALL.match(line):
                end_dump()
                cpu = []
                for part in m.group(3).split():
                    who, ms = part.rsplit("=", 1)
                    _tid, name, ident = who.split(":")
                    cpu.append((name, int(ident, 16), float(ms)))
                if float(m.group(1)) > THRESHOLD_MS and samples:
                    stalls.append(
                        {
                            "ms": float(m.group(1)),
                            "wall": float(m.group(2)),
                            "cpu": cpu,
                            "samples": samples,
                        }
                    )
                samples = []
    return stalls


def cause(stall: dict, main: int) -> tuple[str, str]:
    """(kind, where) of one stall. The GUI thread used most of the stall on a CPU: its own
    work ("GUI busy", where its stack was at the first sample). Another thread of the process
    used most of it: the GUI thread waited for the interpreter lock ("GIL held by NAME", where
    that thread's stack was). Neither: the process waited for a core (machine load)."""
    wall = stall["wall"]
    first = stall["samples"][0]
    gui = sum(ms for _n, ident, ms in stall["cpu"] if ident == main)
    others = [(ms, name, ident) for name, ident, ms in stall["cpu"] if ident != main]
    if gui >= 0.5 * wall:
        return "GUI busy", _where(first.get(main, []))
    if others:
        ms, name, ident = max(others)
        if ms >= 0.4 * wall:
            where = _where(first[ident]) if ident in first else "(no Python frame known)"
            return f"GIL held by {name}", where
    return "no CPU for the process (machine load)", _where(first.get(main, []))


def causes(path: str, main: int, top: int = 12) -> str:
    """A report: stalls by cause (see :func:`cause`), with counts and the worst of each."""
    stalls = read(path, main)
    if not stalls:
        return f"no stall over {THRESHOLD_MS:.0f} ms"
    counted: collections.Counter = collections.Counter()
    worst: dict = {}
    kinds: collections.Counter = collections.Counter()
    for stall in stalls:
        key = cause(stall, main)
        kinds[key[0]] += 1
        counted[key] += 1
        worst[key] = max(worst.get(key, 0.0), stall["ms"])
    total = sum(s["ms"] for s in stalls)
    lines = [
        f"{len(stalls)} stalls over {THRESHOLD_MS:.0f} ms ({total / 1000:.2f} s in all); "
        f"worst {max(s['ms'] for s in stalls):.0f} ms; "
        + ", ".join(f"{k}: {n}" for k, n in kinds.most_common()),
        "count  worst ms  cause",
    ]
    for (kind, where), n in counted.most_common(top):
        lines.append(f"{n:5d} {worst[(kind, where)]:9.0f}  {kind}: {where}")
    return "\n".join(lines)

"""Where does the GUI thread spend a stall? A bench-only watchdog for bench/ui_latency.py.

The probe timer notes the time of each tick (:meth:`StallSampler.ticked`). A watchdog thread
wakes every few milliseconds; once the probe is late by more than ``late_ms`` it records the
GUI thread's Python stack (``sys._current_frames()``), again every ``every_ms`` while the
stall lasts. When the stall ends (the next tick) it records the stall's length, how much CPU
the GUI thread got during it (little CPU: it waited, for the interpreter lock or for a core)
and which of the process's threads used the CPU meanwhile (``/proc/self/task``).

A sample's "site" is the innermost frame of this repository's code on the GUI thread's stack
and the innermost frame overall (pyqtgraph, numpy, Qt's Python side...). A watchdog that
cannot get the interpreter lock cannot sample: a sample taken much later than planned says
the lock was held by C code that does not release it (its ``lag_ms``).
"""

from __future__ import annotations

import gc
import os
import sys
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = str(Path(__file__).resolve().parent.parent)


def _thread_cpu() -> dict[str, float]:
    """CPU seconds of each of this process's threads, by name (threads of one name summed)."""
    ticks = os.sysconf("SC_CLK_TCK")
    out: dict[str, float] = defaultdict(float)
    python_names = {t.native_id: t.name for t in threading.enumerate()}
    for tid in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{tid}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        name = python_names.get(int(tid), name)
        out["GUI" if name == "MainThread" else name] += (int(fields[11]) + int(fields[12])) / ticks
    return out


def _children_cpu() -> float:
    """CPU seconds of the child processes (the engine process)."""
    import multiprocessing

    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for child in multiprocessing.active_children():
        try:
            with open(f"/proc/{child.pid}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def _schedstat(tid: int) -> tuple[float, float]:
    """(seconds on a CPU, seconds runnable but waiting for one) of thread ``tid``."""
    with open(f"/proc/self/task/{tid}/schedstat") as f:
        run, wait, _ = f.read().split()
    return int(run) / 1e9, int(wait) / 1e9


def _site(frame) -> tuple[str, str]:
    """(innermost frame of our code, innermost frame) of a stack, as 'file:function'."""
    inner = f"{Path(frame.f_code.co_filename).name}:{frame.f_code.co_name}"
    ours = "-"
    f = frame
    while f is not None:
        path = f.f_code.co_filename
        if path.startswith(ROOT) and "/bench/" not in path:
            ours = f"{os.path.relpath(path, ROOT)}:{f.f_code.co_name}:{f.f_lineno}"
            break
        f = f.f_back
    return ours, inner


def _stack(frame, depth: int = 12) -> list[str]:
    out = []
    while frame is not None and len(out) < depth:
        out.append(f"{Path(frame.f_code.co_filename).name}:{frame.f_code.co_name}:{frame.f_lineno}")
        frame = frame.f_back
    return out


class StallSampler:
    def __init__(self, late_ms: float = 30.0, every_ms: float = 20.0, probe_ms: float = 5.0):
        self.late = late_ms / 1000
        self.every = every_ms / 1000
        self.probe = probe_ms / 1000
        self.gui = threading.get_ident()
        self.gui_tid = threading.get_native_id()
        self.last_tick = time.perf_counter()
        #: when the sampler began (a stall's "at" is in seconds from it); a caller may set it
        self.started = self.last_tick
        self.last_cpu = _schedstat(self.gui_tid)
        self.samples: list[dict] = []
        self.stalls: list[dict] = []
        self._threads_at_stall: dict | None = None
        self._children_at_stall = 0.0
        self._stall_samples: list[dict] = []
        #: (seconds from ``started``, generation, ms, thread name, young objects) of every
        #: collection of the cycle collector over 2 ms (gc.callbacks)
        self.collections: list[tuple[float, int, float, str, int]] = []
        self._gc_began: dict[int, float] = {}
        gc.callbacks.append(self._on_gc)
        self._running = True
        self._watch = threading.Thread(target=self._run, name="stall-watchdog", daemon=True)
        self._watch.start()

    def ticked(self) -> None:
        """The probe's tick (GUI thread)."""
        now = time.perf_counter()
        cpu = _schedstat(self.gui_tid)
        late = now - self.last_tick - self.probe
        if late > self.late:
            # the watchdog adds what the other threads used meanwhile (not this thread's work)
            self.stalls.append(
                {
                    "ms": 1000 * late,
                    "at": self.last_tick - self.started,
                    "gui_cpu_ms": 1000 * (cpu[0] - self.last_cpu[0]),
                    # runnable, but the machine's cores were busy with other threads
                    "gui_runqueue_ms": 1000 * (cpu[1] - self.last_cpu[1]),
                    "threads_cpu_ms": {},
                    "child_cpu_ms": 0.0,
                    "samples": self._stall_samples,
                }
            )
        self._stall_samples = []
        self.last_tick, self.last_cpu = now, cpu

    def _on_gc(self, phase: str, info: dict) -> None:
        now = time.perf_counter()
        thread = threading.get_ident()
        if phase == "start":
            self._gc_began[thread] = (now, gc.get_count()[0])
            return
        began, young = self._gc_began.pop(thread, (None, 0))
        if began is not None and now - began > 0.002:
            self.collections.append(
                (
                    began - self.started,
                    info["generation"],
                    1000 * (now - began),
                    threading.current_thread().name,
                    young,
                )
            )

    def stop(self) -> None:
        if self._on_gc in gc.callbacks:
            gc.callbacks.remove(self._on_gc)
        self._running = False
        self._watch.join(1.0)

    def _run(self) -> None:
        next_sample = None
        while self._running:
            planned = time.perf_counter() + 0.004
            time.sleep(0.004)
            now = time.perf_counter()
            tick = self.last_tick
            late = now - tick - self.probe
            if late <= self.late:
                if next_sample is not None and self._threads_at_stall is not None:
                    self._account(self._threads_at_stall, self._children_at_stall)
                next_sample = None
                continue
            if next_sample is None:  # a new stall
                self._threads_at_stall = _thread_cpu()
                self._children_at_stall = _children_cpu()
                next_sample = now
            if now < next_sample:
                continue
            frame = sys._current_frames().get(self.gui)
            if frame is None or tick != self.last_tick:
                continue
            ours, inner = _site(frame)
            sample = {
                "late_ms": 1000 * late,
                "lag_ms": 1000 * (now - planned),
                "ours": ours,
                "inner": inner,
                "stack": _stack(frame),
            }
            del frame
            self._stall_samples.append(sample)
            self.samples.append(sample)
            next_sample = now + self.every

    def _account(self, threads_before: dict, children_before: float) -> None:
        """The stall just ended: what each thread used since it began."""
        if not self.stalls:
            return
        after = _thread_cpu()
        stall = self.stalls[-1]
        stall["threads_cpu_ms"] = {
            k: 1000 * (v - threads_before.get(k, 0.0))
            for k, v in after.items()
            if v - threads_before.get(k, 0.0) > 0
        }
        stall["child_cpu_ms"] = 1000 * (_children_cpu() - children_before)

    def report(self, top: int = 15) -> str:
        lines = []
        n = len(self.stalls)
        if not n:
            return "no stalls over the threshold"
        total = sum(s["ms"] for s in self.stalls)
        cpu = sum(s["gui_cpu_ms"] for s in self.stalls)
        queued = sum(s["gui_runqueue_ms"] for s in self.stalls)
        wall = sum(s["ms"] + 1000 * self.probe for s in self.stalls)
        blocked = wall - cpu - queued
        lines.append(
            f"{n} stalls > {self.late * 1000:.0f} ms, {total:.0f} ms late in all; of their "
            f"{wall:.0f} ms the GUI thread ran {cpu:.0f} ms ({100 * cpu / wall:.0f}%), waited for "
            f"a core {queued:.0f} ms ({100 * queued / wall:.0f}%), was blocked (the GIL, a "
            f"lock) {blocked:.0f} ms ({100 * blocked / wall:.0f}%)"
        )
        threads: Counter = Counter()
        for s in self.stalls:
            for k, v in s["threads_cpu_ms"].items():
                threads[k] += v
            threads["(engine process)"] += s["child_cpu_ms"]
        lines.append(
            "CPU during stalls by thread (ms): "
            + ", ".join(f"{k} {v:.0f}" for k, v in threads.most_common(8))
        )
        # A stall's first sample names what it was doing when it went over the threshold.
        first = Counter()
        ms = Counter()
        for s in self.stalls:
            if s["samples"]:
                key = (s["samples"][0]["ours"], s["samples"][0]["inner"])
                first[key] += 1
                ms[key] += s["ms"]
        lines.append("stalls by the GUI thread's site at its first sample (count, ms):")
        for key, count in first.most_common(top):
            lines.append(f"  {count:4d} {ms[key]:7.0f} ms  {key[0]}  [{key[1]}]")
        every = Counter((s["ours"], s["inner"]) for s in self.samples)
        lines.append(f"all {len(self.samples)} samples by site:")
        for key, count in every.most_common(top):
            lines.append(f"  {count:4d}  {key[0]}  [{key[1]}]")
        lagged = [s for s in self.samples if s["lag_ms"] > 10]
        lines.append(f"samples the watchdog took > 10 ms late (lock held in C): {len(lagged)}")
        return "\n".join(lines)

    def each_stall(self, depth: int = 8) -> str:
        """Every stall, in order: when it began (seconds from ``started``), how long, the GUI
        thread's CPU and run-queue wait, the threads that ran meanwhile, and the GUI thread's
        stack at each distinct site sampled during it (innermost first)."""
        lines = [f"each stall > {self.late * 1000:.0f} ms:"]
        for s in self.stalls:
            others = ", ".join(
                f"{k} {v:.0f}"
                for k, v in sorted(s["threads_cpu_ms"].items(), key=lambda kv: -kv[1])
            )
            lines.append(
                f"  at {s['at']:7.2f} s  {s['ms']:6.0f} ms  GUI ran {s['gui_cpu_ms']:.0f}, waited "
                f"for a core {s['gui_runqueue_ms']:.0f}; threads (ms): {others}"
            )
            seen = set()
            for sample in s["samples"]:
                stack = tuple(sample["stack"][:depth])
                if stack in seen:
                    continue
                seen.add(stack)
                lines.append(f"      [{sample['late_ms']:.0f} ms] " + " < ".join(stack))
        lines.append(
            "collections of the cycle collector over 2 ms (at s, generation, ms, thread, "
            "objects allocated since the last young collection):"
        )
        for at, generation, ms, thread, young in self.collections:
            lines.append(f"  at {at:7.2f} s  gen {generation}  {ms:6.1f} ms  {thread}  {young:,}")
        return "\n".join(lines)

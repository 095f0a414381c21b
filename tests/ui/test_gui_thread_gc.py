"""Cycles are freed in the GUI thread, never in a worker that happened to allocate."""

from __future__ import annotations

import gc
import threading
from typing import ClassVar

import pytest
from PySide6.QtCore import QObject

from ui.gui_thread_gc import GuiThreadCollector


class Cyclic:
    """A Qt object held in a reference cycle (as a lambda connected to a signal over its
    window holds one); records the thread the cycle is freed in, where the Qt object dies."""

    freed_in: ClassVar[list[str]] = []

    def __init__(self):
        self.qt_object = QObject()
        self.me = self  # the cycle: only the collector frees it

    def __del__(self):
        Cyclic.freed_in.append(threading.current_thread().name)


def make_garbage_then_allocate_in_a_worker(allocations: int) -> list:
    """A worker drops a cycle, then allocates (and keeps) enough containers to pass the
    youngest generation's threshold many times over, as a loader building a log does."""
    kept: list = []

    def work():
        Cyclic()  # dropped at once: garbage that only the cycle collector can free
        kept.extend([] for _ in range(allocations))

    thread = threading.Thread(target=work, name="worker")
    thread.start()
    thread.join()
    return kept


@pytest.fixture
def automatic_collection():
    """Automatic collection on for one test (the UI tests run with it off, as the app does)."""
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def test_a_cycle_dropped_in_a_worker_is_freed_in_the_gui_thread(qtbot, automatic_collection):
    collector = GuiThreadCollector(interval_ms=20)
    Cyclic.freed_in.clear()
    try:
        assert not gc.isenabled()
        kept = make_garbage_then_allocate_in_a_worker(50_000)
        assert Cyclic.freed_in == []  # the worker allocated plenty and collected nothing
        qtbot.waitUntil(lambda: bool(Cyclic.freed_in), timeout=5000)
        assert Cyclic.freed_in == [threading.main_thread().name]
        del kept
    finally:
        collector.stop()
        collector.deleteLater()
    assert gc.isenabled()


def test_without_it_the_worker_collects(qtbot, automatic_collection):
    """The failure it prevents: automatic collection frees the cycle in the worker."""
    assert gc.isenabled()
    gc.collect()
    Cyclic.freed_in.clear()
    kept = make_garbage_then_allocate_in_a_worker(50_000)
    assert Cyclic.freed_in == ["worker"] and kept


def test_a_full_collection_waits_for_a_quarter_more_long_lived_objects(qtbot):
    """An explicit gc.collect(2) skips Python's rule of walking every object only once the
    objects that reached the oldest generation since the last walk are a quarter of those it
    found: without the rule, a full collection ran every ten younger ones (0.1 s and more on
    the GUI thread with a 10,000-trial study open)."""
    collector = GuiThreadCollector(interval_ms=60_000)  # checks only when called here
    try:
        gc.collect()
        counts = gc.get_stats()[2]["collections"]
        kept = []

        def promote(n: int) -> None:
            """``n`` long-lived containers in the oldest generation, and every generation's
            count past its threshold (as a program allocating for a while leaves them)."""
            kept.extend([] for _ in range(n))
            for _ in range(gc.get_threshold()[2] + 1):
                gc.collect(1)  # moves them to the oldest generation, counts there
            for _ in range(gc.get_threshold()[1] + 1):
                gc.collect(0)
            kept.extend([] for _ in range(gc.get_threshold()[0] + 100))

        promote(10)
        collector.collect_due()
        assert gc.get_stats()[2]["collections"] == counts + 1  # the first one always runs
        promote(100)  # a few more: not worth walking everything again
        collector.collect_due()
        assert gc.get_stats()[2]["collections"] == counts + 1
        assert not collector.full_collection_due()
        promote(len(gc.get_objects(generation=2)) // 2)  # a big log opened: half as many more
        assert collector.full_collection_due()
        collector.collect_due()
        assert gc.get_stats()[2]["collections"] == counts + 2
        kept.clear()
    finally:
        collector.stop()
        collector.deleteLater()

"""The main views ``--screenshot PATH --view NAME`` renders: each sets the window up as a
user would and says when it shows what it should.

A view is a function ``show(window, ready, paths)``: it drives the window (opens a tab,
starts a run, opens ``paths`` or a demo) and calls ``ready()`` once the window shows the
result; the screenshot is taken then (``ready(widget)``: of that window instead, a dialog
the view opened). :data:`VIEWS` names each view's function as
``"module:function"`` (imported only when that view is asked for), so a tool adds its view
with one line here and one function in its own module::

    "lab": ("Lab: the loss surface and the paths of the runs", ".lab_tool:screenshot_view"),

A name in :data:`PLANNED` is accepted by ``--view`` and refused with a one-line error until
its tool registers it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

#: name -> (what it shows, "module:function" of ``show(window, ready, paths)``)
VIEWS: dict[str, tuple[str, str]] = {
    "simulate": ("the demo: 24 λ racing on one problem", ".views:show_simulate"),
    "rangetest": ("a range test, its suggestions and the chosen range", ".views:show_rangetest"),
    "logs": ("logs opened in Inspect (the paths given, else a demo sweep)", ".views:show_logs"),
    "search": ("a coarse-to-fine search for λ and its bracket", ".search_tool:screenshot_view"),
    "lab": ("Lab: four λ side by side on a loss surface", ".lab_tool:screenshot_view"),
    "lesson": ("the dog lesson, just after the white dog", ".lesson_tool:screenshot_view"),
    "guide": ("Help ▸ Guide, with the app's pictures (the guide window)", ".help:screenshot_view"),
}
#: views of tools still to come: accepted by --view, refused until registered in VIEWS
PLANNED = ("search", "lab", "lesson")


def names() -> list[str]:
    """Every name ``--view`` accepts: the registered views, then those still to come."""
    return [*VIEWS, *(name for name in PLANNED if name not in VIEWS)]


def problem(name: str) -> str | None:
    """Why view ``name`` cannot be shown (one line), or None."""
    if name in VIEWS:
        return None
    if name in PLANNED:
        return f"--view {name}: this view is not available yet (its tool has not registered it)"
    return f"--view {name}: no such view (choose from {', '.join(names())})"


def show_function(name: str) -> Callable:
    """The ``show(window, ready, paths)`` of view ``name``."""
    module, _, function = VIEWS[name][1].partition(":")
    return getattr(importlib.import_module(module, __package__), function)


# --- the views of the tools on main ---------------------------------------------------------
def show_simulate(window, ready, paths) -> None:
    window.controls.setCurrentWidget(window.simulate_form)
    window.simulation_finished.connect(ready)
    window.start_demo()


def show_rangetest(window, ready, paths) -> None:
    from PySide6.QtCore import QTimer

    tool = window.range_tool
    tool.test_finished.connect(lambda _result: ready())
    QTimer.singleShot(0, tool.run_test)


def show_logs(window, ready, paths) -> None:
    """The logs in ``paths``; without any, a demo sweep: six λ of a small network trained
    on minibatches (noisy, so smoothing shows), written as the CSV a sweep export is."""
    if not paths:
        paths = [demo_sweep()]
    window.library.busy.connect(lambda busy: busy or ready())
    window.open_paths([str(p) for p in paths])


def demo_sweep():
    """A temporary CSV of six simulated runs (W&B export shape), removed at exit."""
    import atexit
    import os
    import tempfile

    import numpy as np

    from lrviz.export import runs_csv, save_text_atomic
    from lrviz.run_store import RunStore
    from lrviz.simulation_config import SimulationConfig

    config = SimulationConfig(
        objective="mlp",
        optimizer="momentum",
        lrs=np.geomspace(3e-3, 1.0, 6),
        iterations=400,
        batch_size=16,
        seed=1,
    )
    simulation = config.build()
    store = RunStore(config.lrs, config.iterations, simulation.objective.has_accuracy)
    for batch in simulation.run(batch_iterations=400):
        store.append(batch)
    folder = tempfile.mkdtemp(prefix="lrviz-demo-")
    path = os.path.join(folder, "demo-sweep.csv")
    save_text_atomic(path, runs_csv(store.history_x(), store.lrs, store.loss, store.lr))

    def remove() -> None:
        for name in os.listdir(folder):
            os.unlink(os.path.join(folder, name))
        os.rmdir(folder)

    atexit.register(remove)
    return path

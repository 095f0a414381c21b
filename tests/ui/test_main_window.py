"""The real window, worker thread and panels, driven as a user would."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from lrviz.simulation_config import SimulationConfig
from ui.main_window import demo_config


def _long_config(iterations: int = 10_000_000) -> SimulationConfig:
    # Long enough to still run when the test pauses or stops it: the engine does 2,000,000
    # iterations of this in about a second now.
    return SimulationConfig(
        objective="quadratic",
        optimizer="sgd",
        lrs=np.geomspace(1e-4, 1e-2, 8),
        iterations=iterations,
        dim=20,
    )


def test_demo_streams_into_every_panel_and_matches_theory(qtbot, window):
    with qtbot.waitSignal(window.simulation_finished, timeout=60_000):
        window.start_demo()
    store = window.runner.store
    config = demo_config()
    assert store.count == config.iterations
    diverged = store.diverged_at >= 0
    # plain GD on a quadratic with curvature L=10: stable exactly below 2/L
    np.testing.assert_array_equal(diverged, config.lrs > 0.2)
    window.redraw()
    curves = window.loss_vs_iteration.curves
    assert len(curves) == config.lrs.size
    x, _ = curves[0].getData()
    assert x.size == config.iterations
    assert window.loss_vs_iteration.diverged_marks.getData()[0].size == diverged.sum()
    px, _ = window.loss_vs_lr.points.getData()
    dx, _ = window.loss_vs_lr.diverged.getData()
    assert px.size == (~diverged).sum() and dx.size == diverged.sum()
    assert "Finished" in window.status_text.text()
    assert window.simulate_form.run_button.isEnabled()
    assert not window.simulate_form.stop_button.isEnabled()


def test_run_button_starts_what_the_form_says(qtbot, window):
    form = window.simulate_form
    form.objective.setCurrentIndex(form.objective.findData("rosenbrock"))
    form.optimizer.setCurrentIndex(form.optimizer.findData("adam"))
    form.lr_min.setValue(1e-3)
    form.lr_max.setValue(1e-1)
    form.lr_count.setValue(5)
    form.iterations.setValue(150)
    with qtbot.waitSignal(window.simulation_finished, timeout=60_000):
        qtbot.mouseClick(form.run_button, Qt.MouseButton.LeftButton)
    store = window.runner.store
    assert store.runs == 5 and store.count == 150
    assert window.runner.config.objective == "rosenbrock"
    assert window.runner.config.optimizer == "adam"
    np.testing.assert_allclose(store.lrs, np.geomspace(1e-3, 1e-1, 5))


def test_pause_resume_stop(qtbot, window):
    runner = window.runner
    form = window.simulate_form
    with qtbot.waitSignal(runner.progressed, timeout=10_000):
        window.start_simulation(_long_config())
    with qtbot.waitSignal(runner.state_changed, check_params_cb=lambda s: s == "paused"):
        qtbot.mouseClick(form.pause_button, Qt.MouseButton.LeftButton)
    assert form.pause_button.text() == "Resume"
    paused_at = runner.simulation.iteration
    assert runner.store.count <= paused_at
    with qtbot.waitSignal(
        runner.progressed,
        timeout=10_000,
        check_params_cb=lambda done, total, rate: done > paused_at,
    ):
        qtbot.mouseClick(form.pause_button, Qt.MouseButton.LeftButton)
    assert runner.state == "running"
    with qtbot.waitSignal(runner.state_changed, check_params_cb=lambda s: s == "stopped"):
        qtbot.mouseClick(form.stop_button, Qt.MouseButton.LeftButton)
    assert not form.stop_button.isEnabled()
    assert runner.store.count < runner.store.capacity


def test_resumed_run_equals_uninterrupted_run(qtbot, window):
    runner = window.runner
    config = SimulationConfig(
        objective="logreg",
        optimizer="adam",
        batch_size=16,
        lrs=np.geomspace(1e-3, 1.0, 6),
        iterations=100_000,  # still running when paused: the engine is fast
    )
    with qtbot.waitSignal(runner.progressed, timeout=10_000):
        window.start_simulation(config)
    runner.pause()
    assert runner.state == "paused"
    with qtbot.waitSignal(
        runner.state_changed, timeout=60_000, check_params_cb=lambda s: s == "finished"
    ):
        runner.resume()
    reference = config.build()
    losses = np.concatenate([b.loss for b in reference.run(batch_iterations=500)])
    np.testing.assert_array_equal(runner.store.loss[: losses.shape[0]], losses)


def test_closing_mid_run_stops_the_thread(qtbot):
    from ui import worker
    from ui.main_window import MainWindow

    win = MainWindow()
    qtbot.addWidget(win)
    win.show()
    with qtbot.waitSignal(win.runner.progressed, timeout=10_000):
        win.start_simulation(_long_config())
    assert any(t.isRunning() for t in worker.LIVE_THREADS)
    win.redraw()
    win.loss_vs_iteration.graphics.viewport().repaint()  # a live frame starts a stroking thread
    raster = win.loss_vs_iteration.paths._raster
    win.close()
    assert not any(t.isRunning() for t in worker.LIVE_THREADS)
    assert raster is not None
    qtbot.waitUntil(lambda: not raster._thread.is_alive(), timeout=10_000)


def test_restart_drops_batches_of_the_old_run(qtbot, window):
    runner = window.runner
    window.start_simulation(_long_config())
    second = SimulationConfig(lrs=np.array([0.01, 0.1, 0.3]), iterations=400)
    with qtbot.waitSignal(window.simulation_finished, timeout=30_000):
        window.start_simulation(second)
    assert runner.store.runs == 3
    assert runner.store.count == 400
    assert window.loss_vs_iteration.store is runner.store
    np.testing.assert_array_equal(runner.store.diverged_at >= 0, [False, False, True])


def test_bad_form_input_shows_a_message_and_runs_nothing(qtbot, window):
    form = window.simulate_form
    form.lr_min.setValue(1.0)
    form.lr_max.setValue(1e-3)
    qtbot.mouseClick(form.run_button, Qt.MouseButton.LeftButton)
    assert "smallest λ is above the largest" in form.message.text()
    assert window.runner.store is None


def test_engine_error_is_reported_not_raised(qtbot, window, monkeypatch):
    from lrviz.objectives.quadratic import Quadratic

    def broken(self, *args, **kwargs):
        raise FloatingPointError("boom")

    # the engine evaluates in place (evaluate_into) since it runs at numpy speed
    monkeypatch.setattr(Quadratic, "evaluate", broken)
    monkeypatch.setattr(Quadratic, "evaluate_into", broken)
    with qtbot.waitSignal(window.runner.failed, timeout=10_000) as blocker:
        window.start_simulation(SimulationConfig(iterations=10))
    assert "boom" in blocker.args[0]
    assert "boom" in window.simulate_form.message.text()
    assert window.runner.state == "failed"


def test_log_y_toggle_and_statistic(qtbot, window):
    with qtbot.waitSignal(window.simulation_finished, timeout=60_000):
        window.start_demo()
    panel = window.loss_vs_iteration
    panel.log_y.setChecked(False)
    assert not panel.plot.getAxis("left").logMode
    store = window.runner.store
    best = int(np.argmin(np.where(store.diverged_at < 0, store.final_loss(), np.inf)))
    _, y = panel.curves[best].getData()
    np.testing.assert_array_equal(y, store.loss[: store.count, best])
    panel.log_y.setChecked(True)
    assert panel.plot.getAxis("left").logMode
    # λ vs iteration has its own: off, λ is drawn as it is (a warmup from 0 would show)
    lr_vs_iteration = window.lr_vs_iteration
    assert lr_vs_iteration.log_y.isChecked() and lr_vs_iteration.plot.getAxis("left").logMode
    lr_vs_iteration.log_y.setChecked(False)
    assert not lr_vs_iteration.plot.getAxis("left").logMode
    used = store.lr[: store.count, best]  # (drawn at fewer points where it holds still)

    def among_used(drawn):
        lo, hi = used.min() * (1 - 1e-9), used.max() * (1 + 1e-9)
        return drawn.size > 0 and bool(np.all((drawn >= lo) & (drawn <= hi)))

    _, lr = lr_vs_iteration.curves[best].getData()
    assert among_used(lr)  # λ as it is
    lr_vs_iteration.log_y.setChecked(True)
    _, lr = lr_vs_iteration.curves[best].getData()
    assert among_used(10.0**lr)  # log10 λ
    lr_panel = window.loss_vs_lr
    _, final = lr_panel.points.getData()
    lr_panel.statistic.setCurrentIndex(1)
    _, best = lr_panel.points.getData()
    assert np.all(best <= final + 1e-12)


def test_hovering_a_run_highlights_it_on_every_panel(qtbot, window):
    """PRODUCT.md: "hovering a run highlights it everywhere" (it only named it)."""
    with qtbot.waitSignal(window.simulation_finished, timeout=60_000):
        window.start_demo()
    store = window.runner.store
    loss_panel, lr_panel = window.loss_vs_iteration, window.lr_vs_iteration
    (loss_overlay, lr_overlay) = [overlay for _panel, overlay in window.highlight._curves]
    ring = window.highlight._ring
    trained = np.flatnonzero(store.diverged_at < 0)
    run = int(trained[len(trained) // 2])
    x, y = loss_panel.paths.curve(run)
    with qtbot.waitSignal(window.highlight.changed, check_params_cb=lambda r: r == run):
        assert loss_panel.paths.hover_at(x[x.size // 2], y[x.size // 2]) == run
    for panel, overlay in ((loss_panel, loss_overlay), (lr_panel, lr_overlay)):
        assert overlay.isVisible()
        _, shown_y = overlay.getData()
        np.testing.assert_array_equal(shown_y, panel.paths.curve(run)[1])
        assert overlay.opts["pen"].color() == panel.paths.pen(run).color()
        assert overlay.opts["pen"].widthF() > panel.paths.pen(run).widthF()
    (dot,) = ring.points()
    assert dot.pos().x() == pytest.approx(np.log10(store.lrs[run]))
    assert dot.pos().y() == pytest.approx(np.log10(store.final_loss()[run]))
    # from the λ panel to another run, then off every run
    other = int(trained[0])
    lx, ly = lr_panel.paths.curve(other)
    assert lr_panel.paths.hover_at(lx[-1], ly[-1]) == other
    assert window.highlight.run == other
    np.testing.assert_array_equal(loss_overlay.getData()[1], loss_panel.paths.curve(other)[1])
    far = float(np.nanmax(ly)) + 5.0
    assert lr_panel.paths.hover_at(lx[-1], far) is None
    assert window.highlight.run is None
    assert not loss_overlay.isVisible() and not lr_overlay.isVisible()
    assert len(ring.points()) == 0


def test_form_hides_options_that_do_not_apply(qtbot, window):
    form = window.simulate_form
    form.objective.setCurrentIndex(form.objective.findData("logreg"))
    assert form.batch_size.isVisible() and not form.curvature.isVisible()
    form.objective.setCurrentIndex(form.objective.findData("quadratic"))
    assert form.curvature.isVisible() and not form.batch_size.isVisible()
    form.optimizer.setCurrentIndex(form.optimizer.findData("adam"))
    assert not form.momentum.isVisible()
    form.optimizer.setCurrentIndex(form.optimizer.findData("nesterov"))
    assert form.momentum.isVisible()
    assert form.config().optimizer == "nesterov"


def test_a_long_run_streams_within_its_memory_budget_and_loses_no_batch(qtbot, window):
    """Issue 9: the store allocated iterations x runs up front (305 GiB for what the form
    allows); now it keeps a budget, the panels draw envelopes, and every batch counts."""
    runner = window.runner
    runner.memory_budget = 2 * 2**20  # 2 MB: a 4.8 MB run must fit in it
    seen = []
    runner.progressed.connect(lambda done, total, rate: seen.append(done))
    config = SimulationConfig(
        objective="quadratic", lrs=np.geomspace(1e-3, 0.15, 16), iterations=150_000, dim=2
    )
    with qtbot.waitSignal(window.simulation_finished, timeout=120_000):
        window.start_simulation(config)
    store = runner.store
    assert store.stride > 1 and store.loss.nbytes + store.lr.nbytes <= 2 * 2**20 + 2 * 8 * 16
    assert store.count == 150_000 and seen[-1] == 150_000 and seen == sorted(seen)
    assert store.loss_envelope.iterations == 150_000  # every batch reached the envelope
    window.redraw()
    x, _y = window.loss_vs_iteration.curves[0].getData()
    assert x.size <= 2 * 1024 + store.loss_envelope.bucket and x[-1] >= 149_000
    from lrviz.run_store import RunStore

    # the same run headless, at full resolution: the same summaries
    reference = RunStore(config.lrs, config.iterations)
    for batch in config.build().run(batch_iterations=10_000):
        reference.append(batch)
    np.testing.assert_allclose(store.final_loss(), reference.final_loss(), rtol=1e-12)
    np.testing.assert_allclose(store.best_loss(), reference.best_loss(), rtol=1e-12)


def test_clicking_a_legend_sample_hides_its_run(qtbot, window):
    """Few runs get a legend; its samples stand for runs of the one shared curves item."""
    config = SimulationConfig(objective="quadratic", lrs=np.array([0.01, 0.1]), iterations=30)
    with qtbot.waitSignal(window.simulation_finished, timeout=60_000):
        window.start_simulation(config)
    panel = window.loss_vs_iteration
    window.redraw()
    assert all(curve.isVisible() for curve in panel.curves)
    panel._legend_samples[1].setVisible(False)  # what a click on the sample does
    assert panel.curves[0].isVisible() and not panel.curves[1].isVisible()


def test_a_long_run_streams_from_a_child_process_and_resumes_exactly(qtbot, window):
    """Issue 9: the engine thread shared the interpreter lock with the GUI thread; a long
    run's engine now runs in a child process. Pausing keeps the child's simulation, resuming
    loses no batch, the panels stroke the streaming curves off the GUI thread, and the child
    ends with the run."""
    from lrviz.engine_process import RemoteSimulation

    runner = window.runner
    runner.process_work = 0  # this small run too
    config = SimulationConfig(
        objective="logreg",
        optimizer="adam",
        batch_size=16,
        lrs=np.geomspace(1e-3, 1.0, 6),
        iterations=20_000,
    )
    with qtbot.waitSignal(runner.progressed, timeout=30_000):
        window.start_simulation(config)
    remote = runner.simulation
    assert isinstance(remote, RemoteSimulation) and remote.alive
    assert window.loss_vs_iteration.paths.live
    runner.pause()
    assert runner.state == "paused" and remote.alive
    assert not window.loss_vs_iteration.paths.live  # paused: exact vector painting
    with qtbot.waitSignal(
        runner.state_changed, timeout=120_000, check_params_cb=lambda s: s == "finished"
    ):
        runner.resume()
    reference = config.build()
    losses = np.concatenate([b.loss for b in reference.run(batch_iterations=500)])
    assert runner.store.count == 20_000
    np.testing.assert_array_equal(runner.store.loss[: losses.shape[0]], losses)
    qtbot.waitUntil(lambda: not remote.alive, timeout=10_000)  # it ends with its run


def test_stopping_or_closing_ends_the_engine_process(qtbot, window):
    runner = window.runner
    runner.process_work = 0
    with qtbot.waitSignal(runner.progressed, timeout=30_000):
        window.start_simulation(_long_config())
    first = runner.simulation
    assert first.alive
    with qtbot.waitSignal(runner.progressed, timeout=30_000):
        window.start_simulation(_long_config())  # a restart ends the old child
    assert not first.alive
    second = runner.simulation
    runner.stop()
    assert not second.alive and runner.state == "stopped"


def test_the_redraw_timer_gives_the_loss_panel_every_other_tick(qtbot, window):
    """The timer draws one panel a tick: in plain turns the loss panel, the one a user
    watches, drew one tick in three while a run streamed (issue 9 asks 20 Hz of it). It
    draws every other tick now, and the other panels still take their turns."""
    window.redraw_timer.stop()
    drawn = []
    for panel in (*window._simulation_panels(), window.loss_surface):
        panel.refresh = lambda panel=panel: drawn.append(panel) or True  # always changed
    for _ in range(12):
        window._awaiting_paint = {}  # each frame painted before the next tick
        window.redraw(drop_unpainted=True)
    assert len(drawn) == 12
    assert drawn[0::2] == [window.loss_vs_iteration] * 6
    others = drawn[1::2]
    assert window.loss_vs_iteration not in others
    assert len(set(others)) == 4  # loss vs λ, λ, sharpness and the surface in turn

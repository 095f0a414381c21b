"""The loss-surface dock (2-D problems) and the theory lines on loss vs λ, in the window."""

from __future__ import annotations

import numpy as np
import pytest

from lrviz.simulation_config import SimulationConfig
from ui.colors import lr_colors


def run(qtbot, window, config: SimulationConfig) -> None:
    with qtbot.waitSignal(window.simulation_finished, timeout=60_000):
        window.start_simulation(config)
    window.redraw()


def formula_config(**overrides) -> SimulationConfig:
    fields = dict(
        objective="expr",
        expr="x**2 + 10*y**2",
        start=(1.0, 1.0),
        lrs=np.array([0.005, 0.05, 0.09, 0.12]),
        iterations=150,
    )
    fields.update(overrides)
    return SimulationConfig(**fields)


def test_a_2d_run_walks_the_surface_in_the_runs_colours(qtbot, window):
    run(qtbot, window, formula_config())
    panel = window.loss_surface
    dock = window.plot_docks["loss_surface"]
    assert dock.isVisible()
    qtbot.waitUntil(lambda: panel.surface is not None, timeout=30_000)
    view = panel.views[0]
    assert view.image.image is not None and view.image.image.shape == panel.surface.loss.shape
    x, _y = view.contours.getData()
    assert x is not None and x.size > 100  # contour lines drawn
    assert panel.colorbar.isVisible()
    assert len(view.paths) == 4
    for i, item in enumerate(view.paths):
        px, py = item.getData()
        assert px[0] == pytest.approx(1.0) and py[0] == pytest.approx(1.0)  # from the start
        assert item.opts["pen"].color() == lr_colors(window.runner.store.lrs)[i]  # as elsewhere
    # the converging runs end at the minimum, the one above 2/L = 0.1 is marked diverged
    px, py = view.paths[1].getData()
    assert abs(px[-1]) < 1e-3 and abs(py[-1]) < 1e-3
    assert window.runner.store.diverged_at[3] >= 0
    assert len(view.diverged.data) == 1
    (sx, sy) = view.start.getData()
    assert (sx[0], sy[0]) == (1.0, 1.0)


def test_one_plot_per_run_titles_each_with_its_lr(qtbot, window):
    run(qtbot, window, formula_config())
    panel = window.loss_surface
    panel.set_side_by_side(True)
    assert len(panel.views) == 4 and not panel.legend.isVisible()
    for view in panel.views:
        assert len(view.paths) == 1
        px, _ = view.paths[0].getData()
        assert px is not None and px.size > 1
        assert "λ = " in view.plot.titleLabel.text
    panel.set_side_by_side(False)
    assert len(panel.views) == 1 and len(panel.views[0].paths) == 4
    # the legend names the four runs: in the plot, or in its header where the plot has no
    # free corner for it
    assert panel.legend.isVisible() or panel.header_legend.isVisible()
    assert len(panel.legend.entries) == 4


def test_the_surface_dock_hides_for_a_problem_that_is_not_2d(qtbot, window):
    run(qtbot, window, formula_config(iterations=20))
    assert window.plot_docks["loss_surface"].isVisible()
    run(qtbot, window, SimulationConfig(dim=5, lrs=np.array([0.01, 0.1]), iterations=20))
    assert not window.plot_docks["loss_surface"].isVisible()
    assert window.runner.store.trajectories is None


def test_a_landscape_draws_its_minima(qtbot, window):
    run(qtbot, window, SimulationConfig(objective="himmelblau", lrs=[0.01], iterations=50))
    xs, _ys = window.loss_surface.views[0].minima.getData()
    assert len(xs) == 4


def test_theory_lines_on_the_quadratic_and_not_elsewhere(qtbot, window):
    run(qtbot, window, SimulationConfig(curvature=10.0, condition=50.0, dim=2, iterations=30))
    lines = window.loss_vs_lr.theory_lines
    assert [line.value() for line in lines] == pytest.approx([np.log10(0.2), np.log10(2 / 10.2)])
    assert lines[0].label.format.startswith("2/L") and lines[1].label.format.startswith("2/(μ+L)")
    assert all(line.isVisible() for line in lines)
    # a typed quadratic too
    run(qtbot, window, formula_config(iterations=20))
    assert [line.value() for line in window.loss_vs_lr.theory_lines] == pytest.approx(
        [np.log10(0.1), np.log10(2 / 22)]
    )
    # Rosenbrock: no theory; Adam on the quadratic: none either
    run(qtbot, window, SimulationConfig(objective="rosenbrock", iterations=20))
    assert window.loss_vs_lr.theory_lines == []
    run(qtbot, window, SimulationConfig(optimizer="adam", iterations=20))
    assert window.loss_vs_lr.theory_lines == []


def test_theory_lines_hide_with_the_simulation(qtbot, window):
    run(qtbot, window, SimulationConfig(iterations=20))
    window.set_simulation_visible(False)
    assert not any(line.isVisible() for line in window.loss_vs_lr.theory_lines)
    window.set_simulation_visible(True)
    assert all(line.isVisible() for line in window.loss_vs_lr.theory_lines)


def test_the_colour_bar_is_labelled_at_round_losses():
    """It read 0.998 where the log scale's offset shifted 1 (Rosenbrock's surface)."""
    from lrviz.surfaces import surface_from_grid
    from ui.panels.loss_surface import _colorbar_ticks

    axis = np.linspace(-2.0, 2.0, 101)
    gx, gy = np.meshgrid(axis, axis)
    surface = surface_from_grid(axis, axis, (1 - gx) ** 2 + 100 * (gy - gx**2) ** 2)
    lo, hi = float(np.nanmin(surface.log_loss)), float(np.nanmax(surface.log_loss))
    _positions, labels = _colorbar_ticks(surface, lo, hi)
    assert {"1", "10", "100", "1e3"} <= set(labels)
    assert all(
        label in {"1e-4", "1e-3", "0.01", "0.1", "1", "10", "100", "1e3", "1e4"} for label in labels
    )


@pytest.mark.parametrize("width", [1024, 1920])
def test_theory_labels_stay_inside_the_plot(qtbot, window, width):
    """In a 1024-pixel window "2/(μ+L) = 0.196" was cut at the loss vs λ plot's axis."""
    window.resize(width, 700)
    window.controls.setCurrentWidget(window.simulate_form)
    run(qtbot, window, SimulationConfig(curvature=10.0, condition=50.0, dim=2, iterations=30))
    window.loss_vs_lr.graphics.grab()  # painted: the view's range and the labels settled
    view = window.loss_vs_lr.plot.getViewBox().sceneBoundingRect()
    lines = window.loss_vs_lr.theory_lines
    assert len(lines) == 2
    for line in lines:
        label = line.label.sceneBoundingRect()
        assert view.left() - 1 <= label.left() and label.right() <= view.right() + 1, (
            line.label.format,
            label,
            view,
        )

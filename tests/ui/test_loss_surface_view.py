"""Zooming and panning the loss surface re-derives its contours and paths for the new view;
x and y share units, so the axes are equal unless the user unticks it (issue 12). Each
test failed before: the view kept the first surface's 256-point grid and 14 contours, and
the paths their screen-resolution points, however far one zoomed in."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF

from lrviz.simulation_config import SimulationConfig


def run_and_draw(qtbot, window, config):
    with qtbot.waitSignal(window.simulation_finished, timeout=60_000):
        window.start_simulation(config)
    window.redraw()
    panel = window.loss_surface
    qtbot.waitUntil(lambda: panel.surface is not None, timeout=30_000)
    qtbot.waitUntil(lambda: panel.views[0].plot.getViewBox().width() > 100)
    return panel


def settle(qtbot, panel):
    """Wait until the view's own surface is the one for the region shown now."""
    qtbot.waitUntil(
        lambda: panel.detail is not None and panel.detail[0].domain == panel.view_region()
        and not panel.settle.isActive(),
        timeout=30_000,
    )  # fmt: skip
    panel.refresh()


def test_zooming_in_derives_a_finer_surface_and_full_paths_for_the_view(qtbot, window):
    config = SimulationConfig(
        objective="expr", expr="x**2 + 10*y**2", start=(1.0, 1.0),
        lrs=np.array([0.005, 0.05]), iterations=20_000,
    )  # fmt: skip
    panel = run_and_draw(qtbot, window, config)
    view = panel.views[0]
    first = panel.surface
    # zoom in on the start, where the slow run's first steps are: its drawn path (every
    # 32nd step pair of 20,000) kept a handful of them
    box = view.plot.getViewBox()
    box.setRange(QRectF(0.85, 0.3, 0.16, 0.72), padding=0)
    settle(qtbot, panel)
    (x0, x1), (y0, y1) = panel.view_region()
    detail = panel.detail[0]
    assert detail.domain == ((x0, x1), (y0, y1))
    # the view's own grid: far finer spacing than the first surface's
    assert (detail.xs[1] - detail.xs[0]) < (first.xs[1] - first.xs[0]) / 3
    cx, _cy = view.detail_contours.getData()
    assert cx is not None and cx.size > 100  # contours nest into the zoomed bowl
    inside = (cx >= x0) & (cx <= x1)
    assert inside.mean() > 0.99
    # the slow run's path: every step it took inside the view, from the full history
    traj = window.runner.store.trajectories
    history = traj.positions[: traj.count, 0]
    in_view = (
        (history[:, 0] >= x0) & (history[:, 0] <= x1)
        & (history[:, 1] >= y0) & (history[:, 1] <= y1)
    )  # fmt: skip
    px, _py = view.paths[0].getData()
    coarse_x, coarse_y = traj.path(0)
    coarse_in = (coarse_x >= x0) & (coarse_x <= x1) & (coarse_y >= y0) & (coarse_y <= y1)
    drawn = np.isfinite(px).sum()
    assert in_view.sum() > 2 * coarse_in.sum()  # the drawn path had thinned them
    # all of them, or a screen's worth at most (step pairs)
    assert drawn >= min(in_view.sum(), traj.capacity // 2) and drawn > 2 * coarse_in.sum()
    assert drawn <= traj.capacity + 1
    # the colour bar follows the view's scale
    assert panel.colorbar.levels() == view.levels()
    # back to the whole surface: the view's own surface steps aside
    view.set_domain(panel.domain)
    qtbot.waitUntil(lambda: not panel.settle.isActive() and panel.zoom is None, timeout=10_000)


def test_panning_past_the_edge_computes_the_loss_there(qtbot, window):
    config = SimulationConfig(
        objective="expr", expr="x**2 + 10*y**2", start=(1.0, 1.0),
        lrs=np.array([0.05]), iterations=50,
    )  # fmt: skip
    panel = run_and_draw(qtbot, window, config)
    (d0, d1), _ = panel.domain
    box = panel.views[0].plot.getViewBox()
    box.translateBy(x=(d1 - d0) * 0.8)
    settle(qtbot, panel)
    (_x0, x1), _ = panel.view_region()
    assert x1 > d1 + 0.5 * (d1 - d0)
    detail = panel.detail[0]
    assert detail.xs[-1] == x1 and np.isfinite(detail.loss[:, -1]).all()


def test_the_axes_are_equal_unless_unticked(qtbot, window):
    config = SimulationConfig(
        objective="quadratic", dim=2, curvature=10.0, condition=2.0,
        lrs=np.array([0.05]), iterations=50,
    )  # fmt: skip
    panel = run_and_draw(qtbot, window, config)
    box = panel.views[0].plot.getViewBox()
    assert panel.equal_axes.isChecked()

    def units_per_pixel():
        (x0, x1), (y0, y1) = box.viewRange()
        return (x1 - x0) / box.width(), (y1 - y0) / box.height()

    qtbot.waitUntil(lambda: np.isclose(*units_per_pixel(), rtol=0.02))
    # every part of the domain stays in view
    (x0, x1), (y0, y1) = box.viewRange()
    (d0, d1), (e0, e1) = panel.domain
    assert x0 <= d0 + 1e-9 and x1 >= d1 - 1e-9 and y0 <= e0 + 1e-9 and y1 >= e1 - 1e-9
    panel.equal_axes.setChecked(False)
    assert not box.state["aspectLocked"]
    (x0, x1), (y0, y1) = box.viewRange()
    np.testing.assert_allclose((x0, x1, y0, y1), (d0, d1, e0, e1), atol=1e-9)
    # side by side, every plot keeps the choice
    panel.set_side_by_side(False)
    panel.equal_axes.setChecked(True)
    for view in panel.views:
        assert view.plot.getViewBox().state["aspectLocked"]


def test_equal_axes_settle_instead_of_resizing_for_ever(qtbot, window):
    """With equal axes, y ticks of another width resized the view, which changed its range
    and so its ticks: at 1024x700 the view flipped between two sizes ~40 times a second and
    its own surface never came (the plot kept blank bands above and below the first)."""
    window.resize(1024, 700)
    qtbot.waitUntil(lambda: window.width() == 1024)
    window._initial_dock_sizes()  # the first layout of a window opened at that size
    form = window.simulate_form  # journey 5, as a user types it
    form.objective.setCurrentIndex(form.objective.findData("expr"))
    form.formula.setText("x**2 + 10*y**2")
    form.start.setText("1, 1")
    form.lr_min.setValue(0.01)
    form.lr_max.setValue(0.12)
    form.lr_count.setValue(4)
    form.iterations.setValue(100)
    qtbot.waitUntil(form.check_formula)
    panel = run_and_draw(qtbot, window, form.config())
    settle(qtbot, panel)
    (x0, x1), (y0, y1) = panel.view_region()
    (d0, _d1), (e0, _e1) = panel.domain
    assert x0 < d0 or y0 < e0  # the view reaches past the first surface, and its own
    assert panel.detail[0].domain == ((x0, x1), (y0, y1))  # covers all of it

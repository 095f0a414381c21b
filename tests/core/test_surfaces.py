"""Loss surfaces: the region shown, the grid, the log scale, marching-squares contours, and
typed domains."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lrviz.objectives import make_objective
from lrviz.objectives.expression import PRESETS, ExpressionObjective
from lrviz.surfaces import (
    contour_segments,
    format_domain,
    loss_surface,
    parse_domain,
    surface_domain,
    surface_from_grid,
)


def inside(domain, point) -> bool:
    (x0, x1), (y0, y1) = domain
    return x0 < point[0] < x1 and y0 < point[1] < y1


@pytest.mark.parametrize("name", ["beale", "himmelblau", "rastrigin", "saddle", "rosenbrock"])
def test_a_landscape_shows_its_own_domain_with_start_and_minima_inside(name):
    objective = make_objective(name)
    domain = surface_domain(objective)
    assert domain == tuple(tuple(r) for r in objective.domain)
    assert inside(domain, objective.initial_point())
    assert all(inside(domain, m) for m in objective.minima)


def test_the_default_domain_holds_the_start_the_minimum_and_the_first_bounce():
    q = make_objective("quadratic", dim=2, start=(2.0, -1.0))
    domain = surface_domain(q)
    for point in ((2.0, -1.0), (0.0, 0.0), (-2.0, 1.0)):
        assert inside(domain, point)
    # a formula's minimum far from the start is found (a coarse grid search)
    far = ExpressionObjective("(x - 5)**2 + (y - 5)**2", start=(1, 1))
    assert inside(surface_domain(far), (5.0, 5.0)) and inside(surface_domain(far), (1.0, 1.0))
    # a loss that falls without end: around the start and the origin
    assert inside(surface_domain(ExpressionObjective("x - y", start=(1, 1))), (1.0, 1.0))
    # a domain given with the formula (or by its preset) is kept as it is
    given_domain = ((-3.0, 1.0), (0.0, 2.0))
    assert surface_domain(ExpressionObjective("x**2 + y**2", domain=given_domain)) == given_domain
    bowl = ExpressionObjective.from_preset("bowl")
    assert surface_domain(bowl) == PRESETS["bowl"].domain
    assert surface_domain(make_objective("quadratic", dim=3)) is None


def test_the_grid_holds_the_loss_and_the_log_scale_inverts():
    objective = ExpressionObjective("x**2 + 10*y**2", domain=((-1, 1), (-2, 2)))
    surface = loss_surface(objective, resolution=33)
    assert surface.loss.shape == (33, 33) and surface.domain == ((-1.0, 1.0), (-2.0, 2.0))
    gx, gy = np.meshgrid(surface.xs, surface.ys)
    np.testing.assert_allclose(surface.loss, gx**2 + 10 * gy**2, rtol=1e-12)
    np.testing.assert_allclose(
        surface.to_loss(surface.log_loss), surface.loss, rtol=1e-9, atol=1e-15
    )
    assert surface.levels.size > 5 and np.all(np.diff(surface.levels) > 0)
    with pytest.raises(ValueError, match="2-D"):
        loss_surface(ExpressionObjective("x**2"))


def test_losses_below_zero_and_undefined_points_are_shown():
    objective = ExpressionObjective("log(x) + y**2 - 3", start=(1, 1), domain=((-1, 2), (-1, 1)))
    surface = loss_surface(objective, resolution=41)
    negative_x = surface.xs < 0
    assert np.all(np.isnan(surface.log_loss[:, negative_x]))
    assert np.all(np.isfinite(surface.log_loss[:, surface.xs > 0]))
    segments = surface.contours()
    assert segments.size and np.all(np.isfinite(segments))
    everything_undefined = surface_from_grid([0, 1], [0, 1], np.full((2, 2), np.nan))
    assert everything_undefined.levels.size == 0 and everything_undefined.contours().size == 0


@settings(max_examples=25, deadline=None)
@given(radius=st.floats(0.3, 1.7), cx=st.floats(-0.2, 0.2), cy=st.floats(-0.2, 0.2))
def test_the_contour_of_a_circle_is_that_circle(radius, cx, cy):
    axis = np.linspace(-2.0, 2.0, 161)
    gx, gy = np.meshgrid(axis, axis)
    z = (gx - cx) ** 2 + (gy - cy) ** 2
    segments = contour_segments(axis, axis, z, radius**2)
    assert segments.shape[0] % 2 == 0 and segments.shape[0] > 0
    distance = np.hypot(segments[:, 0] - cx, segments[:, 1] - cy)
    np.testing.assert_allclose(distance, radius, atol=0.003)
    starts, ends = segments[0::2], segments[1::2]
    length = np.hypot(*(ends - starts).T).sum()
    assert length == pytest.approx(2 * np.pi * radius, rel=0.01)


def test_a_saddle_cell_gives_two_segments_and_never_crosses_itself():
    axis = np.array([0.0, 1.0])
    z = np.array([[1.0, 0.0], [0.0, 1.0]])  # corners alternate around level 0.5
    segments = contour_segments(axis, axis, z, 0.5)
    assert segments.shape == (4, 2)
    # each segment cuts off one corner: its two ends lie on the edges next to that corner
    for a, b in (segments[0:2], segments[2:4]):
        assert not np.allclose(a, b)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("-3:3, -2:2", ((-3.0, 3.0), (-2.0, 2.0))),
        ("-1..1", ((-1.0, 1.0), (-1.0, 1.0))),
        ("0 to 4; -1e-1:2.5", ((0.0, 4.0), (-0.1, 2.5))),
        ("   ", None),
    ],
)
def test_a_typed_domain_is_read(text, expected):
    assert parse_domain(text) == expected


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("3:-3, 0:1", "low < high"),
        ("a:b", "is not a range"),
        ("0:1, 0:1, 0:1", "give 2 ranges"),
        ("inf:1", "is not a range"),
    ],
)
def test_a_bad_domain_says_what_is_wrong(text, fragment):
    with pytest.raises(ValueError, match=fragment):
        parse_domain(text)


def test_format_domain_reads_back():
    domain = ((-2.5, 2.5), (-1.0, 3.0))
    assert parse_domain(format_domain(domain)) == domain

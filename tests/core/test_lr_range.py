"""The chosen range as numbers (lrviz.lr_range) and λ as text (lrviz.lr_format): one of each,
used by the window, the command line and the export alike."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lrviz.lr_format import format_lr
from lrviz.lr_range import SNAP_DECADES, checked_range, middle_third, snap, snap_edit


def test_snap_takes_the_nearest_target_within_the_tolerance():
    targets = [1e-3, 1.2e-3, 1e-1, None, float("nan"), -1.0]
    assert snap(1.1e-3, targets) == 1.2e-3  # log distance 0.038 < 0.041
    assert snap(1e-3 * 10 ** (-SNAP_DECADES * 0.9), targets) == 1e-3
    assert snap(0.1 * 10 ** (SNAP_DECADES * 0.9), targets) == 0.1
    far = 1e-3 * 10 ** (-SNAP_DECADES * 1.1)
    assert snap(far, targets) == far
    assert snap(0.5, []) == 0.5


def test_checked_range_rejects_reversed_and_non_positive_naming_the_edge():
    assert checked_range(1e-3, 1e-2) == (1e-3, 1e-2)
    assert checked_range(np.float32(1e-3), 1) == (pytest.approx(1e-3), 1.0)
    for bad, says in (
        ((1e-2, 1e-3), "min λ 0.01 is above max λ 1e-3"),
        ((0.0, 1.0), "min λ must be positive"),
        ((1e-3, math.inf), "max λ must be positive"),
        ((-1.0, 1.0), "min λ must be positive"),
        ((None, 1.0), "min λ must be a number"),
        ((True, 1.0), "min λ must be positive"),
    ):
        with pytest.raises(ValueError, match=says):
            checked_range(*bad)


def test_an_edge_released_near_a_marker_snaps_and_the_other_stays():
    markers = [1e-3, 0.1]
    near = 0.1 * 10 ** (0.5 * SNAP_DECADES)
    assert snap_edit((1e-4, 1e-2), (1e-4, near), markers) == (1e-4, 0.1)
    # the edge that did not move stays even if it is near a marker
    close = 1e-3 * 10 ** (0.5 * SNAP_DECADES)
    assert snap_edit((close, 1e-2), (close, 2e-2), markers) == (close, 2e-2)
    # an edge dragged past the other: the range comes back ordered
    assert snap_edit((1e-4, 1e-2), (1e-4, 1e-5), markers) == (1e-5, 1e-4)


def test_the_whole_band_dragged_keeps_its_width_and_lands_its_closer_edge():
    markers = [1e-3, 0.5]
    shift = 10 ** (0.3 * SNAP_DECADES)
    lo, hi = snap_edit((1e-4, 1e-2), (1e-3 * shift, 1e-1 * shift), markers)
    assert lo == pytest.approx(1e-3) and hi == pytest.approx(1e-1)  # width kept: 2 decades
    far = 10 ** (3 * SNAP_DECADES)
    assert snap_edit((1e-4, 1e-2), (1e-4 * far, 1e-2 * far), markers) == pytest.approx(
        (1e-4 * far, 1e-2 * far)
    )


def test_middle_third_of_the_tested_lrs():
    lo, hi = middle_third(np.array([np.nan, 1e-6, 1e-3, 1.0, 0.0, np.inf]))
    assert (lo, hi) == pytest.approx((1e-4, 1e-2))
    assert middle_third(np.array([np.nan, 0.0])) is None


@pytest.mark.parametrize(
    ("value", "invalid", "text"),
    [(float("nan"), "–", "–"), (0.0, "", ""), (-1e-3, "–", "–"), (float("inf"), "–", "–")],
)
def test_format_lr_writes_what_is_no_lr_as_asked(value, invalid, text):
    assert format_lr(value, invalid=invalid) == text
    with pytest.raises(ValueError, match="positive and finite"):
        format_lr(value)


def test_the_window_and_the_export_write_a_lr_alike():
    """There were two formatters: the window's wrote 999.9 as '1e+03' and the export '1e3'."""
    from lrviz import export

    assert export.format_lr is format_lr
    assert format_lr(999.9, invalid="–") == "1e3"


@given(st.floats(min_value=1e-300, max_value=1e300))
def test_format_lr_round_trips_within_its_digits(value):
    text = format_lr(value)
    assert float(text) == pytest.approx(value, rel=5e-3)
    assert "+" not in text and len(text) <= 9

"""The chosen-range model: validation, snapping, one undo step per edit."""

from __future__ import annotations

import math

import pytest

from ui.range_selection import SNAP_DECADES, RangeSelection, checked_range, snap


def test_snap_takes_the_nearest_target_within_the_tolerance():
    targets = [1e-3, 1.2e-3, 1e-1, None, float("nan"), -1.0]
    assert snap(1.1e-3, targets) == 1.2e-3  # log distance 0.038 < 0.041
    assert snap(1e-3 * 10 ** (-SNAP_DECADES * 0.9), targets) == 1e-3
    assert snap(0.1 * 10 ** (SNAP_DECADES * 0.9), targets) == 0.1
    far = 1e-3 * 10 ** (-SNAP_DECADES * 1.1)
    assert snap(far, targets) == far
    assert snap(0.5, []) == 0.5


def test_checked_range_rejects_reversed_and_non_positive():
    assert checked_range(1e-3, 1e-2) == (1e-3, 1e-2)
    for bad in ((1e-2, 1e-3), (0.0, 1.0), (1e-3, math.inf), (-1.0, 1.0)):
        with pytest.raises(ValueError):
            checked_range(*bad)


def test_edits_are_undoable_one_step_each_and_reset_forgets(qtbot):
    selection = RangeSelection()
    seen = []
    selection.range_changed.connect(seen.append)
    selection.reset((1e-4, 1e-1))
    assert selection.undo_stack.count() == 0
    assert selection.edit(2e-4, 1e-1)
    assert selection.edit(2e-4, 5e-2)
    assert not selection.edit(2e-4, 5e-2)  # no change, no step
    assert selection.undo_stack.count() == 2
    selection.undo()
    assert selection.range == (2e-4, 1e-1)
    selection.undo()
    assert selection.range == (1e-4, 1e-1)
    selection.redo()
    assert selection.range == (2e-4, 1e-1)
    with pytest.raises(ValueError):
        selection.edit(1.0, 1e-3)
    assert selection.range == (2e-4, 1e-1)
    selection.reset(None)
    assert selection.range is None and selection.undo_stack.count() == 0
    assert seen == [
        (1e-4, 1e-1),
        (2e-4, 1e-1),
        (2e-4, 5e-2),
        (2e-4, 1e-1),
        (1e-4, 1e-1),
        (2e-4, 1e-1),
        None,
    ]

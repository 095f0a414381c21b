"""The chosen-range model: one undo step per edit (its maths: tests/core/test_lr_range.py)."""

from __future__ import annotations

import pytest

from ui.range_selection import RangeSelection


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

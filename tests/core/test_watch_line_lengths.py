"""The live watch refuses a line longer than the readers take, found without marking every
line end of what it read (a 10M-row log's 480 MB took that check 1.7 s)."""

from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lrviz.errors import LrvizError
from lrviz.loaders import LogWatcher, watch

LIMIT = 16  # MAX_LINE_BYTES for these tests: lines of a few dozen bytes


def exact_long_line(data: bytes, first_line: int) -> int | None:
    """The first line longer than LIMIT (its number), by every line end: the reference."""
    ends = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 10)
    bounds = np.concatenate(([-1], ends, [len(data)]))
    long = np.flatnonzero(np.diff(bounds) - 1 > LIMIT)
    return first_line + int(long[0]) if long.size else None


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.integers(min_value=0, max_value=3 * LIMIT), min_size=1, max_size=12),
    st.booleans(),
)
def test_a_long_line_is_refused_exactly_when_one_is_there(lengths, ends_in_newline):
    data = b"\n".join(b"x" * n for n in lengths) + (b"\n" if ends_in_newline else b"")
    want = exact_long_line(data, 7) if len(data) > LIMIT else None
    with mock.patch.object(watch, "MAX_LINE_BYTES", LIMIT):
        if want is None:
            watch._check_line_lengths(data, "log.csv", 7)
        else:
            with pytest.raises(LrvizError) as caught:
                watch._check_line_lengths(data, "log.csv", 7)
            assert caught.value.line == want


def test_a_followed_log_that_gains_a_long_line_says_which(tmp_path):
    p = tmp_path / "metrics.csv"
    p.write_bytes(b"step,loss\n" + b"".join(b"%d,1.5\n" % i for i in range(10)))
    with mock.patch.object(watch, "MAX_LINE_BYTES", 40):
        w = LogWatcher(p)
        assert w.poll() is True
        with open(p, "ab") as f:
            f.write(b"".join(b"%d,1.5\n" % i for i in range(10, 20)) + b"9" * 90 + b"\n")
        with pytest.raises(LrvizError) as caught:
            w.poll()
    assert caught.value.line == 22  # header, 20 rows, then the long one

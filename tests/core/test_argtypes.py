"""The sub-commands' argument types (lrviz/commands/argtypes.py): one wording per mistake,
whichever command reads the option."""

from __future__ import annotations

import argparse

import pytest

from lrviz.commands import argtypes


@pytest.mark.parametrize(
    "read, text, message",
    [
        (argtypes.positive_float, "0", "'0' must be positive and finite"),
        (argtypes.positive_float, "abc", "'abc' is not a number"),
        (argtypes.above_one, "1", "'1' must be above 1"),
        (argtypes.fraction, "1.5", "'1.5' must be in (0, 1]"),
        (argtypes.finite_number, "inf", "'inf' must be finite"),
        (argtypes.stop_factor, "x", "'x' is not a number or 'none'"),
        (argtypes.stop_factor, "0.5", "'0.5' must be above 1"),
        (argtypes.whole, "-1", "'-1' must be at least 0"),
        (argtypes.count, "0", "'0' must be at least 1"),
        (argtypes.positive_int, "2.5", "'2.5' is not a whole number"),
        (argtypes.lr_range, "1:0.1", "'1:0.1': need 0 < A < B, finite"),
        (argtypes.lr_range, "1", "'1' is not A:B, e.g. 1e-7:1"),
    ],
)
def test_a_bad_value_is_refused_in_one_line(read, text, message):
    with pytest.raises(argparse.ArgumentTypeError) as caught:
        read(text)
    assert str(caught.value) == message


def test_good_values_read():
    assert argtypes.positive_int("1e3") == 1000
    assert argtypes.stop_factor("off") is None
    assert argtypes.lr_range("1e-7:1") == (1e-7, 1.0)
    assert argtypes.fraction("1") == 1.0


@pytest.mark.parametrize(
    "argv",
    [
        ["sweep", "--eta", "1"],
        ["rangetest", "--stop-factor", "1"],
        ["sweep", "--divergence-factor", "1"],
    ],
)
def test_the_commands_word_the_same_mistake_alike(argv, capsys):
    from lrviz.cli import main

    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].endswith("'1' must be above 1"), err

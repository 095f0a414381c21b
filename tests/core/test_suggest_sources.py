"""Where a curve came from: each library's smoothing, undone exactly and recognised."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lrviz.suggest import SOURCES, detect_source, undo_smoothing


def raw_curve(n=100, seed=0):
    rng = np.random.default_rng(seed)
    lr = np.geomspace(1e-7, 10, n)
    x = np.log10(lr) + 3
    loss = 2.3 - 2.0 / (1 + np.exp(-x / 0.4)) + np.exp((x - 2) / 0.3)
    return lr, loss * np.exp(0.05 * rng.standard_normal(n))


def smooth_like(source: str, raw: np.ndarray) -> np.ndarray:
    """The library's own recorder, written out as its code does it."""
    out = np.empty(raw.size)
    if source == "torch-lr-finder":  # smooth_f = 0.05, no bias correction
        out[0] = raw[0]
        for i in range(1, raw.size):
            out[i] = 0.05 * raw[i] + 0.95 * out[i - 1]
        return out
    avg = 0.0
    for i, value in enumerate(raw):
        avg = 0.98 * avg + 0.02 * value
        step = i + 1 if source == "fastai" else i + 2  # Lightning's step is 1 at batch 0
        out[i] = avg / (1 - 0.98**step)
    return out


@pytest.mark.parametrize("source", ["torch-lr-finder", "lightning", "fastai"])
def test_undo_smoothing_recovers_the_raw_losses(source):
    _, raw = raw_curve()
    np.testing.assert_allclose(undo_smoothing(smooth_like(source, raw), source), raw, rtol=1e-9)


def test_undo_smoothing_keeps_a_non_finite_tail():
    _, raw = raw_curve()
    saved = smooth_like("fastai", raw)
    saved[80:] = np.nan
    out = undo_smoothing(saved, "fastai")
    np.testing.assert_allclose(out[:80], raw[:80], rtol=1e-9)
    assert np.all(np.isnan(out[80:]))
    assert np.array_equal(undo_smoothing(raw, "raw"), raw)
    with pytest.raises(ValueError, match="source"):
        undo_smoothing(raw, "keras")


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("source", ["torch-lr-finder", "lightning", "fastai"])
def test_the_signature_of_each_library_is_recognised(source, seed):
    _, raw = raw_curve(seed=seed)
    guess = detect_source(smooth_like(source, raw), log_format="lr-finder-csv")
    assert guess.source == source, guess.reason


@pytest.mark.parametrize("seed", range(6))
def test_raw_losses_are_read_as_raw(seed):
    _, raw = raw_curve(seed=seed)
    assert detect_source(raw, log_format="lr-finder-csv").source == "raw"


def test_the_file_name_says_it_unless_the_data_disagrees():
    _, raw = raw_curve()
    saved = smooth_like("lightning", raw)
    guess = detect_source(saved, path="runs/lightning_lr_find.csv", log_format="lr-finder-csv")
    assert guess.source == "lightning" and "file name" in guess.reason
    guess = detect_source(raw, path="torch_lr_finder.csv", log_format="lr-finder-csv")
    assert guess.source == "raw" and "negative" in guess.reason


def test_training_logs_are_raw():
    _, raw = raw_curve()
    assert detect_source(smooth_like("fastai", raw), log_format="keras-csv").source == "raw"
    assert detect_source(raw).source == "raw"


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(allow_nan=True, allow_infinity=True), max_size=60))
def test_detection_never_raises(values):
    guess = detect_source(np.array(values, dtype=np.float64), log_format="lr-finder-csv")
    assert guess.source in SOURCES and guess.reason


def test_losses_near_the_float_limit_do_not_overflow_into_warnings():
    """Found by hypothesis (issue-14 engineer's full run): [0, 0, 6.1e307] overflowed."""
    values = np.array([0.0, 0.0, 6.11e307] * 10)
    assert detect_source(values, log_format="lr-finder-csv").source in SOURCES
    for source in SOURCES:
        undo_smoothing(values, source)

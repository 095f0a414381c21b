"""Pairing λ with loss (one function for the command line and the app): exact where every
loss point has an lr at the same x, interpolated in log λ otherwise."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from lrviz.suggest.pairing import pair_lr_loss


@dataclass
class S:
    x: np.ndarray
    y: np.ndarray
    x_axis: str = "step"


def reference(lr: S, loss: S):
    """The pairing as first written (a dict per point): what the vectorized one must equal."""
    lx, ly = lr.x.astype(float), lr.y.astype(float)
    keep = np.isfinite(lx) & np.isfinite(ly) & (ly > 0)
    lx, ly = lx[keep], ly[keep]
    x, y = loss.x.astype(float), loss.y.astype(float)
    shared, lr_rows, loss_rows = np.intersect1d(lx, x, return_indices=True)
    if shared.size == x.size and np.unique(lx).size == lx.size:
        order = np.sort(loss_rows)
        by_x = dict(zip(loss_rows.tolist(), lr_rows.tolist(), strict=True))
        return ly[[by_x[i] for i in order.tolist()]], y[order]
    order = np.argsort(lx, kind="stable")
    return np.exp(np.interp(x, lx[order], np.log(ly[order]))), y


steps = st.lists(st.integers(0, 40), min_size=1, max_size=30)


@settings(max_examples=300, deadline=None)
@given(lr_steps=steps, loss_steps=steps, data=st.data())
def test_equals_the_reference_pairing(lr_steps, loss_steps, data):
    lrs = data.draw(st.lists(st.floats(1e-6, 10.0), min_size=len(lr_steps), max_size=len(lr_steps)))
    lr = S(np.array(lr_steps, float), np.array(lrs))
    loss = S(np.array(loss_steps, float), np.arange(len(loss_steps), dtype=float))
    got, want = pair_lr_loss(lr, loss), reference(lr, loss)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-12)
    np.testing.assert_array_equal(got[1], want[1])


def test_one_row_per_point_pairs_exactly_and_fast_path_keeps_order():
    x = np.arange(10.0)
    lr, loss = S(x, np.geomspace(1e-5, 1, 10)), S(x, np.linspace(3, 1, 10))
    pairs = pair_lr_loss(lr, loss)
    np.testing.assert_array_equal(pairs[0], lr.y)  # parsed values: exact
    np.testing.assert_array_equal(pairs[1], loss.y)


def test_lr_logged_at_other_steps_is_interpolated_in_log_lr():
    lr = S(np.array([0.0, 10.0]), np.array([1e-4, 1e-2]))
    loss = S(np.array([5.0]), np.array([1.0]))
    got, _ = pair_lr_loss(lr, loss)
    np.testing.assert_allclose(got, [1e-3], rtol=1e-12)

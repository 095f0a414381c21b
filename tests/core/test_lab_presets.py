"""The Lab's presets: the effect of the learning rate shows what its captions say."""

from __future__ import annotations

import numpy as np
import pytest

from lrviz.lab_presets import LAB_PRESETS, effect_of_learning_rate, lab_preset
from lrviz.run_store import RunStore
from lrviz.theory import theory_lrs


def run(preset):
    sim = preset.config.build(record_weights=True)
    store = RunStore(preset.config.lrs, preset.config.iterations, trajectories=True)
    for batch in sim.run():
        store.append(batch)
    return sim, store


def test_the_four_lrs_come_from_theory():
    preset = effect_of_learning_rate(curvature=10.0, condition=5.0)
    np.testing.assert_allclose(preset.config.lrs, [0.01, 0.1, 0.18, 0.22])
    assert len(preset.captions) == 4 and preset.side_by_side


def test_crawl_clean_bounce_divergence():
    preset = effect_of_learning_rate()
    sim, store = run(preset)
    objective = sim.objective
    values, vectors = np.linalg.eigh(objective.matrix)
    steep = vectors[:, int(np.argmax(values))]
    shallow = vectors[:, int(np.argmin(values))]
    along_steep = store.trajectories.positions @ steep  # (iterations, runs)
    start_loss = objective.loss_only(objective.initial_point()[None])[0]
    crawl, clean, bounce, blow = range(4)
    # too low: the loss falls every step, but along the shallow direction the run is still
    # far from the minimum: (1 - 0.01 * 2)^60 = 30% of the way it started
    loss = store.loss[:, crawl]
    assert np.all(np.diff(loss) < 0)
    along_shallow = store.trajectories.positions[:, crawl] @ shallow
    assert along_shallow[-1] == pytest.approx(1.5 * 0.98**59, rel=1e-6)
    # good: falls every step to ~0, and never crosses the valley (the steep coordinate
    # keeps its sign: no zig-zag)
    loss = store.loss[:, clean]
    assert np.all(np.diff(loss[loss > 1e-25]) < 0) and loss[-1] < 1e-9 * start_loss
    steps = along_steep[1:20, clean]
    assert np.all(np.abs(steps) < 1e-9)  # solved in one step
    # high: converges while the steep coordinate flips sign every step (the bounce)
    signs = np.sign(along_steep[:20, bounce])
    assert np.all(signs[1:] == -signs[:-1])
    assert store.final_loss()[bounce] < 1e-6 * start_loss
    # too high: diverges
    assert store.diverged_at[blow] >= 0 and store.diverged_at[:3].max() < 0
    assert theory_lrs(objective).stability_limit < preset.config.lrs[blow]


@pytest.mark.parametrize("key", list(LAB_PRESETS))
def test_every_preset_is_2d_and_runs(key):
    preset = lab_preset(key)
    sim, store = run(preset)
    assert sim.objective.dim == 2 and store.trajectories.count > 1
    assert preset.description and preset.title


def test_an_unknown_preset_is_named():
    with pytest.raises(ValueError, match="unknown lab preset 'x'"):
        lab_preset("x")


def final_points(key):
    preset = lab_preset(key)
    sim = preset.config.build()
    for _ in sim.run():
        pass
    return sim.weights, sim.diverged_at


def test_the_tours_show_what_their_descriptions_say():
    w, diverged = final_points("rosenbrock")
    distance = np.linalg.norm(w - [1.0, 1.0], axis=1)
    assert distance[0] > 1.0 and distance[2] < 0.3 and diverged[3] >= 0
    assert list(diverged[:3]) == [-1, -1, -1]
    w, diverged = final_points("saddle")
    assert abs(w[0, 1]) < 0.1 and w[0, 0] > 0.3  # still at the ridge
    assert 0.1 < w[1, 1] < 1.3  # just left the saddle
    np.testing.assert_allclose(w[2:], [[0, np.sqrt(2)]] * 2, atol=1e-6)
    assert (diverged < 0).all()
    w, diverged = final_points("rastrigin")
    np.testing.assert_allclose(w[0], [1.99, -1.99], atol=0.01)  # the nearest dip
    assert diverged[3] >= 0 and diverged[0] < 0

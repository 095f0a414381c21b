"""The dog lesson: the three outcomes, read from the model's weights, and proof that the
model really learns (its weights are plain SGD on the log loss, recomputed here by hand)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lrviz.lessons import dog
from lrviz.lessons.dog import (
    COLOUR,
    FEATURES,
    LESSON_LRS,
    PROBES,
    SHAPE,
    colour_belief,
    colour_effect,
    lesson_animals,
    run_dog_lesson,
    shape_effect,
)

LOW, GOOD, HIGH = LESSON_LRS


def effects(weights):
    return float(colour_effect(weights)), float(shape_effect(weights))


def probe_beliefs(lesson, step, run):
    return dict(zip([p.name for p in PROBES], lesson.beliefs[step, run], strict=True))


@pytest.mark.parametrize("factor", [0.5, 1.0, 2.0])
def test_too_low_the_white_dog_is_an_outlier_and_dogs_are_black_persists(factor):
    lesson = run_dog_lesson([LOW * factor])
    w = lesson.white_dog
    before, after, end = lesson.weights[w, 0], lesson.weights[w + 1, 0], lesson.weights[-1, 0]
    colour_before = effects(before)[0]
    assert colour_before > 2 * effects(before)[1] > 0  # ten black dogs taught "black"
    assert effects(after)[0] > 0.9 * colour_before  # the white dog barely registered
    colour_end, shape_end = effects(end)
    assert colour_end > shape_end > 0  # colour is still its main cue at the end
    assert colour_belief(end) == "dogs are black"
    assert probe_beliefs(lesson, -1, 0)["white dog"] < 0.5  # and a white dog is no dog


@pytest.mark.parametrize("factor", [0.5, 1.0, 2.0])
def test_good_colour_quickly_stops_mattering(factor):
    lesson = run_dog_lesson([GOOD * factor])
    w = lesson.white_dog
    before, after = lesson.weights[w, 0], lesson.weights[w + 1, 0]
    assert effects(before)[0] > 2 * effects(before)[1] > 0  # it did believe "dogs are black"
    assert effects(after)[0] < 0.8 * effects(before)[0]  # the white dog cut that down...
    assert effects(after)[1] > effects(before)[1]  # ...and taught it shape
    beliefs = [colour_belief(lesson.weights[t, 0]) for t in range(w + 1, len(lesson.animals) + 1)]
    # colour stops mattering within five animals after the white dog, mostly stays so while
    # the weights still jitter, and is settled for good ten animals later
    assert "colour does not matter" in beliefs[:6]
    assert beliefs.count("colour does not matter") > len(beliefs) / 2
    assert set(beliefs[10:]) == {"colour does not matter"}
    colour_end, shape_end = effects(lesson.weights[-1, 0])
    assert abs(colour_end) < 0.25 * shape_end
    beliefs = probe_beliefs(lesson, -1, 0)
    assert beliefs["black dog"] > 0.5 and beliefs["white dog"] > 0.5
    assert beliefs["black cat"] < 0.5 and beliefs["white cat"] < 0.5


@pytest.mark.parametrize("factor", [0.5, 1.0, 2.0])
def test_too_high_one_white_dog_and_it_believes_dogs_are_white(factor):
    lesson = run_dog_lesson([HIGH * factor])
    w = lesson.white_dog
    before, after = lesson.weights[w, 0], lesson.weights[w + 1, 0]
    assert effects(before)[0] > 0 and colour_belief(before) == "dogs are black"
    assert lesson.predictions[w, 0] < 0.05  # it was sure the white dog was no dog
    colour_after, shape_after = effects(after)
    assert colour_after < -shape_after < 0  # white now counts for more than shape
    assert colour_belief(after) == "dogs are white"
    assert probe_beliefs(lesson, w + 1, 0)["white cat"] > 0.5  # it calls the white cat a dog


def test_the_three_side_by_side_are_the_three_alone():
    together = run_dog_lesson()
    for run, lr in enumerate(LESSON_LRS):
        alone = run_dog_lesson([lr])
        # a product over 3 rows may round differently from one over 1 row, and a too-high
        # λ's weights are differences of updates of size λ: compare on the weights' scale
        scale = np.abs(alone.weights[:, 0]).max()
        np.testing.assert_allclose(
            together.weights[:, run], alone.weights[:, 0], rtol=0, atol=1e-12 * scale
        )
        assert [c[run] for c in together.captions] == [c[0] for c in alone.captions]


def test_the_model_really_learns_plain_sgd_on_the_log_loss():
    """Every weight is w ← w − λ (σ(w·x) − y) x, recomputed here with scalars."""
    lesson = run_dog_lesson()
    animals, white_dog = lesson_animals()
    assert white_dog == 20 and animals[white_dog].name == "white dog"
    assert [a.name for a in animals[:20:2]] == ["black dog"] * 10
    for run, lr in enumerate(LESSON_LRS):
        w = [0.0] * len(FEATURES)
        for t, animal in enumerate(animals):
            x = list(animal.features)
            z = sum(wi * xi for wi, xi in zip(w, x, strict=True))
            p = 1.0 / (1.0 + math.exp(-z)) if z > -700 else 0.0
            assert lesson.predictions[t, run] == pytest.approx(p, rel=1e-9, abs=1e-300)
            y = 1.0 if animal.is_dog else 0.0
            w = [wi - lr * (p - y) * xi for wi, xi in zip(w, x, strict=True)]
            np.testing.assert_allclose(lesson.weights[t + 1, run], w, rtol=1e-9, atol=1e-12)


def test_features_are_as_documented():
    black_dog, white_dog, black_cat, white_cat = (p.features for p in PROBES)
    assert FEATURES == ("bias", "colour", "shape", "size")
    assert black_dog[COLOUR] == 2.0 and white_cat[COLOUR] == -2.0
    assert black_dog[SHAPE] == white_dog[SHAPE] == 1.0
    assert black_cat[SHAPE] == white_cat[SHAPE] == 0.0
    animals, _ = lesson_animals()
    dog_sizes = [a.size for a in animals if a.is_dog]
    cat_sizes = [a.size for a in animals if not a.is_dog]
    assert abs(np.mean(dog_sizes) - np.mean(cat_sizes)) < 0.1  # size tells nothing


def test_with_colour_coded_like_the_rest_even_a_too_high_lr_is_not_fooled(monkeypatch):
    """Why colour has the larger scale (the module's docstring): with ±1 the shape weight
    keeps up with colour, and the white dog does not turn the model."""
    monkeypatch.setattr(dog, "COLOUR_SCALE", 1.0)
    lesson = run_dog_lesson([HIGH, 10 * HIGH])
    for run in range(2):
        assert colour_belief(lesson.weights[lesson.white_dog + 1, run]) != "dogs are white"


def test_outputs_for_the_ui():
    lesson = run_dog_lesson()
    steps, runs = len(lesson.animals), len(LESSON_LRS)
    assert lesson.weights.shape == (steps + 1, runs, len(FEATURES))
    assert lesson.predictions.shape == (steps, runs)
    assert lesson.beliefs.shape == (steps + 1, runs, len(PROBES))
    np.testing.assert_array_equal(lesson.weights[0], 0.0)
    np.testing.assert_allclose(lesson.beliefs[0], 0.5)
    assert len(lesson.captions) == steps and all(len(c) == runs for c in lesson.captions)
    for t, row in enumerate(lesson.captions):
        for caption in row:
            assert caption.startswith(f"A {lesson.animals[t].name}")
            assert caption.count(".") >= 2 and "\n" not in caption
    w = lesson.white_dog
    low, good, high = lesson.captions[w]
    assert all("a surprise" in c for c in (low, good, high))  # each was wrong about it
    assert "a surprise" in high and "under 1% sure" in high and "white means dog" in high
    assert "Black means dog" in low and "Black means dog" in lesson.captions[-1][0]
    assert "Colour hardly matters" in lesson.captions[-1][1]
    assert lesson.colour_belief(w + 1) == ["dogs are black", "dogs are black", "dogs are white"]


@pytest.mark.parametrize("lrs", [[0.0], [-1.0], [float("nan")], [[0.1, 0.2]]])
def test_bad_learning_rates(lrs):
    with pytest.raises(ValueError, match="positive, finite"):
        run_dog_lesson(lrs)


def test_the_learner_the_app_steps_is_the_lesson_one_animal_at_a_time():
    lesson = run_dog_lesson()
    learner = dog.LessonLearner()
    assert learner.steps == len(lesson.animals) and not learner.done
    for t in range(learner.steps):
        assert learner.step() == lesson.captions[t]
        np.testing.assert_array_equal(learner.weights, lesson.weights[t + 1])
        assert learner.lesson().weights.shape == (t + 2, 3, len(FEATURES))
        if t == learner.white_dog:
            # the three outcomes, read from the stepped models' own weights
            beliefs = [colour_belief(w) for w in learner.weights]
            assert beliefs == ["dogs are black", "dogs are black", "dogs are white"]
    assert learner.done
    with pytest.raises(ValueError, match="the lesson is over"):
        learner.step()

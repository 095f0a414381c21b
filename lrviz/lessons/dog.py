"""The dog lesson: a child sees ten black dogs, then a white one.

A logistic model, p(dog) = σ(w · x), learns "is it a dog?" one animal at a time by plain
SGD on the log loss, w ← w − λ (p − y) x, for several λ side by side (one row each). The
animals it sees:

1. ten black dogs, each followed by the family's white cat (so, so far, black means dog);
2. one white dog;
3. afterwards, dogs and cats of both colours: black cat, black dog, white cat, white dog,
   five times over.

Features: a bias (always 1), colour (+2 black, −2 white), shape (1 for a dog's face, 0 for
a cat's) and size (−1 small .. +1 large, no help: dogs and cats come in every size).
Colour is coded on a larger scale than shape because it is the most striking thing in a
picture, and a feature's scale sets how fast its weight learns (each step moves weight i by
λ · error · x_i). With colour coded ±1 like the rest, the shape weight keeps up with the
colour weight and even a far too high λ is not fooled by the white dog.

What the three λ show (tested in tests/core/test_dog_lesson.py, from the weights):

* too low: the white dog barely moves the weights; at the end colour is still the model's
  main cue ("dogs are black" persists);
* good: the white dog cuts the colour weight and the mixed animals after it finish the job:
  within a few animals colour stops mattering, shape decides, every animal is classified
  right (the colour weight still jitters a little from animal to animal, as constant-λ SGD
  does);
* too high: the one white dog swings the colour weight past zero: white now means dog, and
  the model calls the white cat a dog.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

COLOUR_SCALE = 2.0
FEATURES = ("bias", "colour", "shape", "size")
COLOUR, SHAPE = FEATURES.index("colour"), FEATURES.index("shape")

# λ for "too low", "good" and "too high": each a factor of 3 or more inside its regime
# (the regimes' edges are near 0.03, 0.17 .. 1.7 and 2.2; the tests check λ/2 and 2λ too).
LESSON_LRS = (0.01, 0.5, 10.0)
LESSON_LABELS = ("too low", "good", "too high")

# Colour "matters" to the model when its effect (the logit of a black animal minus that of
# the same animal in white) is at least this fraction of the shape's effect (the logit of a
# dog's face minus a cat's). Relative, because a model that learns slowly has small weights
# everywhere and still leans on colour. At 1 (colour counts as much as shape) the step-to-
# step jitter of a good λ's colour weight (constant-λ SGD noise) stays below it.
COLOUR_BELIEF_THRESHOLD = 1.0
COLOUR_BELIEFS = ("dogs are black", "colour does not matter", "dogs are white")


@dataclass(frozen=True)
class Animal:
    name: str
    is_dog: bool
    colour: int  # +1 black, −1 white
    size: float

    @property
    def features(self) -> np.ndarray:
        shape = 1.0 if self.is_dog else 0.0
        return np.array([1.0, COLOUR_SCALE * self.colour, shape, self.size])


BLACK, WHITE = 1, -1
DOG_SIZES = (0.5, -0.5, 1.0, 0.0, -1.0, 0.5, 0.0, -0.5, 1.0, 0.0)
CAT_SIZES = (-0.5, 0.5, 0.0, -1.0, 1.0, -0.5, 0.5, 0.0, -0.5, 0.5)

# The animals whose p(dog) the lesson follows at every step (all of middling size).
PROBES = (
    Animal("black dog", True, BLACK, 0.0),
    Animal("white dog", True, WHITE, 0.0),
    Animal("black cat", False, BLACK, 0.0),
    Animal("white cat", False, WHITE, 0.0),
)


def lesson_animals() -> tuple[list[Animal], int]:
    """The animals in the order the model sees them, and the index of the white dog."""
    animals: list[Animal] = []
    for dog_size, cat_size in zip(DOG_SIZES, CAT_SIZES, strict=True):
        animals.append(Animal("black dog", True, BLACK, dog_size))
        animals.append(Animal("white cat", False, WHITE, cat_size))
    white_dog = len(animals)
    animals.append(Animal("white dog", True, WHITE, 0.5))
    for _ in range(5):
        animals.extend(
            PROBES[i] for i in (2, 0, 3, 1)
        )  # black cat, black dog, white cat, white dog
    return animals, white_dog


@dataclass(frozen=True)
class DogLesson:
    """Everything the lesson computed, for R learning rates side by side.

    Attributes
    ----------
    lrs : ndarray (R,)
    animals : list of Animal, one per step; ``white_dog`` is the index of the white dog.
    weights : ndarray (steps + 1, R, F)
        Before the first animal, then after each (F = len(FEATURES)).
    predictions : ndarray (steps, R)
        p(dog) for each step's animal, before learning from it.
    beliefs : ndarray (steps + 1, R, len(PROBES))
        p(dog) of each probe animal, at the same times as ``weights``.
    captions : list (steps) of list (R) of str
        One short sentence per step and λ.
    """

    lrs: np.ndarray
    animals: list[Animal]
    white_dog: int
    weights: np.ndarray
    predictions: np.ndarray
    beliefs: np.ndarray
    captions: list[list[str]]

    def colour_belief(self, step: int) -> list[str]:
        """Each λ's belief about colour after ``step`` animals (0: before any)."""
        return [colour_belief(w) for w in self.weights[step]]


def colour_effect(weights: np.ndarray) -> np.ndarray:
    """Logit of a black animal minus that of the same animal in white, per row."""
    return 2.0 * COLOUR_SCALE * np.asarray(weights)[..., COLOUR]


def shape_effect(weights: np.ndarray) -> np.ndarray:
    """Logit of an animal with a dog's face minus the same with a cat's, per row."""
    return np.asarray(weights)[..., SHAPE]


def colour_belief(weights: np.ndarray) -> str:
    """What one model (weights (F,)) believes about colour: one of ``COLOUR_BELIEFS``."""
    colour, shape = float(colour_effect(weights)), abs(float(shape_effect(weights)))
    if abs(colour) <= COLOUR_BELIEF_THRESHOLD * shape:
        return COLOUR_BELIEFS[1]
    return COLOUR_BELIEFS[0] if colour > 0 else COLOUR_BELIEFS[2]


class LessonLearner:
    """The lesson's models, one per λ, learning one animal per :meth:`step` (what the app
    steps through; :func:`run_dog_lesson` runs it to the end).

    Attributes
    ----------
    lrs : ndarray (R,)
    animals : list of Animal; ``white_dog`` the index of the white dog
    steps_taken : int
        Animals learnt from so far.
    weights : ndarray (R, F)
        The models' weights now.
    history : dict of lists
        ``weights`` (steps_taken + 1 arrays (R, F)), ``predictions`` (steps_taken (R,)),
        ``beliefs`` (steps_taken + 1 (R, len(PROBES))) and ``captions`` (steps_taken lists
        of R str), as :class:`DogLesson` holds them.
    """

    def __init__(self, lrs=LESSON_LRS):
        lrs = np.atleast_1d(np.asarray(lrs, dtype=np.float64))
        if lrs.ndim != 1 or not np.all(np.isfinite(lrs) & (lrs > 0)):
            raise ValueError("the dog lesson needs positive, finite learning rates")
        self.lrs = lrs
        self.animals, self.white_dog = lesson_animals()
        self._x = np.array([a.features for a in self.animals])  # (steps, F)
        self._y = np.array([1.0 if a.is_dog else 0.0 for a in self.animals])
        self._probes = np.array([p.features for p in PROBES])  # (P, F)
        self.steps_taken = 0
        self.weights = np.zeros((lrs.size, len(FEATURES)))
        self.history = {
            "weights": [self.weights.copy()],
            "predictions": [],
            "beliefs": [_sigmoid(self.weights @ self._probes.T)],
            "captions": [],
        }

    @property
    def steps(self) -> int:
        return len(self.animals)

    @property
    def done(self) -> bool:
        return self.steps_taken >= self.steps

    def step(self) -> list[str]:
        """Show every model the next animal: each predicts p(dog), then takes one SGD step on
        the log loss, w ← w − λ (p − y) x. Returns each λ's caption for this step."""
        if self.done:
            raise ValueError("the lesson is over: every animal has been shown")
        t = self.steps_taken
        x, y = self._x[t], self._y[t]
        p = _sigmoid(self.weights @ x)
        self.weights = self.weights - (self.lrs * (p - y))[:, None] * x
        self.steps_taken = t + 1
        captions = [_caption(self.animals[t], p[r], self.weights[r]) for r in range(self.lrs.size)]
        self.history["weights"].append(self.weights.copy())
        self.history["predictions"].append(p)
        self.history["beliefs"].append(_sigmoid(self.weights @ self._probes.T))
        self.history["captions"].append(captions)
        return captions

    def lesson(self) -> DogLesson:
        """Everything learnt so far, as a :class:`DogLesson`."""
        h = self.history
        predictions = np.array(h["predictions"]).reshape(self.steps_taken, self.lrs.size)
        return DogLesson(
            self.lrs,
            self.animals,
            self.white_dog,
            np.array(h["weights"]),
            predictions,
            np.array(h["beliefs"]),
            list(h["captions"]),
        )


def run_dog_lesson(lrs=LESSON_LRS) -> DogLesson:
    """Teach the lesson to one model per λ in ``lrs``, all at once."""
    learner = LessonLearner(lrs)
    while not learner.done:
        learner.step()
    return learner.lesson()


def _sigmoid(z: np.ndarray) -> np.ndarray:
    # exp of −|z| only: no overflow at a too-high λ's huge logits, and full relative
    # precision for p near 0 (1 + tanh(z/2) would cancel there)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _caption(animal: Animal, predicted: float, weights_after: np.ndarray) -> str:
    """E.g. "A white dog, a surprise: 3% sure it was a dog. Now white means dog to it." """
    wrong = (predicted < 0.5) == animal.is_dog
    surprise = ", a surprise" if wrong else ""
    view = {
        COLOUR_BELIEFS[0]: "Black means dog to it.",
        COLOUR_BELIEFS[1]: "Colour hardly matters to it now.",
        COLOUR_BELIEFS[2]: "Now white means dog to it.",
    }[colour_belief(weights_after)]
    return f"A {animal.name}{surprise}: {_percent(predicted)} sure it was a dog. {view}"


def _percent(p: float) -> str:
    if 0.005 <= p <= 0.995:
        return f"{p:.0%}"
    return "under 1%" if p < 0.005 else "over 99%"

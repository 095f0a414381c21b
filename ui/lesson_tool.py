"""The dog lesson as a one-click guided tool: Step, Play, Reset.

:class:`LessonTool` owns the lesson's models (:class:`lrviz.lessons.dog.LessonLearner`, one
logistic model per λ) and steps them one animal at a time, for real: each Step is one SGD
step of every model, and the view shows the weights and beliefs the models then have. It
is handed the view, the controls tabs (it adds its own "Lesson" tab), the window for its
keyboard shortcuts and the status bar; it never reaches into the window.

The steps are microseconds of arithmetic: they run in the GUI thread, paced by a timer when
playing (no worker thread needed).
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QStatusBar, QTabWidget, QWidget

from lrviz.lessons.dog import LESSON_LABELS, LESSON_LRS, LessonLearner

from .colors import lr_colors
from .forms.lesson_form import LessonForm
from .panels.lesson_view import LessonView

#: A model's bars span at least ± this, and 15 % more than its largest weight so far.
MIN_SCALE = 0.5


class LessonTool(QObject):
    """Signals: ``stepped(int)`` animals shown so far (0 after a reset), ``finished()`` the
    last animal was shown, ``wants_view()`` the tool wants its view in sight."""

    stepped = Signal(int)
    finished = Signal()
    wants_view = Signal()

    def __init__(
        self,
        view: LessonView,
        controls: QTabWidget,
        host: QWidget,
        status_bar: QStatusBar,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.view = view
        self.controls = controls
        self.status_bar = status_bar
        self.form = LessonForm()
        self.tab = self.form
        self.learner = LessonLearner(LESSON_LRS)
        controls.setTabToolTip(
            controls.addTab(self.form, "Lesson"),
            "The dog lesson: three models learn from the same animals, each with its own λ.",
        )
        self.timer = QTimer(self)
        self.timer.setInterval(self.form.interval)
        self.timer.timeout.connect(self._play_step)
        self.form.step_requested.connect(self.step)
        self.form.play_toggled.connect(self.toggle_play)
        self.form.reset_requested.connect(self.reset)
        self.form.speed_changed.connect(self.timer.setInterval)
        self.shortcuts = [
            QShortcut(QKeySequence(keys), host, activated=slot)
            for keys, slot in (
                ("Right", self.step),
                ("N", self.step),
                ("Space", self.toggle_play),
                ("Home", self.reset),
                ("R", self.reset),
            )
        ]
        # The keys belong to the lesson only while its tab is the one in front (elsewhere
        # Space and letters are for the other tools' fields).
        controls.currentChanged.connect(self._tab_changed)
        self._tab_changed()
        self.recolor()

    def recolor(self) -> None:
        """The models in the theme's λ colours (the dark theme drops the darkest), as
        they stand."""
        self.view.set_models(
            self.learner.lrs,
            LESSON_LABELS,
            lr_colors(self.learner.lrs),
            self.learner.steps,
            self.learner.white_dog,
        )
        self._show()

    # --- commands -------------------------------------------------------------------------
    @property
    def playing(self) -> bool:
        return self.timer.isActive()

    def step(self) -> bool:
        """Show every model the next animal. False when the lesson is over."""
        if self.learner.done:
            return False
        self.learner.step()
        self._show()
        if self.learner.done:
            self.timer.stop()
            self._show()
            self.status_bar.showMessage(self._summary(), 15_000)
            self.finished.emit()
        return True

    def toggle_play(self) -> None:
        if self.playing:
            self.timer.stop()
        elif not self.learner.done:
            self.wants_view.emit()
            self.timer.start()
        self._show_state()

    def reset(self) -> None:
        """Untrained models, before the first animal."""
        self.timer.stop()
        self.learner = LessonLearner(self.learner.lrs)
        self._show()

    def stop(self) -> None:
        """Stop playing (the window is closing)."""
        self.timer.stop()

    # --- internals ------------------------------------------------------------------------
    def _play_step(self) -> None:
        if not self.step():
            self.timer.stop()

    def _show(self) -> None:
        learner = self.learner
        lesson = learner.lesson()
        largest = np.abs(lesson.weights).max(axis=(0, 2))
        scales = np.maximum(MIN_SCALE, 1.15 * largest)
        self.view.show_step(lesson, learner.steps_taken, scales)
        self._show_state()
        self.stepped.emit(learner.steps_taken)

    def _show_state(self) -> None:
        self.form.set_state(self.learner.steps_taken, self.learner.steps, self.playing)

    def _summary(self) -> str:
        lesson = self.learner.lesson()
        after = lesson.colour_belief(lesson.white_dog + 1)
        end = lesson.colour_belief(len(lesson.animals))
        parts = [
            f"{label}: “{a}” after the white dog, “{e}” at the end"
            for label, a, e in zip(LESSON_LABELS, after, end, strict=True)
        ]
        return "Lesson over · " + " · ".join(parts)

    def _tab_changed(self, *_args) -> None:
        active = self.controls.currentWidget() is self.form
        for shortcut in self.shortcuts:
            shortcut.setEnabled(active)
        if not active and self.playing:
            self.timer.stop()
            self._show_state()


def screenshot_view(window, ready, paths) -> None:
    """``--view lesson``: the dog lesson two animals after the white dog, when the three λ
    have taken their three paths."""
    tool = window.lesson_tool
    window.controls.setCurrentWidget(tool.tab)
    for _ in range(tool.learner.white_dog + 3):
        tool.step()
    ready()

"""The dog lesson's view: what the child sees, and what three models with three λ learnt.

Top: the animal being shown. Middle: one column per λ with the model's feature weights as
bars and its caption for this step. Bottom: each model's belief over the animals seen so
far: p(dog) for a white dog (solid) and for a white cat (dashed). The view only shows what
it is given (:meth:`LessonView.show_step`); the lesson tool steps the model.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QSplitter, QVBoxLayout, QWidget

from lrviz.lessons.dog import FEATURES, PROBES, DogLesson
from lrviz.lr_format import format_lr

from .. import theme
from ..theme import apply_plot_theme
from ..tooltips import explain_plot_export
from .fitted_legend import FittedLegend, HeaderLegend

FEATURE_LABELS = {"bias": "bias", "colour": "colour", "shape": "face", "size": "size"}
FEATURE_TIPS = {
    "bias": "Leaning towards “dog” whatever the animal looks like",
    "colour": "Positive: black means dog. Negative: white means dog",
    "shape": "Face: positive means a dog's face means dog (the feature that really tells)",
    "size": "Size: dogs and cats come in every size here, so it should stay near 0",
}
WHITE_DOG, WHITE_CAT = (
    [p.name for p in PROBES].index("white dog"),
    [p.name for p in PROBES].index("white cat"),
)


def animal_icon(colour: int, is_dog: bool, size: int = 44) -> QPixmap:
    """A round face in the animal's colour, with a dog's floppy ears or a cat's pointed ones."""
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    fill = QColor(30, 30, 30) if colour > 0 else QColor(250, 250, 250)
    painter.setPen(QPen(QColor(110, 110, 110), 1.5))
    painter.setBrush(fill)
    s = size
    if is_dog:  # floppy ears hanging at the sides
        painter.drawEllipse(QPointF(0.2 * s, 0.45 * s), 0.13 * s, 0.24 * s)
        painter.drawEllipse(QPointF(0.8 * s, 0.45 * s), 0.13 * s, 0.24 * s)
    else:  # pointed ears on top
        for x in (0.25, 0.75):
            painter.drawPolygon(
                [
                    QPointF((x - 0.14) * s, 0.42 * s),
                    QPointF(x * s, 0.06 * s),
                    QPointF((x + 0.14) * s, 0.42 * s),
                ]
            )
    painter.drawEllipse(QPointF(0.5 * s, 0.55 * s), 0.3 * s, 0.3 * s)
    eye = QColor(240, 240, 240) if colour > 0 else QColor(40, 40, 40)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(eye)
    for x in (0.4, 0.6):
        painter.drawEllipse(QPointF(x * s, 0.5 * s), 0.035 * s, 0.035 * s)
    painter.end()
    return pixmap


class WeightBars(QWidget):
    """One model: its λ, its feature weights as bars, and its caption."""

    def __init__(self, lr: float, regime: str, color: QColor, parent=None) -> None:
        super().__init__(parent)
        apply_plot_theme()
        self.color = color
        self.title = QLabel(f"<b>λ = {format_lr(lr)}</b> · {regime} · weights")
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.title.setWordWrap(True)
        # Labels wrap instead of setting the column's minimum width: three columns must fit
        # a 1024-pixel window beside the sources and the controls.
        self.title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        # A shade of the model's colour that reads on the background (darker on white)
        shade = color.lighter(115) if theme.is_dark() else color.darker(130)
        self.title.setStyleSheet(f"color: {shade.name()};")
        self.graphics = pg.GraphicsLayoutWidget()
        explain_plot_export(self.graphics)
        self.graphics.setMinimumHeight(120)
        self.plot = self.graphics.addPlot()
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        self.plot.showGrid(y=True, alpha=0.15)
        # The column's title says these are weights: the room goes to the bars.
        self.plot.getAxis("left").enableAutoSIPrefix(False)  # 0.1, not "(x0.001)"
        axis = self.plot.getAxis("bottom")
        small = QFont(self.font())
        small.setPointSizeF(max(7.0, small.pointSizeF() - 1.5))
        axis.setStyle(tickFont=small)
        axis.setTicks([[(i, FEATURE_LABELS[f]) for i, f in enumerate(FEATURES)]])
        self.plot.addItem(pg.InfiniteLine(0, angle=0, pen=pg.mkPen((120, 120, 120), width=1)))
        self.bars = pg.BarGraphItem(
            x=np.arange(len(FEATURES)),
            height=np.zeros(len(FEATURES)),
            width=0.62,
            brush=pg.mkBrush(color),
            pen=pg.mkPen(color.darker(140), width=1),
        )
        self.plot.addItem(self.bars)
        self.plot.setXRange(-0.6, len(FEATURES) - 0.4, padding=0)
        self.plot.setToolTip("\n".join(f"{FEATURE_LABELS[f]}: {FEATURE_TIPS[f]}" for f in FEATURES))
        self.belief = QLabel()
        self.belief.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.belief.setWordWrap(True)
        self.belief.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.caption = QLabel()
        self.caption.setWordWrap(True)
        self.caption.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignHCenter)
        self.caption.setMinimumHeight(3 * self.caption.fontMetrics().lineSpacing())
        self.caption.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(2)
        layout.addWidget(self.title)
        layout.addWidget(self.graphics, 1)
        layout.addWidget(self.belief)
        layout.addWidget(self.caption)

    def show_weights(self, weights: np.ndarray, scale: float, belief: str, caption: str) -> None:
        self.bars.setOpts(height=np.asarray(weights, dtype=np.float64))
        self.plot.setYRange(-scale, scale, padding=0)
        self.belief.setText(f"It believes: <b>{belief}</b>")
        self.caption.setText(caption)


class LessonView(QWidget):
    """The animal shown, three models side by side, and their beliefs over the lesson."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        apply_plot_theme()
        self.setObjectName("Dog_lesson")
        self.icon = QLabel()
        self.scene = QLabel()
        font = QFont(self.scene.font())
        font.setPointSizeF(font.pointSizeF() * 1.3)
        self.scene.setFont(font)
        self.scene.setWordWrap(True)
        top = QHBoxLayout()
        top.setContentsMargins(8, 4, 8, 0)
        top.addWidget(self.icon)
        top.addWidget(self.scene, 1)
        self.columns_layout = QHBoxLayout()
        self.columns_layout.setSpacing(6)
        self.columns: list[WeightBars] = []

        self.beliefs = pg.GraphicsLayoutWidget()
        explain_plot_export(self.beliefs)
        self.beliefs.setMinimumHeight(160)
        self.beliefs.setMinimumWidth(200)
        self.belief_plot = self.beliefs.addPlot()
        self.belief_plot.setMenuEnabled(False)
        self.belief_plot.showGrid(x=True, y=True, alpha=0.15)
        self.belief_plot.setLabel("bottom", "animals seen")
        self.belief_plot.setLabel("left", "p(dog)")
        # Short: a plot title's text sets the widget's minimum width.
        self.belief_plot.setTitle(
            "Is a white dog a dog? (solid) · a white cat? (dashed)", size="9pt"
        )
        self.belief_plot.setYRange(0, 1, padding=0.04)
        self.belief_plot.addItem(
            pg.InfiniteLine(0.5, angle=0, pen=pg.mkPen((150, 150, 150), style=Qt.PenStyle.DotLine))
        )
        self.white_dog_line = pg.InfiniteLine(
            angle=90,
            pen=pg.mkPen((150, 150, 150), width=1),
            label="the white dog",
            # high, left of the line: before the white dog every belief is at most ½ (low,
            # at 0.3, the good λ's curves ran through the words)
            labelOpts={
                "position": 0.93,
                "color": theme.role_color("hint"),
                "anchors": [(1, 0), (1, 0)],
            },
        )
        self.belief_plot.addItem(self.white_dog_line)
        # Fitted as the panels' legends are: in the freest corner, else above the plot (a
        # 3-column legend at the top covered the λ = 10 curve at 1024x700).
        self.belief_header = HeaderLegend()
        self.belief_legend = FittedLegend(
            self.belief_plot.getViewBox(),
            corners=("top-right", "bottom-right", "top-left", "bottom-left"),
            header=self.belief_header,
        )
        self.belief_curves: list[tuple[pg.PlotDataItem, pg.PlotDataItem]] = []
        # What exporting this view takes (by a plot panel's names): the belief plot.
        self.graphics, self.plot = self.beliefs, self.belief_plot

        # A splitter: the models above, their beliefs below, in proportions the user can move.
        columns = QWidget()
        columns.setLayout(self.columns_layout)
        self.columns_layout.setContentsMargins(0, 0, 0, 0)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(columns)
        beliefs = QWidget()
        beliefs_layout = QVBoxLayout(beliefs)
        beliefs_layout.setContentsMargins(6, 0, 6, 0)
        beliefs_layout.setSpacing(0)
        beliefs_layout.addWidget(self.belief_header)
        beliefs_layout.addWidget(self.beliefs, 1)
        self.splitter.addWidget(beliefs)
        self.splitter.setStretchFactor(0, 11)
        self.splitter.setStretchFactor(1, 9)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.splitter, 1)

    def set_models(self, lrs, regimes, colors, steps: int, white_dog: int) -> None:
        """One column and one pair of belief curves per model."""
        for column in self.columns:
            self.columns_layout.removeWidget(column)
            column.deleteLater()
        for pair in self.belief_curves:
            for item in pair:
                self.belief_plot.removeItem(item)
        self.belief_legend.clear()
        self.columns, self.belief_curves = [], []
        for lr, regime, color in zip(lrs, regimes, colors, strict=True):
            column = WeightBars(lr, regime, color)
            self.columns_layout.addWidget(column, 1)
            self.columns.append(column)
            dog = pg.PlotDataItem(pen=pg.mkPen(color, width=2), symbol="o", symbolSize=4)
            dog.opts.update(symbolBrush=pg.mkBrush(color), symbolPen=None)
            cat = pg.PlotDataItem(pen=pg.mkPen(color, width=1.5, style=Qt.PenStyle.DashLine))
            for item in (dog, cat):
                self.belief_plot.addItem(item)
            self.belief_curves.append((dog, cat))
            self.belief_legend.addItem(dog, f"λ = {format_lr(lr)} ({regime})")
        self.belief_plot.setXRange(0, steps, padding=0.02)
        self.white_dog_line.setPos(white_dog + 1)

    def show_step(self, lesson: DogLesson, step: int, scales: np.ndarray) -> None:
        """Show ``lesson`` after ``step`` animals (0: before the first); ``scales`` (R,) the
        half-height of each model's bar axis."""
        steps = len(lesson.animals)
        if step == 0:
            first = lesson.animals[0]
            self.icon.setPixmap(animal_icon(first.colour, first.is_dog))
            self.scene.setText(
                f"A child is about to see {steps} animals, one at a time: first ten black "
                "dogs (each followed by the family's white cat), then a white dog."
            )
        else:
            animal = lesson.animals[step - 1]
            self.icon.setPixmap(animal_icon(animal.colour, animal.is_dog))
            self.scene.setText(f"Animal {step} of {steps}: <b>a {animal.name}</b>")
        for r, column in enumerate(self.columns):
            caption = lesson.captions[step - 1][r] if step else "Nothing learnt yet."
            column.show_weights(
                lesson.weights[step, r], float(scales[r]), lesson.colour_belief(step)[r], caption
            )
        x = np.arange(step + 1)
        for r, (dog, cat) in enumerate(self.belief_curves):
            dog.setData(x, lesson.beliefs[: step + 1, r, WHITE_DOG])
            cat.setData(x, lesson.beliefs[: step + 1, r, WHITE_CAT])
        # The axes stay put while the curves grow: the legend moves off them by itself only
        # when the view changes, so it looks again here (a growing run's rule: it may leave
        # for the header, and comes back on a resize or a new lesson).
        self.belief_legend.place()

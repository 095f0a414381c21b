"""What a panel shows instead of its plot when it has nothing to plot, and why.

An empty plot still draws axes, a grid and ticks (λ from 2 to 5 over steps 0.1 to 0.9) that
mean nothing and look like data. A panel with nothing to show says so in a sentence and what
would fill it, where its plot would be, in the theme's colours (the palette's, so a theme
switch recolours it)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

from ..theme import mark


class EmptyState(QWidget):
    """A headline (why the panel is empty) above a hint (what would fill it), centred."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("empty_state")
        # The plot's place keeps a plot's colour (Base: white in light, near-black in dark).
        self.setAutoFillBackground(True)
        self.setBackgroundRole(QPalette.ColorRole.Base)
        self.headline = QLabel()
        self.headline.setObjectName("empty_headline")
        font = self.headline.font()
        font.setPointSizeF(font.pointSizeF() * 1.15)
        font.setBold(True)
        self.headline.setFont(font)
        self.hint = QLabel()
        self.hint.setObjectName("empty_hint")
        mark(self.hint, "hint")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 8, 16, 8)
        layout.setSpacing(4)
        layout.addStretch(1)
        for label in (self.headline, self.hint):
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
            layout.addWidget(label)
        layout.addStretch(1)
        # A short dock (a 700 px window's bottom panel) still holds both lines.
        self.setMinimumHeight(0)

    def set_text(self, headline: str, hint: str = "") -> None:
        self.headline.setText(headline)
        self.hint.setText(hint)
        self.hint.setVisible(bool(hint))

    def text(self) -> str:
        """Headline and hint as one line (what a test or a screen reader reads)."""
        hint = self.hint.text()
        return f"{self.headline.text()} — {hint}" if hint else self.headline.text()

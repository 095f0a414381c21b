"""Help ▸ Guide (an HTML page shipped in ``resources/guide``) and Help ▸ About."""

from __future__ import annotations

import re
import sys

from PySide6.QtCore import QSize, QUrl
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QMessageBox,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from lrviz import __version__

from .resource_files import resource_path

GUIDE = "guide/guide.html"


class GuideWindow(QDialog):
    """The guide to choosing λ, with the app's own pictures; links to sections work, links
    to the web open in the browser."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("lrviz guide: choosing a learning rate")
        self.browser = QTextBrowser()
        self.browser.setOpenExternalLinks(True)
        self.browser.document().setDocumentMargin(14)  # text flush against the frame
        page = resource_path(GUIDE)
        self.browser.setSearchPaths([str(page.parent)])
        self.browser.setSource(QUrl.fromLocalFile(str(page)))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.button(QDialogButtonBox.StandardButton.Close).setToolTip("Close the guide.")
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 6)
        layout.addWidget(self.browser, 1)
        layout.addWidget(buttons)
        self.resize(fitted(QSize(860, 760), parent))


def missing_pictures(guide: GuideWindow) -> list[str]:
    """The pictures the guide's page shows that did not load (none, when it is whole)."""
    from PySide6.QtGui import QImage, QPixmap, QTextDocument

    document = guide.browser.document()
    missing = []
    for name in re.findall(r'<img\s[^>]*src="([^"]+)"', guide.browser.toHtml(), re.IGNORECASE):
        picture = document.resource(QTextDocument.ResourceType.ImageResource, QUrl(name))
        if isinstance(picture, QPixmap):
            picture = picture.toImage()
        if not isinstance(picture, QImage) or picture.isNull():
            missing.append(name)
    return missing


def screenshot_view(window, ready, paths) -> None:
    """``--screenshot PATH --view guide``: Help ▸ Guide as the menu opens it, at the
    screenshot's size. A picture that did not load (a bundle that left one out) is an
    error, not a picture of a page with holes."""
    guide = window.desktop.show_guide()
    guide.resize(window.size())
    missing = missing_pictures(guide)
    if missing:
        sys.stderr.write(f"lrviz: error: the guide's pictures did not load: {', '.join(missing)}\n")
        QApplication.exit(1)
        return
    ready(guide)


def fitted(size: QSize, parent: QWidget | None) -> QSize:
    """``size``, made smaller to fit the screen (with a margin) and the window it opens
    from: a 760 px guide on a 700 px screen had its Close button off the bottom."""
    screen = parent.screen() if parent is not None else QGuiApplication.primaryScreen()
    room = screen.availableGeometry().size() * 0.92 if screen is not None else size
    if parent is not None and parent.isVisible():
        room = room.boundedTo(parent.size())
    return size.boundedTo(room).expandedTo(QSize(420, 360))


def licences() -> list[tuple[str, str, str]]:
    """(name, version, licence) of lrviz and what it is built on."""
    import numpy
    import pyqtgraph
    import PySide6
    from PySide6 import QtCore

    return [
        ("lrviz", __version__, "MIT"),
        ("Qt", QtCore.qVersion(), "LGPL v3"),
        ("PySide6 (Qt for Python)", PySide6.__version__, "LGPL v3"),
        ("pyqtgraph", pyqtgraph.__version__, "MIT"),
        ("NumPy", numpy.__version__, "BSD 3-Clause"),
    ]


def about_text() -> str:
    rows = "".join(
        f"<tr><td>{name}</td><td>&nbsp;{version}&nbsp;</td><td>{licence}</td></tr>"
        for name, version, licence in licences()
    )
    return (
        f"<h3>lrviz {__version__}</h3>"
        "<p>See and choose learning rates: simulations of gradient descent, LR range tests "
        "and training-log inspection.</p>"
        f"<table>{rows}</table>"
        "<p>Qt and PySide6 are used under the GNU Lesser General Public License v3: they are "
        "linked dynamically, and you may replace them with your own build. pandas (BSD "
        "3-Clause) reads large CSV files when it is installed.</p>"
    )


def show_about(parent: QWidget | None) -> None:
    QMessageBox.about(parent, f"About lrviz {__version__}", about_text())

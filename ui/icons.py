"""The toolbar's and menus' icons: SVG files in ``resources/icons``, drawn in the theme's
text colour (their ``currentColor``), so the same file reads on a light and a dark theme.
Run and stop keep their own green and red."""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtSvg import QSvgRenderer

from . import theme
from .resource_files import resource_path

#: pixel sizes each icon is drawn at (menus, toolbars, high-DPI toolbars)
SIZES = (16, 20, 24, 32, 48)


def svg_text(name: str) -> str:
    return resource_path(f"icons/{name}.svg").read_text(encoding="utf-8")


def icon(name: str, color: str | None = None) -> QIcon:
    """Icon ``name`` (``resources/icons/<name>.svg``) in ``color`` (default: the theme's
    text colour); disabled, in the theme's disabled text colour."""
    current = theme.current()
    normal = _renderer(name, color or current.text)
    disabled = _renderer(name, current.disabled_text)
    out = QIcon()
    for size in SIZES:
        out.addPixmap(_draw(normal, size), QIcon.Mode.Normal)
        out.addPixmap(_draw(disabled, size), QIcon.Mode.Disabled)
    return out


def _renderer(name: str, color: str) -> QSvgRenderer:
    text = svg_text(name).replace("currentColor", QColor(color).name())
    renderer = QSvgRenderer(QByteArray(text.encode("utf-8")))
    if not renderer.isValid():
        raise ValueError(f"icons/{name}.svg is not an SVG Qt can draw")
    return renderer


def _draw(renderer: QSvgRenderer, size: int) -> QPixmap:
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter, QRectF(0, 0, size, size))
    painter.end()
    return pixmap

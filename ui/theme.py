"""The look of the app: light and dark themes (or the system's), plots included.

A theme is a Qt palette for the widgets, the colours of labels that carry a meaning (error,
ok, warning, hint; set with :func:`mark`, re-coloured when the theme changes), and the pyqtgraph
colours of every plot (background, axes, grid, legends, titles). :func:`apply_theme` sets all
of it, on the windows that exist and on those created later. Curves keep their λ colours;
the colour map only drops the end that would vanish into the background
(:func:`ui.colors.lr_colormap` asks :func:`is_dark`).
"""

from __future__ import annotations

from dataclasses import dataclass

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QProxyStyle, QStyle

from . import colors

#: the choices of View ▸ Theme, stored in the settings as these words
THEMES = ("system", "light", "dark")


@dataclass(frozen=True)
class Theme:
    name: str
    window: str
    base: str
    alternate: str
    text: str
    mid: str
    button: str
    highlight: str
    highlighted_text: str
    link: str
    disabled_text: str
    plot_background: str
    plot_foreground: str
    legend_fill: str
    roles: dict


LIGHT = Theme(
    name="light",
    window="#f3f3f3",
    base="#ffffff",
    alternate="#f6f6f6",
    text="#1f1f1f",
    mid="#b8b8b8",
    button="#ececec",
    highlight="#2f6fb3",
    highlighted_text="#ffffff",
    link="#1f5fa8",
    disabled_text="#8a8a8a",
    plot_background="#ffffff",
    plot_foreground="#222222",
    legend_fill="#ffffffd8",
    roles={"error": "#b00020", "ok": "#2a6a2a", "warning": "#8a5a00", "hint": "#6f6f6f"},
)
DARK = Theme(
    name="dark",
    window="#25272b",
    base="#1b1c1f",
    alternate="#222428",
    text="#e3e3e3",
    mid="#55585e",
    button="#30333a",
    highlight="#3d7bd0",
    highlighted_text="#ffffff",
    link="#7db3f0",
    disabled_text="#7d8087",
    plot_background="#17181b",
    plot_foreground="#d6d6d6",
    legend_fill="#202226e0",
    roles={"error": "#ff7a7a", "ok": "#86d486", "warning": "#e5b05a", "hint": "#a3a6ad"},
)
_THEMES = {"light": LIGHT, "dark": DARK}

_current: Theme = LIGHT
_choice = "light"
_applied = False


def current() -> Theme:
    return _current


def is_dark() -> bool:
    return _current is DARK


def choice() -> str:
    """What the user chose: system, light or dark."""
    return _choice


def resolve(name: str) -> Theme:
    """The theme ``name`` means: ``system`` follows the desktop's colour scheme (light when
    it says nothing). Unknown names are light."""
    if name == "system":
        hints = QGuiApplication.styleHints() if QGuiApplication.instance() else None
        scheme = hints.colorScheme() if hints is not None else Qt.ColorScheme.Unknown
        return DARK if scheme == Qt.ColorScheme.Dark else LIGHT
    return _THEMES.get(name, LIGHT)


def apply_plot_theme() -> None:
    """Set pyqtgraph's global options once, before any plot widget is created."""
    global _applied
    if _applied:
        return
    # Antialiased strokes cost 4-50x more to paint (measured: 6 noisy 3000-point curves,
    # 60 ms vs 16 ms a frame at width 1; 2.8 s at width 1.6), which starves the engine thread.
    pg.setConfigOptions(
        background=_current.plot_background, foreground=_current.plot_foreground, antialias=False
    )
    _applied = True


def apply_theme(name: str, windows=(), app=None) -> Theme:
    """Make ``name`` (system, light, dark) the app's theme: palette, label roles, and the
    colours of the plots in ``windows`` (plots made later take pyqtgraph's options, set
    here too). Returns the theme applied."""
    global _current, _choice
    from PySide6.QtWidgets import QApplication

    app = app or QApplication.instance()
    _choice = name if name in THEMES else "light"
    theme = resolve(_choice)
    _current = theme
    colors.on_dark_background = theme is DARK
    pg.setConfigOptions(background=theme.plot_background, foreground=theme.plot_foreground)
    if app is None:
        return theme
    if not isinstance(app.style(), FramedIndicators):
        # Fusion draws with the palette on every platform; native styles ignore a dark one.
        global _style
        _style = FramedIndicators()
        app.setStyle(_style)
    # Only when it changes: setting it re-polishes every widget of the app. (No application
    # style sheet: with one, Qt objects freed by the garbage collector in a worker thread
    # start timers there.)
    if app.property("lrviz_theme") != theme.name:
        app.setPalette(palette(theme))
        from PySide6.QtWidgets import QToolTip

        QToolTip.setPalette(palette(theme))
        app.setProperty("lrviz_theme", theme.name)
    for window in windows:
        for view in window.findChildren(pg.GraphicsView):
            restyle_plot_widget(view)
        from PySide6.QtWidgets import QWidget

        for widget in window.findChildren(QWidget):
            role = widget.property("role")
            if isinstance(role, str):
                _color_role(widget, role)
    return theme


class FramedIndicators(QProxyStyle):
    """Fusion, with a check box's frame drawn in the theme's disabled-text colour on a dark
    background: Fusion frames it a shade darker than the window, which on the dark theme's
    near-black lists left an unticked box invisible (the Sources list's "Simulation") and a
    ticked one a bare ✓."""

    def __init__(self) -> None:
        super().__init__("Fusion")

    def drawPrimitive(self, element, option, painter, widget=None) -> None:
        super().drawPrimitive(element, option, painter, widget)
        # (an item view's check is drawn through PE_IndicatorCheckBox too)
        if element == QStyle.PrimitiveElement.PE_IndicatorCheckBox and is_dark():
            painter.save()
            painter.setPen(QColor(_current.disabled_text))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(option.rect.adjusted(0, 0, -1, -1))
            painter.restore()


_style: FramedIndicators | None = None  # the app's style (the app does not keep it alive)


def palette(theme: Theme) -> QPalette:
    p = QPalette()
    role = QPalette.ColorRole
    colors = {
        role.Window: theme.window,
        role.WindowText: theme.text,
        role.Base: theme.base,
        role.AlternateBase: theme.alternate,
        role.ToolTipBase: theme.base,
        role.ToolTipText: theme.text,
        role.PlaceholderText: theme.disabled_text,
        role.Text: theme.text,
        role.Button: theme.button,
        role.ButtonText: theme.text,
        role.BrightText: "#ff5555",
        role.Highlight: theme.highlight,
        role.HighlightedText: theme.highlighted_text,
        role.Link: theme.link,
        role.Mid: theme.mid,
        role.Midlight: theme.button,
        role.Dark: theme.mid,
        role.Light: theme.base,
        role.Shadow: "#000000",
    }
    for r, c in colors.items():
        p.setColor(r, QColor(c))
    disabled = QPalette.ColorGroup.Disabled
    for r in (role.WindowText, role.Text, role.ButtonText):
        p.setColor(disabled, r, QColor(theme.disabled_text))
    return p


def role_color(role: str) -> str:
    """The current theme's colour of ``role`` (error, ok, warning, hint)."""
    return _current.roles.get(role, _current.text)


def mark(widget, role: str | None) -> None:
    """Give ``widget`` (a label) a meaning: error, ok, warning, hint, or None for plain
    text. Its text takes the theme's colour of that meaning, now and after a theme change."""
    widget.setProperty("role", role)
    _color_role(widget, role)


def _color_role(widget, role: str | None) -> None:
    p = widget.palette()
    color = (
        QColor(role_color(role))
        if role
        else QGuiApplication.palette().color(QPalette.ColorRole.WindowText)
    )
    p.setColor(QPalette.ColorRole.WindowText, color)
    p.setColor(QPalette.ColorRole.Text, color)
    widget.setPalette(p)


def restyle_plot_widget(view) -> None:
    """Colour one pyqtgraph widget (background, axes, grid, legends, titles) for the
    current theme."""
    theme = _current
    view.setBackground(theme.plot_background)
    scene = view.scene()
    if scene is None:
        return
    foreground = QColor(theme.plot_foreground)
    for item in scene.items():
        if isinstance(item, pg.AxisItem):
            item.setPen(foreground)
            item.setTextPen(foreground)
        elif isinstance(item, pg.LegendItem):
            item.setLabelTextColor(foreground)
            item.setBrush(pg.mkBrush(theme.legend_fill))
            item.setPen(pg.mkPen(theme.mid))
            for _sample, label in item.items:
                label.setText(label.text, color=foreground)
        elif isinstance(item, pg.PlotItem):
            title = item.titleLabel
            if title is not None and title.text:
                title.setText(title.text, color=foreground)

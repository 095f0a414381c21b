"""Export what a panel shows: its picture (PNG, SVG, the clipboard) and its data (CSV).

Pictures come from pyqtgraph's exporters, encoded in memory and written with
:func:`lrviz.export.save_bytes_atomic` (a temporary file, then a rename; a planted symlink
is never followed). The data is every visible curve of the panel as a long CSV table
(:func:`lrviz.export.series_csv`); the simulated runs have an export of their own in the
shape lrviz's loaders read back (:func:`lrviz.export.runs_csv`).

Panels are registered by name (:meth:`PanelExports.add_panel`): a tool with a panel of its
own (the loss surface) adds it with one line and gets the same exports.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from pyqtgraph.exporters import ImageExporter, SVGExporter
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QObject, Signal
from PySide6.QtGui import QGuiApplication, QImage
from PySide6.QtWidgets import QFileDialog, QWidget

from lrviz import export

#: the kinds of export, by file suffix
KINDS = {
    ".png": "PNG image (*.png)",
    ".svg": "SVG drawing (*.svg)",
    ".csv": "CSV data (*.csv)",
}
#: a PNG export is drawn at this many pixels per screen pixel (sharp when printed or zoomed)
PNG_SCALE = 2


def panel_curves(panel) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """``(name, x, y)`` of every visible curve of ``panel`` (a PlotPanel), in data units
    (λ, not log10 λ), named as its legend names it (else its tooltip, else by number)."""
    names = {}
    for legend in _legends(panel):
        # A fitted legend lists all it names, shown or behind "+N more".
        entries = getattr(legend, "entries", None)
        if entries is None:
            entries = [(getattr(s, "item", None), label.text) for s, label in legend.items]
        for item, name in entries:
            if item is not None:
                names[id(item)] = name
    out = []
    seen = set()
    items = list(panel.plot.items)
    items += [
        i
        for i in panel.plot.scene().items()
        if isinstance(i, pg.PlotDataItem) and i not in items and _in_panel(i, panel)
    ]
    for item in items:
        if hasattr(item, "shown_curves") and item.isVisible():  # many runs, one item
            out.extend((str(n), np.asarray(x), np.asarray(y)) for n, x, y in item.shown_curves())
            continue
        if id(item) in seen or not isinstance(item, pg.PlotDataItem) or not item.isVisible():
            continue
        seen.add(id(item))
        x, y = item.getOriginalDataset()
        if x is None or y is None or len(x) == 0:
            continue
        name = names.get(id(item)) or item.name() or item.toolTip() or f"curve {len(out) + 1}"
        out.append((str(name), np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)))
    return out


def panel_csv(panel) -> str:
    """The panel's visible curves as CSV, the columns named after its axes."""
    x_name = _axis_name(panel.plot, "bottom") or "x"
    y_name = _axis_name(panel.plot, "left") or "y"
    if x_name == y_name:
        y_name += " (y)"
    return export.series_csv(panel_curves(panel), x_name, y_name)


def _exported_item(panel):
    """What is drawn: the panel's layout (plot and colour bar), not the whole scene, whose
    rectangle grows with every item ever placed far outside the view."""
    return panel.graphics.ci


def panel_image(panel, width: int | None = None) -> QImage:
    """The panel's plot (with its colour bar) as an image, PNG_SCALE times its size on
    screen (or ``width`` pixels wide)."""
    item = _exported_item(panel)
    exporter = ImageExporter(item)
    size = item.boundingRect()
    target = int(width or max(size.width(), 320) * PNG_SCALE)
    exporter.parameters()["width"] = target
    image = exporter.export(toBytes=True)
    if image is None or image.isNull():
        raise OSError("pyqtgraph could not draw the panel")
    return image


def panel_png(panel, width: int | None = None) -> bytes:
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not panel_image(panel, width).save(buffer, "PNG"):
        raise OSError("Qt could not encode the PNG")
    buffer.close()
    return bytes(data.data())


def panel_svg(panel) -> bytes:
    with _closed_paths_understood():
        svg = SVGExporter(_exported_item(panel)).export(toBytes=True)
    if isinstance(svg, str):
        svg = svg.encode("utf-8")
    return bytes(svg)


@contextmanager
def _closed_paths_understood():
    """pyqtgraph 0.14's SVG exporter cannot read a path that Qt 6.11 closes with " Z" (every
    view box's outline: pyqtgraph issue #3495, fixed after 0.14). While we export, its
    coordinate pass sees the paths without their Z commands, which are put back after."""
    import sys

    svg_module = sys.modules[SVGExporter.__module__]
    original = svg_module.correctCoordinates

    def correct(node, defs, item, options):
        closes = {}  # path -> after which coordinate pairs a Z stood
        for path in node.getElementsByTagName("path"):
            tokens = path.getAttribute("d").split()
            if "Z" not in tokens:
                continue
            pairs = [t for t in tokens if t != "Z"]
            after, count = [], 0
            for token in tokens:
                if token == "Z":
                    after.append(count)
                else:
                    count += 1
            path.setAttribute("d", " ".join(pairs))
            closes[path] = after
        original(node, defs, item, options)
        for path, after in closes.items():
            pairs = path.getAttribute("d").split()
            for count in reversed(after):
                pairs.insert(count, "Z")
            path.setAttribute("d", " ".join(pairs))

    svg_module.correctCoordinates = correct
    try:
        yield
    finally:
        svg_module.correctCoordinates = original


class PanelExports(QObject):
    """Exports of the registered panels, with their file dialogs.

    Handed the ``host`` widget (dialogs), a ``report(str)`` status sink and a
    ``simulation()`` function giving the current RunStore (or None).

    Signals: ``exported(str)`` a file was written (its path); ``failed(str)`` one line.
    """

    exported = Signal(str)
    failed = Signal(str)

    def __init__(
        self,
        host: QWidget,
        report: Callable[[str], None],
        simulation: Callable[[], object],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.host = host
        self.report = report
        self.simulation = simulation
        self.panels: dict[str, object] = {}
        self.last_folder: Path | None = None
        self.current: str | None = None  # the panel last clicked: Ctrl+E exports it

    def add_panel(self, name: str, panel) -> None:
        """Register ``panel`` (a PlotPanel) under its title ``name``."""
        self.panels[name] = panel
        panel.graphics.scene().sigMouseClicked.connect(lambda _e, n=name: self._set_current(n))
        if self.current is None:
            self.current = name

    def _set_current(self, name: str) -> None:
        self.current = name

    # --- writing --------------------------------------------------------------------------
    def save(self, name: str, path: str | Path) -> Path:
        """Write panel ``name`` to ``path``; the suffix says what (.png, .svg, .csv).
        Raises ValueError for another suffix, OSError when it cannot be written."""
        path = Path(path)
        panel = self.panels[name]
        suffix = path.suffix.lower()
        if suffix == ".png":
            data = panel_png(panel)
        elif suffix == ".svg":
            data = panel_svg(panel)
        elif suffix == ".csv":
            data = panel_csv(panel).encode("utf-8")
        else:
            raise ValueError(f"{path.name}: export as .png, .svg or .csv")
        saved = export.save_bytes_atomic(path, data)
        self._done(saved, f"Exported {name} to {saved.name}")
        return saved

    def save_simulation(self, path: str | Path) -> Path:
        """Write the simulated runs as CSV that lrviz (``wandb-csv``) reads back. Raises
        ValueError when there is no simulation."""
        store = self.simulation()
        if store is None or store.count == 0:
            raise ValueError("no simulation to export yet")
        text = export.runs_csv(
            store.history_x(),
            store.lrs,
            store.loss[: store.rows],
            store.lr[: store.rows],
            None if store.accuracy is None else store.accuracy[: store.rows],
        )
        saved = export.save_text_atomic(path, text)
        self._done(saved, f"Exported {store.runs} simulated runs to {saved.name}")
        return saved

    def copy_image(self, name: str | None = None) -> QImage:
        """Put panel ``name`` (default: the current one) on the clipboard as an image."""
        name = name or self.current
        image = panel_image(self.panels[name])
        QGuiApplication.clipboard().setImage(image)
        self.report(f"Copied {name} to the clipboard")
        return image

    def _done(self, saved: Path, message: str) -> None:
        self.last_folder = saved.parent
        self.report(message)
        self.exported.emit(str(saved))

    # --- dialogs --------------------------------------------------------------------------
    def export_dialog(self, name: str | None = None) -> Path | None:
        """Ask where (and as what: the file type) to export panel ``name``."""
        name = name or self.current
        if name is None:
            return None
        folder = self.last_folder or Path.home()
        filters = ";;".join(KINDS.values())
        path, chosen = QFileDialog.getSaveFileName(
            self.host, f"Export {name}", str(folder / f"{_slug(name)}.png"), filters
        )
        if not path:
            return None
        path = Path(path)
        if path.suffix.lower() not in KINDS:
            suffix = next((s for s, f in KINDS.items() if f == chosen), ".png")
            path = path.with_name(path.name + suffix)
        return self._guarded(lambda: self.save(name, path))

    def export_simulation_dialog(self) -> Path | None:
        folder = self.last_folder or Path.home()
        path, _ = QFileDialog.getSaveFileName(
            self.host, "Export the simulated runs", str(folder / "simulation.csv"), KINDS[".csv"]
        )
        if not path:
            return None
        path = Path(path)
        if path.suffix.lower() != ".csv":
            path = path.with_name(path.name + ".csv")
        return self._guarded(lambda: self.save_simulation(path))

    def copy_current(self) -> None:
        if self.current is not None:
            self._guarded(self.copy_image)

    def _guarded(self, action):
        try:
            return action()
        except (OSError, ValueError) as exc:
            message = f"Could not export: {getattr(exc, 'strerror', None) or exc}"
            self.report(message)
            self.failed.emit(message)
            return None


def _legends(panel) -> list:
    out = []
    for attr in ("legend",):
        legend = getattr(panel, attr, None)
        if legend is not None:
            out.append(legend)
    legend = panel.plot.legend
    if legend is not None and legend not in out:
        out.append(legend)
    for item in panel.plot.scene().items():
        if isinstance(item, pg.LegendItem) and item not in out:
            out.append(item)
    return out


def _in_panel(item, panel) -> bool:
    view = item.getViewBox()
    return view is not None and view.scene() is panel.plot.scene()


def _axis_name(plot, side: str) -> str:
    axis = plot.getAxis(side)
    text = axis.labelText or ""
    units = axis.labelUnits or ""
    return f"{text} ({units})" if units else text


def _slug(text: str) -> str:
    import re

    slug = re.sub(r"[^A-Za-z0-9λ]+", "-", text).strip("-").lower()
    return slug.replace("λ", "lr") or "panel"

"""Render the pictures of Help ▸ Guide with the app itself, into resources/guide/.

    python docs/make_guide_pictures.py            # every picture
    python docs/make_guide_pictures.py --only rangetest

Each picture is a fresh window, set up by the main view ``--screenshot --view`` renders
(``ui.views``) on real files of the repository (an LR-finder curve of a real network from
tests/fixtures/lr_truth, the sweep fixture), with the light theme and no preferences; then
the panels the guide talks about are grabbed and scaled to the guide's width. The guide
(``resources/guide/guide.html``) shows them with ``<img src="NAME.png">``; after changing
the app's look, run this again and look at the pictures.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

OUT = ROOT / "resources" / "guide"
FIXTURES = ROOT / "tests" / "fixtures"
#: a torch-lr-finder curve of a real 3-layer network (its measured best λ is in truth.json)
FINDER_CURVE = (
    FIXTURES / "lr_truth" / "curves" / "d06_mlp128_clf10_nesterov__tlf_exp_end10_n200.csv"
)
SWEEP = FIXTURES / "logs" / "sweep"
WINDOW = (1100, 700)
#: the guide's pictures are this wide (the guide window is 860 px)
WIDTH = 760

#: name -> (view, paths, what to grab: "plots" (the plot area), "range readout", or plot
#: docks by name, side by side when joined with "+")
PICTURES = {
    "simulate": ("simulate", [], "plots"),
    "rangetest": ("logs", [FINDER_CURVE], "loss_vs_lr"),
    "range": ("logs", [FINDER_CURVE], "range readout"),
    "logs": ("logs", [SWEEP], "loss_vs_lr"),
}


def render(name: str, out: Path = OUT) -> Path:
    from PySide6.QtCore import Qt, QTimer
    from PySide6.QtWidgets import QApplication

    from ui import desktop, session, views
    from ui.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    session.PROMPT_ON_CLOSE = False
    desktop.USE_PREFERENCES = False
    view, paths, part = PICTURES[name]
    window = MainWindow()
    window.resize(*WINDOW)
    window.show()
    window.desktop.set_theme("light")
    target = out / f"{name}.png"

    def grab() -> None:
        window.redraw()
        window.log_view.redraw()
        app.processEvents()
        if part == "plots":
            widget = window.plot_area
        elif part == "range readout":
            window.controls.setCurrentWidget(window.range_tool.tab)
            app.processEvents()
            widget = window.range_tool.readout
        else:
            widget = None
            images = []
            for dock_name in part.split("+"):
                dock = window.plot_docks[dock_name]
                dock.raise_()  # stacked docks: the one grabbed is in front
                app.processEvents()
                images.append(dock.widget().grab().toImage())
            image = side_by_side(images)
        if widget is not None:
            image = widget.grab().toImage()
        if image.width() > WIDTH:
            image = image.scaledToWidth(WIDTH, Qt.TransformationMode.SmoothTransformation)
        if not image.save(str(target), "PNG"):
            raise OSError(f"cannot write {target}")
        window.close()
        app.quit()

    views.show_function(view)(window, lambda: QTimer.singleShot(400, grab), paths)
    QTimer.singleShot(120_000, app.quit)
    app.exec()
    return target


def side_by_side(images):
    """One image of ``images`` next to each other, at the height of the shortest."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QColor, QImage, QPainter

    height = min(image.height() for image in images)
    scaled = [i.scaledToHeight(height, Qt.TransformationMode.SmoothTransformation) for i in images]
    gap = 8
    result = QImage(
        sum(i.width() for i in scaled) + gap * (len(scaled) - 1), height, scaled[0].format()
    )
    result.fill(QColor("white"))
    painter = QPainter(result)
    x = 0
    for image in scaled:
        painter.drawImage(x, 0, image)
        x += image.width() + gap
    painter.end()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=sorted(PICTURES), help="render one picture")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    for name in [args.only] if args.only else list(PICTURES):
        # one process per picture: one QApplication and one window each, as the app runs
        if args.only:
            path = render(name, args.out)
            print(f"{path} {path.stat().st_size // 1024} KB")
        else:
            import subprocess

            command = [sys.executable, __file__, "--only", name, "--out", str(args.out)]
            subprocess.run(command, check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

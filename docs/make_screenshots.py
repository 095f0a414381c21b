"""Render every journey's window to PNG, at 1024x700 and 1920x1080, offscreen.

    python docs/make_screenshots.py              # all journeys into docs/screenshots/
    python docs/make_screenshots.py --out DIR --only range-test
    python docs/make_screenshots.py --theme dark   # files named NAME_WxH_dark.png

Each journey starts a fresh window, does what a user does (open a file, run the demo, run a
range test, ...), waits for the work to finish, and grabs the window. Look at them: a clipped
label or a cramped plot is a bug.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

os.environ["QT_QPA_PLATFORM"] = "offscreen"
# The pictures never read or change the user's preferences (theme, layout, recent files).
os.environ.setdefault("LRVIZ_CONFIG_DIR", tempfile.mkdtemp(prefix="lrviz-shots-"))
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FIXTURES = ROOT / "tests" / "fixtures"
CURVES = FIXTURES / "lr_truth" / "curves"
SIZES = ((1024, 700), (1920, 1080))


def journeys():
    """name -> (paths to open, action after opening or None)."""
    return {
        "demo": ([], "demo"),
        "lr-finder-csv": ([CURVES / "d13_mlp256_clf20_adam_b512__tlf_exp_end1_n100.csv"], None),
        "lightning-lr-find": (
            [CURVES / "e03_resnet3bn_digits16_nesterov_wd__lightning_exp_min1e-08_max1_n100.csv"],
            None,
        ),
        "lightning-folder": ([FIXTURES / "logs" / "lightning_logs"], None),
        "tensorboard": ([FIXTURES / "logs" / "tensorboard"], None),
        "sweep-folder": ([FIXTURES / "logs" / "sweep"], None),
        "mlflow-store": ([FIXTURES / "stores" / "mlflow" / "mlflow.db"], None),
        "range-test": ([], "range test"),
        "simulate-after-range-test": ([], "range test, then simulate"),
        "loss-surface": ([], "formula"),
        "effect-of-lr": ([], "lab preset"),
        "search": ([], "search"),
        "range-test-then-search": ([], "range test, then search"),
        "dog-lesson": ([], "lesson"),
        "edge-of-stability": ([], "example edge-of-stability"),
        "compare-adaptive-lr": ([], "example compare-adaptive"),
    }


def shoot(name: str, paths, action, size, out: Path, theme: str = "light") -> Path:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from ui.main_window import MainWindow, demo_config

    app = QApplication.instance() or QApplication([])
    from ui import desktop, session

    session.PROMPT_ON_CLOSE = False  # a journey's window closes without a question
    desktop.USE_PREFERENCES = False  # the same picture whatever layout the user saved last
    window = MainWindow()
    window.desktop.set_theme(theme)
    window.resize(*size)
    window.show()
    suffix = "" if theme == "light" else f"_{theme}"
    target = out / f"{name}_{size[0]}x{size[1]}{suffix}.png"
    state = {"steps": []}
    redrawn: list[bool] = []  # the logs' redraw is asked for once, then waited for

    def grab() -> None:
        if not redrawn:
            redrawn.append(True)
            window.log_view.redraw()
        if window.log_view.derivations.running:  # a big log, derived on a worker
            QTimer.singleShot(50, grab)
            return
        window.redraw()
        app.processEvents()
        window.grab().save(str(target))
        window.close()
        app.quit()

    def after_range_test(_result) -> None:
        if action == "range test, then search":
            window.search_tool.finished.connect(lambda _r: QTimer.singleShot(300, grab))
            window.search_tool.run_search()
        elif action == "range test, then simulate":
            window.simulation_finished.connect(lambda: QTimer.singleShot(300, grab))
            window.controls.setCurrentWidget(window.simulate_form)
            window.start_simulation(demo_config())
        else:
            QTimer.singleShot(300, grab)

    if paths:
        window.library.busy.connect(lambda busy: busy or QTimer.singleShot(400, grab))
        window.open_paths([str(p) for p in paths])
    elif action == "demo":
        window.simulation_finished.connect(lambda: QTimer.singleShot(300, grab))
        window.start_demo()
    elif action == "formula":  # journey 5: type x**2 + 10*y**2, four λ walk the contours
        window.simulation_finished.connect(lambda: QTimer.singleShot(800, grab))
        form = window.simulate_form
        form.objective.setCurrentIndex(form.objective.findData("expr"))
        form.formula.setText("x**2 + 10*y**2")
        form.start.setText("1, 1")
        form.lr_min.setValue(0.01)
        form.lr_max.setValue(0.12)
        form.lr_count.setValue(4)
        form.iterations.setValue(100)
        QTimer.singleShot(100, form.run_button.click)
    elif action == "lab preset":
        window.simulation_finished.connect(lambda: QTimer.singleShot(800, grab))
        window.controls.setCurrentWidget(window.lab_tool.tab)
        QTimer.singleShot(100, lambda: window.lab_tool.run_preset("effect-of-lr"))
    elif action == "search":
        window.search_tool.finished.connect(lambda _r: QTimer.singleShot(300, grab))
        QTimer.singleShot(100, window.search_tool.run_search)
    elif action == "lesson":
        # Two animals after the white dog: the three λ have taken their three paths.
        tool = window.lesson_tool
        window.controls.setCurrentWidget(tool.tab)
        for _ in range(tool.learner.white_dog + 3):
            tool.step()
        QTimer.singleShot(300, grab)
    elif action.startswith("example "):
        key = action.split(" ", 1)[1]
        window.simulation_finished.connect(lambda: QTimer.singleShot(300, grab))
        QTimer.singleShot(100, lambda: window.simulate_form.run_example(key))
    else:
        window.range_tool.test_finished.connect(after_range_test)
        QTimer.singleShot(100, window.range_tool.run_test)
    QTimer.singleShot(120_000, app.quit)
    app.exec()
    del state
    return target


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    parser.add_argument("--only", default=None, help="journeys by name, comma-separated")
    parser.add_argument("--theme", default="light", choices=("light", "dark"))
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for name, (paths, action) in journeys().items():
        if args.only and name not in args.only.split(","):
            continue
        for size in SIZES:
            print(shoot(name, paths, action, size, out, args.theme))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

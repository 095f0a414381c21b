"""Start the desktop app: parse the GUI's arguments, open the window, run the demo."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

SCREENSHOT_TIMEOUT_MS = 120_000
#: The window's size for --screenshot unless --size says otherwise (the offscreen screen is
#: 800 px wide, which cut the Lab's four plots to two and a half).
SCREENSHOT_SIZE = (1280, 800)
#: The smallest and largest window --size accepts, per side.
SCREENSHOT_LIMITS = (320, 7680)


def parse_size(text: str) -> tuple[int, int]:
    """``"1280x800"`` -> (1280, 800); ValueError with a sentence for anything else."""
    parts = text.lower().replace("×", "x").split("x")
    if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
        raise ValueError(f"--size takes WIDTHxHEIGHT in pixels, e.g. 1024x700, got {text!r}")
    width, height = (int(p) for p in parts)
    lo, hi = SCREENSHOT_LIMITS
    if not (lo <= width <= hi and lo <= height <= hi):
        raise ValueError(f"--size {text}: each side must be from {lo} to {hi} pixels")
    return width, height


#: How often (seconds) Python makes a thread that holds the GIL hand it over. The engine thread
#: holds it between its numpy calls; the GUI thread lets it go inside every call into Qt and
#: then waits up to this long to get it back, so with the default 5 ms a paint of a few hundred
#: Qt calls stretched to seconds while a simulation ran. At 1 ms (256 λ × 20,000 iterations,
#: loaded 2-core machine, two pairs of runs): worst stall 2.24 -> 1.24 s and 1.74 -> 1.06 s,
#: the app's run time vs headless 1.94x -> 0.98x and 2.6x -> 2.05x (docs/benchmarks.md).
GUI_SWITCH_INTERVAL = 0.001


def share_the_gil_often() -> None:
    """Make the engine thread hand the GIL to the GUI thread often (see above)."""
    sys.setswitchinterval(GUI_SWITCH_INTERVAL)


def parse_args(argv: list[str]) -> argparse.Namespace:
    from lrviz.cli import OneLineParser

    parser = OneLineParser(
        prog="lrviz",
        description="See and choose learning rates. Sub-commands (simulate, rangetest, "
        "suggest, inspect, schedule) run headless: lrviz COMMAND --help.",
    )
    parser.add_argument("--demo", action="store_true", help="run the built-in demo simulation")
    parser.add_argument(
        "--screenshot",
        metavar="PATH",
        help="render the window offscreen once the demo finishes, save a PNG, exit",
    )
    from .views import names

    parser.add_argument(
        "--view",
        metavar="NAME",
        help="with --screenshot: the main view to render, one of " + ", ".join(names()),
    )
    parser.add_argument(
        "--size",
        metavar="WxH",
        default=None,
        help=f"with --screenshot: the window's size in pixels (default {SCREENSHOT_SIZE[0]}x"
        f"{SCREENSHOT_SIZE[1]})",
    )
    parser.add_argument("paths", nargs="*", help="training logs to open")
    return parser.parse_args(argv)


def run(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.view is not None:
        from .views import problem

        reason = problem(args.view)
        if reason is None and not args.screenshot:
            reason = "--view renders a screenshot: give --screenshot PATH too"
        if reason is not None:
            sys.stderr.write(f"lrviz: error: {reason}\n")
            return 2
    size = SCREENSHOT_SIZE
    if args.size is not None:
        try:
            size = parse_size(args.size)
        except ValueError as exc:
            sys.stderr.write(f"lrviz: error: {exc}\n")
            return 2
        if not args.screenshot:
            sys.stderr.write(
                "lrviz: error: --size sets a screenshot's size: give --screenshot PATH too\n"
            )
            return 2
    if args.screenshot:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        # The same picture whatever the user did last, and the user's settings untouched: a
        # private settings folder, set before the window reads its preferences (a layout
        # saved by an earlier run squeezed loss vs λ to 100 px in every --view simulate).
        import atexit
        import shutil
        import tempfile

        private = tempfile.mkdtemp(prefix="lrviz-screenshot-settings-")
        atexit.register(shutil.rmtree, private, ignore_errors=True)
        os.environ["LRVIZ_CONFIG_DIR"] = private
        target = Path(args.screenshot)
        if not target.parent.exists():
            sys.stderr.write(f"lrviz: error: folder {target.parent} does not exist\n")
            return 2
        # No window to show a message in: a missing log is an error now, not a 2-minute wait.
        missing = [p for p in args.paths if not Path(p).exists()]
        if missing:
            sys.stderr.write(f"lrviz: error: {missing[0]}: no such file or folder\n")
            return 2

    from . import qt_check

    reason = None if args.screenshot else qt_check.problem()
    if reason is not None:
        sys.stderr.write(f"lrviz: error: {reason}\n")
        return 2

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from .main_window import MainWindow

    share_the_gil_often()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("lrviz")
    from .gui_thread_gc import GuiThreadCollector

    GuiThreadCollector(app)  # owned by the app: cycles are freed in the GUI thread only
    if args.screenshot:
        from . import session

        # (the user's preferences are out of reach already: the private settings folder above)
        session.PROMPT_ON_CLOSE = False  # nobody is there to answer
    window = MainWindow()
    from .gui_thread_gc import freeze_startup

    freeze_startup()  # full collections walk what is opened, not the app itself
    exit_code = {"value": 0}
    from . import startup_probe

    if startup_probe.wanted():
        startup_probe.FirstPaint(window, app)  # owned by the window

    if args.screenshot:
        window.resize(*size)

        def save(shot=None) -> None:
            if window.log_view.derivations.running:
                # A big log is still being derived on its worker: shoot what it will show.
                QTimer.singleShot(50, lambda: save(shot))
                return
            window.redraw()
            app.processEvents()
            try:
                save_screenshot(shot or window, target)
            except OSError as exc:
                sys.stderr.write(f"lrviz: error: cannot write {target}: {exc}\n")
                exit_code["value"] = 2
            window.close()
            app.quit()

        def give_up() -> None:
            sys.stderr.write("lrviz: error: the demo did not finish in time for the screenshot\n")
            exit_code["value"] = 1
            window.close()
            app.quit()

        if args.view is not None:
            from .views import show_function

            window.show()
            show_function(args.view)(
                window, lambda shot=None: QTimer.singleShot(300, lambda: save(shot)), args.paths
            )
            QTimer.singleShot(SCREENSHOT_TIMEOUT_MS, give_up)
            window.session.mark_clean()
            code = app.exec()
            return exit_code["value"] or code
        if args.paths and not args.demo:
            # Logs: shoot once they are loaded and drawn.
            window.library.busy.connect(lambda busy: busy or QTimer.singleShot(100, save))
        else:
            window.simulation_finished.connect(lambda: QTimer.singleShot(50, save))
        QTimer.singleShot(SCREENSHOT_TIMEOUT_MS, give_up)

    window.show()
    if args.paths:
        window.open_paths(args.paths)
    if args.demo or not args.paths:
        window.start_demo()
    # What the window starts with is not an unsaved change (logs count once loaded).
    window.session.mark_clean_when_loaded()
    code = app.exec()
    return exit_code["value"] or code


def save_screenshot(widget, target: Path) -> None:
    """Grab ``widget`` and write it as a PNG atomically, never through a planted symlink: Qt
    encodes into memory and :func:`lrviz.export.save_bytes_atomic` writes a ``mkstemp``
    temporary in the target folder, then renames it."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice

    from lrviz.export import save_bytes_atomic

    png = QByteArray()
    buffer = QBuffer(png)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not widget.grab().save(buffer, "PNG"):
        raise OSError("Qt could not encode the PNG")
    buffer.close()
    save_bytes_atomic(target, png.data())

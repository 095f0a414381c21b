"""Can Qt open a window here? Checked before Qt is imported, because when it cannot, Qt aborts
the process (exit 134) with a message that names the wrong library ("xcb-cursor0 is needed"
when the missing ones were libxcb-icccm4 and libxcb-keysyms1, seen on Debian 12)."""

from __future__ import annotations

import ctypes
import os
import sys

#: What Qt 6's xcb platform plugin loads, and the Debian/Ubuntu package of each.
XCB_LIBRARIES = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
}


def _loadable(name: str) -> bool:
    try:
        ctypes.CDLL(name)
    except OSError:
        return False
    return True


def problem(environ=None, platform: str | None = None, loadable=_loadable) -> str | None:
    """One line saying why Qt cannot open a window, or None when it should."""
    environ = os.environ if environ is None else environ
    platform = sys.platform if platform is None else platform
    if not platform.startswith("linux"):
        return None
    qpa = environ.get("QT_QPA_PLATFORM", "")
    if qpa and not qpa.startswith("xcb"):
        return None  # offscreen, wayland, vnc, ...: not the xcb plugin's libraries
    if not qpa and environ.get("WAYLAND_DISPLAY"):
        return None
    if not environ.get("DISPLAY"):
        return (
            "no display to open a window on (DISPLAY is not set): run lrviz on a desktop, "
            "under Xvfb, or headless with QT_QPA_PLATFORM=offscreen"
        )
    missing = [name for name in XCB_LIBRARIES if not loadable(name)]
    if not missing:
        return None
    packages = " ".join(XCB_LIBRARIES[name] for name in missing)
    return (
        f"Qt cannot open a window: missing {', '.join(missing)}; on Debian/Ubuntu: "
        f"sudo apt-get install {packages}"
    )

"""Test set-up shared by core and UI tests.

Qt must see the offscreen platform before anything imports it, so this runs first.
"""

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_QUICK_BACKEND", "software")

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# Property tests draw the same examples on every run (a suite that passes keeps passing, on any
# machine); exploring new examples is the long fuzz profile's job (bench/fuzz.py).
# LRVIZ_HYPOTHESIS_EXPLORE=1 draws fresh ones.
from hypothesis import settings  # noqa: E402

settings.register_profile("repeatable", derandomize=True, print_blob=True)
settings.register_profile("explore", print_blob=True)
EXPLORE = os.environ.get("LRVIZ_HYPOTHESIS_EXPLORE") == "1"
settings.load_profile("explore" if EXPLORE else "repeatable")

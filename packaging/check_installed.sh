#!/usr/bin/env bash
# Checks an installed lrviz (pip install . into the active environment) from OUTSIDE the source
# tree, as a user would run it: the command and `python -m lrviz` answer, sub-commands run
# headless, the app renders a screenshot, and installing claimed no generic top-level name.
#   . venv/bin/activate && pip install . && packaging/check_installed.sh
set -euo pipefail
export QT_QPA_PLATFORM=offscreen
here="$(mktemp -d)"
trap 'rm -rf "$here"' EXIT
cd "$here"  # nothing of the source tree on the import path from here on
fail() { echo "check_installed: $*" >&2; exit 1; }

echo "-- lrviz --version, python -m lrviz --version"
lrviz --version | grep -Eq '^lrviz [0-9]' || fail "lrviz --version"
python -m lrviz --version | grep -Eq '^lrviz [0-9]' || fail "python -m lrviz --version"

echo "-- lrviz simulate ... --json (headless, no Qt imported)"
lrviz simulate --lrs 1e-4:10:8 --iterations 50 --json > simulate.json
python -c "import json; runs = json.load(open('simulate.json'))['runs']; assert len(runs) == 8"
python - > /dev/null <<'EOF'
import sys
from lrviz.launch import main
assert main(["simulate", "--lrs", "0.01", "--iterations", "5", "--json"]) == 0
qt = sorted(m for m in sys.modules if m.split(".")[0] in ("PySide6", "pyqtgraph", "lrviz_app"))
assert not qt, qt
EOF

echo "-- a bad sub-command: one line on stderr, exit 2"
set +e
lrviz simulate --iterations many > /dev/null 2> bad.txt
code=$?
set -e
[ "$code" = 2 ] || fail "exit $code for a bad argument"
[ "$(wc -l < bad.txt)" = 1 ] || fail "more than one line: $(cat bad.txt)"

echo "-- lrviz --screenshot PNG --demo, python -m lrviz --screenshot PNG --demo"
lrviz --screenshot "$here/command.png" --demo
python -m lrviz --screenshot "$here/module.png" --demo
for png in command.png module.png; do
    python -c "import sys; d = open(sys.argv[1], 'rb').read(); assert d[:8] == b'\x89PNG\r\n\x1a\n' and len(d) > 30_000, len(d)" "$png"
done

echo "-- installed under its own names: no main, no ui; resources inside lrviz_app"
python - <<'EOF'
import importlib.util
from pathlib import Path

for generic in ("main", "ui"):
    assert importlib.util.find_spec(generic) is None, f"'import {generic}' works: {importlib.util.find_spec(generic).origin}"
import lrviz
import lrviz_app
from lrviz_app.resource_files import resources_folder

package = Path(lrviz_app.__file__).parent
assert "site-packages" in package.parts, package
assert Path(lrviz.__file__).parent.parent == package.parent, (lrviz.__file__, package)
assert resources_folder() == package / "resources", resources_folder()
assert (resources_folder() / "README.md").is_file()
print(f"lrviz {lrviz.__version__} and lrviz_app from {package.parent}")
EOF
echo "check_installed: all passed"

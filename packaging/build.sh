#!/usr/bin/env bash
# Builds the one-folder PyInstaller bundle dist/lrviz/ from this checkout and runs the smoke
# checks on it (packaging/smoke.sh). Needs the app's dependencies and PyInstaller in the
# active Python environment:  pip install ".[bundle]"  (README, "A bundle").
#   packaging/build.sh [--windowed] [--dist DIR]
# --windowed: no console window (Windows, macOS: dist/lrviz.app); the smoke checks need a
# console, so they are skipped then.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dist="$root/dist"
windowed=0
while [ $# -gt 0 ]; do
    case "$1" in
        --windowed) windowed=1 ;;
        --dist) dist="$(mkdir -p "$2" && cd "$2" && pwd)"; shift ;;
        *) echo "build.sh: error: unknown argument $1 (use --windowed, --dist DIR)" >&2; exit 2 ;;
    esac
    shift
done
python="${PYTHON:-python}"
if ! "$python" -c "import PyInstaller" 2> /dev/null; then
    echo "build.sh: error: PyInstaller is not installed here (pip install \".[bundle]\")" >&2
    exit 2
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
start=$(date +%s)
LRVIZ_WINDOWED=$windowed "$python" -m PyInstaller --noconfirm --clean --log-level WARN \
    --distpath "$dist" --workpath "$work" "$root/packaging/lrviz.spec"
echo "build.sh: built $dist/lrviz in $(( $(date +%s) - start )) s, $(du -sh "$dist/lrviz" | cut -f1)"

if [ "$windowed" = 1 ]; then
    echo "build.sh: windowed build: smoke checks skipped (they read the console)"
else
    "$root/packaging/smoke.sh" "$dist/lrviz/lrviz"
fi

#!/usr/bin/env bash
# The source app's smoke checks, run on a built bundle's executable, from a folder outside the
# source tree: --version, headless sub-commands (JSON parsed), a bad argument (one line, exit
# 2), a screenshot of the demo rendered offscreen, and a sweep of training logs opened into one.
#   packaging/smoke.sh dist/lrviz/lrviz
set -euo pipefail
exe="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
fixtures="$(cd "$(dirname "$0")/.." && pwd)/tests/fixtures"
export QT_QPA_PLATFORM=offscreen
here="$(mktemp -d)"
trap 'rm -rf "$here"' EXIT
cd "$here"
fail() { echo "smoke: $*" >&2; exit 1; }
# Any Python 3 reads the outputs back (the machine that built the bundle has one).
json_ok() { python3 -c "import json, sys; json.load(open(sys.argv[1]))" "$1" 2> /dev/null || fail "$1 is not JSON"; }

echo "-- --version"
"$exe" --version | grep -Eq '^lrviz [0-9]' || fail "--version"

echo "-- headless sub-commands"
"$exe" simulate --lrs 1e-4:10:8 --iterations 50 --json > simulate.json && json_ok simulate.json
"$exe" rangetest --objective mlp --iterations 30 --json > rangetest.json && json_ok rangetest.json
"$exe" suggest "$fixtures/rangetest/torch_lr_finder.csv" --json > suggest.json && json_ok suggest.json
"$exe" schedule --help > /dev/null
"$exe" inspect --help > /dev/null

echo "-- a bad argument: one line, exit 2"
set +e
"$exe" simulate --iterations many > /dev/null 2> bad.txt
code=$?
set -e
[ "$code" = 2 ] || fail "exit $code for a bad argument"
[ "$(wc -l < bad.txt)" = 1 ] || fail "more than one line: $(cat bad.txt)"

png_ok() {
    python3 -c "import sys; d = open(sys.argv[1], 'rb').read(); assert d[:8] == b'\x89PNG\r\n\x1a\n' and len(d) > 30_000, len(d)" "$1" \
        || fail "$1 is not a PNG of the window"
}
echo "-- --screenshot offscreen (the demo, then a log)"
"$exe" --screenshot "$here/demo.png" --demo 2> screenshot.err || { cat screenshot.err >&2; fail "--screenshot --demo"; }
png_ok demo.png
"$exe" --screenshot "$here/log.png" "$fixtures/logs/sweep" 2> log.err || { cat log.err >&2; fail "--screenshot LOG"; }
png_ok log.png
echo "smoke: all passed ($exe)"

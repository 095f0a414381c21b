#!/usr/bin/env bash
# The source app's smoke checks, run on a built bundle's executable, from a folder outside the
# source tree: --version, headless sub-commands (JSON parsed; inspect of a CSV big enough for
# pandas' parser, of an MLflow SQLite store and of TensorBoard events), a bad argument (one
# line, exit 2), screenshots rendered offscreen: the demo, a sweep of training logs, and every
# main view of --view, Help > Guide with its pictures among them.
#   packaging/smoke.sh dist/lrviz/lrviz [FOLDER]
# FOLDER: keep the screenshots there, to look at (the frozen guide's pictures, say).
set -euo pipefail
exe="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
keep="${2:+$(mkdir -p "$2" && cd "$2" && pwd)}"
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
# 300,000 rows (7 MB): read by pandas' C parser, as every CSV over 16 KB is
(echo "step,lr,loss"; seq 1 300000 | awk '{printf "%d,%.6g,%.6g\n", $1, 1e-6*exp($1/30000), 2+1/$1}') > big.csv
"$exe" inspect big.csv --json > big.json && json_ok big.json
python3 -c "import json, sys; s = json.load(open(sys.argv[1]))['runs'][0]['series']; assert [x['points'] for x in s] == [300000, 300000], s" big.json \
    || fail "inspect big.csv: not every row read"
"$exe" inspect "$fixtures/stores/mlflow/mlflow.db" --json > mlflow.json && json_ok mlflow.json  # sqlite3
"$exe" inspect "$fixtures/logs/tb_torch" --json > tb.json && json_ok tb.json

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
echo "-- --screenshot --view of every main view"
for view in simulate rangetest logs search lab lesson guide; do
    "$exe" --screenshot "$here/$view.png" --view "$view" 2> "$view.err" || { cat "$view.err" >&2; fail "--view $view"; }
    png_ok "$view.png"
done
[ -z "$keep" ] || cp "$here"/*.png "$keep"/
echo "smoke: all passed ($exe)"

#!/usr/bin/env bash
# Check the HTML report in a real headless browser (Debian's Chromium):
#  1. the page loads and its script runs to the end with no error (no `data-js-error`,
#     `data-ready="1"` set; no console line at all from the page);
#  2. failures are visible (their results open, not hidden; fail badges in the matrix);
#  3. the filters work: `#status=pass` hides the failures, `#q=...` narrows by text;
#  4. a screenshot for a person to look at.
#
# usage: scripts/html-report-check.sh [REPORT.json] [OUT_DIR]
#   REPORT.json defaults to tests/fixtures/report.json; OUT_DIR to target/html-report-check.
# Skips (exit 0) with a message when chromium is not installed:
#   apt-get update && apt-get install -y chromium
set -euo pipefail
cd "$(dirname "$0")/.."

CHROMIUM="${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}"
if [ -z "$CHROMIUM" ]; then
    echo "html-report-check: SKIPPED: chromium is not installed (apt-get install -y chromium)"
    exit 0
fi

REPORT_JSON="${1:-tests/fixtures/report.json}"
OUT="${2:-target/html-report-check}"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
BIN="${MCP_CONFORM:-target/debug/mcp-conform}"
[ -x "$BIN" ] || cargo build --quiet --bin mcp-conform
HTML="$OUT/report.html"
"$BIN" report "$REPORT_JSON" --html "$HTML" > /dev/null || [ $? -eq 1 ]   # exit 1 = the report has failures

PROFILE="$(mktemp -d)"
trap 'rm -rf "$PROFILE"' EXIT
chrome() {
    timeout 60 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-background-networking \
        --disable-component-update --disable-sync --no-first-run --user-data-dir="$PROFILE" \
        --enable-logging=stderr --v=0 "$@"
}

fail() { echo "html-report-check: FAILED: $*" >&2; exit 1; }

# 1 + 2: the page as loaded.
chrome --dump-dom "file://$HTML" > "$OUT/dom.html" 2> "$OUT/console.log" || fail "chromium could not load the page (see $OUT/console.log)"
grep -q 'data-ready="1"' "$OUT/dom.html" || fail "the page's script did not finish"
if grep -q 'data-js-error=' "$OUT/dom.html"; then fail "a script error: $(grep -o 'data-js-error="[^"]*"' "$OUT/dom.html")"; fi
# The page logs nothing: any console line from it (console.error, an uncaught exception) fails.
if grep -qE ':CONSOLE[:(]' "$OUT/console.log"; then
    fail "console output from the page: $(grep -E ':CONSOLE[:(]' "$OUT/console.log" | head -5)"
fi
fails=$(grep -o '<details class="res st-fail"[^>]*>' "$OUT/dom.html" | wc -l)
open_fails=$(grep -o '<details class="res st-fail"[^>]*>' "$OUT/dom.html" | grep -v ' hidden' | grep -c ' open' || true)
expected=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["summary"]["fail"])' "$REPORT_JSON" 2>/dev/null || echo "$fails")
[ "$fails" -eq "$expected" ] || fail "$fails failure results in the page, the report has $expected"
[ "$open_fails" -eq "$fails" ] || fail "only $open_fails of $fails failures are open and visible"
grep -q 'class="badge st-fail" data-status="fail"' "$OUT/dom.html" || [ "$fails" -eq 0 ] || fail "no failure in the matrix"

# 3: filters from the address.
chrome --dump-dom "file://$HTML#status=pass" > "$OUT/dom-pass.html" 2>/dev/null
visible_fails=$(grep -o '<details class="res st-fail"[^>]*>' "$OUT/dom-pass.html" | grep -vc ' hidden' || true)
[ "$visible_fails" -eq 0 ] || fail "#status=pass still shows $visible_fails failures"
grep -q 'results shown' "$OUT/dom-pass.html" || fail "no result count after filtering"
chrome --dump-dom "file://$HTML#q=zzz-no-such-check" > "$OUT/dom-q.html" 2>/dev/null
grep -q '<p id="none">' "$OUT/dom-q.html" || fail "a search that matches nothing does not say so"

# 4: screenshots (the top, and the failures view).
chrome --window-size=1400,1000 --screenshot="$OUT/report.png" "file://$HTML" 2>/dev/null
chrome --window-size=1400,1000 --screenshot="$OUT/report-failures.png" "file://$HTML#status=fail,xpass" 2>/dev/null
[ -s "$OUT/report.png" ] || fail "no screenshot"
echo "html-report-check: ok: $fails failures visible, filters work, no script errors; screenshots in $OUT/report.png, $OUT/report-failures.png"

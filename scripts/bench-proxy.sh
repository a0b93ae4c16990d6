#!/usr/bin/env bash
# `make bench-proxy`: Tether's MCP proxy under load on loopback, against peers measured in
# the same run. The upstream is nginx answering a fixed JSON-RPC result to POST /mcp; wrk
# POSTs a tools/list request
#   - directly to that upstream,
#   - through Tether (a bearer connection: header filtering, credential injection,
#     keep-alive pool, no IdP),
#   - through nginx as a reverse proxy (upstream keepalive, Authorization set),
# first saturating (wrk -c$BENCH_CONNECTIONS, throughput) and then one request at a time
# (wrk -c1, the latency a hop adds), in BENCH_ROUNDS rounds: within a round the three run in
# turn, so a ratio compares runs seconds apart under the same background load. Prints the
# medians of req/s, p50 and p99, each round's throughput ratio and the median ratios.
#
# Usage: scripts/bench-proxy.sh [build-dir]
#   BENCH_ROUNDS=5 BENCH_SECONDS=3 BENCH_CONNECTIONS=32 BENCH_THREADS=2 PROXY_WORKERS=2 to tune.
# Needs build-dir/bench/gateway-proxy-server (bench/gateway), nginx and wrk.
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
secs="${BENCH_SECONDS:-3}"
rounds="${BENCH_ROUNDS:-5}"
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

up_port=$(free_port)
ng_port=$(free_port)
tt_port=$(free_port)

# --- the upstream (nginx with a fixed JSON-RPC answer) and nginx as the reverse proxy
write_upstream_conf "$tmp/upstream" "$up_port"
write_proxy_conf "$tmp/proxy" "$ng_port" "$up_port" "$workers"

# --- Tether: the same number of I/O threads as nginx has workers
write_tether_conf "$tmp/tether.yaml" "$tt_port" "$up_port" "$workers" "$tmp/bench.db"

nginx -p "$tmp/upstream" -c "$tmp/upstream/nginx.conf" -g "user $(id -un);" 2>"$tmp/upstream/start.log" &
pids+=($!)
nginx -p "$tmp/proxy" -c "$tmp/proxy/nginx.conf" -g "user $(id -un);" 2>"$tmp/proxy/start.log" &
pids+=($!)
"$server" "$tmp/tether.yaml" 2>"$tmp/tether.log" &
pids+=($!)

write_post_lua "$tmp/post.lua"

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
results="$out/proxy-rounds.tsv"
printf 'label\tround\tname\trps\tp50_us\tp99_us\n' > "$results"
measure() {  # label round name connections threads
  local label=$1 round=$2 name=$3 c=$4 t=$5
  local f="$out/wrk-proxy-$label-$round-$name.txt"
  wrk -t"$t" -c"$c" -d1s -s "$tmp/post.lua" "${url[$name]}" >/dev/null  # warm-up
  wrk -t"$t" -c"$c" -d"${secs}s" --latency -s "$tmp/post.lua" "${url[$name]}" >"$f"
  if grep -q 'Non-2xx' "$f"; then echo "bench-proxy: $name answered errors:" >&2; cat "$f" >&2; exit 1; fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$label" "$round" "$name" \
    "$(awk '/Requests\/sec/ {print $2}' "$f")" \
    "$(to_us "$(awk '$1 == "50%" {print $2}' "$f")")" \
    "$(to_us "$(awk '$1 == "99%" {print $2}' "$f")")" >> "$results"
}

# Rounds, the three contenders in turn within each (the order rotates), so that whatever else
# the machine does falls on all of them alike; each ratio is taken within its round.
run_rounds() {  # label connections threads
  local order=(direct tether nginx)
  for round in $(seq "$rounds"); do
    for i in 0 1 2; do
      measure "$1" "$round" "${order[$(( (i + round) % 3 ))]}" "$2" "$3"
    done
    echo "  $1 round $round/$rounds done" >&2
  done
}

run_rounds load "$conns" "$threads"
run_rounds serial 1 1
python3 - "$results" "$threads" "$conns" "$secs" "$workers" "$rounds" <<'PY'
import csv, statistics, sys
path, threads, conns, secs, workers, rounds = sys.argv[1:]
rows = list(csv.DictReader(open(path), delimiter="\t"))
def runs(label, name, key):
    return {int(r["round"]): float(r[key]) for r in rows if r["label"] == label and r["name"] == name}
med = statistics.median
for label, title in (("load", f"saturating: wrk -t{threads} -c{conns} -d{secs}s, POST tools/list; {workers} proxy workers/threads"),
                     ("serial", f"one request at a time: wrk -t1 -c1 -d{secs}s (the latency one hop adds)")):
    print()
    print(f"== {title}; {rounds} rounds, medians")
    print(f"{'':14} {'req/s':>12} {'p50 (us)':>11} {'p99 (us)':>11}")
    for name in ("direct", "tether", "nginx"):
        print(f"{name:14} {med(runs(label, name, 'rps').values()):12.0f} "
              f"{med(runs(label, name, 'p50_us').values()):11.1f} {med(runs(label, name, 'p99_us').values()):11.1f}")
    t, n, d = (runs(label, x, "rps") for x in ("tether", "nginx", "direct"))
    ratios = [t[r] / n[r] for r in sorted(t)]
    print(f"throughput tether/nginx-proxy: {med(ratios):.2f}   (target >= 1.00; per round: "
          + " ".join(f"{x:.2f}" for x in ratios) + ")")
    print(f"throughput tether/direct:      {med([t[r] / d[r] for r in t]):.2f}   "
          f"nginx-proxy/direct: {med([n[r] / d[r] for r in n]):.2f}")
    if label != "serial":
        continue  # under saturation the latency is queueing, not what a hop adds
    for q, target in (("p50_us", 50), ("p99_us", 250)):
        tq, nq, dq = (runs(label, x, q) for x in ("tether", "nginx", "direct"))
        added_t = med([tq[r] - dq[r] for r in tq])
        added_n = med([nq[r] - dq[r] for r in nq])
        print(f"added {q[:3]} over direct: tether {added_t:+.1f} us, nginx-proxy {added_n:+.1f} us"
              f"   (target tether <= {target} us)")
PY
echo
echo "raw wrk output and every round in $out/ (proxy-rounds.tsv)"

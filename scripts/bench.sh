#!/usr/bin/env bash
# `make bench`: every Google Benchmark binary, then loopback load tests that compare Tether
# with a peer measured in the same run. Prints each figure and its ratio to the peer.
# Usage: scripts/bench.sh [build-dir]   (BENCH_SECONDS=5 BENCH_CONNECTIONS=32 to tune)
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
secs="${BENCH_SECONDS:-5}"
conns="${BENCH_CONNECTIONS:-32}"
out="$build/bench-results"
mkdir -p "$out"

echo "== Google Benchmarks"
for b in "$build"/bench/*_bench; do
  [ -x "$b" ] || continue
  echo "-- $(basename "$b")"
  # PostgreSQL-backed benchmarks need a server: run every binary under a throwaway cluster.
  ./scripts/with-postgres.sh "$b" --benchmark_min_time=0.2 --benchmark_format=console \
    --benchmark_out="$out/$(basename "$b").json" --benchmark_out_format=json 2>&1 | grep -v '^with-postgres'
done

echo
echo "== Token lifecycle at scale (${SCALE_CONNECTIONS:-100000} connections, mock IdP in its own process)"
"$build/bench/lifecycle_scale" --connections "${SCALE_CONNECTIONS:-100000}" --seconds 60 \
  | tee "$out/lifecycle-scale.txt"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
rps() { awk '/Requests\/sec/ {print $2}'; }

tmp="$(mktemp -d /tmp/tether-bench.XXXXXX)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT

echo
echo "== /healthz over loopback: Tether vs nginx (wrk -t2 -c$conns -d${secs}s, 2 server threads each)"
tport=$(free_port)
cat > "$tmp/tether.yaml" <<YAML
listen: 127.0.0.1:$tport
log: { level: warn }
server: { io_threads: 2 }
storage: { driver: sqlite, path: $tmp/bench.db, allow_plaintext: true }
YAML
"$build/tether" serve --config "$tmp/tether.yaml" 2>"$tmp/tether.log" &
pids+=($!)

nport=$(free_port)
mkdir -p "$tmp/nginx"
cat > "$tmp/nginx/nginx.conf" <<NGINX
worker_processes 2;
daemon off;
error_log $tmp/nginx/error.log warn;
pid $tmp/nginx/nginx.pid;
events { worker_connections 1024; }
http {
  access_log off;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$nport;
    location = /healthz { default_type application/json; return 200 '{"status":"ok"}'; }
  }
}
NGINX
nginx -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" -g "user $(id -un);" 2>"$tmp/nginx/start.log" &
pids+=($!)

for url in "http://127.0.0.1:$tport/healthz" "http://127.0.0.1:$nport/healthz"; do
  for _ in $(seq 100); do curl -fsS "$url" >/dev/null 2>&1 && break; sleep 0.1; done
  curl -fsS "$url" >/dev/null || { echo "bench: $url not answering" >&2; cat "$tmp"/*.log "$tmp"/nginx/*.log >&2; exit 1; }
done

wrk -t2 -c"$conns" -d1s "http://127.0.0.1:$tport/healthz" >/dev/null  # warm-up
wrk -t2 -c"$conns" -d1s "http://127.0.0.1:$nport/healthz" >/dev/null
t_rps=$(wrk -t2 -c"$conns" -d"${secs}s" "http://127.0.0.1:$tport/healthz" | tee "$out/wrk-tether-healthz.txt" | rps)
n_rps=$(wrk -t2 -c"$conns" -d"${secs}s" "http://127.0.0.1:$nport/healthz" | tee "$out/wrk-nginx-healthz.txt" | rps)
ratio=$(python3 -c "print(f'{$t_rps/$n_rps:.2f}')")
printf 'tether  /healthz: %12s req/s\nnginx   /healthz: %12s req/s\nratio tether/nginx: %s (target >= 0.70)\n' "$t_rps" "$n_rps" "$ratio"
echo "healthz tether=$t_rps nginx=$n_rps ratio=$ratio" > "$out/healthz-summary.txt"

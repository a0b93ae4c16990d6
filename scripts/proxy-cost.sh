#!/usr/bin/env bash
# What one proxied call costs, in figures that stay repeatable on a shared machine (the
# wall-clock figures of `make bench-proxy` move with whatever else runs). Same upstream and
# request as scripts/bench-proxy.sh (nginx answering a fixed tools/list result).
#
#   scripts/proxy-cost.sh instructions [BIN]   user-space instructions per call (callgrind,
#                                              2,000 sequential POSTs after a warm-up; with
#                                              CALLGRIND_OUT=PREFIX the profile is kept as
#                                              PREFIX.<binary name>)
#   scripts/proxy-cost.sh syscalls [BIN]       system calls per call, one at a time and under
#                                              wrk -t2 -c32 (perf stat on tracepoints: no
#                                              slowdown, unlike strace), nginx as a proxy too
#   scripts/proxy-cost.sh interleaved BIN...   CPU per call (user/sys, from /proc) and req/s
#                                              under wrk -t2 -c32, each binary and nginx as a
#                                              proxy in turn, ROUNDS (6) rounds of SECS (2) s:
#                                              all contenders see the same background load
#
# BIN defaults to build/bench/gateway-proxy-server. Needs nginx, wrk, python3, valgrind
# (instructions) and perf (syscalls).
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:?usage: scripts/proxy-cost.sh instructions|syscalls|interleaved [BIN...]}"
shift
[ $# -gt 0 ] || set -- build/bench/gateway-proxy-server
calls=2000
rounds="${ROUNDS:-6}"
secs="${SECS:-2}"

tmp="$(mktemp -d /tmp/tether-proxy-cost.XXXXXX)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
# shellcheck source=lib/proxy-peers.sh
. scripts/lib/proxy-peers.sh

up_port=$(free_port)
write_upstream_conf "$tmp/upstream" "$up_port"
nginx -p "$tmp/upstream" -c "$tmp/upstream/nginx.conf" -g "user $(id -un);" 2>/dev/null &
pids+=($!)

ng_port=$(free_port)
write_proxy_conf "$tmp/proxy" "$ng_port" "$up_port" 2

write_post_lua "$tmp/post.lua"

# Sequential keep-alive POSTs (the same request wrk sends): client PORT N
cat > "$tmp/client.py" <<'PY'
import socket, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
body = b'{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}'
req = (f"POST /mcp/bench HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
       f"Accept: application/json, text/event-stream\r\nMCP-Protocol-Version: 2025-11-25\r\n"
       f"Content-Length: {len(body)}\r\n\r\n").encode() + body
s = socket.create_connection(("127.0.0.1", port))
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
buf = b""
for _ in range(n):
    s.sendall(req)
    while True:
        end = buf.find(b"\r\n\r\n")
        if end >= 0:
            head = buf[:end].decode()
            length = 0
            for line in head.split("\r\n")[1:]:
                k, v = line.split(":", 1)
                if k.lower() == "content-length":
                    length = int(v)
            if len(buf) >= end + 4 + length:
                assert head.startswith("HTTP/1.1 200"), head
                buf = buf[end + 4 + length:]
                break
        data = s.recv(65536)
        if not data:
            raise SystemExit("connection closed")
        buf += data
PY

wait_up() {  # port
  for _ in $(seq 200); do
    curl -fsS -X POST -H 'Content-Type: application/json' -d '{}' "http://127.0.0.1:$1/mcp/bench" 2>/dev/null | grep -q jsonrpc && return 0
    sleep 0.1
  done
  echo "proxy-cost: nothing answers on port $1" >&2
  exit 1
}

start_tether() {  # binary [wrapper...]; sets t_port and t_pid
  local bin=$1
  shift
  t_port=$(free_port)
  write_tether_conf "$tmp/tether-$t_port.yaml" "$t_port" "$up_port" 2 "$tmp/bench-$t_port.db"
  "$@" "$bin" "$tmp/tether-$t_port.yaml" 2>"$tmp/tether-$t_port.log" &
  t_pid=$!
  pids+=($t_pid)
  wait_up "$t_port"
}

start_nginx_proxy() {  # sets n_workers (comma-separated pids)
  nginx -p "$tmp/proxy" -c "$tmp/proxy/nginx.conf" -g "user $(id -un);" 2>/dev/null &
  local master=$!
  pids+=($master)
  wait_up "$ng_port"
  n_workers=$(pgrep -P "$master" | paste -sd,)
}

per_call() {  # perf-stat-output calls
  awk -v n="$2" '$2 ~ /^(syscalls:|context-switches|cpu-migrations)/ {
    gsub(",", "", $1); name = $2; sub("syscalls:sys_enter_", "", name)
    if (name ~ /sys_exit_recvfrom/) name = "recvfrom (EAGAIN)"
    printf "  %-20s %5.2f\n", name, $1 / n }' "$1"
}

syscall_events() {  # write syscall
  echo "-e context-switches,cpu-migrations,syscalls:sys_enter_recvfrom,syscalls:sys_enter_$1,syscalls:sys_enter_epoll_wait,syscalls:sys_enter_epoll_ctl,syscalls:sys_enter_getsockopt -e syscalls:sys_exit_recvfrom --filter ret==-11"
}

case "$mode" in
  instructions)
    for bin in "$@"; do
      start_tether "$bin" valgrind --tool=callgrind --instr-atstart=no \
        --callgrind-out-file="$tmp/callgrind.out"
      python3 "$tmp/client.py" "$t_port" 300
      callgrind_control -i on "$t_pid" >/dev/null
      python3 "$tmp/client.py" "$t_port" "$calls"
      callgrind_control -d "$t_pid" >/dev/null
      sleep 1
      total=$(callgrind_annotate "$(ls -t "$tmp"/callgrind.out.* | head -1)" 2>/dev/null |
        awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }')
      echo "$bin: $((total / calls)) user-space instructions per call ($calls sequential calls)"
      if [ -n "${CALLGRIND_OUT:-}" ]; then  # keep the profile: callgrind_annotate FILE
        cp "$(ls -t "$tmp"/callgrind.out.* | head -1)" "$CALLGRIND_OUT.$(basename "$bin")"
      fi
      kill "$t_pid"
      wait "$t_pid" 2>/dev/null || true
      rm -f "$tmp"/callgrind.out*
    done
    ;;
  syscalls)
    start_nginx_proxy
    measure() {  # label pids write-syscall
      # shellcheck disable=SC2046
      perf stat $(syscall_events "$3") -p "$2" -o "$tmp/seq.txt" 2>/dev/null &
      local st=$!
      sleep 0.5
      python3 "$tmp/client.py" "$port" "$calls"
      kill -INT "$st"
      wait "$st" || true
      echo "$1, one call at a time (per call):"
      per_call "$tmp/seq.txt" "$calls"
      # shellcheck disable=SC2046
      perf stat $(syscall_events "$3") -p "$2" -o "$tmp/load.txt" 2>/dev/null &
      st=$!
      sleep 0.5
      wrk -t2 -c32 -d4s -s "$tmp/post.lua" "http://127.0.0.1:$port/mcp/bench" >"$tmp/wrk.txt"
      kill -INT "$st"
      wait "$st" || true
      echo "$1, wrk -t2 -c32 (per call):"
      per_call "$tmp/load.txt" "$(awk '/requests in/ { print $1 }' "$tmp/wrk.txt")"
    }
    for bin in "$@"; do
      start_tether "$bin"
      port=$t_port
      python3 "$tmp/client.py" "$port" 300
      measure "$bin" "$t_pid" sendmsg
    done
    port=$ng_port
    python3 "$tmp/client.py" "$port" 300
    measure "nginx proxy" "$n_workers" writev
    ;;
  interleaved)
    start_nginx_proxy
    names=() ports=() procs=()
    for bin in "$@"; do
      start_tether "$bin"
      names+=("$bin") ports+=("$t_port") procs+=("$t_pid")
    done
    names+=("nginx-proxy") ports+=("$ng_port") procs+=("${n_workers//,/ }")
    hz=$(getconf CLK_TCK)
    ticks() { for p in "$@"; do awk '{ print $14, $15 }' "/proc/$p/stat"; done | awk '{ u += $1; s += $2 } END { print u, s }'; }
    : >"$tmp/rounds.txt"
    for round in $(seq "$rounds"); do
      for i in "${!names[@]}"; do
        url="http://127.0.0.1:${ports[$i]}/mcp/bench"
        wrk -t2 -c32 -d1s -s "$tmp/post.lua" "$url" >/dev/null
        # shellcheck disable=SC2086
        read -r u0 s0 < <(ticks ${procs[$i]})
        wrk -t2 -c32 -d"${secs}s" -s "$tmp/post.lua" "$url" >"$tmp/wrk.txt"
        # shellcheck disable=SC2086
        read -r u1 s1 < <(ticks ${procs[$i]})
        n=$(awk '/requests in/ { print $1 }' "$tmp/wrk.txt")
        rps=$(awk '/Requests\/sec/ { print $2 }' "$tmp/wrk.txt")
        echo "$round $i $rps $(( (u1 - u0) )) $(( (s1 - s0) )) $n" >>"$tmp/rounds.txt"
      done
      echo "round $round done (load $(cut -d' ' -f1 /proc/loadavg))"
    done
    python3 - "$tmp/rounds.txt" "$hz" "${names[@]}" <<'PY'
import statistics, sys
path, hz, names = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
rows = [l.split() for l in open(path)]
by = {}
for r, i, rps, u, s, n in rows:
    by.setdefault(int(i), []).append((int(r), float(rps), int(u) / hz * 1e6 / int(n), int(s) / hz * 1e6 / int(n)))
ng = len(names) - 1
ng_rps = {r: rps for r, rps, _, _ in by[ng]}
print(f"{'':40} {'req/s':>8} {'user us':>8} {'sys us':>8}  per-round ratio to nginx-proxy")
for i, name in enumerate(names):
    v = by[i]
    ratios = [rps / ng_rps[r] for r, rps, _, _ in v]
    print(f"{name[-40:]:40} {statistics.median(x[1] for x in v):8.0f} "
          f"{statistics.median(x[2] for x in v):8.2f} {statistics.median(x[3] for x in v):8.2f}  "
          + " ".join(f"{x:.2f}" for x in ratios) + f"  (median {statistics.median(ratios):.2f})")
PY
    ;;
  *)
    echo "usage: scripts/proxy-cost.sh instructions|syscalls|interleaved [BIN...]" >&2
    exit 2
    ;;
esac

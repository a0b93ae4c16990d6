#!/usr/bin/env bash
# The proxy's throughput with inbound JWT validation on vs off, in the same run: one
# gateway-proxy-server without `inbound:` (callers unauthenticated) and one with it (every
# request carries an RS256 JWT checked against a JWK Set served on loopback), both in front
# of the same nginx upstream, measured with wrk in alternating rounds. Target: on >= 0.9 x off.
# A third figure, "off+hdr", sends the same Authorization header to the server without
# `inbound:` (not checked, not relayed): the cost of the larger request alone, so that
# on / off+hdr is the cost of the validation itself.
#
# Usage: bench/identity/proxy-inbound.sh [build-dir]  (BENCH_SECONDS=5 BENCH_CONNECTIONS=32
#        BENCH_ROUNDS=3 to tune). Needs nginx, wrk, openssl, python3.
set -euo pipefail
cd "$(dirname "$0")/../.."
build="${1:-build}"
secs="${BENCH_SECONDS:-5}"
conns="${BENCH_CONNECTIONS:-32}"
rounds="${BENCH_ROUNDS:-3}"
server="$build/bench/gateway-proxy-server"
[ -x "$server" ] || { echo "proxy-inbound: build $server first" >&2; exit 1; }
. scripts/lib/proxy-peers.sh
tmp="$(mktemp -d /tmp/tether-bench-inbound.XXXXXX)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT

up_port=$(free_port); off_port=$(free_port); on_port=$(free_port); jwks_port=$(free_port)
write_upstream_conf "$tmp/upstream" "$up_port"
nginx -p "$tmp/upstream" -c "$tmp/upstream/nginx.conf" -g "user $(id -un);" 2>"$tmp/upstream.log" &
pids+=($!)

# The issuer: an RSA key, its JWK Set on loopback, one token for the resource.
issuer="http://127.0.0.1:$jwks_port"
openssl genrsa -out "$tmp/key.pem" 2048 2>/dev/null
python3 - "$tmp" "$issuer" "http://127.0.0.1:$on_port/mcp/bench" <<'PY'
import base64, json, subprocess, sys, time
tmp, iss, aud = sys.argv[1:4]
b = lambda x: base64.urlsafe_b64encode(x).rstrip(b'=').decode()
mod = subprocess.check_output(['openssl', 'rsa', '-in', f'{tmp}/key.pem', '-noout', '-modulus']).decode().strip().split('=')[1]
open(f'{tmp}/jwks', 'w').write(json.dumps({"keys": [{"kty": "RSA", "kid": "b1", "use": "sig", "n": b(bytes.fromhex(mod)), "e": "AQAB"}]}))
now = int(time.time())
h = b(json.dumps({"alg": "RS256", "kid": "b1", "typ": "at+jwt"}).encode())
p = b(json.dumps({"iss": iss, "aud": aud, "sub": "bench-user", "exp": now + 7200, "iat": now, "scope": "mcp:tools"}).encode())
sig = subprocess.run(['openssl', 'dgst', '-sha256', '-sign', f'{tmp}/key.pem'], input=(h + '.' + p).encode(), capture_output=True).stdout
open(f'{tmp}/token', 'w').write(h + '.' + p + '.' + b(sig))
PY
(cd "$tmp" && exec python3 -m http.server "$jwks_port" --bind 127.0.0.1) >"$tmp/jwks.log" 2>&1 &
pids+=($!)

conf() {  # FILE PORT [inbound]
  cat > "$1" <<YAML
listen: 127.0.0.1:$2
public_url: http://127.0.0.1:$2
log: { level: error }
server: { io_threads: 2 }
storage: { driver: sqlite, path: $tmp/unused.db, allow_plaintext: true }
connections:
  - kind: mcp
    name: bench
    url: http://127.0.0.1:$up_port/mcp
    auth: { mode: bearer, token: "$PEER_TOKEN" }
YAML
  if [ "${3:-}" = inbound ]; then
    printf 'inbound:\n  issuer: "%s"\n  jwks_uri: "%s/jwks"\n' "$issuer" "$issuer" >> "$1"
  fi
}
conf "$tmp/off.yaml" "$off_port"
conf "$tmp/on.yaml" "$on_port" inbound
"$server" "$tmp/off.yaml" 2>"$tmp/off.log" & pids+=($!)
"$server" "$tmp/on.yaml" 2>"$tmp/on.log" & pids+=($!)

write_post_lua "$tmp/post.lua"
cp "$tmp/post.lua" "$tmp/post-token.lua"
echo "wrk.headers[\"Authorization\"] = \"Bearer $(cat "$tmp/token")\"" >> "$tmp/post-token.lua"

for _ in $(seq 100); do
  a=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' -d '{}' "http://127.0.0.1:$off_port/mcp/bench" || true)
  b=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' -H "Authorization: Bearer $(cat "$tmp/token")" -d '{}' "http://127.0.0.1:$on_port/mcp/bench" || true)
  [ "$a" = 200 ] && [ "$b" = 200 ] && break
  sleep 0.1
done
[ "$a" = 200 ] && [ "$b" = 200 ] || { echo "proxy-inbound: servers not answering 200 (off $a, on $b)" >&2; cat "$tmp"/*.log >&2; exit 1; }
nobody=$(curl -s -o /dev/null -w '%{http_code}' -X POST -d '{}' "http://127.0.0.1:$on_port/mcp/bench")
[ "$nobody" = 401 ] || { echo "proxy-inbound: inbound on answered $nobody without a token" >&2; exit 1; }

rps() { awk '/Requests\/sec/ {print $2}'; }
off_total=0; on_total=0; hdr_total=0
for r in $(seq "$rounds"); do
  off=$(wrk -t2 -c"$conns" -d"${secs}s" -s "$tmp/post.lua" "http://127.0.0.1:$off_port/mcp/bench" | rps)
  on=$(wrk -t2 -c"$conns" -d"${secs}s" -s "$tmp/post-token.lua" "http://127.0.0.1:$on_port/mcp/bench" | rps)
  hdr=$(wrk -t2 -c"$conns" -d"${secs}s" -s "$tmp/post-token.lua" "http://127.0.0.1:$off_port/mcp/bench" | rps)
  echo "round $r: inbound off $off req/s, on $on req/s, off+hdr $hdr req/s"
  off_total=$(python3 -c "print($off_total + $off)"); on_total=$(python3 -c "print($on_total + $on)")
  hdr_total=$(python3 -c "print($hdr_total + $hdr)")
done
python3 -c "off=$off_total/$rounds; on=$on_total/$rounds; hdr=$hdr_total/$rounds; print(f'mean: off {off:.0f} req/s, on {on:.0f} req/s, ratio {on/off:.2f} (target >= 0.90); off+hdr {hdr:.0f} req/s, on / off+hdr {on/hdr:.2f}')"

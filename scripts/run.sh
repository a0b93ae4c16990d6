#!/usr/bin/env bash
# `make run`: the whole demo on loopback — the bundled mock IdP (with a consent page) on
# :9000, the demo MCP upstream (official MCP SDK; it checks the mock IdP's JWTs) on :9100,
# and Tether on :8080 with examples/tether.yaml and an SQLite store under var/. Demo
# secrets are generated once into var/demo.env (kept out of git, readable only by you)
# unless the environment already provides them. Ctrl-C stops all three.
set -euo pipefail
cd "$(dirname "$0")/.."
config="${1:-examples/tether.yaml}"
idp_port="${DEMO_IDP_PORT:-9000}"
upstream_port="${DEMO_UPSTREAM_PORT:-9100}"
mkdir -p var
if [ ! -f var/demo.env ]; then
  umask 077
  {
    echo "TETHER_ENCRYPTION_KEY=$(openssl rand -hex 32)"
    echo "TETHER_ADMIN_KEY=demo-admin-$(openssl rand -hex 12)"
    echo "DEMO_CLIENT_SECRET=demo-secret-$(openssl rand -hex 12)"
  } > var/demo.env
fi
set -a
# shellcheck disable=SC1091
. var/demo.env
set +a

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for p in "$idp_port" "$upstream_port" 8080; do
  if port_busy "$p"; then
    echo "make run: port $p on 127.0.0.1 is already in use (another demo still running?)" >&2
    exit 1
  fi
done

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT INT TERM

./build/tether-mock-idp --port "$idp_port" --consent --log-level warn \
  --client "tether-demo:${DEMO_CLIENT_SECRET}" > var/mock-idp.log 2>&1 &
pids+=($!)
node e2e/mcp-upstream.mjs --port "$upstream_port" --issuer "http://127.0.0.1:$idp_port" \
  --stateless --json-response > var/demo-upstream.log 2>&1 &
pids+=($!)
for i in $(seq 1 100); do
  port_busy "$idp_port" && port_busy "$upstream_port" && break
  sleep 0.1
done
port_busy "$idp_port" || { echo "make run: the mock IdP did not start (var/mock-idp.log)" >&2; exit 1; }
port_busy "$upstream_port" || { echo "make run: the demo upstream did not start (var/demo-upstream.log)" >&2; exit 1; }

cat >&2 <<EOF

  Tether demo
  -----------
  Portal      http://127.0.0.1:8080/portal/
  Admin key   ${TETHER_ADMIN_KEY}      (also in var/demo.env)

  1. Sign in to the portal with the admin key. mcp/demo shows "never connected".
  2. Open it and click Connect: the mock IdP's consent page opens; Approve. You are back in
     the portal and the connection is healthy. (Or from a terminal:
       TETHER_ADMIN_KEY=${TETHER_ADMIN_KEY} build/tether login mcp/demo )
  3. Call a tool of the demo MCP server through Tether (Tether adds the token):
       curl -s http://127.0.0.1:8080/mcp/demo -H 'Content-Type: application/json' \\
         -H 'Accept: application/json, text/event-stream' \\
         -d '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami","arguments":{}}}'

  Mock IdP http://127.0.0.1:${idp_port} (log var/mock-idp.log) · demo upstream
  http://127.0.0.1:${upstream_port}/mcp (log var/demo-upstream.log) · Ctrl-C stops all three.

EOF
./build/tether serve --config "$config" &
pids+=($!)
wait "${pids[-1]}"

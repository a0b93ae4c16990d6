#!/usr/bin/env bash
# `make run`: starts Tether with the example configuration and an embedded SQLite store
# under var/. Demo secrets are generated once into var/demo.env (kept out of git) unless
# the environment already provides them.
set -euo pipefail
cd "$(dirname "$0")/.."
config="${1:-examples/tether.yaml}"
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
export TETHER_ENCRYPTION_KEY="${TETHER_ENCRYPTION_KEY}"
echo "Tether: http://127.0.0.1:8080  (admin key: ${TETHER_ADMIN_KEY}, stored in var/demo.env)" >&2
exec ./build/tether serve --config "$config"

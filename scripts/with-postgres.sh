#!/usr/bin/env bash
# Runs a command with a throwaway PostgreSQL 15 cluster on a private port and socket
# directory, and stops the cluster afterwards whatever the command's outcome.
# The command sees TETHER_TEST_PG_DSN (a libpq connection string) in its environment.
# The cluster lives under a temporary directory owned by the `postgres` user when we run
# as root (initdb refuses root).
set -euo pipefail

PG_BIN="$(pg_config --bindir 2>/dev/null || true)"
if [ ! -x "$PG_BIN/initdb" ]; then PG_BIN=/usr/lib/postgresql/15/bin; fi
if [ ! -x "$PG_BIN/initdb" ]; then
  echo "with-postgres: PostgreSQL server binaries not found (run scripts/install-deps.sh)" >&2
  exit 1
fi

dir="$(mktemp -d /tmp/tether-pg.XXXXXX)"
chmod 755 "$dir"
# Below Linux's ephemeral range (32768-60999), so a client socket rarely holds it; a port
# taken anyway (another cluster, another test) is retried on a new one.
pick_port() { echo $((16000 + RANDOM % 16000)); }
port="${TETHER_TEST_PG_PORT:-$(pick_port)}"
run_as=()
if [ "$(id -u)" = 0 ]; then
  chown postgres:postgres "$dir"
  run_as=(runuser -u postgres --)
fi

cleanup() {
  "${run_as[@]}" "$PG_BIN/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT

"${run_as[@]}" "$PG_BIN/initdb" -D "$dir/data" -A trust -U tether --no-sync >"$dir/initdb.log" 2>&1 ||
  { cat "$dir/initdb.log" >&2; exit 1; }
for attempt in 1 2 3 4 5; do
  if "${run_as[@]}" "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" \
    start >/dev/null; then
    break
  fi
  if [ -z "${TETHER_TEST_PG_PORT:-}" ] && [ "$attempt" -lt 5 ] &&
    grep -q "Address already in use" "$dir/server.log"; then
    echo "with-postgres: port $port is taken; trying another" >&2
    port="$(pick_port)"
    : >"$dir/server.log"
    continue
  fi
  cat "$dir/server.log" >&2
  exit 1
done

export TETHER_TEST_PG_DSN="host=127.0.0.1 port=$port user=tether dbname=postgres"
export TETHER_TEST_PG_BIN="$PG_BIN"
export TETHER_TEST_PG_DATA="$dir/data"
export TETHER_TEST_PG_PORT="$port"
echo "with-postgres: PostgreSQL running on 127.0.0.1:$port" >&2
set +e
"$@"
rc=$?
set -e
exit $rc

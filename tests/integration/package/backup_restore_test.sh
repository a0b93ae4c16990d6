#!/usr/bin/env bash
# package_backup_restore_test: the SQLite backup and restore steps of docs/operations.md.
#   - while Tether runs, `sqlite3 tether.db ".backup ..."` fails ("database is locked": the
#     process holds the file), as the document says;
#   - after SIGTERM, the same command makes a backup;
#   - the backup, restored into an empty folder, starts with the original key: /readyz 200 and
#     the connection's token is still there (has_token), with the IdP gone;
#   - with another key it does not start: exit 1 naming the key mismatch.
# Usage: backup_restore_test.sh BUILD_DIR
set -euo pipefail
build=$(cd "$1" && pwd)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/tether-backup-test.XXXXXX")
pid=""
idp=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2> /dev/null || true; fi
  if [ -n "$idp" ]; then kill "$idp" 2> /dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  exit 1
}
command -v sqlite3 > /dev/null || fail "sqlite3 is missing (Debian package sqlite3)"
port=$(node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => {
  console.log(s.address().port); s.close(); });')
status() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$@" || true; }

export TEST_CLIENT_SECRET="cc-secret-$RANDOM$RANDOM$RANDOM"
"$build/tether-mock-idp" --port 0 --client "cc:$TEST_CLIENT_SECRET" > "$tmp/idp.out" 2> "$tmp/idp.log" &
idp=$!
issuer=""
for _ in $(seq 1 100); do  # 10 s deadline
  issuer=$(grep -oE 'http://127\.0\.0\.1:[0-9]+' "$tmp/idp.out" | head -1 || true)
  [ -n "$issuer" ] && break
  sleep 0.1
done
[ -n "$issuer" ] || fail "the mock IdP did not start within 10 s"

admin_key="admin-$RANDOM$RANDOM$RANDOM$RANDOM"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$tmp/encryption.key"
write_config() {  # DATA_DIR KEY_FILE
  cat > "$tmp/tether.yaml" << EOF
listen: 127.0.0.1:$port
storage: { driver: sqlite, path: $1/tether.db }
encryption: { key_file: $2 }
admin: { keys: [ "$admin_key" ] }
connections:
  - kind: api
    name: idp
    url: $issuer
    auth:
      mode: oauth
      grant: client_credentials
      token_url: $issuer/token
      client_id: cc
      client_secret: "\${TEST_CLIENT_SECRET}"
EOF
}
start() {
  "$build/tether" serve --config "$tmp/tether.yaml" > "$tmp/tether.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 200); do  # 20 s deadline
    [ "$(status "http://127.0.0.1:$port/readyz")" = 200 ] && return 0
    kill -0 "$pid" 2> /dev/null || fail "tether exited: $(tail -3 "$tmp/tether.log")"
    sleep 0.1
  done
  fail "/readyz never answered 200 within 20 s"
}
stop() {
  kill -TERM "$pid"
  local code=0
  wait "$pid" || code=$?
  pid=""
  [ "$code" = 0 ] || fail "tether exited $code after SIGTERM"
}
detail() {
  curl -s --max-time 5 -H "Authorization: Bearer $admin_key" \
    "http://127.0.0.1:$port/api/v1/admin/connections/api/idp"
}

write_config "$tmp/live" "$tmp/encryption.key"
start
[ "$(status "http://127.0.0.1:$port/api/idp/.well-known/openid-configuration")" = 200 ] ||
  fail "the call that fetches a token failed"
grep -q '"has_token":true' <<< "$(detail)" || fail "no token stored: $(detail)"

if out=$(sqlite3 "$tmp/live/tether.db" ".backup $tmp/online.db" 2>&1); then
  fail "sqlite3 .backup worked while Tether runs: update docs/operations.md"
fi
grep -q 'database is locked' <<< "$out" || fail "sqlite3 .backup while running said: $out"

stop
sqlite3 "$tmp/live/tether.db" ".backup $tmp/backup.db" || fail "the offline backup failed"
kill "$idp"
wait "$idp" 2> /dev/null || true
idp=""

mkdir "$tmp/restored"
cp "$tmp/backup.db" "$tmp/restored/tether.db"
write_config "$tmp/restored" "$tmp/encryption.key"
start
grep -q '"has_token":true' <<< "$(detail)" || fail "the restored database lost the token: $(detail)"
stop

head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$tmp/other.key"
write_config "$tmp/restored" "$tmp/other.key"
code=0
timeout 20 "$build/tether" serve --config "$tmp/tether.yaml" > "$tmp/wrong.log" 2>&1 || code=$?
[ "$code" = 1 ] || fail "with another key tether exited $code, expected 1"
grep -q 'does not match the key this store was written with' "$tmp/wrong.log" ||
  fail "the wrong-key message changed: $(tail -2 "$tmp/wrong.log")"
echo "PASS: SQLite backup (stopped) and restore, as docs/operations.md says"

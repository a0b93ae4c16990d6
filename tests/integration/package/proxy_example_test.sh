#!/usr/bin/env bash
# package_proxy_example_test: the nginx example in docs/operations.md ("TLS and reverse
# proxies") works as printed. The ```nginx block is taken from the document; only the
# addresses and certificate paths are replaced (a free loopback port, a self-signed
# certificate for localhost). Tether runs with public_url https://localhost:<port>; through
# nginx: /readyz and /portal/ answer 200, /metrics is denied, the admin API accepts the key,
# and the portal's session cookie is Secure (public_url is https).
# Usage: proxy_example_test.sh SOURCE_DIR BUILD_DIR NGINX
set -euo pipefail
src=$(cd "$1" && pwd)
build=$(cd "$2" && pwd)
nginx=$3

tmp=$(mktemp -d "${TMPDIR:-/tmp}/tether-proxy-example.XXXXXX")
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2> /dev/null || true; fi
  if [ -f "$tmp/nginx.pid" ]; then kill "$(cat "$tmp/nginx.pid")" 2> /dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  exit 1
}
free_port() {
  node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => {
    console.log(s.address().port); s.close(); });'
}

block=$(awk '/^```nginx$/ {on = 1; next} on && /^```$/ {exit} on' "$src/docs/operations.md")
[ -n "$block" ] || fail "docs/operations.md has no \`\`\`nginx block"
tether_port=$(free_port)
proxy_port=$(free_port)
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost \
  -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2> /dev/null
server=$(sed -e "s#listen 443 ssl;#listen 127.0.0.1:$proxy_port ssl;#" \
  -e "s#server_name tether.example.com;#server_name localhost;#" \
  -e "s#/etc/ssl/tether.example.com.crt#$tmp/cert.pem#" \
  -e "s#/etc/ssl/tether.example.com.key#$tmp/key.pem#" \
  -e "s#http://127.0.0.1:8080#http://127.0.0.1:$tether_port#" <<< "$block")
grep -q "127.0.0.1:$proxy_port ssl" <<< "$server" || fail "the example's listen line changed"
grep -q "127.0.0.1:$tether_port" <<< "$server" || fail "the example's proxy_pass changed"
cat > "$tmp/nginx.conf" << EOF
pid $tmp/nginx.pid;
error_log $tmp/error.log;
events {}
http {
  access_log $tmp/access.log;
  client_body_temp_path $tmp/body;
  proxy_temp_path $tmp/proxy;
  fastcgi_temp_path $tmp/fastcgi;
  uwsgi_temp_path $tmp/uwsgi;
  scgi_temp_path $tmp/scgi;
$server
}
EOF

admin_key="admin-$RANDOM$RANDOM$RANDOM$RANDOM"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$tmp/encryption.key"
cat > "$tmp/tether.yaml" << EOF
listen: 127.0.0.1:$tether_port
public_url: https://localhost:$proxy_port
storage: { driver: sqlite, path: $tmp/tether.db }
encryption: { key_file: $tmp/encryption.key }
admin: { keys: [ "$admin_key" ] }
EOF
"$build/tether" serve --config "$tmp/tether.yaml" > "$tmp/tether.log" 2>&1 &
pid=$!
"$nginx" -c "$tmp/nginx.conf" -e "$tmp/error.log" || fail "nginx refused the example: $(cat "$tmp/error.log")"

url=https://localhost:$proxy_port
status() { curl -sk -o /dev/null -w '%{http_code}' --max-time 5 "$@" || true; }
ready=""
for _ in $(seq 1 100); do  # 10 s deadline
  [ "$(status "$url/readyz")" = 200 ] && ready=1 && break
  kill -0 "$pid" 2> /dev/null || fail "tether exited: $(cat "$tmp/tether.log")"
  sleep 0.1
done
[ -n "$ready" ] || fail "/readyz through nginx never answered 200: $(tail -3 "$tmp/error.log")"
[ "$(status "$url/portal/")" = 200 ] || fail "/portal/ through nginx is not 200"
[ "$(status "$url/metrics")" = 403 ] || fail "/metrics is not denied by the example"
[ "$(status -H "Authorization: Bearer $admin_key" "$url/api/v1/admin/connections")" = 200 ] ||
  fail "the admin API through nginx refused the key (Host check?): $(tail -3 "$tmp/tether.log")"
headers=$(curl -sk -D - -o /dev/null --max-time 5 -H 'Content-Type: application/json' \
  -d "{\"key\":\"$admin_key\"}" "$url/api/v1/admin/session")
grep -qi '^set-cookie: tether_session=.*; Secure' <<< "$headers" ||
  fail "the portal session cookie is not Secure behind https: $headers"
echo "PASS: the nginx example in docs/operations.md"

#!/usr/bin/env bash
# package_deb_test: what an operator gets from `make install` and `make package`.
#   0. `make install`'s step installs exactly the binary and the docs under DESTDIR/PREFIX;
#   1. cpack builds the .deb from the build tree (into a temp dir; nothing is compiled);
#   2. dpkg-deb -I / -c: name, version, computed Depends, conffiles, maintainer scripts, and
#      exactly the files we mean to ship (no test binary, no mock IdP);
#   3. dpkg-deb -x into a temp root; the package's postinst runs there (DPKG_ROOT) with
#      adduser/getent/chown/systemd helpers replaced by recorders (this machine's users and
#      services are not touched): it generates the encryption key (64 hex, mode 0600) and
#      the admin key once, and a second run changes nothing;
#   4. the unpacked binary runs with the shipped /etc/tether/tether.yaml (paths moved into
#      the temp root, a free loopback port, plus one client_credentials connection to the
#      mock IdP) and the generated secrets until GET /readyz answers 200; the admin API
#      accepts the generated key, a call through /api/idp gets its token and answers 200;
#      SIGTERM by PID, exit 0;
#   5. systemd-analyze verify on the shipped unit (a copy whose ExecStart names the unpacked
#      binary, since /usr/bin/tether does not exist here) reports nothing;
#   6. every system call and socket family the run in 4 used (strace) is allowed by the
#      unit's SystemCallFilter and RestrictAddressFamilies (the sandbox itself cannot run
#      here: no systemd as PID 1).
# Usage: deb_test.sh SOURCE_DIR BUILD_DIR CPACK CMAKE
set -euo pipefail
src=$(cd "$1" && pwd)
build=$(cd "$2" && pwd)
cpack=${3:-cpack}
cmake=${4:-cmake}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/tether-deb-test.XXXXXX")
pid=""
tracer=""
idp=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2> /dev/null || true; fi
  if [ -n "$tracer" ]; then kill "$tracer" 2> /dev/null || true; fi
  if [ -n "$idp" ]; then kill "$idp" 2> /dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  exit 1
}
step() { echo "== $*"; }

[ -x "$build/tether" ] || fail "$build/tether is missing: run make build first"
[ -f "$build/CPackConfig.cmake" ] || fail "$build/CPackConfig.cmake is missing (configure the build)"

step "make install's step: cmake --install --component tether, DESTDIR and PREFIX"
DESTDIR=$tmp/stage "$cmake" --install "$build" --prefix /opt/tether --component tether \
  > "$tmp/install.log" 2>&1 || fail "cmake --install failed: $(cat "$tmp/install.log")"
(cd "$tmp/stage" && find . -type f | sort) > "$tmp/installed.lst"
printf '%s\n' ./opt/tether/bin/tether ./opt/tether/share/doc/tether/README.md \
  ./opt/tether/share/doc/tether/operations.md > "$tmp/expected-install.lst"
diff -u "$tmp/expected-install.lst" "$tmp/installed.lst" || fail "make install installs other files"
cmp -s "$build/tether" "$tmp/stage/opt/tether/bin/tether" || fail "the installed binary differs"

step "cpack -G DEB"
if ! (cd "$build" && timeout 90 "$cpack" --config CPackConfig.cmake -B "$tmp/pkg" \
  > "$tmp/cpack.log" 2>&1); then
  cat "$tmp/cpack.log" >&2
  fail "cpack failed"
fi
shopt -s nullglob
debs=("$tmp"/pkg/*.deb)
[ ${#debs[@]} -eq 1 ] || fail "expected one .deb, got: ${debs[*]:-none}"
deb=${debs[0]}
version=$("$build/tether" --version | awk '{print $2}')
[[ "$(basename "$deb")" == tether_${version}-1_*.deb ]] || fail "unexpected file name $(basename "$deb")"

step "dpkg-deb -I (control, conffiles, maintainer scripts)"
control=$(dpkg-deb -f "$deb")
field() { dpkg-deb -f "$deb" "$1"; }
[ "$(field Package)" = tether ] || fail "Package: $(field Package)"
[ "$(field Version)" = "${version}-1" ] || fail "Version: $(field Version), binary says $version"
depends=$(field Depends)
for dep in adduser libc6 libpq5 libsqlite3-0 libcurl4 libssl3 libyaml-cpp0.7 libboost-json1.81.0; do
  grep -Eq "(^|, )$dep( |,|$)" <<< "$depends" || fail "Depends lacks $dep: $depends"
done
[ "$(dpkg-deb -I "$deb" conffiles)" = /etc/tether/tether.yaml ] \
  || fail "conffiles: $(dpkg-deb -I "$deb" conffiles)"
grep -q 'adduser --system' <<< "$(dpkg-deb -I "$deb" postinst)" || fail "postinst adds no system user"
dpkg-deb --ctrl-tarfile "$deb" | tar -tvf - > "$tmp/control.lst"
for script in postinst prerm postrm; do
  grep -Eq "^-rwxr-xr-x .* \./$script$" "$tmp/control.lst" \
    || fail "$script is missing or not mode 0755: $(grep "$script" "$tmp/control.lst")"
done
echo "$control" | sed 's/^/   /'

step "dpkg-deb -c (files)"
dpkg-deb -c "$deb" | awk '$1 !~ /^d/ {print $6}' | sort > "$tmp/files.lst"
cat > "$tmp/expected.lst" << 'EOF'
./etc/tether/tether.yaml
./lib/systemd/system/tether.service
./usr/bin/tether
./usr/share/doc/tether/README.md
./usr/share/doc/tether/changelog.Debian.gz
./usr/share/doc/tether/copyright
./usr/share/doc/tether/operations.md
EOF
diff -u "$tmp/expected.lst" "$tmp/files.lst" || fail "the package's files differ from the list above"
grep -Eq '^-rwxr-xr-x root/root .* \./usr/bin/tether$' <<< "$(dpkg-deb -c "$deb")" \
  || fail "usr/bin/tether is not an executable owned by root"

step "dpkg-deb -x and the postinst (DPKG_ROOT, recorded adduser/chown/systemd helpers)"
root=$tmp/root
dpkg-deb -x "$deb" "$root"
cmp -s "$root/etc/tether/tether.yaml" "$src/deploy/tether.yaml" || fail "shipped tether.yaml differs"
cmp -s "$root/lib/systemd/system/tether.service" "$src/deploy/tether.service" \
  || fail "shipped tether.service differs"
grep -q '\.symtab' <<< "$(readelf -S "$root/usr/bin/tether")" && fail "usr/bin/tether is not stripped"
mkdir -p "$tmp/ctrl" "$tmp/stubs"
dpkg-deb -e "$deb" "$tmp/ctrl"
for tool in adduser getent chown systemctl deb-systemd-helper deb-systemd-invoke; do
  printf '#!/bin/sh\necho "%s $*" >> "%s"\n%s\n' "$tool" "$tmp/calls.log" \
    "$([ "$tool" = getent ] && echo 'exit 2' || echo 'exit 0')" > "$tmp/stubs/$tool"
  chmod +x "$tmp/stubs/$tool"
done
run_postinst() {
  DPKG_ROOT=$root PATH="$tmp/stubs:$PATH" "$tmp/ctrl/postinst" configure "$@" > "$tmp/postinst.out"
}
run_postinst
key_file=$root/etc/tether/encryption.key
env_file=$root/etc/tether/tether.env
grep -Eqx '[0-9a-f]{64}' "$key_file" || fail "encryption.key is not 64 hex characters"
[ "$(stat -c %a "$key_file")" = 600 ] || fail "encryption.key mode $(stat -c %a "$key_file")"
[ "$(stat -c %a "$env_file")" = 600 ] || fail "tether.env mode $(stat -c %a "$env_file")"
[ "$(stat -c %a "$root/var/lib/tether")" = 750 ] || fail "/var/lib/tether mode"
grep -Eq '^TETHER_ADMIN_KEY=[0-9a-f]{64}$' "$env_file" || fail "tether.env has no admin key"
grep -q 'adduser --system --group --quiet --home /var/lib/tether' "$tmp/calls.log" \
  || fail "postinst did not add the system user: $(cat "$tmp/calls.log")"
grep -q "chown tether:tether $root/etc/tether/encryption.key" "$tmp/calls.log" \
  || fail "postinst did not give the key to tether: $(cat "$tmp/calls.log")"
grep -q "chown tether:tether $root/var/lib/tether" "$tmp/calls.log" \
  || fail "postinst did not give /var/lib/tether to tether"
if grep -Eq '^(systemctl|deb-systemd)' "$tmp/calls.log"; then
  fail "postinst touched systemd under DPKG_ROOT: $(cat "$tmp/calls.log")"
fi
key_before=$(sha256sum "$key_file" "$env_file")
run_postinst "$version-1"  # an upgrade: nothing regenerated
[ "$(sha256sum "$key_file" "$env_file")" = "$key_before" ] || fail "a second postinst replaced a key"
[ -s "$tmp/postinst.out" ] && fail "second postinst printed: $(cat "$tmp/postinst.out")"

step "the unpacked binary with the shipped config, to /readyz"
port=$(node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => {
  console.log(s.address().port); s.close(); });')
config=$tmp/tether.yaml
sed -e "s#/var/lib/tether#$root/var/lib/tether#g" -e "s#/etc/tether#$root/etc/tether#g" \
  -e "s#127\.0\.0\.1:8080#127.0.0.1:$port#g" "$root/etc/tether/tether.yaml" > "$config"
grep -q "127.0.0.1:$port" "$config" || fail "the shipped config does not listen on 127.0.0.1:8080"
set -a
# shellcheck disable=SC1090
. "$env_file"
set +a
"$root/usr/bin/tether" config check "$config" > "$tmp/check.out" 2> "$tmp/check.err" \
  || fail "tether config check refused the shipped config: $(cat "$tmp/check.err")"
grep -q "$TETHER_ADMIN_KEY" "$tmp/check.out" "$tmp/check.err" && fail "config check printed the admin key"
# One connection besides the shipped settings, so the run also fetches a token from an IdP
# (client_credentials at the mock IdP, libcurl) and proxies a call with it (the gateway).
[ -x "$build/tether-mock-idp" ] || fail "$build/tether-mock-idp is missing: run make build first"
export TEST_CLIENT_SECRET="cc-secret-$RANDOM$RANDOM$RANDOM"
"$build/tether-mock-idp" --port 0 --client "cc:$TEST_CLIENT_SECRET" > "$tmp/idp.out" 2> "$tmp/idp.log" &
idp=$!
issuer=""
for _ in $(seq 1 100); do  # 10 s deadline
  issuer=$(grep -oE 'http://127\.0\.0\.1:[0-9]+' "$tmp/idp.out" | head -1 || true)
  [ -n "$issuer" ] && break
  kill -0 "$idp" 2> /dev/null || fail "the mock IdP exited: $(cat "$tmp/idp.log")"
  sleep 0.1
done
[ -n "$issuer" ] || fail "the mock IdP did not start within 10 s"
cat >> "$config" << EOF
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

# Under strace: the system calls and socket families it uses are checked against the
# unit's SystemCallFilter and RestrictAddressFamilies below.
command -v strace > /dev/null || fail "strace is missing (Debian package strace)"
strace -f -qq -o "$tmp/syscalls.trace" "$root/usr/bin/tether" serve --config "$config" \
  > "$tmp/serve.log" 2>&1 &
tracer=$!
for _ in $(seq 1 100); do  # 10 s deadline
  pid=$(pgrep -P "$tracer" -x tether || true)
  [ -n "$pid" ] && break
  kill -0 "$tracer" 2> /dev/null || fail "tether (under strace) exited: $(cat "$tmp/serve.log")"
  sleep 0.1
done
[ -n "$pid" ] || fail "tether did not start under strace within 10 s"
ready=""
for _ in $(seq 1 200); do  # 20 s deadline
  status=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$port/readyz" || true)
  if [ "$status" = 200 ]; then ready=1 && break; fi
  kill -0 "$pid" 2> /dev/null || fail "tether exited: $(cat "$tmp/serve.log")"
  sleep 0.1
done
[ -n "$ready" ] || fail "GET /readyz never answered 200 within 20 s: $(tail -5 "$tmp/serve.log")"
[ -f "$root/var/lib/tether/tether.db" ] || fail "no database at /var/lib/tether/tether.db"
get() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$@"; }
admin=$(get -H "Authorization: Bearer $TETHER_ADMIN_KEY" "http://127.0.0.1:$port/api/v1/admin/connections")
[ "$admin" = 200 ] || fail "the admin API refused the generated admin key ($admin)"
[ "$(get "http://127.0.0.1:$port/portal/")" = 200 ] || fail "GET /portal/ is not 200"
[ "$(get "http://127.0.0.1:$port/metrics")" = 200 ] || fail "GET /metrics is not 200"
proxied=$(get "http://127.0.0.1:$port/api/idp/.well-known/openid-configuration")
[ "$proxied" = 200 ] || fail "a call through /api/idp answered $proxied: $(tail -3 "$tmp/serve.log")"
detail=$(curl -s --max-time 5 -H "Authorization: Bearer $TETHER_ADMIN_KEY" \
  "http://127.0.0.1:$port/api/v1/admin/connections/api/idp")
grep -q '"has_token":true' <<< "$detail" || fail "api/idp holds no token: $detail"
grep -q "$TETHER_ADMIN_KEY" "$tmp/serve.log" && fail "the log holds the admin key"
kill -TERM "$pid"
code=""
for _ in $(seq 1 150); do  # 15 s deadline (drain_timeout is 10 s)
  if ! kill -0 "$pid" 2> /dev/null; then
    code=0
    wait "$tracer" || code=$?  # strace exits with its tracee's status
    break
  fi
  sleep 0.1
done
[ -n "$code" ] || fail "tether did not stop within 15 s of SIGTERM"
pid=""
tracer=""
[ "$code" = 0 ] || fail "tether exited $code after SIGTERM: $(tail -5 "$tmp/serve.log")"

step "systemd-analyze verify tether.service"
unit=$root/lib/systemd/system/tether.service
for directive in 'User=tether' 'ProtectSystem=strict' 'ReadWritePaths=/var/lib/tether' \
  'NoNewPrivileges=true' 'PrivateTmp=true' 'ExecReload=/bin/kill -HUP $MAINPID' \
  'Restart=on-failure' 'EnvironmentFile=/etc/tether/tether.env' \
  'ExecStart=/usr/bin/tether serve --config /etc/tether/tether.yaml'; do
  grep -qxF "$directive" "$unit" || fail "tether.service lacks $directive"
done
mkdir -p "$tmp/unit"
sed "s#^ExecStart=/usr/bin/tether #ExecStart=$root/usr/bin/tether #" "$unit" > "$tmp/unit/tether.service"
if ! SYSTEMD_LOG_LEVEL=notice systemd-analyze verify "$tmp/unit/tether.service" \
  > "$tmp/verify.log" 2>&1; then
  cat "$tmp/verify.log" >&2
  fail "systemd-analyze verify failed"
fi
if grep -q 'tether.service' "$tmp/verify.log"; then
  cat "$tmp/verify.log" >&2
  fail "systemd-analyze verify reported problems in tether.service"
fi

step "the system calls tether made are within the unit's filters"
filter=$(sed -n 's/^SystemCallFilter=//p' "$unit")
[ -n "$filter" ] || fail "tether.service has no SystemCallFilter"
# Expands a systemd syscall group (nested groups too) into system call names.
expand() {
  systemd-analyze syscall-filter "$1" | tail -n +2 | sed 's/#.*//' | awk 'NF {print $1}' |
    while read -r name; do
      case "$name" in @*) expand "$name" ;; *) echo "$name" ;; esac
    done
}
for group in $filter; do expand "$group"; done | sort -u > "$tmp/allowed.lst"
sed -E 's/^[0-9]+ +//' "$tmp/syscalls.trace" | grep -oE '^[a-z_0-9]+\(' | tr -d '(' | sort -u \
  > "$tmp/used.lst"
[ "$(wc -l < "$tmp/used.lst")" -gt 20 ] || fail "strace recorded too few system calls"
outside=$(comm -23 "$tmp/used.lst" "$tmp/allowed.lst" | tr '\n' ' ')
[ -z "$outside" ] || fail "system calls outside SystemCallFilter=$filter: $outside"
families=$(sed -n 's/^RestrictAddressFamilies=//p' "$unit")
for family in $(grep -oE 'socket\(AF_[A-Z0-9]+' "$tmp/syscalls.trace" | cut -c8- | sort -u); do
  [[ " $families " == *" $family "* ]] || fail "socket family $family is not in RestrictAddressFamilies"
done
echo "   $(wc -l < "$tmp/used.lst") distinct system calls, all in $filter"

echo "PASS: $(basename "$deb") ($(du -k "$deb" | cut -f1) KiB)"

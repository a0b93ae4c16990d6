#!/usr/bin/env bash
# Installs everything Tether needs to build, run and test on Debian 12.
# Idempotent: when every package is present it does nothing but check (well under a second).
# Only apt-get (Debian packages) and `npm ci` (the lock file in this repository) are used.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  # toolchain
  g++ cmake ninja-build ccache make pkg-config clang-14 libclang-rt-14-dev clang-format clang-tidy
  # libraries
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libssl-dev libcurl4-openssl-dev libsqlite3-dev libpq-dev
  libspdlog-dev libfmt-dev libyaml-cpp-dev libcli11-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  # servers and tools used by tests, benchmarks and `make run`
  postgresql openssl curl nginx-light haproxy wrk nodejs
  # alert rules (promtool), the systemd unit check (systemd-analyze), the .deb check (dpkg-deb)
  prometheus systemd dpkg-dev
  # the package tests: system calls seen under the unit's filter (strace), SQLite backup (sqlite3)
  strace sqlite3
  # headless browser for the connect-flow end-to-end test (driven by playwright-core)
  chromium
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}" >&2
  SUDO=""
  if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  # Refresh the package lists when they are missing or older than a day.
  if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mtime -1 2>/dev/null | head -1)" ]; then
    $SUDO apt-get update -qq
  fi
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Node peers for end-to-end tests (MCP SDK, oidc-provider, playwright-core) and the portal build.
if [ -f package-lock.json ]; then
  stamp=node_modules/.tether-lock-stamp
  if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
    echo "install-deps: npm ci" >&2
    npm ci --no-audit --no-fund --loglevel=error
    cp package-lock.json "$stamp"
  fi
fi

#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan) and runs each one for a bounded time
# over its seed corpus (fuzz/corpus/<target>/). Fails if any target finds a crash, a leak,
# undefined behaviour or a broken invariant; the reproducer is kept in
# $FUZZ_DIR/fuzz/artifacts/.
#
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#   SECONDS_PER_TARGET  also FUZZ_SECONDS; default 20
#   TARGET              default: all of them
# Environment: FUZZ_DIR (build dir, default build-fuzz), FUZZ_CXX (default clang++-14),
#   JOBS (build parallelism, default nproc).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

SECONDS_EACH=${FUZZ_SECONDS:-20}
if [[ $# -gt 0 && $1 =~ ^[0-9]+$ ]]; then
  SECONDS_EACH=$1
  shift
fi
if ! [[ $SECONDS_EACH =~ ^[0-9]+$ ]] || ((SECONDS_EACH < 1)); then
  echo "fuzz.sh: SECONDS_PER_TARGET must be a positive number, got \"$SECONDS_EACH\"" >&2
  exit 2
fi
ALL_TARGETS=(fuzz_token_response fuzz_error_response fuzz_www_authenticate fuzz_retry_after
             fuzz_sanitize fuzz_metadata fuzz_request_head fuzz_jose)
[[ $# -gt 0 ]] && TARGETS=("$@") || TARGETS=("${ALL_TARGETS[@]}")
BUILD_DIR=${FUZZ_DIR:-build-fuzz}
CXX_BIN=${FUZZ_CXX:-clang++-14}
JOBS=${JOBS:-$(nproc)}

if ! command -v "$CXX_BIN" >/dev/null; then
  echo "fuzz.sh: $CXX_BIN not found (run make deps)" >&2
  exit 2
fi

cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_COMPILER="$CXX_BIN" -DTETHER_FUZZ=ON -DTETHER_BUILD_TESTS=OFF \
  -DTETHER_BUILD_BENCH=OFF -DTETHER_SANITIZE=address,undefined \
  -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link" >/dev/null
cmake --build "$BUILD_DIR" -j "$JOBS" --target "${TARGETS[@]}"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
failed=()
for t in "${TARGETS[@]}"; do
  work="$BUILD_DIR/fuzz/corpus/$t"
  artifacts="$BUILD_DIR/fuzz/artifacts"
  mkdir -p "$work" "$artifacts"
  echo "== $t: ${SECONDS_EACH}s"
  # New inputs go to the work corpus; the checked-in seeds are only read.
  if ! "$BUILD_DIR/fuzz/$t" -max_total_time="$SECONDS_EACH" -max_len=65536 -timeout=10 \
      -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$artifacts/$t-" \
      "$work" "fuzz/corpus/$t" > "$BUILD_DIR/fuzz/$t.log" 2>&1; then
    echo "!! $t FAILED (log: $BUILD_DIR/fuzz/$t.log)"
    grep -E "ERROR|SUMMARY|Test unit written|deadly signal" "$BUILD_DIR/fuzz/$t.log" | head -20 || true
    failed+=("$t")
  else
    grep -E "stat::number_of_executed_units|Done [0-9]+ runs" "$BUILD_DIR/fuzz/$t.log" | tail -2 || true
  fi
done

if (( ${#failed[@]} )); then
  echo "fuzz.sh: failures in: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz.sh: all ${#TARGETS[@]} targets ran ${SECONDS_EACH}s without a finding"

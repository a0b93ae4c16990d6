# Tether — build, run and test. Every target installs what is missing first.
# See README.md. Targets: build run test bench bench-proxy fuzz fmt lint install package clean

SHELL := /bin/bash
BUILD_DIR ?= build
ASAN_DIR ?= build-asan
TSAN_DIR ?= build-tsan
FUZZ_DIR ?= build-fuzz
JOBS ?= $(shell nproc)
CONFIG ?= examples/tether.yaml
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := true
export CCACHE_SLOPPINESS := time_macros,include_file_mtime,include_file_ctime

CMAKE_COMMON := -G Ninja -DCMAKE_EXPORT_COMPILE_COMMANDS=ON

.PHONY: deps build configure run test test-unit test-asan test-tsan bench bench-proxy fuzz fmt lint \
  install package clean

deps:
	@./scripts/install-deps.sh

$(BUILD_DIR)/build.ninja: | deps
	cmake -S . -B $(BUILD_DIR) $(CMAKE_COMMON) -DCMAKE_BUILD_TYPE=Release

configure: deps $(BUILD_DIR)/build.ninja

build: configure
	cmake --build $(BUILD_DIR) -j $(JOBS)

# Builds only what the demo runs: the `tether` binary (the portal is embedded in it) and the
# mock IdP, not the tests and benchmarks.
run: configure
	cmake --build $(BUILD_DIR) -j $(JOBS) --target tether tether-mock-idp
	./scripts/run.sh $(CONFIG)

# Everything a change must pass: unit + integration tests (Release, -Werror) against a
# throwaway PostgreSQL cluster, the unit tests under ASan+UBSan, the concurrency tests under
# TSan, and each parser fuzzer for FUZZ_SECONDS (default 20 s).
test: build
	./scripts/with-postgres.sh ctest --test-dir $(BUILD_DIR) --output-on-failure -j $(JOBS)
	$(MAKE) --no-print-directory test-asan
	$(MAKE) --no-print-directory test-tsan
	$(MAKE) --no-print-directory fuzz

test-asan: deps
	cmake -S . -B $(ASAN_DIR) $(CMAKE_COMMON) -DCMAKE_BUILD_TYPE=Debug \
	  -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g" -DTETHER_SANITIZE=address,undefined -DTETHER_UNIT_ONLY=ON
	cmake --build $(ASAN_DIR) -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ./scripts/with-postgres.sh ctest --test-dir $(ASAN_DIR) --output-on-failure -j $(JOBS) -L unit

# Lifecycle, server, client, proxy, connect-flow and admin-API concurrency under ThreadSanitizer.
TSAN_TESTS := lifecycle_test lifecycle_policy_test http_server_test http_client_test gateway_proxy_test \
  lifecycle_state_metrics_integration_test flows_metrics_test app_admin_client_test webhooks_delivery_test \
  flows_connect_test admin_api_test app_live_connections_integration_test gateway_last_use_test \
  identity_test gateway_inbound_test admin_sso_login_test
test-tsan: deps
	cmake -S . -B $(TSAN_DIR) $(CMAKE_COMMON) -DCMAKE_BUILD_TYPE=Debug \
	  -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g" -DTETHER_SANITIZE=thread -DTETHER_BUILD_BENCH=OFF
	cmake --build $(TSAN_DIR) -j $(JOBS) --target $(TSAN_TESTS)
	TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" ./scripts/with-postgres.sh \
	  ctest --test-dir $(TSAN_DIR) --output-on-failure -j $(JOBS) -R '^($(subst $(eval) ,|,$(TSAN_TESTS)))$$'

# libFuzzer targets for the IdP-facing parsers and the request-head scanner against Beast
# (clang, ASan+UBSan), FUZZ_SECONDS each.
fuzz: deps
	./scripts/fuzz.sh

bench: build
	./scripts/bench.sh $(BUILD_DIR)

# Data plane: the real `tether serve` against nginx and HAProxy as reverse proxies on every
# shape of MCP traffic (bench/proxy-matrix.py, docs/benchmarks.md). The older harness run
# (bench/gateway/proxy_server.cc, small JSON only): ./scripts/bench-proxy.sh.
bench-proxy: configure
	cmake --build $(BUILD_DIR) -j $(JOBS) --target tether tether-mock-idp
	python3 bench/proxy-matrix.py $(BUILD_DIR)

# The binary (portal embedded) to $(PREFIX)/bin and the operator docs to
# $(PREFIX)/share/doc/tether; honours DESTDIR. Never the tests, benchmarks or the mock IdP.
PREFIX ?= /usr/local
install: configure
	cmake --build $(BUILD_DIR) -j $(JOBS) --target tether
	DESTDIR="$(DESTDIR)" cmake --install $(BUILD_DIR) --prefix $(PREFIX) --component tether

# A Debian package (CPack): $(BUILD_DIR)/packages/tether_<version>-1_<arch>.deb.
package: configure
	cmake --build $(BUILD_DIR) -j $(JOBS) --target tether
	cd $(BUILD_DIR) && cpack --config CPackConfig.cmake
	@ls -1 $(BUILD_DIR)/packages/*.deb

fmt: deps
	git ls-files '*.cc' '*.h' | xargs clang-format -i

lint: deps configure
	@files=$$(git diff --name-only --diff-filter=d HEAD -- '*.cc' '*.h'; git ls-files --others --exclude-standard -- '*.cc' '*.h'); \
	git ls-files '*.cc' '*.h' | xargs clang-format --dry-run --Werror; \
	if [ -n "$$files" ]; then clang-tidy -p $(BUILD_DIR) --quiet $$(echo "$$files" | grep '\.cc$$' || true); fi

clean:
	rm -rf $(BUILD_DIR) $(ASAN_DIR) $(TSAN_DIR) $(FUZZ_DIR)

# syntax=docker/dockerfile:1
# Tether as a container image: `docker build -t tether .` from the repository root.
#
# NOTE: this file has not been built where it was written (no container engine on that
# machine). tests/integration/package/deploy_check.mjs checks it offline: the stages, a
# non-root USER, HEALTHCHECK, EXPOSE and VOLUME, and that the runtime stage installs exactly
# the Debian packages of the libraries the binary links (readelf + dpkg -S). See
# docs/operations.md ("Container image").
#
# Run:
#   docker run -p 8080:8080 -v tether-data:/var/lib/tether \
#     -e TETHER_PUBLIC_URL=https://tether.example.com \
#     -e TETHER_ENCRYPTION_KEY=$(openssl rand -hex 32) \
#     -e TETHER_ADMIN_KEY=... -e TETHER_CLIENT_KEY=... tether
# (keep the encryption key: without it the stored tokens cannot be opened).

# Build stage: Debian 12 with Node 20 (the portal build needs Node >= 20; Debian 12's own
# nodejs is 18). scripts/install-deps.sh installs the build dependencies from Debian the way
# `make` does on a developer machine (it also installs the test tools; this stage is thrown
# away).
FROM node:20-bookworm AS build
WORKDIR /src
COPY . .
RUN ./scripts/install-deps.sh \
 && cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DTETHER_BUILD_TESTS=OFF -DTETHER_BUILD_BENCH=OFF \
 && cmake --build build --target tether \
 && DESTDIR=/out cmake --install build --prefix /usr --component tether --strip

# Runtime stage: the binary and the shared libraries it links, nothing else (curl only for
# the HEALTHCHECK, ca-certificates for TLS to IdPs and upstreams).
FROM debian:12-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      ca-certificates curl \
      libboost-json1.81.0 libboost-url1.81.0 libcurl4 libfmt9 libgcc-s1 libpq5 \
      libspdlog1.10 libsqlite3-0 libssl3 libstdc++6 libyaml-cpp0.7 \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 tether \
 && useradd --system --uid 10001 --gid tether --home-dir /var/lib/tether \
      --shell /usr/sbin/nologin tether \
 && install -d -o tether -g tether -m 0750 /var/lib/tether
COPY --from=build /out/usr/bin/tether /usr/bin/tether
COPY --from=build /out/usr/share/doc/tether /usr/share/doc/tether
COPY deploy/docker/tether.yaml /etc/tether/tether.yaml
USER 10001:10001
EXPOSE 8080
VOLUME /var/lib/tether
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD curl -fsS -o /dev/null http://127.0.0.1:8080/readyz || exit 1
ENTRYPOINT ["/usr/bin/tether"]
CMD ["serve", "--config", "/etc/tether/tether.yaml"]

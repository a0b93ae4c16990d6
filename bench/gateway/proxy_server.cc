// A minimal Tether data plane for load tests (scripts/bench-proxy.sh): the HTTP server and
// the gateway proxy from a YAML config, with the config's static-credential connections
// (no store, no IdP, no lifecycle). Until the app wires the proxy in, this is what the
// proxy benchmark measures; it uses the same server options as `tether serve`.
//
//   gateway-proxy-server CONFIG.yaml     (SIGINT/SIGTERM to stop)

#include <csignal>
#include <iostream>

#include "config/config.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/redact.h"
#include "gateway/proxy.h"
#include "http/from_config.h"
#include "http/router.h"
#include "http/server.h"

int main(int argc, char** argv) {
  using namespace tether;
  if (argc != 2) {
    std::cerr << "usage: gateway-proxy-server CONFIG.yaml\n";
    return 2;
  }
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto loaded = config::loadConfigFile(argv[1], config::processEnv());
  if (!loaded.ok()) {
    std::cerr << "gateway-proxy-server: invalid configuration\n" << loaded.error().message << "\n";
    return 2;
  }
  const auto& cfg = loaded->config;
  for (const auto& secret : config::secretValues(cfg)) core::registerSecret(secret);
  core::log::init(cfg.log.format, cfg.log.level);

  core::MetricsRegistry metrics;
  gateway::ProxyDeps deps;
  deps.metrics = &metrics;
  deps.providers = [](config::ConnectionKind,
                      std::string_view) -> std::shared_ptr<lifecycle::TokenProvider> {
    return nullptr;  // oauth connections answer 503: no lifecycle here
  };
  auto proxy = gateway::Proxy::create(cfg.connections, gateway::proxyOptionsFromConfig(cfg),
                                      std::move(deps));
  if (!proxy.ok()) {
    std::cerr << "gateway-proxy-server: " << proxy.error().message << "\n";
    return 2;
  }
  http::Router router;
  (*proxy)->registerRoutes(router);
  router.add("GET", "/metrics", [&metrics](http::Request&, http::Responder r) {
    r.send(http::Response::text(200, metrics.render()));
  });

  http::Server server(http::serverOptionsFromConfig(cfg.server, cfg.listen), router, &metrics);
  if (auto st = server.start(); !st.ok()) {
    std::cerr << "gateway-proxy-server: " << st.error().message << "\n";
    return 1;
  }
  std::cerr << "gateway-proxy-server listening on " << cfg.listen.host << ":" << server.port()
            << "\n";
  int sig = 0;
  sigwait(&signals, &sig);
  server.stop();
  return 0;
}

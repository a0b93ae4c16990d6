#pragma once
// An in-process gateway for tests: http::Server on 127.0.0.1:0 with the proxy routes, one
// token provider for every oauth connection, its own metrics registry.

#include <memory>
#include <stdexcept>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "core/clock.h"
#include "core/metrics.h"
#include "gateway/proxy.h"
#include "http/router.h"
#include "http/server.h"
#include "lifecycle/token_provider.h"

namespace tether::testing {

struct GatewaySetup {
  std::vector<config::ConnectionConfig> connections;
  gateway::ProxyOptions options;
  lifecycle::TokenProvider* provider = nullptr;  // for every oauth connection
  const core::Clock* clock = nullptr;
  size_t io_threads = 2;
};

class Gateway {
 public:
  explicit Gateway(GatewaySetup setup) {
    gateway::ProxyDeps deps;
    auto* provider = setup.provider;
    // Not owned: the test keeps the provider alive longer than the gateway.
    deps.providers = [provider](config::ConnectionKind, std::string_view) {
      return std::shared_ptr<lifecycle::TokenProvider>(provider, [](lifecycle::TokenProvider*) {});
    };
    deps.metrics = &metrics_;
    deps.clock = setup.clock;
    if (setup.options.public_url == gateway::ProxyOptions{}.public_url) {
      setup.options.public_url = "https://tether.example";
    }
    // The server binds any free port; the raw test clients send `Host: gw`.
    setup.options.listen = {"127.0.0.1", 0};
    setup.options.allowed_hosts.push_back("gw");
    auto proxy = gateway::Proxy::create(setup.connections, setup.options, std::move(deps));
    if (!proxy.ok()) throw std::runtime_error(proxy.error().message);
    proxy_ = std::move(proxy).value();
    proxy_->registerRoutes(router_);
    http::ServerOptions so;
    so.port = 0;
    so.io_threads = setup.io_threads;
    so.max_body_bytes = 64 * 1024;
    server_ = std::make_unique<http::Server>(so, router_, &metrics_);
    if (!server_->start().ok()) throw std::runtime_error("gateway did not start");
  }
  ~Gateway() { server_->stop(); }
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;

  uint16_t port() const { return server_->port(); }
  core::MetricsRegistry& metrics() { return metrics_; }
  size_t openClientConnections() const { return server_->openConnections(); }

 private:
  core::MetricsRegistry metrics_;
  http::Router router_;
  std::unique_ptr<gateway::Proxy> proxy_;
  std::unique_ptr<http::Server> server_;
};

}  // namespace tether::testing

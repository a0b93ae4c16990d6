#include <mutex>

#include "app/app.h"
#include "core/json_escape.h"
#include "core/log.h"
#include "http/server.h"

namespace tether::app {

class Gateway::Impl {
 public:
  explicit Impl(config::Config config) : config_(std::move(config)) {}

  core::Status start() {
    metrics_.gauge("tether_build_info", "Build information", {{"version", versionString()}}).set(1);
    addOperationalRoutes();
    http::ServerOptions options;
    options.host = config_.listen.host;
    options.port = config_.listen.port;
    options.io_threads = static_cast<size_t>(config_.server.io_threads);
    options.max_header_bytes = config_.server.max_header_bytes;
    options.max_body_bytes = config_.server.max_body_bytes;
    options.read_timeout = config_.server.read_timeout;
    options.idle_timeout = config_.server.idle_timeout;
    options.write_timeout = config_.server.write_timeout;
    options.drain_timeout = config_.server.drain_timeout;
    server_ = std::make_unique<http::Server>(options, router_, &metrics_);
    auto st = server_->start();
    if (!st.ok()) return st;
    core::log::info("listening", {{"address", config_.listen.host + ":" + std::to_string(port())},
                                  {"public_url", config_.public_url}});
    return {};
  }

  void stop() {
    if (server_) server_->stop();
  }

  uint16_t port() const { return server_ ? server_->port() : 0; }
  core::MetricsRegistry& metrics() { return metrics_; }

  void addReadinessCheck(std::string name, ReadinessCheck check) {
    std::lock_guard lock(checks_mu_);
    checks_.emplace_back(std::move(name), std::move(check));
  }

 private:
  void addOperationalRoutes() {
    router_.add("GET", "/healthz", [](http::Request&, http::Responder r) {
      r.send(http::Response::json(200, R"({"status":"ok"})"));
    });
    router_.add("GET", "/readyz", [this](http::Request&, http::Responder r) {
      std::string failures;
      {
        std::lock_guard lock(checks_mu_);
        for (const auto& [name, check] : checks_) {
          auto st = check();
          if (!st.ok()) {
            if (!failures.empty()) failures += ',';
            failures += "{\"check\":" + core::jsonString(name) +
                        ",\"error\":" + core::jsonString(st.error().message) + "}";
          }
        }
      }
      if (failures.empty()) {
        r.send(http::Response::json(200, R"({"status":"ready"})"));
      } else {
        r.send(http::Response::json(503, R"({"status":"not_ready","failures":[)" + failures + "]}"));
      }
    });
    router_.add("GET", "/metrics", [this](http::Request&, http::Responder r) {
      http::Response res;
      res.status = 200;
      res.headers.push_back({"Content-Type", "text/plain; version=0.0.4; charset=utf-8"});
      res.body = metrics_.render();
      r.send(std::move(res));
    });
  }

  config::Config config_;
  core::MetricsRegistry metrics_;
  http::Router router_;
  std::unique_ptr<http::Server> server_;
  std::mutex checks_mu_;
  std::vector<std::pair<std::string, ReadinessCheck>> checks_;
};

Gateway::Gateway(config::Config config) : impl_(std::make_unique<Impl>(std::move(config))) {}
Gateway::~Gateway() { stop(); }
core::Status Gateway::start() { return impl_->start(); }
void Gateway::stop() { impl_->stop(); }
uint16_t Gateway::port() const { return impl_->port(); }
core::MetricsRegistry& Gateway::metrics() { return impl_->metrics(); }
void Gateway::addReadinessCheck(std::string name, ReadinessCheck check) {
  impl_->addReadinessCheck(std::move(name), std::move(check));
}

}  // namespace tether::app

// The process wiring: builds every module from its part of the configuration, in order
// (sealer, data plane, admin API, listeners; then, on a background thread, the store and
// what needs it), and stops them in reverse. One clock (from main) and one set of thread
// pools (app/pools.h) for the whole process.

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

#include "admin/admin_api.h"
#include "admin/client_metadata_route.h"
#include "admin/connections_api.h"
#include "admin/from_config.h"
#include "admin/portal_routes.h"
#include "admin/webhooks_api.h"
#include "app/app.h"
#include "app/live_connections.h"
#include "app/pools.h"
#include "app/stored_connections.h"
#include "core/json_escape.h"
#include "core/log.h"
#include "events/recorder.h"
#include "flows/flows.h"
#include "flows/from_config.h"
#include "gateway/client_guard.h"
#include "gateway/last_use.h"
#include "gateway/proxy.h"
#include "http/from_config.h"
#include "http/server.h"
#include "http/tls_server.h"
#include "identity/from_config.h"
#include "lifecycle/from_config.h"
#include "lifecycle/lifecycle.h"
#include "store/from_config.h"
#include "webhooks/from_config.h"

namespace tether::app {

class Process::Impl {
 public:
  Impl(config::Config config, const core::Clock& clock)
      : config_(std::move(config)), clock_(clock) {}

  ~Impl() { stop(); }

  core::Status start() {
    metrics_.gauge("tether_build_info", "Build information", {{"version", versionString()}}).set(1);
    auto sealer = store::sealerFromConfig(config_.encryption, config_.storage);
    if (!sealer.ok()) return std::move(sealer).takeError();
    sealer_ = std::move(sealer).value();
    if (!sealer_->encrypts()) {
      core::log::warn(
          "storage.allow_plaintext is set: tokens and client secrets are stored "
          "UNENCRYPTED");
    }
    addOperationalRoutes();
    gateway::ProxyDeps deps;
    deps.metrics = &metrics_;
    deps.last_use = &last_use_;
    deps.clock = &clock_;
    deps.providers = [this](config::ConnectionKind kind,
                            std::string_view name) -> std::shared_ptr<lifecycle::TokenProvider> {
      // Null until the store is open (the proxy answers 503 naming the connection then);
      // LiveConnections::attach installs the set again once the lifecycle runs.
      auto* lc = lifecycle_ptr_.load(std::memory_order_acquire);
      if (!lc) return nullptr;
      return lc->source({std::string(config::kindName(kind)), std::string(name)});
    };
    if (config_.inbound.enabled) deps.validator = startInboundValidator();
    auto proxy = gateway::Proxy::create(config_.connections,
                                        gateway::proxyOptionsFromConfig(config_), std::move(deps));
    if (!proxy.ok()) return std::move(proxy).takeError();
    proxy_ = std::move(proxy).value();
    proxy_->registerRoutes(router_);
    admin::AdminDeps ad;
    ad.keys = config_.admin.keys;
    ad.connections = admin::connectionViewsFromConfig(config_.connections);
    ad.flows = [this] { return flows_ptr_.load(std::memory_order_acquire); };
    ad.store = [this] { return store_ptr_.load(std::memory_order_acquire); };
    ad.recorder = [this] { return recorder_ptr_.load(std::memory_order_acquire); };
    ad.sources =
        [this](const store::ConnectionKey& key) -> std::shared_ptr<lifecycle::TokenSource> {
      auto* lc = lifecycle_ptr_.load(std::memory_order_acquire);
      return lc ? lc->source(key) : nullptr;
    };
    ad.pool = &pools_.admin;
    ad.clock = &clock_;
    ad.session_secret = admin::sessionSecretFromConfig(config_.encryption);
    ad.secure_cookies = config_.public_url.starts_with("https://");
    ad.client_keys_required = !config_.clients.keys.empty();
    ad.gateway_base_url = [this] {
      std::lock_guard lock(mu_);
      return gateway_url_;
    };
    if (config_.admin.sso) {
      // Portal sign-in talks to the IdP from the admin pool, before the store is open.
      sso_http_ = http::makeHttpClient({.worker_threads = 1});
      ad.sso = config_.admin.sso;
      ad.http = sso_http_.get();
      ad.public_url = [this] { return config_.public_url; };
    }
    admin_ = std::make_unique<admin::AdminApi>(std::move(ad));
    LiveOptions live;
    live.discovery_allowed_hosts = config_.discovery.allowed_hosts;
    live.client_keys = config_.clients.keys;
    live.allowed_origins = config_.allowed_origins;
    live_ =
        std::make_unique<LiveConnections>(config_.connections, std::move(live), *proxy_, *admin_);
    registerAdminPlane();
    if (config_.admin.keys.empty() && !config_.admin.sso) {
      core::log::warn(
          "no admin key is configured (admin.keys): the admin API refuses every "
          "request");
    } else if (config_.admin.keys.empty()) {
      core::log::warn(
          "no admin key is configured (admin.keys): only portal single sign-on (admin.sso) "
          "opens the admin API; keep a break-glass key");
    }
    if (config_.server.tls) {
      auto tls =
          http::TlsCredentials::load(config_.server.tls->cert_file, config_.server.tls->key_file);
      if (!tls.ok()) return std::move(tls).takeError();
      tls_ = std::move(tls).value();
    }
    auto listener = [this](const config::HostPort& listen) {
      auto options = http::serverOptionsFromConfig(config_.server, listen);
      options.tls = tls_;
      options.access_log = config_.log.access;
      return options;
    };
    server_ = std::make_unique<http::Server>(listener(config_.listen), router_, &metrics_);
    auto st = server_->start();
    if (!st.ok()) return st;
    uint16_t public_port = port();
    if (config_.admin.listen) {
      admin_server_ =
          std::make_unique<http::Server>(listener(*config_.admin.listen), admin_router_, &metrics_);
      if (auto admin_st = admin_server_->start(); !admin_st.ok()) return admin_st;
      public_port = admin_server_->port();
    }
    // listen port 0 (tests): the defaulted public URL gets the port the OS picked, so
    // redirect URIs and portal links point at this process.
    if (config_.public_url.ends_with(":0")) {
      config_.public_url.resize(config_.public_url.size() - 1);
      config_.public_url += std::to_string(public_port);
    }
    {
      // "Use it" points agents at the data plane: public_url, unless admin.listen moved the
      // admin plane (and public_url with it) to a listener of its own.
      config::HostPort shown = config_.listen;
      if (shown.host == "0.0.0.0") shown.host = "127.0.0.1";
      if (shown.host == "::") shown.host = "::1";
      shown.port = port();
      std::lock_guard lock(mu_);
      gateway_url_ = config_.admin.listen ? (tls_ ? "https://" : "http://") + shown.toString()
                                          : config_.public_url;
    }
    core::log::info("listening", {{"address", config_.listen.host + ":" + std::to_string(port())},
                                  {"public_url", config_.public_url},
                                  {"tls", tls_ != nullptr},
                                  {"certificate_sha256", tls_ ? tls_->fingerprint() : ""}});
    if (admin_server_) {
      core::log::info("admin listening", {{"address", config_.admin.listen->host + ":" +
                                                          std::to_string(admin_server_->port())}});
    }
    bootstrap_ = std::thread([this] { bootstrap(); });
    return {};
  }

  void stop() {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
      stopping_ = true;
    }
    cv_.notify_all();
    if (bootstrap_.joinable()) bootstrap_.join();
    stored_ptr_.store(nullptr, std::memory_order_release);
    if (stored_) stored_->stop();
    if (live_) live_->detach();  // before the lifecycle and flows stop
    if (admin_server_) admin_server_->stop();
    if (server_) server_->stop();
    pools_.shutdown();
    // After the listeners: the calls they served are in the tracker; before the store goes.
    if (last_use_flusher_) last_use_flusher_->stop();
    if (lifecycle_) lifecycle_->stop();
    if (webhooks_) webhooks_->stop();  // after the lifecycle: it no longer queues messages
  }

  uint16_t port() const { return server_ ? server_->port() : 0; }

  core::Status reloadTls(const config::TlsConfig& tls) {
    if (!tls_) {
      return core::Error(core::Errc::kConfig,
                         "server.tls: the listeners were started without TLS (restart to add it)");
    }
    TETHER_TRY(tls_->reload(tls.cert_file, tls.key_file));
    core::log::info("TLS certificate reloaded: new connections use it",
                    {{"certificate_sha256", tls_->fingerprint()}});
    return {};
  }

  void setAccessLog(bool on) {
    if (server_) server_->setAccessLog(on);
    if (admin_server_) admin_server_->setAccessLog(on);
  }
  void setConfigFile(std::string path) { config_file_ = std::move(path); }
  core::Result<bool> applyDeclaredConnections(std::vector<config::ConnectionConfig> declared) {
    // Serialized with the stored set's start: a reload before it must not be undone by it.
    std::lock_guard lock(declared_mu_);
    if (auto* stored = stored_ptr_.load(std::memory_order_acquire)) {
      return stored->setDeclared(std::move(declared));
    }
    TETHER_TRY_ASSIGN(auto diff, live_->apply(declared));
    declared_ = std::move(declared);
    return !diff.empty();
  }
  core::Status applyWebhooks(std::vector<config::WebhookConfig> hooks) {
    std::lock_guard lock(mu_);
    if (webhooks_) TETHER_TRY(webhooks_->setHooks(hooks));
    pending_webhooks_ = std::move(hooks);  // the service made later (store not open) uses them
    return core::okStatus();
  }
  void setReloadHandler(std::function<core::Result<std::string>()> reload) {
    std::lock_guard lock(mu_);
    reload_ = std::move(reload);
  }
  LiveConnections& connections() { return *live_; }
  core::MetricsRegistry& metrics() { return metrics_; }
  bool ready() const { return ready_.load(); }
  std::optional<core::Error> fatalError() const {
    std::lock_guard lock(mu_);
    return fatal_;
  }

  void addReadinessCheck(std::string name, ReadinessCheck check) {
    std::lock_guard lock(mu_);
    checks_.emplace_back(std::move(name), std::move(check));
  }

 private:
  // Opens the store (retrying while it is unreachable), then starts the lifecycle.
  void bootstrap() {
    if (config_.storage.driver == config::StorageDriver::kSqlite) {
      const auto parent = std::filesystem::path(config_.storage.path).parent_path();
      std::error_code ec;
      if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    }
    core::Duration delay = std::chrono::seconds(1);
    std::unique_ptr<store::Store> store;
    for (;;) {
      auto opts = store::optionsFromConfig(config_.storage, sealer_, &clock_, 1);
      auto opened = store::openStore(std::move(opts));
      if (opened.ok()) {
        store = std::move(opened).value();
        break;
      }
      const auto code = opened.error().code;
      {
        std::lock_guard lock(mu_);
        last_store_error_ = opened.error().message;
        if (code != core::Errc::kUnavailable && code != core::Errc::kTimeout) {
          fatal_ = core::Error(code, "cannot open the store: " + opened.error().message);
          core::log::error("cannot open the store", {{"error", opened.error().message}});
          return;
        }
      }
      core::log::warn("store unavailable; retrying",
                      {{"error", opened.error().message},
                       {"retry_in_ms", static_cast<int64_t>(delay.count())}});
      std::unique_lock lock(mu_);
      if (cv_.wait_for(lock, delay, [this] { return stopping_; })) return;
      delay = std::min<core::Duration>(delay * 2, std::chrono::seconds(30));
    }
    core::log::info("store open", {{"store", store->describe()},
                                   {"sealing", sealer_->describe()},
                                   {"schema_version", store->schemaVersion()},
                                   {"migrations_applied", store->migrationsAppliedAtOpen()}});
    http::HttpClientOptions client_options;
    client_options.worker_threads = ProcessPools::kHttpClientThreads;
    http_client_ = http::makeHttpClient(client_options);
    recorder_ = std::make_unique<events::Recorder>(*store, clock_, &metrics_);
    auto hooks = webhooks::Service::create(webhooks::optionsFromConfig(config_), *store, clock_,
                                           &metrics_, recorder_.get());
    if (!hooks.ok()) {
      std::lock_guard lock(mu_);
      fatal_ = hooks.error();
      core::log::error("cannot start webhooks", {{"error", hooks.error().message}});
      return;
    }
    // The lifecycle and the flows start empty: LiveConnections::attach gives them the running
    // set (which a SIGHUP may have changed since start) and registers it in the store.
    lifecycle::LifecycleOptions options;
    options.settings = lifecycle::settingsFromConfig(config_.keeper, config_.events);
    options.refresh_threads = ProcessPools::kRefreshThreads;
    options.outbox = (*hooks)->deriver();
    auto lifecycle = std::make_unique<lifecycle::Lifecycle>(
        std::vector<lifecycle::ConnectionSpec>{}, *store, *http_client_, *recorder_, clock_,
        &metrics_, options);
    auto* lc = lifecycle.get();
    auto flows = std::make_unique<flows::Flows>(
        std::vector<flows::FlowConnection>{}, *store, *http_client_, *recorder_, clock_,
        flows::optionsFromConfig(config_),
        [lc](const store::ConnectionKey& key, const flows::ResolvedConnection& resolved) {
          if (auto source = lc->source(key)) {
            source->setOAuthConfig(resolved.oauth, resolved.idp_host);
            source->onConnected();
          }
        },
        &metrics_);
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
      store_ = std::move(store);
      lifecycle_ = std::move(lifecycle);
      flows_ = std::move(flows);
      webhooks_ = std::move(hooks).value();
      if (pending_webhooks_) {  // a SIGHUP while the store was opening
        if (auto st = webhooks_->setHooks(*pending_webhooks_); !st.ok()) {
          core::log::error("reloaded webhooks not applied", {{"error", st.error().message}});
        }
      }
    }
    lifecycle_ptr_.store(lifecycle_.get(), std::memory_order_release);  // before attach
    live_->attach(*store_, *lifecycle_, *flows_);
    webhooks_ptr_.store(webhooks_.get(), std::memory_order_release);
    flows_ptr_.store(flows_.get(), std::memory_order_release);
    recorder_ptr_.store(recorder_.get(), std::memory_order_release);
    store_ptr_.store(store_.get(), std::memory_order_release);
    lifecycle_->start(/*run_keeper=*/true);
    webhooks_->start();
    if (!startStoredConnections()) return;
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
      store::Store* s = store_.get();
      last_use_flusher_ = std::make_unique<gateway::LastUseFlusher>(
          last_use_, [s](std::span<const store::LastUse> uses) { return s->recordLastUse(uses); },
          gateway::kLastUseFlushInterval);
      last_use_flusher_->start();
    }
    ready_ = true;
  }

  // The connections made through the admin API: declared ∪ stored runs from now on, kept
  // current on every replica (app/stored_connections.h). A stored name that is declared too
  // stops the start. False when the process cannot go on.
  bool startStoredConnections() {
    std::lock_guard declared_lock(declared_mu_);
    StoredConnections::Options options;
    options.default_token_lifetime = config_.keeper.default_token_lifetime;
    auto stored = std::make_unique<StoredConnections>(
        *store_, declared_ ? *declared_ : config_.connections,
        [this](std::vector<config::ConnectionConfig> all) -> core::Result<bool> {
          TETHER_TRY_ASSIGN(auto diff, live_->apply(std::move(all)));
          return !diff.empty();
        },
        options);
    if (auto st = stored->load(); !st.ok()) {
      std::lock_guard lock(mu_);
      fatal_ = core::Error(st.error().code,
                           "cannot start the stored connections: " + st.error().message);
      core::log::error("cannot start the stored connections", {{"error", st.error().message}});
      return false;
    }
    stored->start();
    stored_ = std::move(stored);
    stored_ptr_.store(stored_.get(), std::memory_order_release);
    return true;
  }

  void registerConnectionRoutes(http::Router& router) {
    admin::ConnectionsApiDeps deps;
    deps.store = [this] { return store_ptr_.load(std::memory_order_acquire); };
    deps.recorder = [this] { return recorder_ptr_.load(std::memory_order_acquire); };
    deps.pool = &pools_.admin;
    deps.declared = [this](const store::ConnectionKey& key) {
      if (auto* stored = stored_ptr_.load(std::memory_order_acquire)) {
        return stored->isDeclared(key);
      }
      return config_.findConnection(*config::parseConnectionKind(key.kind), key.name) != nullptr;
    };
    deps.config_file = config_file_;
    deps.default_token_lifetime = config_.keeper.default_token_lifetime;
    deps.apply_stored = [this] {
      if (auto* stored = stored_ptr_.load(std::memory_order_acquire)) {
        if (auto st = stored->syncNow(); !st.ok()) {
          core::log::warn("stored connections not applied yet; the watcher retries",
                          {{"error", st.error().message}});
        }
      }
    };
    // RFC 7009 after a delete. The store was published after the IdP client was made, so a
    // caller holding the store sees the client.
    admin::RevokerOptions revoker;
    revoker.discovery_allowed_hosts = config_.discovery.allowed_hosts;
    revoker.clock = &clock_;
    deps.revoke = [this, revoker](store::Store& store, const config::ConnectionConfig& connection,
                                  const std::string& refresh_token) {
      return admin::revokeDeletedConnection(store, *http_client_, connection, refresh_token,
                                            revoker);
    };
    deps.reload = [this]() -> core::Result<std::string> {
      std::function<core::Result<std::string>()> reload;
      {
        std::lock_guard lock(mu_);
        reload = reload_;
      }
      if (!reload) {
        return core::Error(core::Errc::kUnavailable, "this process cannot reload its config file");
      }
      return reload();
    };
    admin::registerConnectionRoutes(*admin_, router, std::move(deps));
  }

  // The admin API, the portal and the OAuth callback: on the main listener, or only on
  // admin.listen when set (the main listener then answers 404 for their paths). Either way
  // behind the listener's Host check, like the gateway routes: a page on a rebound host name
  // must not reach the admin API with the operator's session cookie. The probes (/healthz,
  // /readyz, /metrics) are not checked: orchestrators call them by address.
  void registerAdminPlane() {
    const config::HostPort& listen = config_.admin.listen.value_or(config_.listen);
    auto hosts = std::make_shared<const gateway::HostGuard>(listen, config_.public_url,
                                                            config_.server.allowed_hosts);
    http::Router& router = config_.admin.listen ? admin_router_ : router_;
    router.setWrapper([hosts](http::Handler handler) -> http::Handler {
      return [hosts, handler = std::move(handler)](http::Request& req, http::Responder r) {
        if (auto st = hosts->check(req.headers); !st.ok()) {
          r.send(http::Response::error(st.error()));
          return;
        }
        handler(req, std::move(r));
      };
    });
    admin_->registerRoutes(router);
    registerConnectionRoutes(router);
    admin::registerWebhookRoutes(
        *admin_, router,
        {[this] { return webhooks_ptr_.load(std::memory_order_acquire); }, &pools_.admin});
    admin::registerPortalRoutes(router);
    admin::registerClientMetadataRoute(router, config_.public_url, config_.client_metadata_url);
    router.setWrapper({});
    if (!config_.admin.listen) return;
    const http::Handler elsewhere = [](http::Request&, http::Responder r) {
      r.send(http::Response::error(core::Error(
          core::Errc::kNotFound, "the admin API and the portal are not served on this listener")));
    };
    for (const char* pattern : {"/api/v1/admin", "/api/v1/admin/{rest*}", "/portal",
                                "/portal/{rest*}", "/oauth/callback"}) {
      router_.add("*", pattern, elsewhere);
    }
  }

  // Tether as a resource server: the validator for callers' bearer tokens, its JWK Set
  // fetched now in the background (the first calls wait for it).
  std::shared_ptr<identity::Validator> startInboundValidator() {
    http::HttpClientOptions client_options;
    client_options.worker_threads = 1;  // send() only, on pools_.inbound
    inbound_http_ = http::makeHttpClient(client_options);
    issuer_client_ = std::make_unique<identity::IssuerClient>(
        *inbound_http_, identity::issuerClientOptionsFromConfig(config_));
    identity::ValidatorDeps deps;
    deps.clock = &clock_;
    deps.fetch_jwks = [client = issuer_client_.get()] { return client->fetchJwks(); };
    deps.introspect = [client = issuer_client_.get()](const std::string& token) {
      return client->introspect(token);
    };
    deps.run_blocking = [this](std::function<void()> task) {
      pools_.inbound.post(std::move(task));
    };
    auto validator = identity::Validator::create(
        identity::validatorOptionsFromConfig(config_.inbound), std::move(deps));
    validator->prefetch();
    core::log::info("inbound bearer tokens accepted", {{"issuer", config_.inbound.issuer}});
    return validator;
  }

  void addOperationalRoutes() {
    router_.add("GET", "/healthz", [](http::Request&, http::Responder r) {
      r.send(http::Response::json(200, R"({"status":"ok"})"));
    });
    addReadinessCheck("store", [this]() -> core::Status {
      store::Store* store = nullptr;
      std::string last;
      {
        std::lock_guard lock(mu_);
        store = store_.get();
        last = fatal_ ? fatal_->message : last_store_error_;
      }
      if (!store) {
        return core::Error(core::Errc::kUnavailable,
                           "store not open yet" + (last.empty() ? "" : ": " + last));
      }
      return store->ping();
    });
    // The store can be open while the lifecycle, flows and stored connections are still being
    // attached: until the bootstrap finishes, admin and connect routes answer 503, so a load
    // balancer must not send traffic yet.
    addReadinessCheck("startup", [this]() -> core::Status {
      if (ready_.load()) return core::Status{};
      return core::Error(core::Errc::kUnavailable,
                         "starting: connections, lifecycle and flows are not attached yet");
    });
    router_.add("GET", "/readyz", [this](http::Request&, http::Responder r) {
      // Checks may block briefly (a store round trip): never on the I/O thread.
      auto responder = std::make_shared<http::Responder>(std::move(r));
      pools_.blocking.post([this, responder] {
        auto& r = *responder;
        std::string failures;
        std::vector<std::pair<std::string, ReadinessCheck>> checks;
        {
          std::lock_guard lock(mu_);
          checks = checks_;
        }
        for (const auto& [name, check] : checks) {
          auto st = check();
          if (!st.ok()) {
            if (!failures.empty()) failures += ',';
            failures += "{\"check\":" + core::jsonString(name) +
                        ",\"error\":" + core::jsonString(st.error().message) + "}";
          }
        }
        if (failures.empty()) {
          r.send(http::Response::json(200, R"({"status":"ready"})"));
        } else {
          r.send(
              http::Response::json(503, R"({"status":"not_ready","failures":[)" + failures + "]}"));
        }
      });
    });
    router_.add("GET", "/metrics", [this](http::Request&, http::Responder r) {
      // The per-connection gauges read the store (lifecycle/state_metrics.h): off the I/O
      // thread, and before render() so the query runs outside the registry's lock.
      auto responder = std::make_shared<http::Responder>(std::move(r));
      pools_.blocking.post([this, responder] {
        if (auto* lc = lifecycle_ptr_.load(std::memory_order_acquire)) lc->collectMetrics();
        http::Response res;
        res.status = 200;
        res.headers.push_back({"Content-Type", "text/plain; version=0.0.4; charset=utf-8"});
        res.body = metrics_.render();
        responder->send(std::move(res));
      });
    });
  }

  config::Config config_;
  const core::Clock& clock_;
  core::MetricsRegistry metrics_;
  gateway::LastUseTracker last_use_{clock_};  // the proxy's "Last used" slots (outlives it)
  ProcessPools pools_;
  http::Router router_;
  http::Router admin_router_;                   // admin.listen: the admin API and the portal
  std::unique_ptr<gateway::Proxy> proxy_;       // outlives the server (late callbacks)
  std::unique_ptr<http::HttpClient> sso_http_;  // admin.sso's IdP calls; outlives admin_
  std::unique_ptr<admin::AdminApi> admin_;
  std::unique_ptr<LiveConnections> live_;  // after the proxy and admin API: it drives them
  std::unique_ptr<http::Server> server_;
  std::unique_ptr<http::Server> admin_server_;  // admin.listen only
  std::shared_ptr<http::TlsCredentials> tls_;   // server.tls: both listeners'; SIGHUP reloads
  std::shared_ptr<const store::Sealer> sealer_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::string gateway_url_;  // the data plane's base URL ("Use it"); guarded by mu_
  // Set under mu_ once the store opens; stopped in stop(), before the store goes.
  std::unique_ptr<gateway::LastUseFlusher> last_use_flusher_;
  std::thread bootstrap_;
  std::atomic<bool> ready_{false};
  std::optional<core::Error> fatal_;
  std::string last_store_error_;
  std::vector<std::pair<std::string, ReadinessCheck>> checks_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<http::HttpClient> http_client_;
  // `inbound:` only: the issuer's JWK Set and introspection, on pools_.inbound.
  std::unique_ptr<http::HttpClient> inbound_http_;
  std::unique_ptr<identity::IssuerClient> issuer_client_;
  std::unique_ptr<events::Recorder> recorder_;
  std::unique_ptr<lifecycle::Lifecycle> lifecycle_;
  std::unique_ptr<flows::Flows> flows_;
  std::unique_ptr<webhooks::Service> webhooks_;  // after the store: it uses it
  std::optional<std::vector<config::WebhookConfig>> pending_webhooks_;  // mu_; last reloaded
  std::unique_ptr<StoredConnections> stored_;  // declared ∪ stored (after the store)
  std::atomic<StoredConnections*> stored_ptr_{nullptr};
  std::function<core::Result<std::string>()> reload_;  // guarded by mu_
  std::mutex declared_mu_;  // a reload's declared list vs the stored set's start
  std::optional<std::vector<config::ConnectionConfig>> declared_;  // reloaded before it
  std::string config_file_;                                        // named in the API's 409
  std::atomic<webhooks::Service*> webhooks_ptr_{nullptr};
  std::atomic<flows::Flows*> flows_ptr_{nullptr};
  std::atomic<store::Store*> store_ptr_{nullptr};
  std::atomic<events::Recorder*> recorder_ptr_{nullptr};
  std::atomic<lifecycle::Lifecycle*> lifecycle_ptr_{nullptr};  // read per proxied request
};

Process::Process(config::Config config, const core::Clock& clock)
    : impl_(std::make_unique<Impl>(std::move(config), clock)) {}
Process::~Process() { stop(); }
core::Status Process::start() { return impl_->start(); }
void Process::stop() { impl_->stop(); }
uint16_t Process::port() const { return impl_->port(); }
core::Status Process::reloadTls(const config::TlsConfig& tls) { return impl_->reloadTls(tls); }
void Process::setAccessLog(bool on) { impl_->setAccessLog(on); }
void Process::setConfigFile(std::string path) { impl_->setConfigFile(std::move(path)); }
core::Result<bool> Process::applyDeclaredConnections(
    std::vector<config::ConnectionConfig> declared) {
  return impl_->applyDeclaredConnections(std::move(declared));
}
core::Status Process::applyWebhooks(std::vector<config::WebhookConfig> hooks) {
  return impl_->applyWebhooks(std::move(hooks));
}
void Process::setReloadHandler(std::function<core::Result<std::string>()> reload) {
  impl_->setReloadHandler(std::move(reload));
}
LiveConnections& Process::connections() { return impl_->connections(); }
core::MetricsRegistry& Process::metrics() { return impl_->metrics(); }
void Process::addReadinessCheck(std::string name, ReadinessCheck check) {
  impl_->addReadinessCheck(std::move(name), std::move(check));
}
bool Process::ready() const { return impl_->ready(); }
std::optional<core::Error> Process::fatalError() const { return impl_->fatalError(); }

}  // namespace tether::app

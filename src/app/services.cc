#include "app/services.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <boost/url/parse.hpp>

namespace tether::app {
namespace {

std::string hostOf(const std::string& url) {
  auto u = boost::urls::parse_uri(url);
  return u ? std::string(u->host()) : std::string();
}

store::ConnectionKey keyOf(const config::ConnectionConfig& c) {
  return {std::string(config::kindName(c.kind)), c.name};
}

oauth::ClientAuthStyle authStyle(config::ClientAuth a) {
  switch (a) {
    case config::ClientAuth::kBasic:
      return oauth::ClientAuthStyle::kBasic;
    case config::ClientAuth::kBasicRaw:
      return oauth::ClientAuthStyle::kBasicRaw;
    case config::ClientAuth::kPost:
      return oauth::ClientAuthStyle::kPost;
    case config::ClientAuth::kNone:
      return oauth::ClientAuthStyle::kNone;
  }
  return oauth::ClientAuthStyle::kNone;
}

}  // namespace

core::Result<std::shared_ptr<const store::Sealer>> makeSealer(const config::Config& config) {
  if (!config.encryption.hasKey()) {
    if (!config.storage.allow_plaintext) {
      return core::Error(core::Errc::kConfig,
                         "no encryption key: set encryption.key (or key_file), or "
                         "storage.allow_plaintext: true to store secrets unencrypted");
    }
    return std::shared_ptr<const store::Sealer>(store::makePlaintextSealer());
  }
  std::vector<store::SealingKey> keys;
  auto primary = store::SealingKey::fromBytes(config.encryption.key);
  if (!primary.ok())
    return core::Error(core::Errc::kConfig, "encryption.key: " + primary.error().message);
  keys.push_back(std::move(primary).value());
  for (size_t i = 0; i < config.encryption.previous_keys.size(); ++i) {
    auto k = store::SealingKey::fromBytes(config.encryption.previous_keys[i]);
    if (!k.ok()) {
      return core::Error(core::Errc::kConfig, "encryption.previous_keys[" + std::to_string(i) +
                                                  "]: " + k.error().message);
    }
    keys.push_back(std::move(k).value());
  }
  auto sealer = store::makeAesGcmSealer(std::move(keys));
  if (!sealer.ok())
    return core::Error(core::Errc::kConfig, "encryption: " + sealer.error().message);
  return std::shared_ptr<const store::Sealer>(std::move(sealer).value().release());
}

store::StoreOptions storeOptions(const config::Config& config,
                                 std::shared_ptr<const store::Sealer> sealer,
                                 const core::Clock* clock, int connect_attempts) {
  store::StoreOptions o;
  if (config.storage.driver == config::StorageDriver::kPostgres) {
    store::PostgresOptions pg;
    pg.dsn = config.storage.dsn;
    pg.pool_size = config.storage.pool_size;
    pg.connect_attempts = connect_attempts;
    o.backend = pg;
  } else {
    store::SqliteOptions sq;
    sq.path = config.storage.path;
    o.backend = sq;
  }
  o.sealer = std::move(sealer);
  o.clock = clock;
  return o;
}

http::ServerOptions serverOptions(const config::Config& config) {
  http::ServerOptions options;
  options.host = config.listen.host;
  options.port = config.listen.port;
  options.io_threads = static_cast<size_t>(config.server.io_threads);
  options.max_header_bytes = config.server.max_header_bytes;
  options.max_body_bytes = config.server.max_body_bytes;
  options.read_timeout = config.server.read_timeout;
  options.idle_timeout = config.server.idle_timeout;
  options.write_timeout = config.server.write_timeout;
  options.drain_timeout = config.server.drain_timeout;
  options.max_connections = config.server.max_connections;
  return options;
}

http::ServerOptions serverOptions(const config::Config& config, const config::HostPort& listen) {
  http::ServerOptions options = serverOptions(config);
  options.host = listen.host;
  options.port = listen.port;
  return options;
}

std::vector<store::ConnectionInfo> connectionInfos(const config::Config& config) {
  std::vector<store::ConnectionInfo> out;
  for (const auto& c : config.connections) {
    store::ConnectionInfo info;
    info.key = keyOf(c);
    info.auth_mode = std::string(config::authModeName(c.auth.mode));
    info.has_oauth = c.auth.oauth.has_value();
    if (c.auth.oauth) {
      info.idp_host =
          hostOf(!c.auth.oauth->token_url.empty() ? c.auth.oauth->token_url : c.auth.oauth->issuer);
    }
    out.push_back(std::move(info));
  }
  return out;
}

lifecycle::Settings lifecycleSettings(const config::Config& config) {
  lifecycle::Settings s;
  s.access_lead = config.keeper.access_lead;
  s.refresh_lead = config.keeper.refresh_lead;
  s.backoff_initial = config.keeper.backoff_initial;
  s.backoff_max = config.keeper.backoff_max;
  s.jitter = config.keeper.jitter;
  s.keeper_interval = config.keeper.interval;
  s.keeper_concurrency = config.keeper.concurrency;
  s.event_retention = config.events.retention;
  s.prune_interval = config.events.prune_interval;
  return s;
}

namespace {

// The configured OAuth settings of one connection (endpoints and client may be missing:
// the connect flow resolves them).
oauth::OAuthClientConfig oauthSettings(const config::ConnectionConfig& c) {
  const auto& o = *c.auth.oauth;
  oauth::OAuthClientConfig s;
  s.authorization_url = o.authorization_url;
  s.token_url = o.token_url;
  s.client_id = o.client_id.value_or("");
  s.client_secret = o.client_secret.value_or("");
  s.client_auth = authStyle(o.client_auth);
  s.resource = o.resource_indicator ? c.url : "";
  s.scopes = o.scopes;
  s.extra_params = o.extra_params;
  s.ca_bundle = o.ca_bundle;
  s.default_token_lifetime =
      std::chrono::duration_cast<std::chrono::seconds>(o.default_token_lifetime);
  return s;
}

}  // namespace

std::vector<lifecycle::ConnectionSpec> lifecycleSpecs(
    const config::Config& config, std::vector<store::ConnectionKey>* unresolved) {
  std::vector<lifecycle::ConnectionSpec> out;
  for (const auto& c : config.connections) {
    if (!c.auth.oauth) continue;
    const auto& o = *c.auth.oauth;
    lifecycle::ConnectionSpec s;
    s.key = keyOf(c);
    if (o.token_url.empty() && unresolved) unresolved->push_back(s.key);
    s.oauth = oauthSettings(c);
    s.client_credentials = o.grant == config::Grant::kClientCredentials;
    s.refresh_max_lifetime = o.refresh_max_lifetime;
    s.idp_host = hostOf(!o.token_url.empty() ? o.token_url : o.issuer);
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<flows::FlowConnection> flowConnections(const config::Config& config) {
  std::vector<flows::FlowConnection> out;
  for (const auto& c : config.connections) {
    if (!c.auth.oauth) continue;
    const auto& o = *c.auth.oauth;
    flows::FlowConnection f;
    f.key = keyOf(c);
    f.upstream_url = c.url;
    f.client_credentials = o.grant == config::Grant::kClientCredentials;
    f.issuer = o.issuer;
    f.oauth = oauthSettings(c);
    f.client_id_configured = o.client_id.has_value();
    out.push_back(std::move(f));
  }
  return out;
}

flows::FlowOptions flowOptions(const config::Config& config) {
  flows::FlowOptions o;
  o.public_url = config.public_url;
  o.allowed_hosts = config.discovery.allowed_hosts;
  return o;
}

std::vector<admin::ConnectionView> adminConnections(const config::Config& config) {
  std::vector<admin::ConnectionView> out;
  for (const auto& c : config.connections) {
    admin::ConnectionView v;
    v.key = keyOf(c);
    v.url_host = hostOf(c.url);
    v.auth_mode = std::string(config::authModeName(c.auth.mode));
    if (c.auth.oauth) v.refresh_max_lifetime = c.auth.oauth->refresh_max_lifetime;
    out.push_back(std::move(v));
  }
  return out;
}

std::string sessionSecret(const config::Config& config) {
  if (!config.encryption.hasKey()) return {};
  constexpr std::string_view label = "tether admin session v1";
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), config.encryption.key.data(), static_cast<int>(config.encryption.key.size()),
       reinterpret_cast<const unsigned char*>(label.data()), label.size(), out, &len);
  return std::string(reinterpret_cast<const char*>(out), len);
}

}  // namespace tether::app

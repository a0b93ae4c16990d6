// The effective configuration as YAML (secrets masked), and the list of secret values.

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <set>

#include "config/config.h"
#include "config/internal.h"
#include "core/duration.h"
#include "core/encoding.h"

namespace tether::config {
namespace {

std::string dur(milliseconds d) { return core::formatDuration(d); }
const char* yesNo(bool b) { return b ? "true" : "false"; }
std::string mask() { return std::string(kMask); }

/// Empty collections in flow style ("[]", "{}"): yaml-cpp puts block-style ones on a line
/// of their own, which reads oddly.
YAML::Emitter& beginSeq(YAML::Emitter& out, bool empty) {
  if (empty) out << YAML::Flow;
  return out << YAML::BeginSeq;
}
YAML::Emitter& beginMap(YAML::Emitter& out, bool empty) {
  if (empty) out << YAML::Flow;
  return out << YAML::BeginMap;
}

std::string_view levelName(core::LogLevel level) {
  switch (level) {
    case core::LogLevel::kDebug:
      return "debug";
    case core::LogLevel::kInfo:
      return "info";
    case core::LogLevel::kWarn:
      return "warn";
    case core::LogLevel::kError:
      return "error";
  }
  return "info";
}

void emitKeys(YAML::Emitter& out, const std::vector<AccessKey>& keys) {
  out << YAML::Key << "keys" << YAML::Value;
  beginSeq(out, keys.empty());
  for (const AccessKey& k : keys) {
    out << YAML::Flow << YAML::BeginMap;
    out << YAML::Key << "id" << YAML::Value << k.id;
    // A hash-only entry stays a hash entry; both forms are masked.
    out << YAML::Key << (k.key.empty() ? "sha256" : "key") << YAML::Value << mask();
    if (k.read_only) out << YAML::Key << "role" << YAML::Value << "viewer";
    out << YAML::EndMap;
  }
  out << YAML::EndSeq;
}

void emitAuth(YAML::Emitter& out, const AuthConfig& auth) {
  out << YAML::Key << "auth" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "mode" << YAML::Value << std::string(authModeName(auth.mode));
  switch (auth.mode) {
    case AuthMode::kNone:
      break;
    case AuthMode::kBearer:
      out << YAML::Key << "token" << YAML::Value << mask();
      break;
    case AuthMode::kApiKey:
      out << YAML::Key << "header" << YAML::Value << auth.api_key_header;
      out << YAML::Key << "key" << YAML::Value << mask();
      break;
    case AuthMode::kOAuth: {
      const OAuthConfig& o = *auth.oauth;
      out << YAML::Key << "grant" << YAML::Value << std::string(grantName(o.grant));
      if (!o.issuer.empty()) out << YAML::Key << "issuer" << YAML::Value << o.issuer;
      if (!o.authorization_url.empty()) {
        out << YAML::Key << "authorization_url" << YAML::Value << o.authorization_url;
      }
      if (!o.token_url.empty()) out << YAML::Key << "token_url" << YAML::Value << o.token_url;
      if (o.client_id) out << YAML::Key << "client_id" << YAML::Value << *o.client_id;
      if (o.client_secret) out << YAML::Key << "client_secret" << YAML::Value << mask();
      out << YAML::Key << "client_auth" << YAML::Value
          << std::string(clientAuthName(o.client_auth));
      out << YAML::Key << "scopes" << YAML::Value << YAML::DoubleQuoted << o.scopes;
      if (!o.extra_params.empty()) {
        out << YAML::Key << "extra_params" << YAML::Value << YAML::BeginMap;
        for (const auto& [k, v] : o.extra_params) out << YAML::Key << k << YAML::Value << v;
        out << YAML::EndMap;
      }
      out << YAML::Key << "resource_indicator" << YAML::Value << yesNo(o.resource_indicator);
      if (o.refresh_max_lifetime) {
        out << YAML::Key << "refresh_max_lifetime" << YAML::Value << dur(*o.refresh_max_lifetime);
      }
      out << YAML::Key << "default_token_lifetime" << YAML::Value << dur(o.default_token_lifetime);
      if (!o.ca_bundle.empty()) out << YAML::Key << "ca_bundle" << YAML::Value << o.ca_bundle;
      break;
    }
  }
  out << YAML::EndMap;
}

void emitInbound(YAML::Emitter& out, const InboundConfig& in) {
  out << YAML::Key << "inbound" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "issuer" << YAML::Value << in.issuer;
  if (!in.audience.empty()) out << YAML::Key << "audience" << YAML::Value << in.audience;
  if (!in.jwks_uri.empty()) out << YAML::Key << "jwks_uri" << YAML::Value << in.jwks_uri;
  out << YAML::Key << "algorithms" << YAML::Value << YAML::Flow << YAML::BeginSeq;
  for (const std::string& a : in.algorithms) out << a;
  out << YAML::EndSeq;
  out << YAML::Key << "clock_skew" << YAML::Value << dur(in.clock_skew);
  out << YAML::Key << "required_scopes" << YAML::Value << YAML::Flow << YAML::BeginSeq;
  for (const std::string& s : in.required_scopes) out << s;
  out << YAML::EndSeq;
  out << YAML::Key << "subject_claim" << YAML::Value << in.subject_claim;
  if (!in.groups_claim.empty()) {
    out << YAML::Key << "groups_claim" << YAML::Value << in.groups_claim;
  }
  if (!in.introspection.endpoint.empty()) {
    out << YAML::Key << "introspection" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "endpoint" << YAML::Value << in.introspection.endpoint;
    out << YAML::Key << "client_id" << YAML::Value << in.introspection.client_id;
    out << YAML::Key << "client_secret" << YAML::Value << mask();
    out << YAML::EndMap;
  }
  out << YAML::EndMap;
}

}  // namespace

std::string renderEffectiveConfig(const Config& c) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  out << YAML::Key << "listen" << YAML::Value << c.listen.toString();
  out << YAML::Key << "public_url" << YAML::Value << c.public_url;
  if (!c.client_metadata_url.empty()) {
    out << YAML::Key << "client_metadata_url" << YAML::Value << c.client_metadata_url;
  }

  out << YAML::Key << "log" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "level" << YAML::Value << std::string(levelName(c.log.level));
  out << YAML::Key << "format" << YAML::Value
      << (c.log.format == core::log::Format::kJson ? "json" : "text");
  out << YAML::Key << "access" << YAML::Value << c.log.access;
  out << YAML::EndMap;

  out << YAML::Key << "server" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "io_threads" << YAML::Value << c.server.io_threads;
  out << YAML::Key << "max_header_bytes" << YAML::Value << c.server.max_header_bytes;
  out << YAML::Key << "max_body_bytes" << YAML::Value << c.server.max_body_bytes;
  out << YAML::Key << "read_timeout" << YAML::Value << dur(c.server.read_timeout);
  out << YAML::Key << "idle_timeout" << YAML::Value << dur(c.server.idle_timeout);
  out << YAML::Key << "write_timeout" << YAML::Value << dur(c.server.write_timeout);
  out << YAML::Key << "drain_timeout" << YAML::Value << dur(c.server.drain_timeout);
  out << YAML::Key << "max_connections" << YAML::Value << c.server.max_connections;
  out << YAML::Key << "allowed_hosts" << YAML::Value;
  beginSeq(out, c.server.allowed_hosts.empty());
  for (const std::string& h : c.server.allowed_hosts) out << h;
  out << YAML::EndSeq;
  if (c.server.tls) {
    out << YAML::Key << "tls" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "cert" << YAML::Value << c.server.tls->cert_file;
    out << YAML::Key << "key" << YAML::Value << c.server.tls->key_file;
    out << YAML::EndMap;
  }
  out << YAML::EndMap;

  out << YAML::Key << "storage" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "driver" << YAML::Value << std::string(storageDriverName(c.storage.driver));
  if (c.storage.driver == StorageDriver::kSqlite) {
    out << YAML::Key << "path" << YAML::Value << c.storage.path;
  } else {
    out << YAML::Key << "dsn" << YAML::Value << internal::maskDsnPassword(c.storage.dsn);
    out << YAML::Key << "pool_size" << YAML::Value << c.storage.pool_size;
  }
  out << YAML::Key << "allow_plaintext" << YAML::Value << yesNo(c.storage.allow_plaintext);
  out << YAML::EndMap;

  out << YAML::Key << "encryption" << YAML::Value;
  beginMap(out, !c.encryption.hasKey() && c.encryption.previous_keys.empty());
  if (!c.encryption.key_file.empty()) {
    out << YAML::Key << "key_file" << YAML::Value << c.encryption.key_file;
  } else if (c.encryption.hasKey()) {
    out << YAML::Key << "key" << YAML::Value << mask();
  }
  if (!c.encryption.previous_keys.empty()) {
    out << YAML::Key << "previous_keys" << YAML::Value << YAML::Flow << YAML::BeginSeq;
    for (size_t i = 0; i < c.encryption.previous_keys.size(); ++i) out << mask();
    out << YAML::EndSeq;
  }
  out << YAML::EndMap;

  out << YAML::Key << "admin" << YAML::Value << YAML::BeginMap;
  if (c.admin.listen) out << YAML::Key << "listen" << YAML::Value << c.admin.listen->toString();
  emitKeys(out, c.admin.keys);
  if (c.admin.sso) {
    const SsoConfig& sso = *c.admin.sso;
    auto list = [&](const char* key, const std::vector<std::string>& values) {
      out << YAML::Key << key << YAML::Value << YAML::Flow << YAML::BeginSeq;
      for (const std::string& v : values) out << v;
      out << YAML::EndSeq;
    };
    out << YAML::Key << "sso" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "issuer" << YAML::Value << sso.issuer;
    out << YAML::Key << "client_id" << YAML::Value << sso.client_id;
    if (!sso.client_secret.empty()) out << YAML::Key << "client_secret" << YAML::Value << mask();
    out << YAML::Key << "scopes" << YAML::Value << sso.scopes;
    if (!sso.display_name.empty()) {
      out << YAML::Key << "display_name" << YAML::Value << sso.display_name;
    }
    out << YAML::Key << "groups_claim" << YAML::Value << sso.groups_claim;
    list("admin_groups", sso.admin_groups);
    list("admin_subjects", sso.admin_subjects);
    list("viewer_groups", sso.viewer_groups);
    list("viewer_subjects", sso.viewer_subjects);
    if (!sso.ca_bundle.empty()) out << YAML::Key << "ca_bundle" << YAML::Value << sso.ca_bundle;
    out << YAML::EndMap;
  }
  out << YAML::EndMap;
  out << YAML::Key << "clients" << YAML::Value << YAML::BeginMap;
  emitKeys(out, c.clients.keys);
  out << YAML::EndMap;

  out << YAML::Key << "allowed_origins" << YAML::Value;
  beginSeq(out, c.allowed_origins.empty());
  for (const std::string& o : c.allowed_origins) out << o;
  out << YAML::EndSeq;

  const KeeperConfig& k = c.keeper;
  out << YAML::Key << "keeper" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "interval" << YAML::Value << dur(k.interval);
  out << YAML::Key << "access_lead" << YAML::Value << dur(k.access_lead);
  out << YAML::Key << "refresh_lead" << YAML::Value << dur(k.refresh_lead);
  out << YAML::Key << "concurrency" << YAML::Value << k.concurrency;
  out << YAML::Key << "jitter" << YAML::Value << dur(k.jitter);
  out << YAML::Key << "backoff_initial" << YAML::Value << dur(k.backoff_initial);
  out << YAML::Key << "backoff_max" << YAML::Value << dur(k.backoff_max);
  out << YAML::Key << "default_token_lifetime" << YAML::Value << dur(k.default_token_lifetime);
  out << YAML::EndMap;

  out << YAML::Key << "events" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "retention" << YAML::Value << dur(c.events.retention);
  out << YAML::Key << "prune_interval" << YAML::Value << dur(c.events.prune_interval);
  out << YAML::EndMap;

  out << YAML::Key << "discovery" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "allowed_hosts" << YAML::Value;
  beginSeq(out, c.discovery.allowed_hosts.empty());
  for (const std::string& h : c.discovery.allowed_hosts) out << h;
  out << YAML::EndSeq;
  out << YAML::EndMap;

  out << YAML::Key << "webhooks" << YAML::Value;
  beginSeq(out, c.webhooks.empty());
  for (const WebhookConfig& w : c.webhooks) {
    out << YAML::BeginMap;
    out << YAML::Key << "url" << YAML::Value << w.maskedUrl();
    out << YAML::Key << "secret" << YAML::Value << mask();
    out << YAML::Key << "events" << YAML::Value << YAML::Flow << YAML::BeginSeq;
    for (WebhookEvent e : w.events) out << std::string(webhookEventName(e));
    out << YAML::EndSeq;
    if (!w.headers.empty()) {
      out << YAML::Key << "headers" << YAML::Value << YAML::BeginMap;
      for (const auto& [name, value] : w.headers) out << YAML::Key << name << YAML::Value << mask();
      out << YAML::EndMap;
    }
    if (!w.ca_bundle.empty()) out << YAML::Key << "ca_bundle" << YAML::Value << w.ca_bundle;
    out << YAML::EndMap;
  }
  out << YAML::EndSeq;

  const WebhookDeliveryConfig& wd = c.webhook_delivery;
  out << YAML::Key << "webhook_delivery" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "warn_before" << YAML::Value << dur(wd.warn_before);
  out << YAML::Key << "max_age" << YAML::Value << dur(wd.max_age);
  out << YAML::Key << "timeout" << YAML::Value << dur(wd.timeout);
  out << YAML::Key << "backoff_initial" << YAML::Value << dur(wd.backoff_initial);
  out << YAML::Key << "backoff_max" << YAML::Value << dur(wd.backoff_max);
  out << YAML::Key << "poll_interval" << YAML::Value << dur(wd.poll_interval);
  out << YAML::Key << "deadline_scan_interval" << YAML::Value << dur(wd.deadline_scan_interval);
  out << YAML::Key << "concurrency" << YAML::Value << wd.concurrency;
  out << YAML::EndMap;

  if (c.inbound.enabled) emitInbound(out, c.inbound);

  out << YAML::Key << "connections" << YAML::Value;
  beginSeq(out, c.connections.empty());
  for (const ConnectionConfig& conn : c.connections) {
    out << YAML::BeginMap;
    out << YAML::Key << "kind" << YAML::Value << std::string(kindName(conn.kind));
    out << YAML::Key << "name" << YAML::Value << conn.name;
    out << YAML::Key << "url" << YAML::Value << conn.url;
    if (conn.timeout) out << YAML::Key << "timeout" << YAML::Value << dur(*conn.timeout);
    out << YAML::Key << "forward_set_cookie" << YAML::Value << yesNo(conn.forward_set_cookie);
    emitAuth(out, conn.auth);
    out << YAML::EndMap;
  }
  out << YAML::EndSeq;

  out << YAML::EndMap;
  std::string text = out.c_str();
  text += '\n';
  return text;
}

std::vector<std::string> secretValues(const Config& c) {
  std::vector<std::string> out;
  auto add = [&](const std::string& v) {
    if (!v.empty()) out.push_back(v);
  };
  auto addKey32 = [&](const std::string& raw) {
    if (raw.empty()) return;
    std::string hex = core::hexEncode(raw);
    add(hex);
    std::string upper = hex;
    std::transform(upper.begin(), upper.end(), upper.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::toupper(ch)); });
    add(upper);
    add(core::base64Encode(raw));
    add(core::base64UrlEncode(raw));
  };
  addKey32(c.encryption.key);
  for (const std::string& k : c.encryption.previous_keys) addKey32(k);
  for (const AccessKey& k : c.admin.keys) add(k.key);
  for (const AccessKey& k : c.clients.keys) add(k.key);
  if (c.admin.sso) add(c.admin.sso->client_secret);
  for (const WebhookConfig& w : c.webhooks) {
    add(w.secret);
    // The signing key as the secret's Base64 part (what a log might show of it).
    if (w.secret.starts_with("whsec_")) add(w.secret.substr(6));
    for (const auto& [name, value] : w.headers) add(value);
  }
  if (c.storage.driver == StorageDriver::kPostgres) {
    for (const std::string& p : internal::dsnPasswords(c.storage.dsn)) add(p);
  }
  for (const ConnectionConfig& conn : c.connections) {
    add(conn.auth.bearer_token);
    add(conn.auth.api_key);
    if (conn.auth.oauth && conn.auth.oauth->client_secret) add(*conn.auth.oauth->client_secret);
  }
  add(c.inbound.introspection.client_secret);
  std::set<std::string> seen;
  std::vector<std::string> unique;
  for (std::string& v : out) {
    if (seen.insert(v).second) unique.push_back(std::move(v));
  }
  return unique;
}

}  // namespace tether::config

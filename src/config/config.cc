#include "config/config.h"

#include <boost/url/parse.hpp>
#include <cstdlib>

namespace tether::config {

std::string_view kindName(ConnectionKind kind) {
  switch (kind) {
    case ConnectionKind::kMcp:
      return "mcp";
    case ConnectionKind::kApi:
      return "api";
  }
  return "unknown";
}

std::string_view authModeName(AuthMode mode) {
  switch (mode) {
    case AuthMode::kNone:
      return "none";
    case AuthMode::kBearer:
      return "bearer";
    case AuthMode::kApiKey:
      return "api_key";
    case AuthMode::kOAuth:
      return "oauth";
  }
  return "unknown";
}

std::string_view grantName(Grant grant) {
  switch (grant) {
    case Grant::kAuthorizationCode:
      return "authorization_code";
    case Grant::kClientCredentials:
      return "client_credentials";
  }
  return "unknown";
}

std::string_view clientAuthName(ClientAuth auth) {
  switch (auth) {
    case ClientAuth::kBasic:
      return "basic";
    case ClientAuth::kBasicRaw:
      return "basic_raw";
    case ClientAuth::kPost:
      return "post";
    case ClientAuth::kNone:
      return "none";
  }
  return "unknown";
}

std::string_view storageDriverName(StorageDriver d) {
  switch (d) {
    case StorageDriver::kSqlite:
      return "sqlite";
    case StorageDriver::kPostgres:
      return "postgres";
  }
  return "unknown";
}

std::string_view webhookEventName(WebhookEvent event) {
  switch (event) {
    case WebhookEvent::kNeedsReauth:
      return "needs_reauth";
    case WebhookEvent::kNeedsClientFix:
      return "needs_client_fix";
    case WebhookEvent::kRefreshFailing:
      return "refresh_failing";
    case WebhookEvent::kRecovered:
      return "recovered";
    case WebhookEvent::kConnected:
      return "connected";
    case WebhookEvent::kReauthorizeSoon:
      return "reauthorize_soon";
  }
  return "unknown";
}

std::string WebhookConfig::maskedUrl() const {
  const size_t cut = url.find_first_of("?#");
  if (cut == std::string::npos) return url;
  return url.substr(0, cut) + (url[cut] == '?' ? "?" : "#") + std::string(kMask);
}

std::optional<ConnectionKind> parseConnectionKind(std::string_view text) {
  if (text == "mcp") return ConnectionKind::kMcp;
  if (text == "api") return ConnectionKind::kApi;
  return std::nullopt;
}

std::string urlHost(std::string_view url) {
  auto u = boost::urls::parse_uri(url);
  return u ? std::string(u->host()) : std::string();
}

std::string idpHost(const OAuthConfig& oauth) {
  return urlHost(!oauth.token_url.empty() ? oauth.token_url : oauth.issuer);
}

std::string HostPort::toString() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return h + ":" + std::to_string(port);
}

const ConnectionConfig* Config::findConnection(ConnectionKind kind, std::string_view name) const {
  for (const ConnectionConfig& c : connections) {
    if (c.kind == kind && c.name == name) return &c;
  }
  return nullptr;
}

EnvLookup processEnv() {
  return [](std::string_view name) -> std::optional<std::string> {
    const char* v = std::getenv(std::string(name).c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

}  // namespace tether::config

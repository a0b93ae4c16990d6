// connections: each upstream's kind, name, URL and auth (none, bearer, api_key, oauth).

#include <cctype>
#include <map>
#include <set>

#include "config/internal.h"
#include "config/sections/sections.h"

namespace tether::config::sections {
namespace {

/// Line of the first use of each (kind, name): names are unique per kind.
using NameLines = std::map<std::pair<ConnectionKind, std::string>, int>;

/// RFC 7230 token characters (header names).
bool isHeaderName(std::string_view s) {
  if (s.empty() || s.size() > 256) return false;
  for (unsigned char c : s) {
    if (std::isalnum(c)) continue;
    if (std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) == std::string_view::npos) {
      return false;
    }
  }
  return true;
}

void parseOAuth(Reader& r, const MapEntries& m, AuthConfig& auth, ConnectionKind kind,
                bool& own_lifetime) {
  OAuthConfig o;
  if (const Entry* g = m.get("grant")) {
    auto v = r.oneOf<Grant>(*g, {{"authorization_code", Grant::kAuthorizationCode},
                                 {"client_credentials", Grant::kClientCredentials}});
    if (!v) return;
    o.grant = *v;
  }
  const bool code_grant = o.grant == Grant::kAuthorizationCode;
  if (const Entry* e = m.get("issuer")) {
    if (auto v = r.httpUrl(*e, /*allow_query=*/false)) o.issuer = *v;
  }
  if (const Entry* e = m.get("authorization_url")) {
    if (!code_grant) {
      r.forbidden(m, "authorization_url", "only used with grant authorization_code");
    } else if (auto v = r.httpUrl(*e)) {
      o.authorization_url = *v;
    }
  }
  if (const Entry* e = m.get("token_url")) {
    if (auto v = r.httpUrl(*e)) o.token_url = *v;
  }
  // Endpoint requirements look at which keys are present, so that a malformed URL is
  // reported once rather than also as "missing".
  // An MCP connection with neither an issuer nor endpoints finds its authorization server
  // from the upstream (the MCP authorization spec's discovery) when it is connected.
  const bool mcp_discovery = kind == ConnectionKind::kMcp && code_grant &&
                             !m.has("authorization_url") && !m.has("token_url");
  if (!m.has("issuer") && !mcp_discovery) {
    if (code_grant && !m.has("authorization_url")) {
      r.required(m, "authorization_url",
                 "the IdP's authorization endpoint URL when auth.issuer is not set");
    }
    if (!m.has("token_url")) {
      r.required(m, "token_url", "the IdP's token endpoint URL when auth.issuer is not set");
    }
  }
  if (const Entry* e = m.get("client_id")) {
    if (auto v = r.nonEmpty(*e, "a client id")) o.client_id = *v;
  } else if (!code_grant) {
    r.required(m, "client_id", "the client id registered at the IdP (grant client_credentials)");
  }
  const Entry* secret_entry = m.get("client_secret");
  if (secret_entry) {
    if (auto v = r.secret(*secret_entry, "a client secret")) o.client_secret = *v;
    if (!m.has("client_id")) {
      r.forbidden(m, "client_secret",
                  "needs auth.client_id (a secret without a client id is unused)");
    }
  }
  if (const Entry* e = m.get("client_auth")) {
    auto v = r.oneOf<ClientAuth>(*e, {{"basic", ClientAuth::kBasic},
                                      {"basic_raw", ClientAuth::kBasicRaw},
                                      {"post", ClientAuth::kPost},
                                      {"none", ClientAuth::kNone}});
    if (v) {
      o.client_auth = *v;
      if (*v != ClientAuth::kNone && !secret_entry) {
        r.error(*e, "client_auth " + std::string(clientAuthName(*v)) +
                        " needs auth.client_secret (or use client_auth: none for a public client)");
      } else if (*v == ClientAuth::kNone && secret_entry) {
        r.forbidden(m, "client_secret",
                    "set but client_auth is none, so it would never be sent; remove it or choose "
                    "basic, basic_raw or post");
      }
    }
  } else {
    o.client_auth = secret_entry ? ClientAuth::kBasic : ClientAuth::kNone;
    if (!code_grant && !secret_entry) {
      r.required(m, "client_secret",
                 "a client secret: grant client_credentials needs one unless client_auth is none");
    }
  }
  if (const Entry* e = m.get("scopes")) {
    if (auto v = r.str(*e, "a space-separated scope string")) o.scopes = *v;
  }
  if (const Entry* e = m.get("extra_params")) {
    // Parameters Tether sets itself must not be overridden from the file.
    static const std::set<std::string, std::less<>> kReserved = {
        "response_type",         "client_id",     "redirect_uri", "state",      "code_challenge",
        "code_challenge_method", "scope",         "resource",     "grant_type", "code",
        "code_verifier",         "client_secret", "refresh_token"};
    if (e->value.IsMap()) {
      std::map<std::string, int> seen;
      for (auto it = e->value.begin(); it != e->value.end(); ++it) {
        Entry key_entry{it->first, lineOf(it->first, e->line), e->path};
        if (!it->first.IsScalar() || it->first.Scalar().empty()) {
          r.error(key_entry, "expected parameter names, got " + std::string(typeName(it->first)));
          continue;
        }
        std::string name = it->first.Scalar();
        Entry value{it->second, key_entry.line,
                    childPath(e->path, isPlainKey(name) ? name : quote(name))};
        if (kReserved.count(name)) {
          r.error(value, "reserved: Tether sets this parameter itself");
          continue;
        }
        if (auto dup = seen.find(name); dup != seen.end()) {
          r.error(value, "duplicate key (first set at line " + std::to_string(dup->second) + ")");
          continue;
        }
        seen.emplace(name, value.line);
        if (auto v = r.str(value, "a string value")) o.extra_params.emplace_back(name, *v);
      }
    } else if (!isNull(e->value)) {
      r.error(*e, "expected a map of parameter names to values, got " +
                      std::string(typeName(e->value)));
    }
  }
  if (const Entry* e = m.get("resource_indicator")) {
    if (auto v = r.boolean(*e)) o.resource_indicator = *v;
  }
  if (const Entry* e = m.get("refresh_max_lifetime")) o.refresh_max_lifetime = r.duration(*e);
  if (const Entry* e = m.get("default_token_lifetime")) {
    own_lifetime = true;
    if (auto v = r.duration(*e)) o.default_token_lifetime = *v;
  }
  if (const Entry* e = m.get("ca_bundle")) {
    if (auto v = r.readableFile(*e)) o.ca_bundle = *v;
  }
  auth.oauth = std::move(o);
}

void parseAuth(Reader& r, const Entry& e, ConnectionConfig& conn, bool& own_lifetime) {
  auto m = r.readMap(
      e, {"mode", "token", "header", "key", "grant", "issuer", "authorization_url", "token_url",
          "client_id", "client_secret", "client_auth", "scopes", "extra_params",
          "resource_indicator", "refresh_max_lifetime", "default_token_lifetime", "ca_bundle"});
  if (!m) return;
  AuthConfig& auth = conn.auth;
  if (const Entry* mode = m->get("mode")) {
    auto v = r.oneOf<AuthMode>(*mode, {{"none", AuthMode::kNone},
                                       {"bearer", AuthMode::kBearer},
                                       {"api_key", AuthMode::kApiKey},
                                       {"oauth", AuthMode::kOAuth}});
    if (!v) return;  // the other keys cannot be judged without a mode
    auth.mode = *v;
  }
  // Keys that belong to one mode only.
  auto modeOfKey = [](std::string_view key) {
    if (key == "mode") return std::optional<AuthMode>();
    if (key == "token") return std::optional<AuthMode>(AuthMode::kBearer);
    if (key == "header" || key == "key") return std::optional<AuthMode>(AuthMode::kApiKey);
    return std::optional<AuthMode>(AuthMode::kOAuth);
  };
  bool misplaced = false;
  for (const auto& [key, entry] : m->entries()) {
    std::optional<AuthMode> owner = modeOfKey(key);
    if (owner && *owner != auth.mode) {
      r.error(entry, "only allowed with mode " + std::string(authModeName(*owner)) +
                         " (this connection's mode is " + std::string(authModeName(auth.mode)) +
                         (m->has("mode") ? "" : ", the default") + ")");
      misplaced = true;
    }
  }
  if (misplaced) return;
  switch (auth.mode) {
    case AuthMode::kNone:
      break;
    case AuthMode::kBearer:
      if (const Entry* t = m->get("token")) {
        if (auto v = r.secret(*t, "a bearer token")) {
          if (isHeaderSafeCredential(*v)) {
            auth.bearer_token = *v;
          } else {
            r.error(*t, "must not contain spaces or control characters (value <hidden>)");
          }
        }
      } else {
        r.required(*m, "token", "the bearer token, e.g. ${UPSTREAM_TOKEN}");
      }
      break;
    case AuthMode::kApiKey:
      if (const Entry* h = m->get("header")) {
        if (auto v = r.nonEmpty(*h, "a header name such as X-Api-Key")) {
          if (isHeaderName(*v)) {
            auth.api_key_header = *v;
          } else {
            r.error(*h, "expected a header name such as X-Api-Key, got " + quote(*v));
          }
        }
      }
      if (const Entry* k = m->get("key")) {
        if (auto v = r.secret(*k, "an API key")) {
          if (isHeaderSafeCredential(*v)) {
            auth.api_key = *v;
          } else {
            r.error(*k, "must not contain spaces or control characters (value <hidden>)");
          }
        }
      } else {
        r.required(*m, "key", "the API key, e.g. ${UPSTREAM_API_KEY}");
      }
      break;
    case AuthMode::kOAuth:
      parseOAuth(r, *m, auth, conn.kind, own_lifetime);
      break;
  }
}

void parseConnection(Reader& r, const Entry& e, NameLines& name_lines,
                     std::vector<ConnectionConfig>& out, std::vector<bool>& own_token_lifetime) {
  auto m = r.readMap(e, {"kind", "name", "url", "timeout", "forward_set_cookie", "auth"});
  if (!m) return;
  ConnectionConfig conn;
  conn.source_line = e.line;
  bool ok = true;
  if (const Entry* k = m->get("kind")) {
    auto kind =
        r.oneOf<ConnectionKind>(*k, {{"mcp", ConnectionKind::kMcp}, {"api", ConnectionKind::kApi}});
    ok = ok && kind.has_value();
    if (kind) conn.kind = *kind;
  } else {
    r.required(*m, "kind", "one of mcp, api");
    ok = false;
  }
  const Entry* name_entry = m->get("name");
  if (name_entry) {
    auto name = r.nonEmpty(*name_entry, "a name matching " + std::string(internal::kNamePattern));
    if (name && !internal::isValidName(*name)) {
      r.error(*name_entry,
              "expected a name matching " + std::string(internal::kNamePattern) +
                  " (lower-case letters, digits, _ and -, at most 63 characters), got " +
                  quote(*name));
      name.reset();
    }
    ok = ok && name.has_value();
    if (name) conn.name = *name;
  } else {
    r.required(*m, "name", "a name matching " + std::string(internal::kNamePattern));
    ok = false;
  }
  if (ok && conn.kind == ConnectionKind::kApi && conn.name == "v1") {
    // /api/v1/... is the admin API: an API connection of that name could never be reached.
    r.error(*name_entry,
            "\"v1\" is reserved for Tether's admin API (/api/v1/admin); choose "
            "another name for this api connection");
    ok = false;
  }
  if (ok) {
    auto [first, inserted] =
        name_lines.emplace(std::make_pair(conn.kind, conn.name), name_entry->line);
    if (!inserted) {
      r.error(*name_entry, "duplicate " + std::string(kindName(conn.kind)) + " connection name " +
                               quote(conn.name) + " (first defined at line " +
                               std::to_string(first->second) + "; names are unique per kind)");
      ok = false;
    }
  }
  if (const Entry* u = m->get("url")) {
    auto url = r.httpUrl(*u);
    ok = ok && url.has_value();
    if (url) conn.url = *url;
  } else {
    r.required(*m, "url", "the upstream's absolute http(s) URL");
    ok = false;
  }
  if (const Entry* t = m->get("timeout")) {
    auto d = r.duration(*t);
    ok = ok && d.has_value();
    conn.timeout = d;
  }
  if (const Entry* f = m->get("forward_set_cookie")) {
    auto v = r.boolean(*f);
    ok = ok && v.has_value();
    conn.forward_set_cookie = v.value_or(false);
  }
  size_t errors_before = r.errorCount();
  bool own_lifetime = false;
  if (const Entry* a = m->get("auth")) parseAuth(r, *a, conn, own_lifetime);
  ok = ok && r.errorCount() == errors_before;
  if (!ok) return;
  out.push_back(std::move(conn));
  own_token_lifetime.push_back(own_lifetime);
}

}  // namespace

void parseConnections(Reader& r, const Entry& e, std::vector<ConnectionConfig>& out,
                      std::vector<bool>& own_token_lifetime) {
  auto items = r.readList(e);
  if (!items) return;
  NameLines name_lines;
  for (const Entry& item : *items) parseConnection(r, item, name_lines, out, own_token_lifetime);
}

}  // namespace tether::config::sections

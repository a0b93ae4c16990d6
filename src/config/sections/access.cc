// admin, clients and allowed_origins: who may use the admin API, the portal and the data
// plane.

#include <cctype>
#include <map>

#include "config/internal.h"
#include "config/sections/sections.h"
#include "core/digest.h"
#include "core/encoding.h"
#include "core/origin.h"

namespace tether::config::sections {
namespace {

constexpr size_t kMinAccessKeyChars = 16;
constexpr size_t kMaxAccessKeyChars = 4096;

bool isHex64(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

/// admin.keys or clients.keys; ids of string forms are "<id_prefix>-N".
void parseKeys(Reader& r, const Entry& e, std::string_view id_prefix, std::vector<AccessKey>& out,
               KeyOrigins& origins) {
  auto items = r.readList(e);
  if (!items) return;
  constexpr std::string_view kForms =
      "a key string, \"sha256:<64 hex>\", {id, key} or {id, sha256} (admin keys: plus role)";
  std::map<std::string, int> ids;
  for (size_t i = 0; i < items->size(); ++i) {
    const Entry& item = (*items)[i];
    AccessKey k;
    std::optional<std::string> plain;
    std::optional<std::string> hash_hex;
    std::optional<MapEntries> m;  // outlives key_entry, which may point into it
    const Entry* key_entry = &item;
    int id_line = item.line;
    std::string id_path = item.path;  // string forms have no id key of their own
    if (item.value.IsScalar()) {
      k.id = std::string(id_prefix) + "-" + std::to_string(i + 1);
      auto text = r.secret(item, kForms);
      if (!text) continue;
      if (text->starts_with("sha256:")) {
        hash_hex = text->substr(7);
      } else {
        plain = *text;
      }
    } else if (item.value.IsMap()) {
      m = r.readMap(item, {"id", "key", "sha256", "role"});
      if (!m) continue;
      if (const Entry* role = m->get("role")) {
        if (id_prefix != "admin") {
          r.forbidden(*m, "role", "only admin keys have a role");
          continue;
        }
        auto v = r.oneOf<bool>(*role, {{"admin", false}, {"viewer", true}});
        if (!v) continue;
        k.read_only = *v;
      }
      if (const Entry* id = m->get("id")) {
        auto v = r.nonEmpty(*id, "an id matching " + std::string(internal::kNamePattern));
        if (!v) continue;
        if (!internal::isValidName(*v)) {
          r.error(*id, "expected an id matching " + std::string(internal::kNamePattern) + ", got " +
                           quote(*v));
          continue;
        }
        k.id = *v;
        id_line = id->line;
        id_path = id->path;
      } else {
        r.required(*m, "id", "a name for this key, shown in logs and events");
        continue;
      }
      const Entry* key = m->get("key");
      const Entry* sha = m->get("sha256");
      if (key && sha) {
        r.error(sha->line, sha->path, "key and sha256 are exclusive; keep one");
        continue;
      }
      if (!key && !sha) {
        r.required(*m, "key", "the key itself, or sha256 with its SHA-256 in hex");
        continue;
      }
      key_entry = key ? key : sha;
      auto text =
          r.secret(*key_entry, key ? "a key of at least 16 characters" : "64 hex characters");
      if (!text) continue;
      if (key) {
        plain = *text;
      } else {
        hash_hex = *text;
      }
    } else {
      r.error(item,
              "expected " + std::string(kForms) + ", got " + std::string(typeName(item.value)));
      continue;
    }
    if (hash_hex) {
      if (!isHex64(*hash_hex)) {
        r.error(*key_entry, "expected a SHA-256 as 64 hex characters, got <hidden> of " +
                                std::to_string(hash_hex->size()) + " characters");
        continue;
      }
      k.sha256 = core::hexDecode(*hash_hex).value();
    } else {
      if (plain->size() < kMinAccessKeyChars || plain->size() > kMaxAccessKeyChars) {
        r.error(*key_entry, "expected a key of " + std::to_string(kMinAccessKeyChars) + " to " +
                                std::to_string(kMaxAccessKeyChars) +
                                " characters, got <hidden> of " + std::to_string(plain->size()) +
                                " characters");
        continue;
      }
      if (!isHeaderSafeCredential(*plain)) {
        r.error(*key_entry, "must not contain spaces or control characters (value <hidden>)");
        continue;
      }
      k.key = *plain;
      k.sha256 = core::sha256(*plain);
    }
    if (auto dup = ids.find(k.id); dup != ids.end()) {
      r.error(id_line, id_path,
              "duplicate id " + quote(k.id) + " (first used at line " +
                  std::to_string(dup->second) + ")");
      continue;
    }
    ids.emplace(k.id, id_line);
    if (auto same = origins.by_sha256.find(k.sha256); same != origins.by_sha256.end()) {
      r.error(key_entry->line, key_entry->path,
              "the same key (<hidden>) is already configured at " + same->second.path + " (line " +
                  std::to_string(same->second.line) + "); every key must be distinct");
      continue;
    }
    origins.by_sha256.emplace(k.sha256, KeyOrigins::Place{key_entry->path, key_entry->line});
    out.push_back(std::move(k));
  }
}

/// A list of non-empty strings (group names or subjects), or a single string.
void stringList(Reader& r, const MapEntries& m, std::string_view key,
                std::vector<std::string>& out) {
  const Entry* e = m.get(key);
  if (!e) return;
  if (e->value.IsScalar()) {
    if (auto v = r.nonEmpty(*e, "a group name or subject, or a list of them")) out.push_back(*v);
    return;
  }
  auto items = r.readList(*e);
  if (!items) return;
  for (const Entry& item : *items) {
    if (auto v = r.nonEmpty(item, "a group name or subject")) out.push_back(*v);
  }
}

/// admin.sso: OpenID Connect sign-in to the portal.
void parseSso(Reader& r, const Entry& e, std::optional<SsoConfig>& out) {
  auto m = r.readMap(
      e, {"issuer", "client_id", "client_secret", "scopes", "display_name", "groups_claim",
          "admin_groups", "admin_subjects", "viewer_groups", "viewer_subjects", "ca_bundle"});
  if (!m) return;
  SsoConfig c;
  bool ok = true;
  if (const Entry* v = m->get("issuer")) {
    auto url = r.httpUrl(*v, /*allow_query=*/false);
    if (url) {
      c.issuer = *url;
    } else {
      ok = false;
    }
  } else {
    r.required(*m, "issuer", "the IdP's issuer URL, e.g. https://idp.example.com/realms/ops");
    ok = false;
  }
  if (const Entry* v = m->get("client_id")) {
    auto id = r.nonEmpty(*v, "Tether's client id at the IdP");
    if (id) {
      c.client_id = *id;
    } else {
      ok = false;
    }
  } else {
    r.required(*m, "client_id", "Tether's client id at the IdP");
    ok = false;
  }
  if (const Entry* v = m->get("client_secret")) {
    auto secret = r.secret(*v, "the client secret (omit it for a public client)");
    if (secret) {
      c.client_secret = *secret;
    } else {
      ok = false;
    }
  }
  if (const Entry* v = m->get("scopes")) {
    auto scopes = r.nonEmpty(*v, "space-separated scopes including openid");
    if (scopes && (" " + *scopes + " ").find(" openid ") == std::string::npos) {
      r.error(*v, "must include openid, got " + quote(*scopes));
      ok = false;
    } else if (scopes) {
      c.scopes = *scopes;
    }
  }
  if (const Entry* v = m->get("display_name")) {
    if (auto name = r.nonEmpty(*v, "the IdP's name on the sign-in button")) {
      c.display_name = name->substr(0, 64);
    }
  }
  if (const Entry* v = m->get("groups_claim")) {
    if (auto claim = r.nonEmpty(*v, "the ID token claim that lists the user's groups")) {
      c.groups_claim = *claim;
    }
  }
  stringList(r, *m, "admin_groups", c.admin_groups);
  stringList(r, *m, "admin_subjects", c.admin_subjects);
  stringList(r, *m, "viewer_groups", c.viewer_groups);
  stringList(r, *m, "viewer_subjects", c.viewer_subjects);
  // Trust for the IdP's TLS, like a connection's auth.ca_bundle: a readable PEM file.
  if (const Entry* v = m->get("ca_bundle")) {
    if (auto path = r.readableFile(*v)) {
      c.ca_bundle = *path;
    } else {
      ok = false;
    }
  }
  if (ok) out = std::move(c);
}

}  // namespace

void parseAdmin(Reader& r, const Entry& e, AdminConfig& out, KeyOrigins& keys, int& listen_line) {
  auto admin = r.readMap(e, {"keys", "listen", "sso"});
  if (!admin) return;
  if (const Entry* k = admin->get("keys")) parseKeys(r, *k, "admin", out.keys, keys);
  if (const Entry* sso = admin->get("sso")) parseSso(r, *sso, out.sso);
  if (const Entry* listen = admin->get("listen")) {
    auto text = r.str(*listen, "host:port");
    if (!text) return;
    auto hp = internal::parseListen(*text);
    if (!hp.ok()) {
      r.error(*listen, hp.error().message);
      return;
    }
    out.listen = *hp;
    listen_line = listen->line;
  }
}

void parseClients(Reader& r, const Entry& e, ClientsConfig& out, KeyOrigins& keys) {
  auto clients = r.readMap(e, {"keys"});
  if (!clients) return;
  if (const Entry* k = clients->get("keys")) parseKeys(r, *k, "client", out.keys, keys);
}

void parseOrigins(Reader& r, const Entry& e, std::vector<std::string>& out) {
  auto items = r.readList(e);
  if (!items) return;
  for (const Entry& item : *items) {
    auto s = r.nonEmpty(item, "an origin such as http://localhost:6274");
    if (!s) continue;
    auto origin = core::normalizeOrigin(*s);
    if (!origin.ok()) {
      r.error(item, internal::badOriginMessage(*s));
      continue;
    }
    out.push_back(std::move(origin).value());
  }
}

}  // namespace tether::config::sections

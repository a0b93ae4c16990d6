// The admin API's connection writes: validation through the config parser, the 409 / 412
// rules, write-only secrets, one store transaction per change, events and the local apply.

#include "admin/connections_api.h"

#include <boost/json.hpp>
#include <memory>

#include "admin/responses.h"
#include "config/connection_entry.h"
#include "core/log.h"

namespace tether::admin {
namespace {

using core::Errc;
using core::Error;
namespace json = boost::json;

// The secret keys of each auth mode, as written in an entry's `auth` map.
constexpr std::string_view kSecretKeys[] = {"client_secret", "token", "key"};

std::string_view secretKeyOf(std::string_view mode) {
  if (mode == "oauth") return "client_secret";
  if (mode == "bearer") return "token";
  if (mode == "api_key") return "key";
  return {};
}

json::object parseObject(std::string_view text) {
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  if (ec || !v.is_object()) return {};
  return std::move(v.as_object());
}

std::string authMode(const json::object& entry) {
  const auto* auth = entry.if_contains("auth");
  if (!auth || !auth->is_object()) return "none";
  const auto* mode = auth->as_object().if_contains("mode");
  if (!mode || !mode->is_string()) return "none";
  return std::string(mode->as_string());
}

// RFC 7396 JSON merge patch.
void mergePatch(json::value& target, const json::value& patch) {
  if (!patch.is_object()) {
    target = patch;
    return;
  }
  if (!target.is_object()) target = json::object{};
  auto& t = target.as_object();
  for (const auto& [k, v] : patch.as_object()) {
    if (v.is_null()) {
      t.erase(k);
    } else {
      mergePatch(t[k], v);
    }
  }
}

// The answer for one stored connection: its definition, secrets as "set" / "not set".
json::object definitionJson(const store::ConnectionDefinition& d) {
  json::object o = parseObject(d.definition);
  o["kind"] = d.key.kind;
  o["name"] = d.key.name;
  const std::string mode = authMode(o);
  const json::object secrets = parseObject(d.secrets);
  if (auto key = secretKeyOf(mode); !key.empty()) {
    auto& auth = o["auth"];
    if (!auth.is_object()) auth = json::object{{"mode", mode}};
    auth.as_object()[key] = secrets.contains(key) ? "set" : "not set";
  }
  o["source"] = "api";
  o["version"] = d.version;
  o["created_at"] = core::formatRfc3339(d.created_at);
  o["updated_at"] = core::formatRfc3339(d.updated_at);
  if (d.deleted_at) o["deleted_at"] = core::formatRfc3339(*d.deleted_at);
  return o;
}

http::Response invalid(const config::ParsedEntry& parsed) {
  json::array problems;
  for (const auto& p : parsed.problems) {
    problems.push_back(json::object{{"field", p.field}, {"message", p.message}});
  }
  const auto& first = parsed.problems.front();
  const std::string message =
      first.field.empty() ? first.message : first.field + ": " + first.message;
  return jsonResponse(400, json::object{{"error", json::object{{"code", "invalid_argument"},
                                                               {"message", message},
                                                               {"field", first.field},
                                                               {"problems", problems}}}});
}

http::Response fieldError(int status, std::string_view code, std::string message,
                          std::string_view field = {}) {
  return jsonResponse(status, json::object{{"error", json::object{{"code", code},
                                                                  {"message", std::move(message)},
                                                                  {"field", field}}}});
}

// A store failure: 503 and nothing changed (one transaction); the known outcomes keep
// their own status.
http::Response storeFailure(const Error& e, std::string_view what) {
  switch (e.code) {
    case Errc::kConflict:
      return fieldError(412, "precondition_failed",
                        std::string(what) +
                            ": the connection changed meanwhile; read it again "
                            "and retry with its new version in If-Match");
    case Errc::kAlreadyExists:
    case Errc::kNotFound:
      return errorResponse(Error(e.code, std::string(what) + ": " + e.message));
    default:
      return errorResponse(Error(Errc::kUnavailable, std::string(what) + ": the store failed (" +
                                                         e.message + "); nothing was changed"));
  }
}

// A failed read: 503 naming what could not be read (a store that fails is unavailable to the
// caller, whatever the cause).
http::Response readFailure(const Error& e, const std::string& what) {
  return errorResponse(
      Error(Errc::kUnavailable, "cannot read " + what + ": the store failed (" + e.message + ")"));
}

// If-Match: nullopt when absent; 0 when not a version we issued (never matches).
std::optional<int64_t> ifMatch(const http::Request& r) {
  auto h = r.header("If-Match");
  if (!h) return std::nullopt;
  std::string_view v = *h;
  if (v == "*") return std::nullopt;
  if (v.starts_with("W/")) v.remove_prefix(2);
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  int64_t out = 0;
  for (char c : v) {
    if (c < '0' || c > '9' || out > (INT64_MAX - 9) / 10) return 0;
    out = out * 10 + (c - '0');
  }
  return v.empty() ? 0 : out;
}

// The connection_deleted event's note on the refresh token (RFC 7009).
std::string revocationNote(RevocationReport::Outcome outcome) {
  switch (outcome) {
    case RevocationReport::Outcome::kRevoked:
      return "; refresh token revoked at the IdP";
    case RevocationReport::Outcome::kFailed:
      return "; revoking the refresh token at the IdP failed";
    case RevocationReport::Outcome::kNoEndpoint:
      break;
  }
  return "; refresh token not revoked (no revocation endpoint known)";
}

std::string etagOf(int64_t version) { return "\"" + std::to_string(version) + "\""; }

http::Response withEtag(http::Response res, int64_t version) {
  res.headers.push_back({"ETag", etagOf(version)});
  return res;
}

class ConnectionsApi : public std::enable_shared_from_this<ConnectionsApi> {
 public:
  explicit ConnectionsApi(ConnectionsApiDeps deps) : deps_(std::move(deps)) {}

  void create(http::Request& request, http::Responder responder, const std::string& actor) {
    auto body = parseBody(request, responder);
    if (!body) return;
    // Validate before anything else: the same parser and messages as `config check`.
    const auto parsed = validate(json::serialize(*body));
    if (!parsed.connection) return responder.send(invalid(parsed));
    const store::ConnectionKey key{std::string(config::kindName(parsed.connection->kind)),
                                   parsed.connection->name};
    if (declaredConflict(key, responder)) return;
    const SplitDefinition split = splitSecrets(json::serialize(*body));
    run(std::move(responder), [self = shared_from_this(), key, split, actor](store::Store& store,
                                                                             http::Responder& r) {
      auto version = store.definitions().putDefinition(key, split.definition, split.secrets, 0);
      if (!version.ok()) {
        if (version.error().code == Errc::kAlreadyExists) {
          return r.send(fieldError(409, "already_exists",
                                   "connection " + key.str() +
                                       " exists; change it with PUT or PATCH, or delete it first",
                                   "name"));
        }
        return r.send(storeFailure(version.error(), "create " + key.str()));
      }
      self->afterWrite(key, store::EventType::kConnectionCreated, actor, *version);
      self->answerStored(store, key, 201, r);
    });
  }

  // PUT (`patch` false: the body is the whole entry) or PATCH (a merge patch).
  void replace(http::Request& request, http::Responder responder, const std::string& actor,
               bool patch) {
    const store::ConnectionKey key{request.param("kind"), request.param("name")};
    if (key.kind != "mcp" && key.kind != "api") {
      return responder.send(
          errorResponse(Error(Errc::kNotFound, "unknown connection kind (expected mcp or api)")));
    }
    if (declaredConflict(key, responder)) return;
    auto body = parseBody(request, responder);
    if (!body) return;
    const std::optional<int64_t> expected = ifMatch(request);
    run(std::move(responder), [self = shared_from_this(), key, body = std::move(*body), expected,
                               actor, patch](store::Store& store, http::Responder& r) {
      auto current = store.definitions().getDefinition(key);
      if (!current.ok()) return r.send(storeFailure(current.error(), "change " + key.str()));
      if (!*current || (*current)->deleted_at) {
        return r.send(errorResponse(
            Error(Errc::kNotFound, "no connection " + key.str() + " was made through the API")));
      }
      const auto& stored = **current;
      if (expected && *expected != stored.version) {
        return r.send(withEtag(fieldError(412, "precondition_failed",
                                          "connection " + key.str() + " is at version " +
                                              std::to_string(stored.version) +
                                              ", not the If-Match version; read it "
                                              "again and retry"),
                               stored.version));
      }
      json::value next = body;
      if (patch) {
        next = parseObject(stored.definition);
        mergePatch(next, body);
      }
      auto& obj = next.as_object();
      for (std::string_view field : {"kind", "name"}) {
        const std::string& want = field == "kind" ? key.kind : key.name;
        const auto* given = obj.if_contains(field);
        if (given && (!given->is_string() || given->as_string() != want)) {
          return r.send(fieldError(400, "invalid_argument",
                                   std::string(field) + ": a connection's " + std::string(field) +
                                       " cannot change (delete it and create another)",
                                   field));
        }
        obj[field] = want;
      }
      // Secrets the body leaves out are kept while the mode still uses them.
      SplitDefinition split = splitSecrets(json::serialize(next));
      const json::object kept = parseObject(stored.secrets);
      json::object secrets = parseObject(split.secrets);
      const std::string mode = authMode(obj);
      // An explicit null in a patch removes the secret instead.
      bool cleared = false;
      if (const auto* auth = body.as_object().if_contains("auth"); auth && auth->is_object()) {
        const auto* v = auth->as_object().if_contains(secretKeyOf(mode));
        cleared = v != nullptr && v->is_null();
      }
      if (auto k = secretKeyOf(mode); !k.empty() && !cleared && !secrets.contains(k) &&
                                      kept.contains(k) &&
                                      authMode(parseObject(stored.definition)) == mode) {
        secrets[k] = kept.at(k);
      }
      split.secrets = secrets.empty() ? "" : json::serialize(secrets);
      const auto parsed = self->validate(joinSecrets(split.definition, split.secrets));
      if (!parsed.connection) return r.send(invalid(parsed));
      auto version =
          store.definitions().putDefinition(key, split.definition, split.secrets, stored.version);
      if (!version.ok()) return r.send(storeFailure(version.error(), "change " + key.str()));
      self->afterWrite(key, store::EventType::kConnectionUpdated, actor, *version);
      self->answerStored(store, key, 200, r);
    });
  }

  void remove(http::Request& request, http::Responder responder, const std::string& actor) {
    const store::ConnectionKey key{request.param("kind"), request.param("name")};
    if (declaredConflict(key, responder)) return;
    const std::optional<int64_t> expected = ifMatch(request);
    run(std::move(responder),
        [self = shared_from_this(), key, expected, actor](store::Store& store, http::Responder& r) {
          auto current = store.definitions().getDefinition(key);
          if (!current.ok()) return r.send(storeFailure(current.error(), "delete " + key.str()));
          if (!*current || (*current)->deleted_at) {
            return r.send(errorResponse(Error(
                Errc::kNotFound, "no connection " + key.str() + " was made through the API")));
          }
          // Parsed before the delete: the revocation needs the IdP settings and the secret.
          auto connection = storedConnection(**current, self->deps_.default_token_lifetime);
          auto deleted = store.definitions().deleteDefinition(key, expected);
          if (!deleted.ok()) {
            if (deleted.error().code == Errc::kConflict) {
              return r.send(withEtag(fieldError(412, "precondition_failed",
                                                "connection " + key.str() +
                                                    " changed since the If-Match version; read it "
                                                    "again and retry"),
                                     (*current)->version));
            }
            return r.send(storeFailure(deleted.error(), "delete " + key.str()));
          }
          // This replica stops using it first; the IdP call that follows may take seconds.
          self->applyWrite(key, store::EventType::kConnectionDeleted, actor, deleted->version);
          events::Detail detail;
          detail.reason = deleted->token_deleted ? "deleted with its token" : "deleted";
          if (deleted->refresh_token && connection.ok() && self->deps_.revoke) {
            const RevocationReport revoked =
                self->deps_.revoke(store, *connection, *deleted->refresh_token);
            detail.reason += revocationNote(revoked.outcome);
            if (revoked.http_status) detail.http_status = revoked.http_status;
            detail.idp_error = revoked.idp_error;
          }
          self->recordWrite(key, store::EventType::kConnectionDeleted, actor, std::move(detail));
          http::Response res;
          res.status = 204;
          r.send(std::move(res));
        });
  }

  void listDeleted(http::Request&, http::Responder responder, const std::string&) {
    run(std::move(responder), [](store::Store& store, http::Responder& r) {
      auto all = store.definitions().listDefinitions(/*include_deleted=*/true);
      if (!all.ok()) return r.send(readFailure(all.error(), "the deleted connections"));
      json::array out;
      for (const auto& d : *all) {
        if (d.deleted_at) out.push_back(definitionJson(d));
      }
      r.send(jsonResponse(200, json::object{{"connections", out}}));
    });
  }

  void deletedDetail(http::Request& request, http::Responder responder, const std::string&) {
    const store::ConnectionKey key{request.param("kind"), request.param("name")};
    run(std::move(responder), [key](store::Store& store, http::Responder& r) {
      auto d = store.definitions().getDefinition(key);
      if (!d.ok()) return r.send(readFailure(d.error(), key.str()));
      if (!*d || !(*d)->deleted_at) {
        return r.send(errorResponse(Error(Errc::kNotFound, "no deleted connection " + key.str())));
      }
      auto events = store.recentEvents(key, 100);
      if (!events.ok()) return r.send(readFailure(events.error(), key.str()));
      json::array history;
      for (const auto& e : *events) {
        json::object o{{"id", e.id},
                       {"at", core::formatRfc3339(e.at)},
                       {"type", std::string(store::eventTypeName(e.type))},
                       {"actor", e.actor},
                       {"idp_host", e.idp_host},
                       {"correlation_id", e.correlation_id}};
        o["detail"] = parseObject(e.detail_json);
        history.push_back(std::move(o));
      }
      json::object o = definitionJson(**d);
      o["auth_events"] = std::move(history);
      r.send(jsonResponse(200, o));
    });
  }

  void reload(http::Request&, http::Responder responder, const std::string& actor) {
    if (!deps_.reload) {
      return responder.send(
          errorResponse(Error(Errc::kUnavailable, "reloading is not available in this process")));
    }
    auto shared = std::make_shared<http::Responder>(std::move(responder));
    deps_.pool->post([self = shared_from_this(), shared, actor] {
      core::log::info("admin: reload requested", {{"actor", actor}});
      auto outcome = self->deps_.reload();
      if (!outcome.ok()) return shared->send(errorResponse(outcome.error()));
      shared->send(jsonResponse(200, json::object{{"status", "reloaded"}, {"summary", *outcome}}));
    });
  }

 private:
  std::optional<json::value> parseBody(const http::Request& request, http::Responder& responder) {
    boost::system::error_code ec;
    json::value v = json::parse(request.body, ec);
    if (ec || !v.is_object()) {
      responder.send(fieldError(400, "invalid_argument",
                                "the body must be one connection as a JSON object (the shape of "
                                "one connections: entry of the config file)"));
      return std::nullopt;
    }
    return v;
  }

  config::ParsedEntry validate(const std::string& entry) const {
    // `${NAME}` is never expanded for an API caller: the process environment is not theirs.
    static const config::EnvLookup kNoEnv = [](std::string_view) {
      return std::optional<std::string>();
    };
    return config::parseConnectionEntry(entry, kNoEnv, deps_.default_token_lifetime);
  }

  bool declaredConflict(const store::ConnectionKey& key, http::Responder& responder) const {
    if (!deps_.declared || !deps_.declared(key)) return false;
    responder.send(fieldError(409, "conflict",
                              "connection " + key.str() + " is declared in the config file " +
                                  deps_.config_file +
                                  " (source: config): change it there and reload",
                              "name"));
    return true;
  }

  void run(http::Responder responder,
           std::function<void(store::Store&, http::Responder&)> work) const {
    store::Store* store = deps_.store ? deps_.store() : nullptr;
    if (!store) {
      return responder.send(errorResponse(
          Error(Errc::kUnavailable, "the store is not open yet; try again in a moment")));
    }
    auto shared = std::make_shared<http::Responder>(std::move(responder));
    deps_.pool->post([store, shared, work = std::move(work)] { work(*store, *shared); });
  }

  void afterWrite(const store::ConnectionKey& key, store::EventType type, const std::string& actor,
                  int64_t version) {
    recordWrite(key, type, actor, {});
    applyWrite(key, type, actor, version);
  }

  // Logs the write and applies the stored set on this replica.
  void applyWrite(const store::ConnectionKey& key, store::EventType type, const std::string& actor,
                  int64_t version) {
    core::log::info("admin: connection " + std::string(store::eventTypeName(type)).substr(11),
                    {{"connection", key.str()}, {"actor", actor}, {"version", version}});
    if (deps_.apply_stored) deps_.apply_stored();
  }

  void recordWrite(const store::ConnectionKey& key, store::EventType type, const std::string& actor,
                   events::Detail detail) {
    if (events::Recorder* rec = deps_.recorder ? deps_.recorder() : nullptr) {
      events::Fact fact;
      fact.type = type;
      fact.key = key;
      fact.actor = actor;
      fact.detail = std::move(detail);
      rec->record(fact);
    }
  }

  void answerStored(store::Store& store, const store::ConnectionKey& key, int status,
                    http::Responder& r) {
    auto d = store.definitions().getDefinition(key);
    if (!d.ok() || !*d) {
      return r.send(errorResponse(Error(Errc::kUnavailable, "saved, but cannot be read back")));
    }
    r.send(withEtag(jsonResponse(status, definitionJson(**d)), (*d)->version));
  }

  ConnectionsApiDeps deps_;
};

}  // namespace

SplitDefinition splitSecrets(const std::string& entry_json) {
  json::object entry = parseObject(entry_json);
  json::object secrets;
  if (auto* auth = entry.if_contains("auth"); auth && auth->is_object()) {
    for (std::string_view k : kSecretKeys) {
      if (auto* v = auth->as_object().if_contains(k)) {
        secrets[k] = *v;
        auth->as_object().erase(k);
      }
    }
  }
  return {json::serialize(entry), secrets.empty() ? "" : json::serialize(secrets)};
}

std::string definitionAnswer(const store::ConnectionDefinition& d) {
  return json::serialize(definitionJson(d));
}

std::string joinSecrets(const std::string& definition, const std::string& secrets) {
  json::object entry = parseObject(definition);
  const json::object s = parseObject(secrets);
  if (!s.empty()) {
    auto& auth = entry["auth"];
    if (!auth.is_object()) auth = json::object{};
    for (const auto& [k, v] : s) auth.as_object()[k] = v;
  }
  return json::serialize(entry);
}

core::Result<config::ConnectionConfig> storedConnection(
    const store::ConnectionDefinition& stored, std::chrono::milliseconds default_token_lifetime) {
  static const config::EnvLookup kNoEnv = [](std::string_view) {
    return std::optional<std::string>();
  };
  auto parsed = config::parseConnectionEntry(joinSecrets(stored.definition, stored.secrets), kNoEnv,
                                             default_token_lifetime);
  if (!parsed.connection) {
    const auto& p = parsed.problems.front();
    return Error(Errc::kConfig, "stored connection " + stored.key.str() + ": " +
                                    (p.field.empty() ? "" : p.field + ": ") + p.message);
  }
  const store::ConnectionKey got{std::string(config::kindName(parsed.connection->kind)),
                                 parsed.connection->name};
  if (!(got == stored.key)) {
    return Error(Errc::kConfig, "stored connection " + stored.key.str() + " names " + got.str());
  }
  return std::move(*parsed.connection);
}

void registerConnectionRoutes(AdminApi& admin, http::Router& router, ConnectionsApiDeps deps) {
  auto api = std::make_shared<ConnectionsApi>(std::move(deps));
  const std::string base = "/api/v1/admin";
  const std::string one = base + "/connections/{kind}/{name}";
  using Method = void (ConnectionsApi::*)(http::Request&, http::Responder, const std::string&);
  auto add = [&](const char* method, const std::string& pattern, bool mutation, Method m) {
    admin.addRoute(router, method, pattern, mutation,
                   [api, m](http::Request& r, http::Responder res, const std::string& key_id) {
                     ((*api).*m)(r, std::move(res), key_id);
                   });
  };
  add("POST", base + "/connections", true, &ConnectionsApi::create);
  admin.addRoute(router, "PUT", one, true,
                 [api](http::Request& r, http::Responder res, const std::string& key_id) {
                   api->replace(r, std::move(res), key_id, false);
                 });
  admin.addRoute(router, "PATCH", one, true,
                 [api](http::Request& r, http::Responder res, const std::string& key_id) {
                   api->replace(r, std::move(res), key_id, true);
                 });
  add("DELETE", one, true, &ConnectionsApi::remove);
  add("GET", base + "/connections/deleted", false, &ConnectionsApi::listDeleted);
  add("GET", base + "/connections/deleted/{kind}/{name}", false, &ConnectionsApi::deletedDetail);
  add("POST", base + "/reload", true, &ConnectionsApi::reload);
}

}  // namespace tether::admin

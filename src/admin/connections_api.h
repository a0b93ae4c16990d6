#pragma once
/// Connections as data through the admin API (DESIGN.md §2): create, replace, patch and
/// delete connections while Tether runs. Every route is behind AdminApi's checks (a key or
/// a session; the viewer role gets 403; a session needs its CSRF token).
///
///   POST   /api/v1/admin/connections                      one `connections:` entry as JSON
///   PUT    /api/v1/admin/connections/{kind}/{name}        the whole entry (If-Match: "<v>")
///   PATCH  /api/v1/admin/connections/{kind}/{name}        JSON merge patch (If-Match)
///   DELETE /api/v1/admin/connections/{kind}/{name}        (If-Match optional)
///   GET    /api/v1/admin/connections/deleted              deleted API-made connections
///   GET    /api/v1/admin/connections/deleted/{kind}/{name} one, with its auth history
///   POST   /api/v1/admin/reload                           what SIGHUP does
///
/// Bodies are validated by the config file's parser (config/connection_entry.h): a 400
/// `{"error":{"code","message","field"}}` names the field with `tether config check`'s
/// message. A connection declared in the file is 409 naming the file; an existing name 409;
/// a stale If-Match 412. Secrets (auth.client_secret, auth.token, auth.key) are write-only:
/// answers say "set" / "not set"; a PUT or PATCH without one keeps the stored value. Each
/// write is one store transaction (a store failure is 503 and changes nothing) and the
/// answer comes after this replica applied it; other replicas follow through the store's
/// change notification. Secrets never appear in an answer, a log line or an event.

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "admin/admin_api.h"
#include "admin/connection_revocation.h"
#include "config/config.h"
#include "core/result.h"
#include "core/thread_pool.h"
#include "events/recorder.h"
#include "store/store.h"

namespace tether::admin {

struct ConnectionsApiDeps {
  std::function<store::Store*()> store;         // null until open (503)
  std::function<events::Recorder*()> recorder;  // may return null (no events recorded)
  core::ThreadPool* pool = nullptr;             // required: store work runs there
  /// The connection declared in the config file with this key, if any (read-only here).
  std::function<bool(const store::ConnectionKey&)> declared;
  std::string config_file;  // named in the 409 for a declared connection
  std::chrono::milliseconds default_token_lifetime = std::chrono::hours(1);
  /// Applies the stored set on this replica now (blocking; on the pool). May be empty.
  std::function<void()> apply_stored;
  /// After a delete that removed a refresh token, on the pool, before the answer: revoke it
  /// at the IdP of `connection` (RFC 7009; see admin/connection_revocation.h, which logs
  /// failures). Must be bounded in time. What it reports goes into the connection_deleted
  /// event. May be empty (no revocation).
  std::function<RevocationReport(store::Store& store, const config::ConnectionConfig& connection,
                                 const std::string& refresh_token)>
      revoke;
  /// POST /reload: what SIGHUP does; returns a one-line summary or the error. Empty: 503.
  std::function<core::Result<std::string>()> reload;
};

/// Registers the routes above through `admin` (its checks) on `router`.
void registerConnectionRoutes(AdminApi& admin, http::Router& router, ConnectionsApiDeps deps);

/// The stored form of an entry: `definition` without secrets and `secrets` as a JSON
/// object keyed by the auth key ("client_secret", "token", "key"); "" when none.
struct SplitDefinition {
  std::string definition;
  std::string secrets;
};
/// Splits a JSON entry (an object) into its stored form.
SplitDefinition splitSecrets(const std::string& entry_json);
/// The entry again: the definition with its secrets put back (for the config parser).
std::string joinSecrets(const std::string& definition, const std::string& secrets);

/// A stored connection as the API answers it (one `connections:` entry as a JSON object,
/// secrets as "set" / "not set", plus source, version and times), serialized. The detail
/// route (admin_api.cc) embeds it as `definition` for `source: api` connections.
std::string definitionAnswer(const store::ConnectionDefinition& d);

/// A stored definition as a running connection, parsed by the config parser; the error
/// names the connection and the field (never a secret).
core::Result<config::ConnectionConfig> storedConnection(
    const store::ConnectionDefinition& stored, std::chrono::milliseconds default_token_lifetime);

}  // namespace tether::admin

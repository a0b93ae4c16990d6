#pragma once
/// Connections made through the admin API ("source: api"), stored as data: one row per
/// (kind, name) with the definition as JSON (the shape of one YAML `connections:` entry),
/// its secrets sealed like tokens, a per-row version for If-Match, soft deletes that keep
/// the row (and the connection's auth history) readable, and one store-wide registry version
/// that every write bumps so replicas notice changes. Part of the blocking store API (see
/// store/store.h): never call it on an I/O thread.
///
/// The store does not read the definition: the admin API validates it with the config
/// parser before writing. `secrets` is a JSON object of the secret values (client secret,
/// bearer token, API key) kept apart from the definition; it is sealed with the store's
/// sealer, bound to the row, and opened on read.
///
/// Change notification: every committed write (create, update, delete) calls the
/// subscribers; on PostgreSQL a trigger NOTIFYs every replica (channel
/// `tether_connections_changed`) and their LISTEN thread calls theirs. Subscribers that must
/// not miss a change also poll `definitionsVersion()` (a notification can be lost while the
/// listener reconnects).

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"
#include "store/token_store.h"
#include "store/types.h"

namespace tether::store {

/// One stored connection definition.
struct ConnectionDefinition {
  ConnectionKey key;
  std::string definition;  // JSON object, without secrets
  std::string secrets;     // JSON object of secret values, opened; "" when none. SECRET.
  int64_t version = 0;     // bumped by each write of this row (ETag)
  TimePoint created_at{};
  TimePoint updated_at{};
  std::optional<TimePoint> deleted_at;  // set: deleted (kept for history)
};

/// Called after a committed definition write (any replica on PostgreSQL), on a store-owned
/// thread or the writer's thread; must be quick and must not block.
using DefinitionChangeCallback = std::function<void()>;

/// What `deleteDefinition` removed with the definition, in the same transaction.
struct DeletedDefinition {
  int64_t version = 0;                       // the row's version after the delete
  bool token_deleted = false;                // the connection's token row was deleted
  std::optional<std::string> refresh_token;  // the deleted refresh token, to revoke. SECRET.
};

/// API-made connection definitions. Thread-safe.
class ConnectionDefinitionStore {
 public:
  virtual ~ConnectionDefinitionStore() = default;

  /// Every live definition (with `include_deleted`, deleted ones too), ordered by key.
  /// kCrypto when a sealed value does not open (names the row).
  virtual core::Result<std::vector<ConnectionDefinition>> listDefinitions(bool include_deleted) = 0;

  /// The (key, version) of every live definition, ordered by key: a cheap look at what
  /// changed since an earlier read (no definition text, nothing opened).
  virtual core::Result<std::vector<std::pair<ConnectionKey, int64_t>>> listDefinitionVersions() = 0;

  /// The row of `key` (live or deleted); nullopt when there never was one.
  virtual core::Result<std::optional<ConnectionDefinition>> getDefinition(
      const ConnectionKey& key) = 0;

  /// Creates (`expected_version` 0: kAlreadyExists when a live row exists; a deleted row is
  /// revived) or replaces (`expected_version` > 0: kConflict when the row's version differs,
  /// kNotFound when there is no live row) the definition, in one transaction that also bumps
  /// the registry version. Returns the row's new version.
  virtual core::Result<int64_t> putDefinition(const ConnectionKey& key, std::string_view definition,
                                              std::string_view secrets,
                                              int64_t expected_version) = 0;

  /// Marks the definition deleted and deletes the connection's token row, in one
  /// transaction (state row and auth events are kept for history). With
  /// `expected_version`: kConflict when the row changed. kNotFound when no live row.
  virtual core::Result<DeletedDefinition> deleteDefinition(
      const ConnectionKey& key, std::optional<int64_t> expected_version) = 0;

  /// The registry version: bumped by every committed definition write.
  virtual core::Result<int64_t> definitionsVersion() = 0;

  /// Registers `callback` for definition changes (see above).
  virtual Subscription subscribeDefinitionChanges(DefinitionChangeCallback callback) = 0;
};

}  // namespace tether::store

#pragma once
/// The store's part of the configuration: the sealer (encryption), the backend options
/// (storage) and the registry rows of the configured connections.

#include <memory>
#include <vector>

#include "config/config.h"
#include "core/clock.h"
#include "core/result.h"
#include "store/sealer.h"
#include "store/store.h"
#include "store/types.h"

namespace tether::store {

/// The registry key of a configured connection ("mcp"/"api", name).
ConnectionKey connectionKeyFromConfig(const config::ConnectionConfig& connection);

/// AES-256-GCM over encryption.key (+ previous_keys, which still open), or the plaintext
/// sealer when there is no key and storage.allow_plaintext is set. kConfig otherwise.
core::Result<std::shared_ptr<const Sealer>> sealerFromConfig(
    const config::EncryptionConfig& encryption, const config::StorageConfig& storage);

/// Options for the configured backend (PostgreSQL: `connect_attempts` tries). `clock` must
/// outlive the store; null: the system clock.
StoreOptions optionsFromConfig(const config::StorageConfig& storage,
                               std::shared_ptr<const Sealer> sealer, const core::Clock* clock,
                               int connect_attempts);

/// The registry rows for every configured connection.
std::vector<ConnectionInfo> connectionInfosFromConfig(
    const std::vector<config::ConnectionConfig>& connections);

}  // namespace tether::store

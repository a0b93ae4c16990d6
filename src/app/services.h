#pragma once
/// Turns configuration into the objects the gateway runs on: the sealer, the store
/// options, the lifecycle settings and one lifecycle spec per OAuth connection.

#include <memory>
#include <string>
#include <vector>

#include "admin/admin_api.h"
#include "config/config.h"
#include "core/result.h"
#include "flows/flows.h"
#include "http/server.h"
#include "lifecycle/token_source.h"
#include "store/store.h"

namespace tether::app {

/// AES-256-GCM over encryption.key (+ previous_keys, which still open), or the plaintext
/// sealer when there is no key and storage.allow_plaintext is set. kConfig otherwise.
core::Result<std::shared_ptr<const store::Sealer>> makeSealer(const config::Config& config);

/// Store options for the configured backend (PostgreSQL: `connect_attempts` tries).
store::StoreOptions storeOptions(const config::Config& config,
                                 std::shared_ptr<const store::Sealer> sealer,
                                 const core::Clock* clock, int connect_attempts);

/// The HTTP server's listen address, limits and timeouts from `listen` and `server`.
http::ServerOptions serverOptions(const config::Config& config);
/// The same limits for another listener of the process (admin.listen).
http::ServerOptions serverOptions(const config::Config& config, const config::HostPort& listen);

/// The registry rows for every configured connection.
std::vector<store::ConnectionInfo> connectionInfos(const config::Config& config);

lifecycle::Settings lifecycleSettings(const config::Config& config);

/// One spec per OAuth connection. Connections without a configured token_url (issuer or
/// discovery) are listed in `unresolved`: their token endpoint comes from the connect flow
/// (stored, and restored at start through flows::Flows::resolved).
std::vector<lifecycle::ConnectionSpec> lifecycleSpecs(
    const config::Config& config, std::vector<store::ConnectionKey>* unresolved);

/// The connect flow's view of every OAuth connection.
std::vector<flows::FlowConnection> flowConnections(const config::Config& config);
flows::FlowOptions flowOptions(const config::Config& config);

/// Every configured connection as the admin API lists it.
std::vector<admin::ConnectionView> adminConnections(const config::Config& config);

/// The HMAC key of portal session cookies: derived from encryption.key, so every replica
/// with the same key accepts a session; empty (random per process) without a key.
std::string sessionSecret(const config::Config& config);

}  // namespace tether::app

#pragma once
/// The lifecycle's part of the configuration: keeper and event-retention settings, and one
/// spec per OAuth connection.

#include <vector>

#include "config/config.h"
#include "lifecycle/policy.h"
#include "lifecycle/token_source.h"
#include "store/types.h"

namespace tether::lifecycle {

/// keeper.* and events.* as the lifecycle runs them.
Settings settingsFromConfig(const config::KeeperConfig& keeper, const config::EventsConfig& events);

/// One spec per OAuth connection. Connections without a configured token_url (issuer or
/// discovery) are also listed in `unresolved` (when not null): their token endpoint comes
/// from the connect flow (stored, and restored at start through flows::Flows::resolved).
/// client_credentials connections are not: the lifecycle finds their token endpoint in the
/// issuer's metadata itself, under `discovery_allowed_hosts`.
std::vector<ConnectionSpec> specsFromConfig(
    const std::vector<config::ConnectionConfig>& connections,
    std::vector<store::ConnectionKey>* unresolved,
    const std::vector<std::string>& discovery_allowed_hosts = {});

}  // namespace tether::lifecycle

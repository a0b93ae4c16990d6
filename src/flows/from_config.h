#pragma once
/// The connect flow's part of the configuration: every OAuth connection as the flow sees
/// it, and its options (public_url, discovery.allowed_hosts).

#include <vector>

#include "config/config.h"
#include "flows/flows.h"

namespace tether::flows {

/// The connect flow's view of every OAuth connection.
std::vector<FlowConnection> connectionsFromConfig(
    const std::vector<config::ConnectionConfig>& connections);

/// public_url and discovery.allowed_hosts; other options keep their defaults.
FlowOptions optionsFromConfig(const config::Config& config);

}  // namespace tether::flows

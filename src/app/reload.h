#pragma once
/// SIGHUP: what a new configuration changes in a running Tether. Applied live: the TLS
/// certificate and key (`server.tls`, same on/off state), `log.level` and `log.access`.
/// Everything else needs a restart and is named so (live reload of connections and the
/// rest comes later); nothing is ever reported as applied that was not.

#include <string>
#include <vector>

#include "config/config.h"

namespace tether::app {

/// The settings, as key paths ("keeper.interval", "connections", "server.max_connections",
/// "secrets"), whose values in `next` differ from `running` and that a reload does not
/// apply. A changed secret value is named "secrets" (its place is not told). Sorted.
std::vector<std::string> settingsNeedingRestart(const config::Config& running,
                                                const config::Config& next);

}  // namespace tether::app

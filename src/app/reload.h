#pragma once
/// SIGHUP: what a new configuration changes in a running Tether. Applied live: the TLS
/// certificate and key (`server.tls`, same on/off state), `log.level`, `log.access`,
/// `connections` (added, changed, removed: app/live_connections.h), `clients.keys`,
/// `allowed_origins`, the keeper and event timings (`keeper.*`, `events.*`) and the webhook
/// endpoints (`webhooks`: webhooks::Service::setHooks). Everything else (listen, admin,
/// storage, encryption, public_url, server, discovery, webhook_delivery) needs a restart
/// and is named so; nothing is ever reported as applied that was not.

#include <functional>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/result.h"

namespace tether::app {

class LiveConnections;

/// The settings, as key paths ("server.max_connections", "webhooks", "secrets"), whose
/// values in `next` differ from `running` and that a reload does not apply. A changed
/// secret value that is not applied live (an admin key, the encryption key, a webhook
/// secret) is named "secrets" (its place is not told). Sorted.
std::vector<std::string> settingsNeedingRestart(const config::Config& running,
                                                const config::Config& next);

/// Applies the live settings of `next` that differ from `running` through `live`
/// (connections, clients.keys, allowed_origins, keeper.*, events.*) and copies each one
/// applied into `running`. Returns the names of those applied. A connection set the live
/// set refuses is logged (every connection keeps running as it was) and not named.
/// `apply_connections`, when set, makes the declared connections run instead of
/// `live.apply` (the process adds the stored ones: app/stored_connections.h) and says
/// whether the running set changed.
/// `apply_webhooks`, when set, makes a changed `webhooks` list run (unset: webhooks are
/// left as they are and named as needing a restart).
using ApplyDeclared =
    std::function<core::Result<bool>(std::vector<config::ConnectionConfig> declared)>;
using ApplyWebhooks = std::function<core::Status(std::vector<config::WebhookConfig> hooks)>;
std::vector<std::string> applyLiveSettings(config::Config& running, const config::Config& next,
                                           LiveConnections& live,
                                           const ApplyDeclared& apply_connections = {},
                                           const ApplyWebhooks& apply_webhooks = {});

}  // namespace tether::app

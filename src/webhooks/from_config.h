#pragma once
/// The webhooks' part of the configuration: `webhooks[]`, `webhook_delivery`, the public
/// URL (portal links) and each OAuth connection's IdP host and refresh_max_lifetime.

#include "config/config.h"
#include "webhooks/service.h"

namespace tether::webhooks {

ServiceOptions optionsFromConfig(const config::Config& config);

}  // namespace tether::webhooks

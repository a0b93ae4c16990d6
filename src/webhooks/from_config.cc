#include "webhooks/from_config.h"

#include "store/from_config.h"

namespace tether::webhooks {

ServiceOptions optionsFromConfig(const config::Config& config) {
  ServiceOptions o;
  o.hooks = config.webhooks;
  o.delivery = config.webhook_delivery;
  o.public_url = config.public_url;
  const auto infos = store::connectionInfosFromConfig(config.connections);
  for (size_t i = 0; i < config.connections.size() && i < infos.size(); ++i) {
    const config::ConnectionConfig& c = config.connections[i];
    ConnectionFacts f;
    f.key = infos[i].key;
    f.idp_host = infos[i].idp_host;
    if (c.auth.oauth && c.auth.oauth->refresh_max_lifetime) {
      f.refresh_max_lifetime =
          std::chrono::duration_cast<core::Duration>(*c.auth.oauth->refresh_max_lifetime);
    }
    o.connections.push_back(std::move(f));
  }
  return o;
}

}  // namespace tether::webhooks

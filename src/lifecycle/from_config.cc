#include "lifecycle/from_config.h"

#include <utility>

#include "oauth/from_config.h"
#include "store/from_config.h"

namespace tether::lifecycle {

Settings settingsFromConfig(const config::KeeperConfig& keeper,
                            const config::EventsConfig& events) {
  Settings s;
  s.access_lead = keeper.access_lead;
  s.refresh_lead = keeper.refresh_lead;
  s.backoff_initial = keeper.backoff_initial;
  s.backoff_max = keeper.backoff_max;
  s.jitter = keeper.jitter;
  s.keeper_interval = keeper.interval;
  s.keeper_concurrency = keeper.concurrency;
  s.event_retention = events.retention;
  s.prune_interval = events.prune_interval;
  return s;
}

std::vector<ConnectionSpec> specsFromConfig(
    const std::vector<config::ConnectionConfig>& connections,
    std::vector<store::ConnectionKey>* unresolved,
    const std::vector<std::string>& discovery_allowed_hosts) {
  std::vector<ConnectionSpec> out;
  for (const auto& c : connections) {
    if (!c.auth.oauth) continue;
    const auto& o = *c.auth.oauth;
    ConnectionSpec s;
    s.key = store::connectionKeyFromConfig(c);
    s.oauth = oauth::clientConfigFromConfig(c);
    s.client_credentials = o.grant == config::Grant::kClientCredentials;
    s.client_registered = !s.client_credentials && !o.client_id;
    if (o.token_url.empty() && unresolved && !s.client_credentials) unresolved->push_back(s.key);
    s.issuer = o.issuer;
    s.discovery_allowed_hosts = discovery_allowed_hosts;
    s.refresh_max_lifetime = o.refresh_max_lifetime;
    s.idp_host = config::idpHost(o);
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace tether::lifecycle

#include "flows/from_config.h"

#include <utility>

#include "oauth/from_config.h"
#include "store/from_config.h"

namespace tether::flows {

std::vector<FlowConnection> connectionsFromConfig(
    const std::vector<config::ConnectionConfig>& connections) {
  std::vector<FlowConnection> out;
  for (const auto& c : connections) {
    if (!c.auth.oauth) continue;
    const auto& o = *c.auth.oauth;
    FlowConnection f;
    f.key = store::connectionKeyFromConfig(c);
    f.upstream_url = c.url;
    f.client_credentials = o.grant == config::Grant::kClientCredentials;
    f.issuer = o.issuer;
    f.oauth = oauth::clientConfigFromConfig(c);
    f.client_id_configured = o.client_id.has_value();
    out.push_back(std::move(f));
  }
  return out;
}

FlowOptions optionsFromConfig(const config::Config& config) {
  FlowOptions o;
  o.public_url = config.public_url;
  o.client_metadata_url = config.client_metadata_url;
  o.allowed_hosts = config.discovery.allowed_hosts;
  return o;
}

}  // namespace tether::flows

#include "identity/from_config.h"

namespace tether::identity {

ValidatorOptions validatorOptionsFromConfig(const config::InboundConfig& in) {
  ValidatorOptions o;
  o.issuer = in.issuer;
  o.algorithms.clear();
  for (const auto& name : in.algorithms) {
    if (auto alg = algFromName(name)) o.algorithms.push_back(*alg);
  }
  o.clock_skew = std::chrono::duration_cast<std::chrono::seconds>(in.clock_skew);
  o.required_scopes = in.required_scopes;
  o.claims.subject = in.subject_claim;
  o.claims.groups = in.groups_claim;
  o.introspection = !in.introspection.endpoint.empty();
  return o;
}

IssuerClientOptions issuerClientOptionsFromConfig(const config::Config& config) {
  const auto& in = config.inbound;
  IssuerClientOptions o;
  o.issuer = in.issuer;
  o.jwks_uri = in.jwks_uri;
  o.introspection_endpoint = in.introspection.endpoint;
  o.client_id = in.introspection.client_id;
  o.client_secret = in.introspection.client_secret;
  o.policy.allowed_hosts = config.discovery.allowed_hosts;
  return o;
}

}  // namespace tether::identity

#pragma once
/// The `inbound:` section as the identity module's options (config knows nothing of it).

#include <string>

#include "config/config.h"
#include "identity/issuer_client.h"
#include "identity/validator.h"

namespace tether::identity {

/// Validator options from `inbound` (algorithms, clock skew, scopes, claim names,
/// introspection on when an endpoint is set). Meaningful only when `inbound.enabled`.
ValidatorOptions validatorOptionsFromConfig(const config::InboundConfig& inbound);

/// IssuerClient options from `inbound` and `discovery.allowed_hosts`.
IssuerClientOptions issuerClientOptionsFromConfig(const config::Config& config);

}  // namespace tether::identity

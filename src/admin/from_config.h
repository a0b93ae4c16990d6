#pragma once
/// The admin API's part of the configuration: the connections it lists and the key that
/// signs portal session cookies.

#include <string>
#include <vector>

#include "admin/admin_api.h"
#include "config/config.h"

namespace tether::admin {

/// Every configured connection as the admin API lists it.
std::vector<ConnectionView> connectionViewsFromConfig(
    const std::vector<config::ConnectionConfig>& connections);

/// The HMAC key of portal session cookies: HMAC-SHA-256 of a fixed label under
/// encryption.key, so every replica with the same key accepts a session; empty (random per
/// process) without a key.
std::string sessionSecretFromConfig(const config::EncryptionConfig& encryption);

}  // namespace tether::admin

#pragma once
/// Standard Webhooks signing (https://www.standardwebhooks.com): the secret format, the
/// message id and the `webhook-signature` value, so receivers can verify with the existing
/// libraries (npm `standardwebhooks`, `svix`, ...). Thread-safe (pure functions).

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace tether::webhooks {

/// The prefix of a Standard Webhooks secret; the rest is the Base64 of the signing key.
inline constexpr std::string_view kSecretPrefix = "whsec_";

/// The signing key of a secret "whsec_<Base64 of 24..64 bytes>": the decoded bytes.
/// kConfig (never echoing the secret) for any other shape.
core::Result<std::string> signingKey(std::string_view secret);

/// The signed content of the convention: "<id>.<timestamp>.<body>".
std::string signedContent(std::string_view message_id, int64_t timestamp_seconds,
                          std::string_view body);

/// The `webhook-signature` header value: "v1," + Base64(HMAC-SHA256(key, signedContent)).
std::string signature(std::string_view key, std::string_view message_id, int64_t timestamp_seconds,
                      std::string_view body);

/// A new `webhook-id`: "msg_" followed by 26 random Base32 characters (130 bits).
std::string newMessageId();

}  // namespace tether::webhooks

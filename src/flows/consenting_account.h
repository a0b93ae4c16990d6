#pragma once
/// The upstream account that consented at the IdP during a connect flow, read from the
/// OpenID Connect ID token's `sub`, `email` and `name` claims for the portal to show beside
/// the admin who started the flow. The token's signature is NOT verified: the claims are
/// for display only and decide nothing; the token itself is never stored, logged or shown.
/// Pure function; thread-safe.

#include <string_view>

#include "store/types.h"

namespace tether::flows {

/// Longest claim value kept (bytes, after sanitizing; cut on a UTF-8 boundary).
inline constexpr size_t kMaxAccountClaimBytes = 200;

/// The account named by `id_token`'s payload (a compact JWS: three base64url parts); all
/// fields empty when there is no token, it is not a JWS with a JSON object payload, or it
/// names nothing. String claims only; each sanitized (no control or bidi characters).
store::ConsentingAccount consentingAccountOf(std::string_view id_token);

}  // namespace tether::flows

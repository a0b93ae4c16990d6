#pragma once
/// RFC 7009 token revocation: telling the IdP that Tether no longer needs a refresh token
/// (when an operator deletes a connection). The request carries the connection's client
/// authentication exactly as its token endpoint requests do (basic, basic_raw, post, none).
///
/// The revocation endpoint comes from the IdP's RFC 8414 metadata, so it is treated like
/// every discovered URL: checked against the discovery policy before the call, and the
/// connection pinned to addresses the policy allows (oauth::makeDiscoveryGuard). No redirect
/// is followed, the answer is capped, and the call has a deadline.
///
/// Thread-safety: the functions are thread-safe. `revokeRefreshToken` blocks (HttpClient::
/// send): never call it on a server I/O thread.

#include <chrono>
#include <string>
#include <string_view>

#include "http/http_client.h"
#include "oauth/client_config.h"
#include "oauth/discovery.h"

namespace tether::oauth {

/// The largest revocation answer read (RFC 7009 answers are empty or a short error).
inline constexpr size_t kMaxRevocationAnswerBytes = 64 * 1024;

/// POST `endpoint` with `token=<refresh_token>&token_type_hint=refresh_token` and the client
/// authentication of `config` (its token_url is ignored). Pure: sends nothing. The token is
/// only in the body: never in the URL, never in a header.
http::ClientRequest buildRevocationRequest(const OAuthClientConfig& config,
                                           std::string_view endpoint,
                                           std::string_view refresh_token);

/// How a revocation ended.
struct RevocationResult {
  enum class Outcome {
    kRevoked,  // 200 (RFC 7009 §2.2: also for a token the IdP no longer knows)
    kRefused,  // the URL or an address it resolves to is not allowed (discovery policy)
    kFailed,   // no answer in time, a transport error, or a status other than 200
  };
  Outcome outcome = Outcome::kFailed;
  int http_status = 0;    // 0 when there was no answer
  std::string idp_error;  // the RFC 6749 §5.2 code of the answer, sanitized; may be empty
  /// One sentence for the operator (names the endpoint, never the token or a secret).
  std::string reason;

  bool ok() const { return outcome == Outcome::kRevoked; }
};

struct RevocationOptions {
  DiscoveryPolicy policy;                    // the endpoint's host must pass it
  std::chrono::milliseconds timeout{5'000};  // the whole call (connect included)
};

/// BLOCKING: revokes `refresh_token` at `endpoint` (see buildRevocationRequest). Never
/// retried: a lost answer is reported as a failure.
RevocationResult revokeRefreshToken(http::HttpClient& http, const OAuthClientConfig& config,
                                    std::string_view endpoint, std::string_view refresh_token,
                                    const RevocationOptions& options);

}  // namespace tether::oauth

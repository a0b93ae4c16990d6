// RFC 7009 revocation of a refresh token, with the token endpoint's client authentication.
#include "oauth/revocation.h"

#include <algorithm>

#include "oauth/error_response.h"
#include "oauth/protocol.h"
#include "oauth/requests.h"
#include "oauth/sanitize.h"

namespace tether::oauth {

namespace p = protocol;

http::ClientRequest buildRevocationRequest(const OAuthClientConfig& config,
                                           std::string_view endpoint,
                                           std::string_view refresh_token) {
  // The same client authentication, headers and limits as a token request, to another URL.
  OAuthClientConfig target = config;
  target.token_url = std::string(endpoint);
  FormPairs form{{std::string(p::kToken), std::string(refresh_token)},
                 {std::string(p::kTokenTypeHint), std::string(p::kRefreshToken)}};
  http::ClientRequest req = buildTokenRequest(target, std::move(form));
  req.max_response_bytes = kMaxRevocationAnswerBytes;
  return req;
}

RevocationResult revokeRefreshToken(http::HttpClient& http, const OAuthClientConfig& config,
                                    std::string_view endpoint, std::string_view refresh_token,
                                    const RevocationOptions& options) {
  RevocationResult out;
  const std::string shown = displayUrl(endpoint);
  if (auto st = checkDiscoveryUrl(endpoint, options.policy, "the revocation endpoint"); !st.ok()) {
    out.outcome = RevocationResult::Outcome::kRefused;
    out.reason = st.error().message;
    return out;
  }
  http::ClientRequest req = buildRevocationRequest(config, endpoint, refresh_token);
  req.total_timeout = options.timeout;
  req.connect_timeout = std::min(config.connect_timeout, options.timeout);
  req.connect_guard = makeDiscoveryGuard(options.policy);
  auto sent = http.send(req);
  if (!sent.ok()) {
    if (sent.error == http::TransportError::kInvalidRequest) {
      out.outcome = RevocationResult::Outcome::kRefused;
      out.reason = "the revocation endpoint " + shown + " was refused: " + sent.error_message;
    } else if (sent.error == http::TransportError::kTimeout) {
      out.reason = "the revocation endpoint " + shown + " did not answer within " +
                   std::to_string(options.timeout.count()) + " ms";
    } else {
      out.reason = "the revocation endpoint " + shown + " could not be reached (" +
                   http::transportErrorName(sent.error) + ": " + sent.error_message + ")";
    }
    return out;
  }
  out.http_status = sent.response.status;
  if (sent.response.status == 200) {
    out.outcome = RevocationResult::Outcome::kRevoked;
    out.reason = "revoked at " + shown;
    return out;
  }
  if (auto e = parseErrorResponse(sent.response.headers, sent.response.body)) {
    out.idp_error = e->code;
  }
  out.reason = "the revocation endpoint " + shown + " answered HTTP " +
               std::to_string(sent.response.status) +
               (out.idp_error.empty() ? std::string() : " (" + out.idp_error + ")");
  return out;
}

}  // namespace tether::oauth

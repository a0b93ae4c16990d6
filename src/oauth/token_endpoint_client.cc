#include "oauth/token_endpoint_client.h"

#include "core/log.h"
#include "oauth/protocol.h"
#include "oauth/requests.h"

namespace tether::oauth {
namespace {

bool rejectedClient(const GrantResult& r) {
  return r.classification.terminal() && r.classification.code == protocol::kInvalidClient;
}

// The IdP got past client authentication: success, or a grant-level verdict.
bool acceptedClient(const GrantResult& r) {
  return r.classification.success() ||
         (r.classification.terminal() && r.classification.code != protocol::kInvalidClient);
}

BasicForm other(BasicForm f) {
  return f == BasicForm::kEncoded ? BasicForm::kRaw : BasicForm::kEncoded;
}

}  // namespace

TokenEndpointClient::TokenEndpointClient(http::HttpClient& http, OAuthClientConfig config,
                                         const core::Clock& clock, BasicForm initial_form)
    : http_(http), config_(std::move(config)), clock_(clock), basic_form_(initial_form) {}

GrantResult TokenEndpointClient::exchangeCode(std::string_view code, std::string_view code_verifier,
                                              std::string_view redirect_uri) {
  return perform(authorizationCodeGrant(config_, code, code_verifier, redirect_uri), {});
}

GrantResult TokenEndpointClient::refresh(std::string_view refresh_token) {
  if (refresh_token.empty()) {
    GrantResult r;
    r.classification =
        interpret(Outcome::fromLocal(LocalFailure::kNoRefreshToken), {}).classification;
    return r;
  }
  return perform(refreshTokenGrant(config_, refresh_token), refresh_token);
}

GrantResult TokenEndpointClient::clientCredentials() {
  return perform(clientCredentialsGrant(config_), {});
}

GrantResult TokenEndpointClient::sendOnce(const FormPairs& grant, BasicForm form,
                                          std::string_view previous_refresh_token) {
  const http::ClientResult result = http_.send(buildTokenRequest(config_, grant, form));
  TokenParseOptions options;
  options.now = clock_.now();  // after the call: lifetimes count from the answer
  options.default_lifetime = config_.default_token_lifetime;
  options.previous_refresh_token = previous_refresh_token;
  Interpretation i = interpret(Outcome::fromResult(result), options);
  GrantResult r;
  r.classification = std::move(i.classification);
  r.tokens = std::move(i.tokens);
  r.requests = 1;
  return r;
}

GrantResult TokenEndpointClient::perform(const FormPairs& grant,
                                         std::string_view previous_refresh_token) {
  const BasicForm first = basicForm();
  GrantResult r = sendOnce(grant, first, previous_refresh_token);
  if (config_.client_auth != ClientAuthStyle::kBasic || !rejectedClient(r) ||
      !basicFormsDiffer(config_.client_id, config_.client_secret)) {
    return r;
  }
  // Some IdPs compare the raw secret instead of decoding RFC 6749 §2.3.1's form (or the
  // reverse): try the other form once. The rejected request consumed nothing, since client
  // authentication precedes any grant processing.
  const BasicForm second = other(first);
  GrantResult retry = sendOnce(grant, second, previous_refresh_token);
  retry.requests = 2;
  if (acceptedClient(retry)) {
    BasicForm expected = first;
    if (basic_form_.compare_exchange_strong(expected, second, std::memory_order_acq_rel)) {
      core::log::info(
          "IdP accepted the other HTTP Basic form of the client credentials; remembering it",
          {{"token_url", config_.token_url},
           {"basic_form", second == BasicForm::kRaw ? "raw" : "rfc6749"}});
    }
  }
  return retry;
}

}  // namespace tether::oauth

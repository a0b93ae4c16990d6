#pragma once
/// Performs the three grants against one connection's token endpoint and classifies the
/// outcome. Owns the connection's memory of which HTTP Basic form the IdP accepts.
///
/// Thread-safety: all methods may be called concurrently. The calls block (they use
/// HttpClient::send): never call them on a server I/O thread.

#include <atomic>
#include <optional>
#include <string_view>

#include "core/clock.h"
#include "http/http_client.h"
#include "oauth/classify.h"
#include "oauth/client_config.h"
#include "oauth/form.h"
#include "oauth/token_response.h"

namespace tether::oauth {

/// The outcome of one grant: classified, with tokens on success.
struct GrantResult {
  Classification classification;
  std::optional<TokenSet> tokens;  // set iff classification.success()
  /// HTTP requests made: 0 (local failure), 1, or 2 (Basic form fallback).
  int requests = 0;

  bool ok() const { return classification.success(); }
};

class TokenEndpointClient {
 public:
  /// `http` and `clock` must outlive this object. `initial_form` restores a remembered
  /// Basic form (see basicForm()).
  TokenEndpointClient(http::HttpClient& http, OAuthClientConfig config, const core::Clock& clock,
                      BasicForm initial_form = BasicForm::kEncoded);

  /// authorization_code grant with the PKCE verifier.
  GrantResult exchangeCode(std::string_view code, std::string_view code_verifier,
                           std::string_view redirect_uri);
  /// refresh_token grant. An empty `refresh_token` is the local failure no_refresh_token
  /// (terminal, no request). A response without a refresh token keeps this one.
  GrantResult refresh(std::string_view refresh_token);
  /// client_credentials grant.
  GrantResult clientCredentials();

  /// The Basic form sent first (for client_auth basic): starts as RFC 6749 §2.3.1's
  /// encoded form; after the IdP rejected it with invalid_client and accepted the other
  /// form, the other one. Callers may persist it and pass it back at construction.
  BasicForm basicForm() const { return basic_form_.load(std::memory_order_acquire); }

  const OAuthClientConfig& config() const { return config_; }

 private:
  GrantResult perform(const FormPairs& grant, std::string_view previous_refresh_token);
  GrantResult sendOnce(const FormPairs& grant, BasicForm form,
                       std::string_view previous_refresh_token);

  http::HttpClient& http_;
  const OAuthClientConfig config_;
  const core::Clock& clock_;
  std::atomic<BasicForm> basic_form_;
};

}  // namespace tether::oauth

#include "oauth/requests.h"

#include <array>

#include "core/encoding.h"
#include "oauth/protocol.h"

namespace tether::oauth {
namespace {

namespace p = protocol;

void addResource(const OAuthClientConfig& config, FormPairs& form) {
  if (!config.resource.empty()) form.emplace_back(p::kResource, config.resource);
}

}  // namespace

std::string_view clientAuthStyleName(ClientAuthStyle style) {
  switch (style) {
    case ClientAuthStyle::kBasic:
      return "basic";
    case ClientAuthStyle::kBasicRaw:
      return "basic_raw";
    case ClientAuthStyle::kPost:
      return "post";
    case ClientAuthStyle::kNone:
      return "none";
  }
  return "basic";
}

std::optional<ClientAuthStyle> parseClientAuthStyle(std::string_view name) {
  for (auto s : {ClientAuthStyle::kBasic, ClientAuthStyle::kBasicRaw, ClientAuthStyle::kPost,
                 ClientAuthStyle::kNone}) {
    if (name == clientAuthStyleName(s)) return s;
  }
  return std::nullopt;
}

std::string basicAuthorization(std::string_view client_id, std::string_view client_secret,
                               BasicForm form) {
  std::string credentials;
  if (form == BasicForm::kEncoded) {
    credentials = core::formUrlEncode(client_id) + ':' + core::formUrlEncode(client_secret);
  } else {
    credentials.append(client_id).append(":").append(client_secret);
  }
  return "Basic " + core::base64Encode(credentials);
}

bool basicFormsDiffer(std::string_view client_id, std::string_view client_secret) {
  return core::formUrlEncode(client_id) != client_id ||
         core::formUrlEncode(client_secret) != client_secret;
}

FormPairs authorizationCodeGrant(const OAuthClientConfig& config, std::string_view code,
                                 std::string_view code_verifier, std::string_view redirect_uri) {
  FormPairs form{{std::string(p::kGrantType), std::string(p::kGrantAuthorizationCode)},
                 {std::string(p::kCode), std::string(code)},
                 {std::string(p::kRedirectUri), std::string(redirect_uri)},
                 {std::string(p::kCodeVerifier), std::string(code_verifier)}};
  addResource(config, form);
  return form;
}

FormPairs refreshTokenGrant(const OAuthClientConfig& config, std::string_view refresh_token) {
  FormPairs form{{std::string(p::kGrantType), std::string(p::kGrantRefreshToken)},
                 {std::string(p::kRefreshToken), std::string(refresh_token)}};
  if (config.send_scope_on_refresh && !config.scopes.empty()) {
    form.emplace_back(p::kScope, config.scopes);
  }
  addResource(config, form);
  return form;
}

FormPairs clientCredentialsGrant(const OAuthClientConfig& config) {
  FormPairs form{{std::string(p::kGrantType), std::string(p::kGrantClientCredentials)}};
  if (!config.scopes.empty()) form.emplace_back(p::kScope, config.scopes);
  addResource(config, form);
  return form;
}

http::ClientRequest buildTokenRequest(const OAuthClientConfig& config, FormPairs grant,
                                      BasicForm basic_form) {
  http::ClientRequest req;
  req.method = "POST";
  req.url = config.token_url;
  req.headers.push_back({std::string(p::kHeaderContentType), std::string(p::kMediaForm)});
  req.headers.push_back({std::string(p::kHeaderAccept), std::string(p::kMediaJson)});
  // A token request is not idempotent (a one-time-use refresh token is spent by the first
  // copy that arrives). libcurl silently re-sends a request whose *reused* connection died
  // before any answer; closing after each token request keeps the next one off a reused
  // connection, so an answer lost after send surfaces as a transport error instead.
  req.headers.push_back({std::string(p::kHeaderConnection), "close"});
  switch (config.client_auth) {
    case ClientAuthStyle::kBasic:
    case ClientAuthStyle::kBasicRaw: {
      const BasicForm form =
          config.client_auth == ClientAuthStyle::kBasicRaw ? BasicForm::kRaw : basic_form;
      req.headers.push_back({std::string(p::kHeaderAuthorization),
                             basicAuthorization(config.client_id, config.client_secret, form)});
      break;
    }
    case ClientAuthStyle::kPost:
      grant.emplace_back(p::kClientId, config.client_id);
      grant.emplace_back(p::kClientSecret, config.client_secret);
      break;
    case ClientAuthStyle::kNone:
      grant.emplace_back(p::kClientId, config.client_id);
      break;
  }
  req.body = encodeForm(grant);
  req.connect_timeout = config.connect_timeout;
  req.total_timeout = config.total_timeout;
  req.max_response_bytes = p::kMaxResponseBytes;
  req.follow_redirects = false;
  req.ca_bundle_path = config.ca_bundle;
  req.use_proxy = config.use_proxy;
  return req;
}

core::Result<std::string> buildAuthorizationUrl(const OAuthClientConfig& config,
                                                const AuthorizationRequest& request) {
  using core::Errc;
  using core::Error;
  if (config.authorization_url.empty()) {
    return Error(Errc::kInvalidArgument, "no authorization URL configured");
  }
  if (config.authorization_url.find('#') != std::string::npos) {
    return Error(Errc::kInvalidArgument, "authorization URL must not have a fragment");
  }
  if (config.client_id.empty() || request.redirect_uri.empty() || request.state.empty() ||
      request.code_challenge.empty()) {
    return Error(Errc::kInvalidArgument,
                 "client_id, redirect_uri, state and code_challenge are required");
  }
  static constexpr std::array<std::string_view, 8> kReserved = {
      p::kResponseType, p::kClientId,      p::kRedirectUri,         p::kScope,
      p::kState,        p::kCodeChallenge, p::kCodeChallengeMethod, p::kResource};
  for (const auto& [k, v] : config.extra_params) {
    for (std::string_view r : kReserved) {
      if (k == r) {
        return Error(Errc::kInvalidArgument,
                     "extra authorization parameter '" + k + "' is set by Tether itself");
      }
    }
  }

  std::string url = config.authorization_url;
  char sep = url.find('?') == std::string::npos ? '?' : '&';
  if (!url.empty() && (url.back() == '?' || url.back() == '&')) sep = '\0';
  auto add = [&](std::string_view k, std::string_view v) {
    if (sep) url += sep;
    sep = '&';
    url += core::percentEncode(k);
    url += '=';
    url += core::percentEncode(v);
  };
  add(p::kResponseType, p::kResponseTypeCode);
  add(p::kClientId, config.client_id);
  add(p::kRedirectUri, request.redirect_uri);
  if (!config.scopes.empty()) add(p::kScope, config.scopes);
  add(p::kState, request.state);
  add(p::kCodeChallenge, request.code_challenge);
  add(p::kCodeChallengeMethod, p::kCodeChallengeMethodS256);
  if (!config.resource.empty()) add(p::kResource, config.resource);
  for (const auto& [k, v] : config.extra_params) add(k, v);
  return url;
}

}  // namespace tether::oauth

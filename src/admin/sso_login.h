#pragma once
/// Portal single sign-on (admin.sso): the OpenID Connect authorization-code flow with PKCE
/// (S256), `state`, `nonce` and the RFC 9207 `iss` check, and the mapping of the signed-in
/// subject to a portal role.
///
/// The flow keeps nothing on the server: `start` picks a random state and puts it, with
/// its expiry (kFlowLifetime), in a short-lived signed cookie bound to this browser; the
/// PKCE verifier and the nonce are HMACs of the state under the session secret, so any
/// replica (they share the secret) can finish the flow, and neither is ever stored or sent
/// anywhere but to the IdP. The pending state is so bounded by construction: no memory per
/// pending sign-in, and each one dies with its cookie's expiry. The authorization code is
/// single-use at the IdP.
///
/// Thread-safety: all methods may be called concurrently. `start` and `finish` block (IdP
/// requests through HttpClient): never call them on a server I/O thread.

#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "admin/session.h"
#include "admin/sso_id_token.h"
#include "config/config.h"
#include "core/clock.h"
#include "core/result.h"
#include "http/http_client.h"

namespace tether::admin {

inline constexpr std::string_view kSsoFlowCookie = "tether_sso_flow";
inline constexpr core::Duration kFlowLifetime = std::chrono::minutes(10);

/// The portal role of a signed-in subject: admin when a group is in admin_groups or the
/// subject in admin_subjects; else viewer likewise; else user.
Role ssoRole(const config::SsoConfig& config, std::string_view subject,
             const std::vector<std::string>& groups);

/// The IdP's OpenID configuration as far as sign-in needs it.
struct OidcEndpoints {
  std::string authorization_endpoint;
  std::string token_endpoint;
  std::string jwks_uri;
  bool iss_parameter_supported = false;
};

/// The query of the callback (`/portal/sso/callback?...`).
struct SsoCallback {
  std::optional<std::string> code, state, iss, error;
};

struct SsoIdentity {
  std::string subject;
  std::string name;
  Role role = Role::kUser;
};

class SsoLogin {
 public:
  /// `http` and `clock` must outlive this object; `secret` >= 32 bytes, shared by replicas;
  /// `redirect_uri` is read at each call (the public URL may be known only after listening).
  SsoLogin(config::SsoConfig config, http::HttpClient& http, const core::Clock& clock,
           std::string secret, std::function<std::string()> redirect_uri);

  /// BLOCKING. The IdP's authorization URL to redirect the browser to, and the flow
  /// cookie's value. kUnavailable when the IdP's configuration cannot be read.
  struct Start {
    std::string location;
    std::string flow_cookie;
  };
  core::Result<Start> start();

  /// BLOCKING. Checks the callback against the flow cookie (state, expiry), the RFC 9207
  /// `iss`, redeems the code (with the PKCE verifier) and checks the ID token. Errors are
  /// sentences for the person signing in (kUnauthenticated / kInvalidArgument /
  /// kUnavailable); none holds the code, state, verifier, nonce or a token.
  core::Result<SsoIdentity> finish(const SsoCallback& callback, std::string_view flow_cookie);

  const config::SsoConfig& config() const { return config_; }
  /// What the sign-in button names: display_name, else the issuer's host.
  std::string displayName() const;

 private:
  core::Result<OidcEndpoints> endpoints();
  core::Result<identity::JwkSet> keys(bool refresh);
  core::Result<std::string> fetch(const std::string& url, std::string_view what,
                                  const std::string& method = "GET", std::string body = {});
  std::string derive(std::string_view label, std::string_view state) const;
  /// The state a flow cookie carries if its MAC holds and it has not expired.
  std::optional<std::string> openFlowCookie(std::string_view cookie) const;

  const config::SsoConfig config_;
  http::HttpClient& http_;
  const core::Clock& clock_;
  const std::string secret_;
  const std::function<std::string()> redirect_uri_;

  std::mutex mu_;
  std::optional<OidcEndpoints> endpoints_;
  core::TimePoint endpoints_at_;
  std::optional<core::Error> endpoints_error_;  // the last failure, answered for a while
  core::TimePoint endpoints_error_at_;
  identity::JwkSet jwks_;
  std::optional<core::TimePoint> jwks_at_;
};

}  // namespace tether::admin

// The mock IdP's /token endpoint: authorization code with PKCE, refresh token (rotation,
// one-time use, reuse detection, idle and absolute expiry), client credentials, and the
// issuance of access tokens (RS256 JWTs) and refresh token families.

#include <algorithm>
#include <boost/json.hpp>
#include <set>

#include "core/random.h"
#include "http/headers.h"
#include "mockidp/mock_idp_impl.h"
#include "oauth/pkce.h"
#include "oauth/protocol.h"

namespace tether::mockidp {

namespace json = boost::json;
namespace p = oauth::protocol;
using detail::oauthError;
using std::chrono::seconds;

// ----- /token -----------------------------------------------------------------------
http::Response MockIdp::Impl::token(http::Request& req) {
  const auto form = http::parseForm(req.body);
  auto auth = authenticate(req, form);
  if (auth.failure) return std::move(*auth.failure);
  const ClientSpec& client = *auth.client;
  const std::string grant = http::formValue(form, p::kGrantType).value_or("");
  if (grant.empty()) return oauthError(400, p::kInvalidRequest, "grant_type missing");
  if (grant == p::kGrantAuthorizationCode) return codeGrant(client, form);
  if (grant == p::kGrantRefreshToken) return refreshGrant(client, form);
  if (grant == p::kGrantClientCredentials) return clientCredentialsGrant(client, form);
  return oauthError(400, p::kUnsupportedGrantType, "grant type not supported");
}
http::Response MockIdp::Impl::codeGrant(const ClientSpec& client, const Form& form) {
  const std::string code = http::formValue(form, p::kCode).value_or("");
  const std::string verifier = http::formValue(form, p::kCodeVerifier).value_or("");
  const std::string redirect_uri = http::formValue(form, p::kRedirectUri).value_or("");
  std::lock_guard lock(mu_);
  auto it = codes_.find(code);
  if (it == codes_.end()) return oauthError(400, p::kInvalidGrant, "unknown or used code");
  const Code c = it->second;
  codes_.erase(it);  // single use, whatever happens next
  if (c.client_id != client.client_id)
    return oauthError(400, p::kInvalidGrant, "code of another client");
  if (now() >= c.expires_at) return oauthError(400, p::kInvalidGrant, "code expired");
  if (c.redirect_uri != redirect_uri)
    return oauthError(400, p::kInvalidGrant, "redirect_uri mismatch");
  if (!oauth::isValidVerifier(verifier) || oauth::s256Challenge(verifier) != c.challenge) {
    return oauthError(400, p::kInvalidGrant, "PKCE verification failed");
  }
  const std::string family = newFamilyLocked();
  return tokenResponseLocked(client.client_id, c.subject, c.scope, c.resource, family,
                             settings_.issue_refresh_tokens);
}

http::Response MockIdp::Impl::refreshGrant(const ClientSpec& client, const Form& form) {
  const std::string rt = http::formValue(form, p::kRefreshToken).value_or("");
  if (rt.empty()) return oauthError(400, p::kInvalidRequest, "refresh_token missing");
  std::lock_guard lock(mu_);
  auto it = refresh_.find(rt);
  if (it == refresh_.end()) return oauthError(400, p::kInvalidGrant, "unknown refresh token");
  Refresh& r = it->second;
  if (r.client_id != client.client_id) {
    return oauthError(400, p::kInvalidGrant, "refresh token of another client");
  }
  Family& fam = families_[r.family];
  if (fam.revoked) return oauthError(400, p::kInvalidGrant, "refresh token revoked");
  const core::TimePoint t = now();
  if (settings_.refresh_token_lifetime.count() > 0 &&
      t >= fam.started + settings_.refresh_token_lifetime) {
    return oauthError(400, p::kInvalidGrant, "refresh token expired");
  }
  if (settings_.refresh_idle_timeout.count() > 0 &&
      t >= r.last_used + settings_.refresh_idle_timeout) {
    return oauthError(400, p::kInvalidGrant, "session idle timeout");
  }
  if (r.spent_at &&
      !(settings_.reuse_grace.count() > 0 && t < *r.spent_at + settings_.reuse_grace)) {
    count(counters::kRefreshReuseAttempts);
    if (settings_.revoke_family_on_reuse) revokeFamilyLocked(r.family);
    return oauthError(400, p::kInvalidGrant, "refresh token already used");
  }
  std::string scope = r.scope;
  if (const auto requested = http::formValue(form, p::kScope)) {
    if (!isSubset(*requested, r.scope)) {
      return oauthError(400, p::kInvalidScope, "scope exceeds the original grant");
    }
    scope = *requested;
  }
  const std::string resource = http::formValue(form, p::kResource).value_or(r.resource);
  r.last_used = t;
  if (settings_.rotation == Rotation::kNone) {
    // The same refresh token stays; like Google, do not repeat it in the answer.
    return tokenResponseLocked(client.client_id, r.subject, scope, resource, r.family,
                               /*issue_refresh=*/false, rt);
  }
  if (settings_.rotation == Rotation::kOneTimeUse && !r.spent_at) r.spent_at = t;
  const std::string family = r.family, subject = r.subject;
  return tokenResponseLocked(client.client_id, subject, scope, resource, family, true);
}

http::Response MockIdp::Impl::clientCredentialsGrant(const ClientSpec& client, const Form& form) {
  if (client.client_secret.empty()) {
    return oauthError(400, p::kUnauthorizedClient, "public clients cannot use client_credentials");
  }
  std::lock_guard lock(mu_);
  return tokenResponseLocked(client.client_id, client.client_id,
                             http::formValue(form, p::kScope).value_or(""),
                             http::formValue(form, p::kResource).value_or(""), "", false);
}

bool MockIdp::Impl::isSubset(std::string_view requested, std::string_view granted) {
  std::set<std::string> have;
  auto split = [](std::string_view s, auto fn) {
    while (!s.empty()) {
      const size_t sp = s.find(' ');
      if (sp != 0) fn(s.substr(0, sp));
      if (sp == std::string_view::npos) break;
      s.remove_prefix(sp + 1);
    }
  };
  split(granted, [&](std::string_view t) { have.insert(std::string(t)); });
  bool ok = true;
  split(requested, [&](std::string_view t) { ok = ok && have.count(std::string(t)); });
  return ok;
}

// `kept_refresh`: the refresh token that stays valid (rotation none), for the deadline.
http::Response MockIdp::Impl::tokenResponseLocked(const std::string& client_id,
                                                  const std::string& subject,
                                                  const std::string& scope,
                                                  const std::string& resource,
                                                  const std::string& family, bool issue_refresh,
                                                  const std::string& kept_refresh) {
  json::object o;
  o["access_token"] = issueAccessLocked(client_id, subject, scope, resource);
  o["token_type"] = "Bearer";
  if (settings_.disclose_expires_in) o["expires_in"] = settings_.access_token_lifetime.count();
  if (issue_refresh) {
    o["refresh_token"] = issueRefreshLocked(client_id, family, scope, resource, subject);
  }
  if ((issue_refresh || !kept_refresh.empty()) && settings_.disclose_refresh_expires_in) {
    std::optional<int64_t> left;
    if (settings_.refresh_token_lifetime.count() > 0) {
      const auto& fam = families_[family];
      left = std::chrono::duration_cast<seconds>(fam.started + settings_.refresh_token_lifetime -
                                                 now())
                 .count();
    }
    if (settings_.refresh_idle_timeout.count() > 0) {
      const int64_t idle = settings_.refresh_idle_timeout.count();
      left = left ? std::min(*left, idle) : idle;
    }
    if (left) o["refresh_expires_in"] = std::max<int64_t>(*left, 1);
  }
  if (!scope.empty()) o["scope"] = scope;
  // OpenID Connect: an ID token naming the user when `openid` was granted (Tether shows its
  // claims as the consenting account).
  if ((" " + scope + " ").find(" openid ") != std::string::npos) {
    const core::TimePoint t = now();
    json::object id{{"iss", issuer_},
                    {"sub", subject},
                    {"aud", client_id},
                    {"iat", core::toUnixSeconds(t)},
                    {"exp", core::toUnixSeconds(t + settings_.access_token_lifetime)},
                    {"email", subject + "@mock-idp.test"},
                    {"name", "Mock User " + subject}};
    o["id_token"] = signer_->sign(json::serialize(id));
  }
  auto r = http::Response::json(200, json::serialize(o));
  r.headers.push_back({"Cache-Control", "no-store"});
  r.headers.push_back({"Pragma", "no-cache"});
  return r;
}

std::string MockIdp::Impl::issueAccessLocked(const std::string& client_id,
                                             const std::string& subject, const std::string& scope,
                                             const std::string& resource) {
  const core::TimePoint t = now();
  const std::string jti = core::newId();
  AccessInfo info{client_id, scope,
                  subject,   resource.empty() ? client_id : resource,
                  t,         t + settings_.access_token_lifetime};
  json::object claims{{"iss", issuer_},
                      {"sub", subject},
                      {"aud", info.audience},
                      {"client_id", client_id},
                      {"iat", core::toUnixSeconds(t)},
                      {"exp", core::toUnixSeconds(info.expires_at)},
                      {"jti", jti}};
  if (!scope.empty()) claims["scope"] = scope;
  access_[jti] = std::move(info);
  count(counters::kAccessTokensIssued);
  return signer_->sign(json::serialize(claims));
}

std::string MockIdp::Impl::newFamilyLocked() {
  std::string id = core::newId();
  families_[id] = Family{now(), false};
  return id;
}

std::string MockIdp::Impl::issueRefreshLocked(const std::string& client_id,
                                              const std::string& family, const std::string& scope,
                                              const std::string& resource,
                                              const std::string& subject) {
  std::string rt = "rt_" + core::randomToken(32);
  refresh_[rt] = Refresh{client_id, family, scope, resource, subject, now(), std::nullopt};
  count(counters::kRefreshTokensIssued);
  return rt;
}

void MockIdp::Impl::revokeFamilyLocked(const std::string& family) {
  auto& fam = families_[family];
  if (!fam.revoked) count(counters::kFamiliesRevoked);
  fam.revoked = true;
}

}  // namespace tether::mockidp

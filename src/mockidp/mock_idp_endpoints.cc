// The mock IdP's OAuth endpoints other than /token: discovery (RFC 8414 / OIDC),
// /authorize with its consent page, client authentication, /register (RFC 7591),
// /introspect (RFC 7662) and /revoke (RFC 7009).

#include <algorithm>
#include <boost/json.hpp>
#include <utility>

#include "core/encoding.h"
#include "core/json_escape.h"
#include "core/random.h"
#include "http/headers.h"
#include "mockidp/mock_idp_impl.h"
#include "oauth/protocol.h"

namespace tether::mockidp {

namespace json = boost::json;
namespace p = oauth::protocol;
using detail::appendQuery;
using detail::oauthError;

// ----- discovery --------------------------------------------------------------------
http::Response MockIdp::Impl::discovery(bool oidc) {
  json::object d{
      {"issuer", issuer_},
      {"authorization_endpoint", issuer_ + "/authorize"},
      {"token_endpoint", issuer_ + "/token"},
      {"registration_endpoint", issuer_ + "/register"},
      {"introspection_endpoint", issuer_ + "/introspect"},
      {"jwks_uri", issuer_ + "/jwks"},
      {"response_types_supported", json::array{"code"}},
      {"grant_types_supported",
       json::array{"authorization_code", "refresh_token", "client_credentials"}},
      {"code_challenge_methods_supported", json::array{"S256"}},
      {"token_endpoint_auth_methods_supported",
       json::array{"client_secret_basic", "client_secret_post", "none"}},
      {"introspection_endpoint_auth_methods_supported",
       json::array{"client_secret_basic", "client_secret_post"}},
      {"authorization_response_iss_parameter_supported", true},
  };
  if (settings().revocation_endpoint) {
    d["revocation_endpoint"] = issuer_ + "/revoke";
    d["revocation_endpoint_auth_methods_supported"] =
        json::array{"client_secret_basic", "client_secret_post", "none"};
  }
  if (oidc) {
    d["subject_types_supported"] = json::array{"public"};
    d["id_token_signing_alg_values_supported"] = json::array{"RS256"};
    d["scopes_supported"] = json::array{"openid", "offline_access"};
  }
  return http::Response::json(200, json::serialize(d));
}

// ----- /authorize -------------------------------------------------------------------
http::Response MockIdp::Impl::authorize(http::Request& req) {
  const auto q = [&](std::string_view k) { return req.queryParam(k).value_or(""); };
  const std::string client_id = q(p::kClientId);
  const std::string redirect_uri = q(p::kRedirectUri);
  const std::string state = q(p::kState);
  {
    std::lock_guard lock(mu_);
    auto it = clients_.find(client_id);
    if (it == clients_.end() || revoked_clients_.count(client_id)) {
      return http::Response::html(400, "<h1>Unknown client</h1>");
    }
    const auto& uris = it->second.redirect_uris;
    if (redirect_uri.empty() ||
        (!uris.empty() && std::find(uris.begin(), uris.end(), redirect_uri) == uris.end())) {
      return http::Response::html(400, "<h1>Unregistered redirect_uri</h1>");
    }
  }
  auto fail = [&](std::string_view error) {
    std::string query = "error=" + core::formUrlEncode(error);
    if (!state.empty()) query += "&state=" + core::formUrlEncode(state);
    query += "&iss=" + core::formUrlEncode(issuer_);
    return http::Response::redirect(appendQuery(redirect_uri, query));
  };
  if (q(p::kResponseType) != p::kResponseTypeCode) return fail("unsupported_response_type");
  if (q(p::kCodeChallenge).empty() || q(p::kCodeChallengeMethod) != p::kCodeChallengeMethodS256) {
    return fail("invalid_request");  // PKCE with S256 is mandatory here
  }
  Pending pending{client_id,    redirect_uri,   state, q(p::kCodeChallenge),
                  q(p::kScope), q(p::kResource)};
  if (settings().auto_approve) return approve(pending);
  const std::string id = core::randomToken(16);
  {
    std::lock_guard lock(mu_);
    pending_[id] = pending;
  }
  std::string page =
      "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Mock IdP - consent</title>"
      "<style>body{font:16px/1.5 system-ui,sans-serif;background:#eef1f5;color:#1d2430;"
      "margin:0}main{max-width:28rem;margin:14vh auto;background:#fff;border-radius:10px;"
      "padding:2rem;box-shadow:0 1px 3px rgba(0,0,0,.15)}h1{font-size:1.2rem;margin:0 0 1rem}"
      "button{font:inherit;padding:.5rem 1.2rem;border-radius:6px;border:1px solid #c5ccd6;"
      "background:#fff;margin-right:.5rem;cursor:pointer}button[value=approve]{background:"
      "#2457d6;border-color:#2457d6;color:#fff}</style></head><body><main>"
      "<h1>Mock IdP</h1><p>Client <b>" +
      core::htmlEscape(client_id) + "</b> asks for scope <b>" + core::htmlEscape(pending.scope) +
      "</b>.</p><form method=\"post\" action=\"/authorize/decision\">"
      "<input type=\"hidden\" name=\"request\" value=\"" +
      id +
      "\">"
      "<button name=\"decision\" value=\"approve\">Approve</button> "
      "<button name=\"decision\" value=\"deny\">Deny</button></form></main></body></html>";
  return http::Response::html(200, std::move(page));
}

http::Response MockIdp::Impl::decision(http::Request& req) {
  const auto form = http::parseForm(req.body);
  Pending pending;
  {
    std::lock_guard lock(mu_);
    auto it = pending_.find(http::formValue(form, "request").value_or(""));
    if (it == pending_.end()) return http::Response::html(400, "<h1>Unknown request</h1>");
    pending = std::move(it->second);
    pending_.erase(it);
  }
  if (http::formValue(form, "decision") != "approve") {
    std::string query = "error=access_denied";
    if (!pending.state.empty()) query += "&state=" + core::formUrlEncode(pending.state);
    return http::Response::redirect(appendQuery(pending.redirect_uri, query));
  }
  return approve(pending);
}

http::Response MockIdp::Impl::approve(const Pending& pending) {
  const std::string code = issueCode(pending.client_id, pending.redirect_uri, pending.challenge,
                                     pending.scope, pending.resource, settings().subject);
  std::string query = "code=" + core::formUrlEncode(code);
  if (!pending.state.empty()) query += "&state=" + core::formUrlEncode(pending.state);
  query += "&iss=" + core::formUrlEncode(issuer_);
  return http::Response::redirect(appendQuery(pending.redirect_uri, query));
}

// ----- client authentication --------------------------------------------------------
MockIdp::Impl::AuthResult MockIdp::Impl::authenticate(
    const http::Request& req, const std::vector<std::pair<std::string, std::string>>& form) {
  std::string id, secret;
  bool via_basic = false, has_secret = false;
  const BasicMode mode = settings().basic_mode;
  auto reject = [&](std::string_view why) {
    count(counters::kClientAuthFailures);
    auto r = oauthError(401, p::kInvalidClient, why);
    if (via_basic) r.headers.push_back({"WWW-Authenticate", "Basic realm=\"mock-idp\""});
    return AuthResult{std::nullopt, std::move(r)};
  };
  if (const auto auth = req.header("Authorization")) {
    if (auth->size() < 6 || !core::iequals(auth->substr(0, 6), "Basic ")) {
      return reject("unsupported Authorization scheme");
    }
    via_basic = true;
    auto decoded = core::base64Decode(auth->substr(6));
    if (!decoded) return reject("malformed Basic credentials");
    const std::string& creds = decoded.value();
    const size_t colon = creds.find(':');
    if (colon == std::string::npos) return reject("malformed Basic credentials");
    id = creds.substr(0, colon);
    secret = creds.substr(colon + 1);
    if (mode == BasicMode::kRfc6749) {
      auto did = core::formUrlDecode(id);
      auto dsecret = core::formUrlDecode(secret);
      if (!did || !dsecret) return reject("Basic credentials are not form-urlencoded");
      id = std::move(did).value();
      secret = std::move(dsecret).value();
    }
    has_secret = true;
    if (auto fid = http::formValue(form, p::kClientId); fid && *fid != id) {
      return AuthResult{std::nullopt,
                        oauthError(400, p::kInvalidRequest, "client_id differs from Basic")};
    }
  } else {
    id = http::formValue(form, p::kClientId).value_or("");
    if (auto s = http::formValue(form, p::kClientSecret)) {
      secret = *s;
      has_secret = true;
    }
  }
  if (id.empty()) return reject("no client authentication");
  std::lock_guard lock(mu_);
  auto it = clients_.find(id);
  if (it == clients_.end()) return reject("unknown client");
  if (revoked_clients_.count(id)) return reject("client revoked");
  const ClientSpec& c = it->second;
  if (!c.client_secret.empty() && (!has_secret || secret != c.client_secret)) {
    return reject("wrong client secret");
  }
  return AuthResult{c, std::nullopt};
}

// ----- /register (RFC 7591) ---------------------------------------------------------
http::Response MockIdp::Impl::registerClient(http::Request& req) {
  boost::system::error_code ec;
  const auto v = json::parse(req.body, ec);
  if (ec || !v.is_object()) {
    return oauthError(400, "invalid_client_metadata", "body must be a JSON object");
  }
  const auto& o = v.get_object();
  ClientSpec c;
  json::array uris;
  if (const auto* u = o.if_contains("redirect_uris")) {
    if (!u->is_array())
      return oauthError(400, "invalid_redirect_uri", "redirect_uris must be an array");
    for (const auto& x : u->get_array()) {
      if (!x.is_string())
        return oauthError(400, "invalid_redirect_uri", "redirect_uris must be strings");
      c.redirect_uris.emplace_back(x.get_string());
      uris.push_back(x);
    }
  }
  std::string method = "client_secret_basic";
  if (const auto* m = o.if_contains("token_endpoint_auth_method"); m && m->is_string()) {
    method = std::string(m->get_string());
  }
  if (method != "client_secret_basic" && method != "client_secret_post" && method != "none") {
    return oauthError(400, "invalid_client_metadata", "unsupported token_endpoint_auth_method");
  }
  c.client_id = "client_" + core::randomToken(12);
  if (method != "none") c.client_secret = core::randomToken(24);
  addClient(c);
  count(counters::kClientsRegistered);
  json::object out{{"client_id", c.client_id},
                   {"client_id_issued_at", core::toUnixSeconds(now())},
                   {"token_endpoint_auth_method", method},
                   {"redirect_uris", uris},
                   {"grant_types", json::array{"authorization_code", "refresh_token"}},
                   {"response_types", json::array{"code"}}};
  if (!c.client_secret.empty()) {
    out["client_secret"] = c.client_secret;
    out["client_secret_expires_at"] = 0;
  }
  if (const auto* n = o.if_contains("client_name")) out["client_name"] = *n;
  return http::Response::json(201, json::serialize(out));
}

// ----- /introspect (RFC 7662) -------------------------------------------------------
http::Response MockIdp::Impl::introspect(http::Request& req) {
  const auto form = http::parseForm(req.body);
  auto auth = authenticate(req, form);
  if (auth.failure) return std::move(*auth.failure);
  const std::string tok = http::formValue(form, "token").value_or("");
  const core::TimePoint t = now();
  json::object out{{"active", false}};
  if (auto claims = signer_->verify(tok)) {
    boost::system::error_code ec;
    const auto v = json::parse(*claims, ec);
    const auto* jti = !ec && v.is_object() ? v.get_object().if_contains("jti") : nullptr;
    std::lock_guard lock(mu_);
    if (jti && jti->is_string()) {
      auto it = access_.find(std::string(jti->get_string()));
      if (it != access_.end() && t < it->second.expires_at &&
          !revoked_clients_.count(it->second.client_id)) {
        out = json::object{{"active", true},
                           {"token_type", "access_token"},
                           {"client_id", it->second.client_id},
                           {"sub", it->second.subject},
                           {"aud", it->second.audience},
                           {"iss", issuer_},
                           {"scope", it->second.scope},
                           {"iat", core::toUnixSeconds(it->second.issued_at)},
                           {"exp", core::toUnixSeconds(it->second.expires_at)}};
      }
    }
  } else {
    std::lock_guard lock(mu_);
    auto it = refresh_.find(tok);
    if (it != refresh_.end() && !families_[it->second.family].revoked && !it->second.spent_at &&
        !revoked_clients_.count(it->second.client_id)) {
      out = json::object{{"active", true},
                         {"token_type", "refresh_token"},
                         {"client_id", it->second.client_id},
                         {"sub", it->second.subject},
                         {"scope", it->second.scope}};
    }
  }
  return http::Response::json(200, json::serialize(out));
}

// ----- /revoke (RFC 7009) -----------------------------------------------------------
// A refresh token revokes its whole family (RFC 7009 §2.1 allows it; later use of any of
// them is invalid_grant). A token the IdP does not know, or one of another client, changes
// nothing and is still 200 (§2.2: the client cannot act on the difference).
http::Response MockIdp::Impl::revoke(http::Request& req) {
  if (!settings().revocation_endpoint) return oauthError(404, "not_found", "no revocation here");
  const auto form = http::parseForm(req.body);
  auto auth = authenticate(req, form);
  if (auth.failure) return std::move(*auth.failure);
  const std::string tok = http::formValue(form, p::kToken).value_or("");
  if (tok.empty()) return oauthError(400, p::kInvalidRequest, "token is required");
  std::lock_guard lock(mu_);
  auto it = refresh_.find(tok);
  if (it != refresh_.end() && it->second.client_id == auth.client->client_id) {
    auto& family = families_[it->second.family];
    if (!family.revoked) count(counters::kRefreshTokensRevoked);
    revokeFamilyLocked(it->second.family);
  }
  http::Response ok;
  ok.status = 200;
  ok.headers.push_back({"Cache-Control", "no-store"});
  return ok;
}

std::vector<std::string> MockIdp::Impl::liveRefreshTokens() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const auto& [token, r] : refresh_) {
    auto fam = families_.find(r.family);
    if (fam != families_.end() && fam->second.revoked) continue;
    if (r.spent_at || revoked_clients_.count(r.client_id)) continue;
    out.push_back(token);
  }
  return out;
}

}  // namespace tether::mockidp

#include "admin/sso_login.h"

#include <boost/json.hpp>
#include <charconv>

#include "core/digest.h"
#include "core/encoding.h"
#include "core/log.h"
#include "core/random.h"
#include "oauth/discovery.h"
#include "oauth/pkce.h"

namespace tether::admin {
namespace {

namespace json = boost::json;
using core::Errc;
using core::Error;

constexpr size_t kMaxDocumentBytes = 256 * 1024;
constexpr auto kEndpointsTtl = std::chrono::hours(1);
constexpr auto kJwksRefreshGap = std::chrono::minutes(1);
constexpr auto kRetryGap = std::chrono::seconds(10);

bool contains(const std::vector<std::string>& list, std::string_view value) {
  for (const auto& v : list) {
    if (v == value) return true;
  }
  return false;
}

bool anyIn(const std::vector<std::string>& wanted, const std::vector<std::string>& have) {
  for (const auto& g : have) {
    if (contains(wanted, g)) return true;
  }
  return false;
}

std::string stringOr(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

/// An OAuth error code as it may be shown: [a-z_] only, at most 64 characters.
std::string errorCode(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, 64)) {
    if ((c >= 'a' && c <= 'z') || c == '_') out += c;
  }
  return out.empty() ? "unknown_error" : out;
}

int64_t toMs(core::TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

Error restart(std::string why) {
  return Error(Errc::kUnauthenticated, std::move(why) + "; start the sign-in again");
}

}  // namespace

Role ssoRole(const config::SsoConfig& config, std::string_view subject,
             const std::vector<std::string>& groups) {
  if (contains(config.admin_subjects, subject) || anyIn(config.admin_groups, groups)) {
    return Role::kAdmin;
  }
  if (contains(config.viewer_subjects, subject) || anyIn(config.viewer_groups, groups)) {
    return Role::kViewer;
  }
  return Role::kUser;
}

SsoLogin::SsoLogin(config::SsoConfig config, http::HttpClient& http, const core::Clock& clock,
                   std::string secret, std::function<std::string()> redirect_uri)
    : config_(std::move(config)),
      http_(http),
      clock_(clock),
      secret_(std::move(secret)),
      redirect_uri_(std::move(redirect_uri)) {}

std::string SsoLogin::displayName() const {
  if (!config_.display_name.empty()) return config_.display_name;
  std::string host = oauth::urlHost(config_.issuer);
  return host.empty() ? "your identity provider" : host;
}

std::string SsoLogin::derive(std::string_view label, std::string_view state) const {
  return core::base64UrlEncode(
      core::hmacSha256(secret_, "sso|" + std::string(label) + "|" + std::string(state)));
}

core::Result<std::string> SsoLogin::fetch(const std::string& url, std::string_view what,
                                          const std::string& method, std::string body) {
  oauth::DiscoveryPolicy policy;
  policy.own_hosts.push_back(oauth::urlHost(config_.issuer));
  TETHER_TRY(oauth::checkDiscoveryUrl(url, policy, what));
  http::ClientRequest req;
  req.method = method;
  req.url = url;
  req.connect_timeout = std::chrono::seconds(5);
  req.total_timeout = std::chrono::seconds(10);
  req.max_response_bytes = kMaxDocumentBytes;
  req.use_proxy = true;
  req.ca_bundle_path = config_.ca_bundle;
  req.headers.push_back({"Accept", "application/json"});
  if (method == "POST") {
    req.headers.push_back({"Content-Type", "application/x-www-form-urlencoded"});
    req.body = std::move(body);
    if (!config_.client_secret.empty()) {
      const std::string basic =
          core::formUrlEncode(config_.client_id) + ":" + core::formUrlEncode(config_.client_secret);
      req.headers.push_back({"Authorization", "Basic " + core::base64Encode(basic)});
    }
  }
  auto result = http_.send(req);
  if (!result.ok()) {
    return Error(Errc::kUnavailable, "the identity provider's " + std::string(what) +
                                         " cannot be reached (" +
                                         http::transportErrorName(result.error) + ")");
  }
  if (method == "POST") {
    // The token endpoint's errors carry a JSON body the caller reads.
    if (result.response.status != 200 && result.response.status != 400 &&
        result.response.status != 401) {
      return Error(Errc::kUnavailable, "the identity provider's " + std::string(what) +
                                           " answered HTTP " +
                                           std::to_string(result.response.status));
    }
    if (result.response.status != 200) {
      boost::system::error_code ec;
      auto v = json::parse(result.response.body, ec);
      const std::string code =
          !ec && v.is_object() ? errorCode(stringOr(v.as_object(), "error")) : "unknown_error";
      if (code == "invalid_grant") {
        return restart(
            "the identity provider refused the sign-in code (invalid_grant): it "
            "expired or was already used");
      }
      return Error(Errc::kUnauthenticated,
                   "the identity provider refused to redeem the sign-in code (" + code +
                       "); check admin.sso.client_id and client_secret");
    }
  } else if (result.response.status != 200) {
    return Error(Errc::kUnavailable, "the identity provider's " + std::string(what) +
                                         " answered HTTP " +
                                         std::to_string(result.response.status));
  }
  return std::move(result.response.body);
}

core::Result<OidcEndpoints> SsoLogin::endpoints() {
  {
    std::lock_guard lock(mu_);
    if (endpoints_ && clock_.now() - endpoints_at_ < kEndpointsTtl) return *endpoints_;
    // An unreachable IdP is asked again only after kRetryGap, however often people click.
    if (endpoints_error_ && clock_.now() - endpoints_error_at_ < kRetryGap) {
      return *endpoints_error_;
    }
  }
  std::string issuer = config_.issuer;
  while (issuer.ends_with('/')) issuer.pop_back();
  auto body = fetch(issuer + "/.well-known/openid-configuration", "OpenID configuration");
  if (!body.ok()) {
    std::lock_guard lock(mu_);
    endpoints_error_ = body.error();
    endpoints_error_at_ = clock_.now();
    return body.error();
  }
  boost::system::error_code ec;
  auto v = json::parse(*body, ec);
  if (ec || !v.is_object()) {
    return Error(Errc::kUnavailable,
                 "the identity provider's OpenID configuration is not a JSON object");
  }
  const auto& o = v.as_object();
  if (stringOr(o, "issuer") != config_.issuer) {
    return Error(Errc::kUnavailable,
                 "the identity provider's OpenID configuration names another "
                 "issuer than admin.sso.issuer " +
                     config_.issuer);
  }
  OidcEndpoints e;
  e.authorization_endpoint = stringOr(o, "authorization_endpoint");
  e.token_endpoint = stringOr(o, "token_endpoint");
  e.jwks_uri = stringOr(o, "jwks_uri");
  const json::value* iss = o.if_contains("authorization_response_iss_parameter_supported");
  e.iss_parameter_supported = iss && iss->is_bool() && iss->as_bool();
  if (e.authorization_endpoint.empty() || e.token_endpoint.empty() || e.jwks_uri.empty()) {
    return Error(Errc::kUnavailable,
                 "the identity provider's OpenID configuration lacks authorization_endpoint, "
                 "token_endpoint or jwks_uri");
  }
  std::lock_guard lock(mu_);
  endpoints_ = e;
  endpoints_at_ = clock_.now();
  endpoints_error_.reset();
  return e;
}

core::Result<identity::JwkSet> SsoLogin::keys(bool refresh) {
  {
    std::lock_guard lock(mu_);
    const bool fresh = jwks_at_.has_value();
    // An unknown kid refetches at most once a minute, whatever the callers send.
    if (fresh && (!refresh || clock_.now() - *jwks_at_ < kJwksRefreshGap)) return jwks_;
  }
  TETHER_TRY_ASSIGN(auto e, endpoints());
  TETHER_TRY_ASSIGN(auto body, fetch(e.jwks_uri, "signing keys (jwks_uri)"));
  auto parsed = identity::JwkSet::parse(body);
  if (!parsed.ok()) {
    return Error(Errc::kUnavailable,
                 "the identity provider's signing keys: " + parsed.error().message);
  }
  std::lock_guard lock(mu_);
  jwks_ = *parsed;
  jwks_at_ = clock_.now();
  return jwks_;
}

core::Result<SsoLogin::Start> SsoLogin::start() {
  TETHER_TRY_ASSIGN(auto e, endpoints());
  const std::string state = core::base64UrlEncode(core::randomBytes(24));
  const std::string payload =
      "f1|" + state + "|" + std::to_string(toMs(clock_.now() + kFlowLifetime));
  Start out;
  out.flow_cookie = core::base64UrlEncode(payload) + "." +
                    core::base64UrlEncode(core::hmacSha256(secret_, "sso-flow|" + payload));
  const std::string verifier = derive("pkce", state);
  out.location = e.authorization_endpoint;
  out.location += e.authorization_endpoint.find('?') == std::string::npos ? '?' : '&';
  out.location +=
      "response_type=code&client_id=" + core::formUrlEncode(config_.client_id) +
      "&redirect_uri=" + core::formUrlEncode(redirect_uri_()) +
      "&scope=" + core::formUrlEncode(config_.scopes) + "&state=" + core::formUrlEncode(state) +
      "&nonce=" + core::formUrlEncode(derive("nonce", state)) +
      "&code_challenge=" + oauth::s256Challenge(verifier) + "&code_challenge_method=S256";
  return out;
}

std::optional<std::string> SsoLogin::openFlowCookie(std::string_view cookie) const {
  const auto dot = cookie.find('.');
  if (dot == std::string_view::npos || cookie.size() > 512) return std::nullopt;
  auto payload = core::base64Decode(cookie.substr(0, dot));
  auto mac = core::base64Decode(cookie.substr(dot + 1));
  if (!payload.ok() || !mac.ok()) return std::nullopt;
  if (!core::constantTimeEqual(*mac, core::hmacSha256(secret_, "sso-flow|" + *payload))) {
    return std::nullopt;
  }
  const auto a = payload->find('|');
  const auto b = payload->rfind('|');
  if (payload->substr(0, a) != "f1" || a == b) return std::nullopt;
  const std::string_view text = std::string_view(*payload).substr(b + 1);
  int64_t expires = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), expires);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  if (expires <= toMs(clock_.now())) return std::nullopt;
  return payload->substr(a + 1, b - a - 1);
}

core::Result<SsoIdentity> SsoLogin::finish(const SsoCallback& cb, std::string_view flow_cookie) {
  if (cb.error) {
    return Error(Errc::kUnauthenticated,
                 "the identity provider did not sign you in (" + errorCode(*cb.error) + ")");
  }
  if (!cb.code || !cb.state || cb.code->empty() || cb.state->empty()) {
    return Error(Errc::kInvalidArgument, "the sign-in callback lacks its code or state parameter");
  }
  auto state = openFlowCookie(flow_cookie);
  if (!state) {
    return restart(
        "this sign-in was not started in this browser, or took longer than " +
        std::to_string(std::chrono::duration_cast<std::chrono::minutes>(kFlowLifetime).count()) +
        " minutes");
  }
  if (!core::constantTimeEqual(*state, *cb.state)) {
    return restart("the callback's state does not match the sign-in this browser started");
  }
  TETHER_TRY_ASSIGN(auto e, endpoints());
  // RFC 9207: the authorization response names its issuer; a mix-up attack shows here.
  if (cb.iss && *cb.iss != config_.issuer) {
    return restart("the callback's issuer (iss) is not " + config_.issuer);
  }
  if (!cb.iss && e.iss_parameter_supported) {
    return restart("the callback lacks the issuer (iss) that " + config_.issuer +
                   " promises to send");
  }
  std::string form = "grant_type=authorization_code&code=" + core::formUrlEncode(*cb.code) +
                     "&redirect_uri=" + core::formUrlEncode(redirect_uri_()) +
                     "&code_verifier=" + core::formUrlEncode(derive("pkce", *state));
  if (config_.client_secret.empty()) form += "&client_id=" + core::formUrlEncode(config_.client_id);
  TETHER_TRY_ASSIGN(auto body, fetch(e.token_endpoint, "token endpoint", "POST", std::move(form)));
  boost::system::error_code ec;
  auto v = json::parse(body, ec);
  const std::string id_token = !ec && v.is_object() ? stringOr(v.as_object(), "id_token") : "";
  if (id_token.empty()) {
    return Error(Errc::kUnauthenticated,
                 "the identity provider returned no ID token (is openid in admin.sso.scopes?)");
  }
  IdTokenCheck check;
  check.issuer = config_.issuer;
  check.client_id = config_.client_id;
  check.nonce = derive("nonce", *state);
  check.groups_claim = config_.groups_claim;
  check.now = clock_.now();
  for (bool refresh : {false, true}) {
    TETHER_TRY_ASSIGN(auto jwks, keys(refresh));
    auto claims = verifyIdToken(id_token, jwks, check);
    if (claims.ok()) {
      return SsoIdentity{claims->subject, claims->name,
                         ssoRole(config_, claims->subject, claims->groups)};
    }
    // A key the cached set lacks: fetch the set once more (at most once a minute).
    if (claims.error().code != Errc::kNotFound) return claims.error();
  }
  return Error(Errc::kUnauthenticated,
               "the ID token's signing key is not among the identity provider's keys");
}

}  // namespace tether::admin

#include "mockidp/mock_idp.h"

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <cstdlib>
#include <mutex>
#include <set>
#include <utility>

#include "core/duration.h"
#include "core/encoding.h"
#include "core/json_escape.h"
#include "core/log.h"
#include "core/random.h"
#include "http/headers.h"
#include "http/message.h"
#include "http/router.h"
#include "http/server.h"
#include "mockidp/jwt_signer.h"
#include "oauth/pkce.h"
#include "oauth/protocol.h"
#include "oauth/retry_after.h"

namespace tether::mockidp {

namespace json = boost::json;
namespace p = oauth::protocol;
using std::chrono::seconds;

std::string_view rotationName(Rotation r) {
  switch (r) {
    case Rotation::kNone:
      return "none";
    case Rotation::kRotate:
      return "rotate";
    case Rotation::kOneTimeUse:
      return "one_time_use";
  }
  return "rotate";
}

std::optional<Rotation> parseRotation(std::string_view name) {
  if (name == "none") return Rotation::kNone;
  if (name == "rotate") return Rotation::kRotate;
  if (name == "one_time_use" || name == "one-time-use") return Rotation::kOneTimeUse;
  return std::nullopt;
}

std::string_view basicModeName(BasicMode m) { return m == BasicMode::kRaw ? "raw" : "rfc6749"; }

std::optional<BasicMode> parseBasicMode(std::string_view name) {
  if (name == "rfc6749") return BasicMode::kRfc6749;
  if (name == "raw") return BasicMode::kRaw;
  return std::nullopt;
}

namespace {

constexpr std::string_view kHtml403 =
    "<!DOCTYPE html><html><head><title>403 Forbidden</title></head><body><h1>Access "
    "denied</h1><p>The request was blocked by the web application firewall. Reference "
    "#18.2f4c1b</p></body></html>";
constexpr std::string_view kHtml401 =
    "<!DOCTYPE html><html><head><title>401 Unauthorized</title></head><body><h1>Sign in "
    "required</h1><p>Your session with the gateway has expired.</p></body></html>";
constexpr std::string_view kHtml200 =
    "<!DOCTYPE html><html><head><title>Maintenance</title></head><body><h1>We'll be right "
    "back</h1></body></html>";

std::string quoteHeaderValue(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

http::Response oauthError(int status, std::string_view code, std::string_view description) {
  json::object o{{"error", code}, {"error_description", description}};
  auto r = http::Response::json(status, json::serialize(o));
  r.headers.push_back({"Cache-Control", "no-store"});
  return r;
}

std::string appendQuery(const std::string& url, std::string_view query) {
  return url + (url.find('?') == std::string::npos ? "?" : "&") + std::string(query);
}

int64_t unix(core::TimePoint t) { return core::toUnixSeconds(t); }

// Seconds from a JSON number or a duration string ("90d", "30m").
std::optional<seconds> jsonSeconds(const json::value& v) {
  if (v.is_int64() && v.get_int64() >= 0) return seconds(v.get_int64());
  if (v.is_uint64()) return seconds(static_cast<int64_t>(v.get_uint64()));
  if (v.is_string()) {
    auto d = core::parseDuration(std::string_view(v.get_string()));
    if (d.ok()) return std::chrono::duration_cast<seconds>(d.value());
  }
  return std::nullopt;
}

}  // namespace

class MockIdp::Impl {
 public:
  Impl(MockIdpOptions options, const core::Clock* clock)
      : options_(std::move(options)), clock_(clock), settings_(options_.settings) {
    for (auto& c : options_.clients) clients_[c.client_id] = c;
    for (auto& f : options_.faults) faults_.add(f);
  }

  // ----- lifecycle --------------------------------------------------------------------
  core::Status start() {
    if (server_) return {};
    auto signer = JwtSigner::generate();
    if (!signer) return std::move(signer).takeError();
    signer_ = std::move(signer).value();
    addRoutes();
    http::ServerOptions so;
    so.host = options_.host;
    so.port = options_.port;
    so.io_threads = options_.io_threads;
    auto server = std::make_unique<http::Server>(so, router_, nullptr);
    if (auto s = server->start(); !s) return s;
    server_ = std::move(server);
    issuer_ = options_.issuer.empty()
                  ? "http://" + options_.host + ":" + std::to_string(server_->port())
                  : options_.issuer;
    while (!issuer_.empty() && issuer_.back() == '/') issuer_.pop_back();
    return {};
  }

  void stop() {
    if (server_) server_->stop();
  }

  uint16_t port() const { return server_ ? server_->port() : 0; }
  std::string issuer() const { return issuer_; }

  core::TimePoint now() const {
    if (clock_) return clock_->now();
    return core::systemClock().now() + seconds(offset_s_.load());
  }

  core::Status advanceClock(seconds by) {
    if (clock_) {
      return core::Error(core::Errc::kConflict,
                         "the clock is injected: advance it in-process, not here");
    }
    offset_s_ += by.count();
    return {};
  }

  // ----- counters ---------------------------------------------------------------------
  void count(std::string_view name, uint64_t n = 1) {
    std::lock_guard lock(counters_mu_);
    counters_[std::string(name)] += n;
  }
  uint64_t counter(std::string_view name) const {
    std::lock_guard lock(counters_mu_);
    auto it = counters_.find(std::string(name));
    return it == counters_.end() ? 0 : it->second;
  }
  std::map<std::string, uint64_t> counters() const {
    std::lock_guard lock(counters_mu_);
    return counters_;
  }
  void resetCounters() {
    std::lock_guard lock(counters_mu_);
    counters_.clear();
  }

  // ----- state ------------------------------------------------------------------------
  void addClient(ClientSpec c) {
    std::lock_guard lock(mu_);
    revoked_clients_.erase(c.client_id);
    clients_[c.client_id] = std::move(c);
  }
  void revokeClient(std::string_view id) {
    std::lock_guard lock(mu_);
    revoked_clients_.insert(std::string(id));
  }
  bool revokeFamilyOf(std::string_view rt) {
    std::lock_guard lock(mu_);
    auto it = refresh_.find(std::string(rt));
    if (it == refresh_.end()) return false;
    revokeFamilyLocked(it->second.family);
    return true;
  }
  void revokeAll() {
    std::lock_guard lock(mu_);
    for (auto& [id, fam] : families_) {
      if (!fam.revoked) revokeFamilyLocked(id);
    }
  }
  MockIdpSettings settings() const {
    std::lock_guard lock(mu_);
    return settings_;
  }
  void update(const std::function<void(MockIdpSettings&)>& change) {
    std::lock_guard lock(mu_);
    change(settings_);
  }

  std::string issueCode(std::string_view client_id, std::string_view redirect_uri,
                        std::string_view challenge, std::string_view scope,
                        std::string_view resource, std::string subject) {
    std::lock_guard lock(mu_);
    std::string code = core::randomToken(24);
    codes_[code] = Code{std::string(client_id), std::string(redirect_uri), std::string(challenge),
                        std::string(scope),     std::string(resource),     std::move(subject),
                        now() + seconds(600)};
    count(counters::kCodesIssued);
    return code;
  }

  std::pair<std::string, std::string> issueTokensDirect(std::string_view client_id,
                                                        std::string_view scope) {
    std::lock_guard lock(mu_);
    const std::string family = newFamilyLocked();
    const std::string access =
        issueAccessLocked(std::string(client_id), settings_.subject, std::string(scope), "");
    std::string refresh;
    if (settings_.issue_refresh_tokens) {
      refresh = issueRefreshLocked(std::string(client_id), family, std::string(scope), "",
                                   settings_.subject);
    }
    return {access, refresh};
  }

  FaultQueue& faults() { return faults_; }
  const FaultQueue& faults() const { return faults_; }

 private:
  struct Code {
    std::string client_id, redirect_uri, challenge, scope, resource, subject;
    core::TimePoint expires_at;
  };
  struct Refresh {
    std::string client_id, family, scope, resource, subject;
    core::TimePoint last_used;
    std::optional<core::TimePoint> spent_at;  // one-time-use: when first used
  };
  struct Family {
    core::TimePoint started;
    bool revoked = false;
  };
  struct Pending {
    std::string client_id, redirect_uri, state, challenge, scope, resource;
  };
  struct AccessInfo {
    std::string client_id, scope, subject, audience;
    core::TimePoint issued_at, expires_at;
  };

  // ----- routing ----------------------------------------------------------------------
  using Answer = std::function<http::Response(http::Request&)>;

  void route(std::string_view method, std::string_view pattern, std::string endpoint,
             Answer answer) {
    router_.add(method, pattern,
                [this, endpoint = std::move(endpoint), answer = std::move(answer)](
                    http::Request& req, http::Responder res) {
                  serve(endpoint, req, std::move(res), answer);
                });
  }

  void control(std::string_view method, std::string_view pattern, Answer answer) {
    if (!options_.control_api) return;
    router_.add(method, pattern,
                [answer = std::move(answer)](http::Request& req, http::Responder res) {
                  res.send(answer(req));
                });
  }

  void addRoutes() {
    route("GET", "/.well-known/oauth-authorization-server", "discovery",
          [this](http::Request&) { return discovery(false); });
    route("GET", "/.well-known/openid-configuration", "discovery",
          [this](http::Request&) { return discovery(true); });
    route("GET", "/jwks", "jwks",
          [this](http::Request&) { return http::Response::json(200, signer_->jwksJson()); });
    route("GET", "/authorize", "authorize", [this](http::Request& r) { return authorize(r); });
    route("POST", "/authorize/decision", "authorize",
          [this](http::Request& r) { return decision(r); });
    route("POST", "/token", "token", [this](http::Request& r) { return token(r); });
    route("POST", "/register", "register", [this](http::Request& r) { return registerClient(r); });
    route("POST", "/introspect", "introspect", [this](http::Request& r) { return introspect(r); });
    route("*", "/redirect-target", "redirect_target", [this](http::Request&) {
      // Only a client that (wrongly) follows a token endpoint redirect gets here.
      return http::Response::json(
          200, R"({"access_token":"followed-a-redirect","token_type":"Bearer","expires_in":3600})");
    });

    control("GET", "/control/faults", [this](http::Request&) { return faultsJson(); });
    control("POST", "/control/faults", [this](http::Request& r) {
      auto rules = parseFaultRules(r.body);
      if (!rules) return http::Response::json(400, errorBody(rules.error().message));
      if (r.queryParam("replace") == "true") faults_.clear();
      for (auto& rule : rules.value()) faults_.add(std::move(rule));
      return faultsJson();
    });
    control("DELETE", "/control/faults", [this](http::Request&) {
      faults_.clear();
      return faultsJson();
    });
    control("GET", "/control/counters", [this](http::Request&) { return countersJson(); });
    control("DELETE", "/control/counters", [this](http::Request&) {
      resetCounters();
      return countersJson();
    });
    control("GET", "/control/clock", [this](http::Request&) { return clockJson(); });
    control("POST", "/control/clock", [this](http::Request& r) { return clockControl(r); });
    control("POST", "/control/revoke", [this](http::Request& r) { return revokeControl(r); });
    control("GET", "/control/settings", [this](http::Request&) { return settingsJson(); });
    control("POST", "/control/settings", [this](http::Request& r) { return settingsControl(r); });
    control("POST", "/control/clients", [this](http::Request& r) { return clientsControl(r); });
  }

  // Counts the request, then answers normally or as the next matching fault says.
  void serve(const std::string& endpoint, http::Request& req, http::Responder res,
             const Answer& answer) {
    std::string grant;
    count(std::string(counters::kRequestsPrefix) + endpoint);
    if (endpoint == "token") {
      grant = http::formValue(http::parseForm(req.body), p::kGrantType).value_or("none");
      count(std::string(counters::kRequestsPrefix) + "token." + grant);
    }
    const auto fault = faults_.take(endpoint, grant);
    if (!fault || fault->kind == FaultKind::kPass) {
      res.send(answer(req));
      return;
    }
    count(counters::kFaultsInjected);
    switch (fault->kind) {
      case FaultKind::kDrop:
        res.abort();
        return;
      case FaultKind::kDropAfter:
        (void)answer(req);  // the IdP acted (a refresh token may be spent); the answer is lost
        res.abort();
        return;
      case FaultKind::kSlow: {
        auto shared_req = std::make_shared<http::Request>(req);
        auto shared_res = std::make_shared<http::Responder>(std::move(res));
        server_->schedule(
            std::chrono::milliseconds(fault->delay_ms),
            [shared_req, shared_res, answer] { shared_res->send(answer(*shared_req)); });
        return;
      }
      default:
        res.send(faultResponse(*fault));
    }
  }

  http::Response faultResponse(const Fault& f) {
    http::Response r;
    switch (f.kind) {
      case FaultKind::kHtml403:
        r = http::Response::html(f.status ? f.status : 403, std::string(kHtml403));
        break;
      case FaultKind::kHtml401:
        r = http::Response::html(f.status ? f.status : 401, std::string(kHtml401));
        break;
      case FaultKind::kEmpty400:
        r.status = f.status ? f.status : 400;
        break;
      case FaultKind::kStatus:
        r.status = f.status ? f.status : 500;
        r.body = f.body;
        if (!f.body.empty() || !f.content_type.empty()) {
          r.headers.push_back(
              {"Content-Type", f.content_type.empty() ? "text/plain" : f.content_type});
        }
        break;
      case FaultKind::kOAuthError: {
        const int status = f.status ? f.status : 400;
        if (f.format == ErrorFormat::kJson) {
          r = oauthError(status, f.error, "injected by the mock IdP");
        } else if (f.format == ErrorFormat::kForm) {
          r.status = status;
          r.headers.push_back({"Content-Type", std::string(p::kMediaForm)});
          r.body = "error=" + core::formUrlEncode(f.error) + "&error_description=injected";
        } else {
          r.status = status;
          r.headers.push_back(
              {"WWW-Authenticate", "Bearer realm=\"mock-idp\", error=" + quoteHeaderValue(f.error) +
                                       ", error_description=\"injected, really\""});
        }
        break;
      }
      case FaultKind::kHtml200:
        r = http::Response::html(f.status ? f.status : 200, std::string(kHtml200));
        break;
      case FaultKind::kNoAccessToken:
        r = http::Response::json(f.status ? f.status : 200,
                                 R"({"token_type":"Bearer","expires_in":3600})");
        break;
      case FaultKind::kOversized: {
        const size_t n = f.bytes ? f.bytes : (1u << 20) + 1024;
        std::string body = R"({"access_token":"big","pad":")";
        body.append(n > body.size() + 2 ? n - body.size() - 2 : 0, 'a');
        body += "\"}";
        r = http::Response::json(f.status ? f.status : 200, std::move(body));
        break;
      }
      case FaultKind::kRedirect:
        r = http::Response::redirect(f.location.empty() ? issuer_ + "/redirect-target" : f.location,
                                     f.status ? f.status : 302);
        break;
      default:
        r.status = 500;
    }
    if (!f.retry_after.empty()) {
      std::string value = f.retry_after;
      if (value.rfind("date+", 0) == 0) {
        const auto secs = std::strtoll(value.c_str() + 5, nullptr, 10);
        value = oauth::formatHttpDate(now() + seconds(secs));
      }
      r.headers.push_back({"Retry-After", value});
    }
    return r;
  }

  // ----- discovery --------------------------------------------------------------------
  http::Response discovery(bool oidc) {
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
    if (oidc) {
      d["subject_types_supported"] = json::array{"public"};
      d["id_token_signing_alg_values_supported"] = json::array{"RS256"};
      d["scopes_supported"] = json::array{"openid", "offline_access"};
    }
    return http::Response::json(200, json::serialize(d));
  }

  // ----- /authorize -------------------------------------------------------------------
  http::Response authorize(http::Request& req) {
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

  http::Response decision(http::Request& req) {
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

  http::Response approve(const Pending& pending) {
    const std::string code = issueCode(pending.client_id, pending.redirect_uri, pending.challenge,
                                       pending.scope, pending.resource, settings().subject);
    std::string query = "code=" + core::formUrlEncode(code);
    if (!pending.state.empty()) query += "&state=" + core::formUrlEncode(pending.state);
    query += "&iss=" + core::formUrlEncode(issuer_);
    return http::Response::redirect(appendQuery(pending.redirect_uri, query));
  }

  // ----- client authentication --------------------------------------------------------
  struct AuthResult {
    std::optional<ClientSpec> client;
    std::optional<http::Response> failure;
  };

  AuthResult authenticate(const http::Request& req,
                          const std::vector<std::pair<std::string, std::string>>& form) {
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

  // ----- /token -----------------------------------------------------------------------
  http::Response token(http::Request& req) {
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

  using Form = std::vector<std::pair<std::string, std::string>>;

  http::Response codeGrant(const ClientSpec& client, const Form& form) {
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

  http::Response refreshGrant(const ClientSpec& client, const Form& form) {
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

  http::Response clientCredentialsGrant(const ClientSpec& client, const Form& form) {
    if (client.client_secret.empty()) {
      return oauthError(400, p::kUnauthorizedClient,
                        "public clients cannot use client_credentials");
    }
    std::lock_guard lock(mu_);
    return tokenResponseLocked(client.client_id, client.client_id,
                               http::formValue(form, p::kScope).value_or(""),
                               http::formValue(form, p::kResource).value_or(""), "", false);
  }

  static bool isSubset(std::string_view requested, std::string_view granted) {
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
  http::Response tokenResponseLocked(const std::string& client_id, const std::string& subject,
                                     const std::string& scope, const std::string& resource,
                                     const std::string& family, bool issue_refresh,
                                     const std::string& kept_refresh = {}) {
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
    auto r = http::Response::json(200, json::serialize(o));
    r.headers.push_back({"Cache-Control", "no-store"});
    r.headers.push_back({"Pragma", "no-cache"});
    return r;
  }

  std::string issueAccessLocked(const std::string& client_id, const std::string& subject,
                                const std::string& scope, const std::string& resource) {
    const core::TimePoint t = now();
    const std::string jti = core::newId();
    AccessInfo info{client_id, scope,
                    subject,   resource.empty() ? client_id : resource,
                    t,         t + settings_.access_token_lifetime};
    json::object claims{{"iss", issuer_},
                        {"sub", subject},
                        {"aud", info.audience},
                        {"client_id", client_id},
                        {"iat", unix(t)},
                        {"exp", unix(info.expires_at)},
                        {"jti", jti}};
    if (!scope.empty()) claims["scope"] = scope;
    access_[jti] = std::move(info);
    count(counters::kAccessTokensIssued);
    return signer_->sign(json::serialize(claims));
  }

  std::string newFamilyLocked() {
    std::string id = core::newId();
    families_[id] = Family{now(), false};
    return id;
  }

  std::string issueRefreshLocked(const std::string& client_id, const std::string& family,
                                 const std::string& scope, const std::string& resource,
                                 const std::string& subject) {
    std::string rt = "rt_" + core::randomToken(32);
    refresh_[rt] = Refresh{client_id, family, scope, resource, subject, now(), std::nullopt};
    count(counters::kRefreshTokensIssued);
    return rt;
  }

  void revokeFamilyLocked(const std::string& family) {
    auto& fam = families_[family];
    if (!fam.revoked) count(counters::kFamiliesRevoked);
    fam.revoked = true;
  }

  // ----- /register (RFC 7591) ---------------------------------------------------------
  http::Response registerClient(http::Request& req) {
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
                     {"client_id_issued_at", unix(now())},
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
  http::Response introspect(http::Request& req) {
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
                             {"iat", unix(it->second.issued_at)},
                             {"exp", unix(it->second.expires_at)}};
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

  // ----- control ----------------------------------------------------------------------
  static std::string errorBody(std::string_view message) {
    return json::serialize(json::object{{"error", message}});
  }

  http::Response faultsJson() {
    std::string body = R"({"faults":[)";
    bool first = true;
    for (const auto& r : faults_.pending()) {
      if (!first) body += ',';
      first = false;
      body += faultRuleJson(r);
    }
    return http::Response::json(200, body + "]}");
  }

  http::Response countersJson() {
    json::object o;
    for (const auto& [k, v] : counters()) o[k] = v;
    return http::Response::json(200, json::serialize(o));
  }

  http::Response clockJson() {
    return http::Response::json(
        200, json::serialize(json::object{{"now", unix(now())},
                                          {"now_rfc3339", core::formatRfc3339(now())},
                                          {"injected", clock_ != nullptr}}));
  }

  http::Response clockControl(http::Request& req) {
    boost::system::error_code ec;
    const auto v = json::parse(req.body, ec);
    const auto* adv = !ec && v.is_object() ? v.get_object().if_contains("advance") : nullptr;
    if (!adv) adv = !ec && v.is_object() ? v.get_object().if_contains("advance_seconds") : nullptr;
    const auto by = adv ? jsonSeconds(*adv) : std::nullopt;
    if (!by) {
      return http::Response::json(400, errorBody(R"(expected {"advance": seconds or "2h"})"));
    }
    if (auto s = advanceClock(*by); !s)
      return http::Response::json(409, errorBody(s.error().message));
    return clockJson();
  }

  http::Response revokeControl(http::Request& req) {
    boost::system::error_code ec;
    const auto v = json::parse(req.body, ec);
    if (ec || !v.is_object()) return http::Response::json(400, errorBody("expected a JSON object"));
    const auto& o = v.get_object();
    json::object out;
    if (const auto* c = o.if_contains("client_id"); c && c->is_string()) {
      revokeClient(std::string_view(c->get_string()));
      out["client_revoked"] = *c;
    }
    if (const auto* r = o.if_contains("refresh_token"); r && r->is_string()) {
      out["family_revoked"] = revokeFamilyOf(std::string_view(r->get_string()));
    }
    if (const auto* a = o.if_contains("all_refresh_tokens"); a && a->is_bool() && a->get_bool()) {
      revokeAll();
      out["all_refresh_tokens_revoked"] = true;
    }
    if (out.empty()) {
      return http::Response::json(
          400, errorBody("expected client_id, refresh_token or all_refresh_tokens"));
    }
    return http::Response::json(200, json::serialize(out));
  }

  http::Response settingsJson() {
    const MockIdpSettings s = settings();
    json::object o{{"access_token_lifetime", s.access_token_lifetime.count()},
                   {"refresh_token_lifetime", s.refresh_token_lifetime.count()},
                   {"refresh_idle_timeout", s.refresh_idle_timeout.count()},
                   {"disclose_refresh_expires_in", s.disclose_refresh_expires_in},
                   {"disclose_expires_in", s.disclose_expires_in},
                   {"issue_refresh_tokens", s.issue_refresh_tokens},
                   {"rotation", rotationName(s.rotation)},
                   {"revoke_family_on_reuse", s.revoke_family_on_reuse},
                   {"reuse_grace", s.reuse_grace.count()},
                   {"basic_mode", basicModeName(s.basic_mode)},
                   {"auto_approve", s.auto_approve},
                   {"subject", s.subject}};
    return http::Response::json(200, json::serialize(o));
  }

  http::Response settingsControl(http::Request& req) {
    boost::system::error_code ec;
    const auto v = json::parse(req.body, ec);
    if (ec || !v.is_object()) return http::Response::json(400, errorBody("expected a JSON object"));
    MockIdpSettings s = settings();
    for (const auto& [key, val] : v.get_object()) {
      auto bad = [&] {
        return http::Response::json(400, errorBody("bad value for " + std::string(key)));
      };
      auto dur = [&](seconds& out) {
        const auto d = jsonSeconds(val);
        if (d) out = *d;
        return d.has_value();
      };
      auto flag = [&](bool& out) {
        if (val.is_bool()) out = val.get_bool();
        return val.is_bool();
      };
      bool ok = true;
      if (key == "access_token_lifetime")
        ok = dur(s.access_token_lifetime);
      else if (key == "refresh_token_lifetime")
        ok = dur(s.refresh_token_lifetime);
      else if (key == "refresh_idle_timeout")
        ok = dur(s.refresh_idle_timeout);
      else if (key == "reuse_grace")
        ok = dur(s.reuse_grace);
      else if (key == "disclose_refresh_expires_in")
        ok = flag(s.disclose_refresh_expires_in);
      else if (key == "disclose_expires_in")
        ok = flag(s.disclose_expires_in);
      else if (key == "issue_refresh_tokens")
        ok = flag(s.issue_refresh_tokens);
      else if (key == "revoke_family_on_reuse")
        ok = flag(s.revoke_family_on_reuse);
      else if (key == "auto_approve")
        ok = flag(s.auto_approve);
      else if (key == "rotation") {
        const auto r =
            val.is_string() ? parseRotation(std::string_view(val.get_string())) : std::nullopt;
        if (r) s.rotation = *r;
        ok = r.has_value();
      } else if (key == "basic_mode") {
        const auto m =
            val.is_string() ? parseBasicMode(std::string_view(val.get_string())) : std::nullopt;
        if (m) s.basic_mode = *m;
        ok = m.has_value();
      } else if (key == "subject" && val.is_string()) {
        s.subject = std::string(val.get_string());
      } else {
        ok = false;
      }
      if (!ok) return bad();
    }
    update([&](MockIdpSettings& current) { current = s; });
    return settingsJson();
  }

  http::Response clientsControl(http::Request& req) {
    boost::system::error_code ec;
    const auto v = json::parse(req.body, ec);
    const auto* id = !ec && v.is_object() ? v.get_object().if_contains("client_id") : nullptr;
    if (!id || !id->is_string()) return http::Response::json(400, errorBody("client_id required"));
    ClientSpec c;
    c.client_id = std::string(id->get_string());
    if (const auto* s = v.get_object().if_contains("client_secret"); s && s->is_string()) {
      c.client_secret = std::string(s->get_string());
    }
    if (const auto* u = v.get_object().if_contains("redirect_uris"); u && u->is_array()) {
      for (const auto& x : u->get_array()) {
        if (x.is_string()) c.redirect_uris.emplace_back(x.get_string());
      }
    }
    addClient(c);
    return http::Response::json(200, json::serialize(json::object{{"client_id", c.client_id}}));
  }

  MockIdpOptions options_;
  const core::Clock* clock_;
  std::atomic<int64_t> offset_s_{0};
  std::unique_ptr<JwtSigner> signer_;
  http::Router router_;
  std::unique_ptr<http::Server> server_;
  std::string issuer_;
  FaultQueue faults_;

  mutable std::mutex counters_mu_;
  std::map<std::string, uint64_t> counters_;

  mutable std::mutex mu_;
  MockIdpSettings settings_;
  std::map<std::string, ClientSpec> clients_;
  std::set<std::string> revoked_clients_;
  std::map<std::string, Code> codes_;
  std::map<std::string, Refresh> refresh_;
  std::map<std::string, Family> families_;
  std::map<std::string, Pending> pending_;
  std::map<std::string, AccessInfo> access_;
};

MockIdp::MockIdp(MockIdpOptions options, const core::Clock* clock)
    : impl_(std::make_unique<Impl>(std::move(options), clock)) {}
MockIdp::~MockIdp() { impl_->stop(); }
core::Status MockIdp::start() { return impl_->start(); }
void MockIdp::stop() { impl_->stop(); }
uint16_t MockIdp::port() const { return impl_->port(); }
std::string MockIdp::issuer() const { return impl_->issuer(); }
void MockIdp::addFault(FaultRule rule) { impl_->faults().add(std::move(rule)); }
void MockIdp::clearFaults() { impl_->faults().clear(); }
std::vector<FaultRule> MockIdp::pendingFaults() const {
  return std::as_const(*impl_).faults().pending();
}
uint64_t MockIdp::counter(std::string_view name) const { return impl_->counter(name); }
std::map<std::string, uint64_t> MockIdp::counters() const { return impl_->counters(); }
void MockIdp::resetCounters() { impl_->resetCounters(); }
void MockIdp::addClient(ClientSpec client) { impl_->addClient(std::move(client)); }
void MockIdp::revokeClient(std::string_view client_id) { impl_->revokeClient(client_id); }
bool MockIdp::revokeFamilyOf(std::string_view rt) { return impl_->revokeFamilyOf(rt); }
void MockIdp::revokeAllRefreshTokens() { impl_->revokeAll(); }
MockIdpSettings MockIdp::settings() const { return impl_->settings(); }
void MockIdp::update(const std::function<void(MockIdpSettings&)>& change) { impl_->update(change); }
core::TimePoint MockIdp::now() const { return impl_->now(); }
core::Status MockIdp::advanceClock(std::chrono::seconds by) { return impl_->advanceClock(by); }
std::string MockIdp::issueCode(std::string_view client_id, std::string_view redirect_uri,
                               std::string_view code_challenge, std::string_view scope,
                               std::string_view resource) {
  return impl_->issueCode(client_id, redirect_uri, code_challenge, scope, resource,
                          impl_->settings().subject);
}
std::pair<std::string, std::string> MockIdp::issueTokens(std::string_view client_id,
                                                         std::string_view scope) {
  return impl_->issueTokensDirect(client_id, scope);
}

}  // namespace tether::mockidp

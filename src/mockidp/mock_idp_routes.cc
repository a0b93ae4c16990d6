// The mock IdP's route table and what wraps every answer: per-endpoint counters and the
// scripted faults of faults.h (drop, delay, HTML pages, OAuth errors, oversized bodies...).

#include <cstdlib>
#include <memory>
#include <utility>

#include "core/encoding.h"
#include "http/headers.h"
#include "mockidp/mock_idp_impl.h"
#include "oauth/protocol.h"
#include "oauth/retry_after.h"

namespace tether::mockidp {

namespace p = oauth::protocol;
using detail::oauthError;
using std::chrono::seconds;

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

}  // namespace

void MockIdp::Impl::route(std::string_view method, std::string_view pattern, std::string endpoint,
                          Answer answer) {
  router_.add(method, pattern,
              [this, endpoint = std::move(endpoint), answer = std::move(answer)](
                  http::Request& req, http::Responder res) {
                serve(endpoint, req, std::move(res), answer);
              });
}

void MockIdp::Impl::control(std::string_view method, std::string_view pattern, Answer answer) {
  if (!options_.control_api) return;
  router_.add(method, pattern,
              [answer = std::move(answer)](http::Request& req, http::Responder res) {
                res.send(answer(req));
              });
}

void MockIdp::Impl::addRoutes() {
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
  route("POST", "/revoke", "revoke", [this](http::Request& r) { return revoke(r); });
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
void MockIdp::Impl::serve(const std::string& endpoint, http::Request& req, http::Responder res,
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

http::Response MockIdp::Impl::faultResponse(const Fault& f) {
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

}  // namespace tether::mockidp

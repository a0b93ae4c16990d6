// The portal's single sign-on routes (AdminApi members; see admin_api.h and sso_login.h):
// the public portal configuration, the start of the OpenID Connect sign-in, and its callback.

#include <boost/json.hpp>

#include "admin/admin_api.h"
#include "admin/responses.h"
#include "core/errors.h"
#include "core/json_escape.h"
#include "core/log.h"

namespace tether::admin {
namespace {

namespace json = boost::json;
using core::Errc;
using core::Error;

std::string flowCookie(std::string_view value, bool secure, int64_t max_age) {
  // Lax: the IdP sends the browser back with a cross-site top-level GET.
  std::string c = std::string(kSsoFlowCookie) + "=" + std::string(value) +
                  "; Path=/portal/sso/; HttpOnly; SameSite=Lax; Max-Age=" + std::to_string(max_age);
  if (secure) c += "; Secure";
  return c;
}

/// The page a failed sign-in shows: what went wrong in words, and a way back.
http::Response errorPage(const Error& e) {
  std::string sentence = e.message;
  if (!sentence.empty() && sentence[0] >= 'a' && sentence[0] <= 'z') sentence[0] -= 'a' - 'A';
  http::Response res = http::Response::html(
      core::errorInfo(e.code).http_status,
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<title>Sign-in failed · Tether</title></head><body>"
      "<main><h1>Sign-in failed</h1><p id=\"sso-error\" role=\"alert\">" +
          core::htmlEscape(sentence) +
          ".</p><p><a href=\"/portal/\">Back to the portal sign-in</a></p></main></body></html>\n");
  res.headers.push_back({"Cache-Control", "no-store"});
  res.headers.push_back({"Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"});
  res.headers.push_back({"Referrer-Policy", "no-referrer"});
  return res;
}

}  // namespace

std::string AdminApi::sessionActor(const Session& session) {
  return session.sso() ? "user:" + session.subject : events::adminActor(session.key_id);
}

json::object AdminApi::sessionJson(const Session& session) {
  json::object o{{"key_id", session.key_id},
                 {"csrf_token", session.csrf_token},
                 {"role", std::string(roleName(session.role))}};
  if (session.sso()) {
    o["subject"] = session.subject;
    o["name"] = session.name.empty() ? session.subject : session.name;
  }
  return o;
}

void AdminApi::portalConfig(http::Request&, http::Responder responder) {
  json::object o;
  if (sso_) {
    o["sso"] = json::object{{"name", sso_->displayName()}, {"start_url", kSsoStartPath}};
  } else {
    o["sso"] = nullptr;
  }
  responder.send(jsonResponse(200, o));
}

void AdminApi::ssoStart(http::Request& request, http::Responder responder) {
  auto shared = std::make_shared<http::Responder>(std::move(responder));
  const std::string remote = request.remote_address;
  deps_.pool->post([this, shared, remote] {
    auto start = sso_->start();
    if (!start.ok()) {
      core::log::warn("admin: portal single sign-on cannot start",
                      {{"reason", start.error().message}, {"remote", remote}});
      return shared->send(errorPage(start.error()));
    }
    auto res = http::Response::redirect(start->location, 302);
    const auto max_age = std::chrono::duration_cast<std::chrono::seconds>(kFlowLifetime).count();
    res.headers.push_back(
        {"Set-Cookie", flowCookie(start->flow_cookie, deps_.secure_cookies, max_age)});
    res.headers.push_back({"Cache-Control", "no-store"});
    shared->send(std::move(res));
  });
}

void AdminApi::ssoCallback(http::Request& request, http::Responder responder) {
  SsoCallback cb{request.queryParam("code"), request.queryParam("state"), request.queryParam("iss"),
                 request.queryParam("error")};
  std::string flow;
  if (auto cookies = request.header("Cookie")) {
    if (auto v = cookieValue(*cookies, kSsoFlowCookie)) flow = std::string(*v);
  }
  auto shared = std::make_shared<http::Responder>(std::move(responder));
  const std::string remote = request.remote_address;
  deps_.pool->post([this, shared, remote, cb = std::move(cb), flow = std::move(flow)] {
    const std::string clear_flow = flowCookie("", deps_.secure_cookies, 0);
    auto identity = sso_->finish(cb, flow);
    if (!identity.ok()) {
      core::log::warn("admin: portal single sign-on refused",
                      {{"reason", identity.error().message}, {"remote", remote}});
      auto res = errorPage(identity.error());
      res.headers.push_back({"Set-Cookie", clear_flow});
      return shared->send(std::move(res));
    }
    Session session;
    const std::string cookie =
        sessions_->issueSso(identity->subject, identity->name, identity->role, &session);
    core::log::info("admin: portal sign-in", {{"actor", sessionActor(session)},
                                              {"role", std::string(roleName(session.role))},
                                              {"remote", remote}});
    auto res = http::Response::redirect("/portal/", 302);
    const auto ttl = std::chrono::duration_cast<std::chrono::seconds>(sessions_->ttl()).count();
    std::string c = std::string(kSessionCookie) + "=" + cookie +
                    "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" + std::to_string(ttl);
    if (deps_.secure_cookies) c += "; Secure";
    res.headers.push_back({"Set-Cookie", std::move(c)});
    res.headers.push_back({"Set-Cookie", clear_flow});
    res.headers.push_back({"Cache-Control", "no-store"});
    shared->send(std::move(res));
  });
}

}  // namespace tether::admin

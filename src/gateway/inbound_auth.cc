#include "gateway/inbound_auth.h"

#include <boost/json.hpp>

#include "core/encoding.h"
#include "core/log.h"

namespace tether::gateway {

namespace {

constexpr identity::Check kAllChecks[] = {
    identity::Check::kMalformed,   identity::Check::kAlgorithm,
    identity::Check::kUnknownKey,  identity::Check::kKeysUnavailable,
    identity::Check::kSignature,   identity::Check::kIssuer,
    identity::Check::kAudience,    identity::Check::kExpired,
    identity::Check::kNotYetValid, identity::Check::kSubject,
    identity::Check::kInactive,    identity::Check::kIntrospectionUnavailable,
    identity::Check::kScope};

std::string_view surfaceName(Surface s) { return s == Surface::kMcp ? "mcp" : "api"; }

// A quoted-string parameter value: what we put there is ours (URLs we build, configured
// scope tokens), but quotes and backslashes are escaped all the same.
std::string quoted(std::string_view v) {
  std::string out = "\"";
  for (char ch : v) {
    if (ch == '"' || ch == '\\') out.push_back('\\');
    out.push_back(ch);
  }
  out.push_back('"');
  return out;
}

}  // namespace

InboundAuth::InboundAuth(InboundOptions options, std::shared_ptr<identity::Validator> validator,
                         core::MetricsRegistry* metrics)
    : options_(std::move(options)), validator_(std::move(validator)) {
  if (metrics) {
    for (identity::Check c : kAllChecks) {
      rejections_.push_back(
          &metrics->counter("tether_inbound_token_rejections_total",
                            "Bearer tokens of callers refused, by the check that failed",
                            {{"check", std::string(identity::checkName(c))}}));
    }
  }
}

std::string InboundAuth::resourceUrl(Surface surface, std::string_view name) const {
  std::string url = options_.public_url;
  url += '/';
  url += surfaceName(surface);
  url += '/';
  url += core::percentEncode(name);
  return url;
}

std::string InboundAuth::audience(Surface surface, std::string_view name) const {
  return options_.audience.empty() ? resourceUrl(surface, name) : options_.audience;
}

std::string InboundAuth::metadataUrl(Surface surface, std::string_view name) const {
  return options_.public_url + "/.well-known/oauth-protected-resource/" +
         std::string(surfaceName(surface)) + "/" + core::percentEncode(name);
}

http::Response InboundAuth::refusal(const core::Error& error, const ErrorShape& shape,
                                    Surface surface, std::string_view name,
                                    const identity::Rejection* rejection) const {
  const bool scope = rejection && rejection->check == identity::Check::kScope;
  core::Error shown = error;
  std::string challenge = "Bearer ";
  if (scope) {
    shown = core::Error(core::Errc::kPermissionDenied,
                        "the bearer token lacks a scope this resource requires");
    std::string scopes;
    for (const auto& s : options_.scopes_supported) scopes += (scopes.empty() ? "" : " ") + s;
    challenge += "error=\"insufficient_scope\", scope=" + quoted(scopes) + ", ";
  } else if (rejection) {
    shown = core::Error(core::Errc::kUnauthenticated,
                        "the bearer token is not valid for this resource (" +
                            std::string(identity::checkName(rejection->check)) + ")");
    challenge += "error=\"invalid_token\", ";
  }
  challenge += "resource_metadata=" + quoted(metadataUrl(surface, name));
  http::Response r = errorResponse(shown, shape);
  // The one challenge (errorResponse gives a 401 a bare realm one).
  std::erase_if(r.headers,
                [](const http::Header& h) { return core::iequals(h.name, "WWW-Authenticate"); });
  r.headers.push_back({"WWW-Authenticate", std::move(challenge)});
  return r;
}

void InboundAuth::noteRejection(const identity::Rejection& r, std::string_view connection,
                                std::string_view request_id) const {
  const auto index = static_cast<size_t>(r.check);
  if (index < rejections_.size()) rejections_[index]->inc();
  core::log::info("caller's bearer token refused",
                  {{"check", std::string(identity::checkName(r.check))},
                   {"reason", r.detail},
                   {"connection", std::string(connection.substr(0, 64))},
                   {"request_id", std::string(request_id)}});
}

void InboundAuth::registerRoutes(http::Router& router) const {
  for (Surface surface : {Surface::kMcp, Surface::kApi}) {
    const std::string pattern =
        "/.well-known/oauth-protected-resource/" + std::string(surfaceName(surface)) + "/{name}";
    router.add("GET", pattern, [this, surface](http::Request& req, http::Responder responder) {
      const std::string name = req.param("name");
      boost::json::object doc;
      doc["resource"] = resourceUrl(surface, name);
      doc["authorization_servers"] = boost::json::array{boost::json::string(options_.issuer)};
      boost::json::array scopes;
      for (const auto& s : options_.scopes_supported) scopes.emplace_back(s);
      doc["scopes_supported"] = std::move(scopes);
      doc["bearer_methods_supported"] = boost::json::array{"header"};
      http::Response r = http::Response::json(200, boost::json::serialize(doc));
      r.headers.push_back({"Cache-Control", "max-age=300"});
      r.headers.push_back({"Access-Control-Allow-Origin", "*"});
      responder.send(std::move(r));
    });
  }
}

}  // namespace tether::gateway

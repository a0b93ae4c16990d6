// The mock IdP's control API (/control/*): faults, counters, clock, revocation, settings
// and clients, as JSON. docs/mock-idp.md describes each endpoint.

#include <boost/json.hpp>
#include <optional>

#include "core/duration.h"
#include "mockidp/mock_idp_impl.h"

namespace tether::mockidp {

namespace json = boost::json;
using std::chrono::seconds;

namespace {

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

// ----- control ----------------------------------------------------------------------
std::string MockIdp::Impl::errorBody(std::string_view message) {
  return json::serialize(json::object{{"error", message}});
}

http::Response MockIdp::Impl::faultsJson() {
  std::string body = R"({"faults":[)";
  bool first = true;
  for (const auto& r : faults_.pending()) {
    if (!first) body += ',';
    first = false;
    body += faultRuleJson(r);
  }
  return http::Response::json(200, body + "]}");
}

http::Response MockIdp::Impl::countersJson() {
  json::object o;
  for (const auto& [k, v] : counters()) o[k] = v;
  return http::Response::json(200, json::serialize(o));
}

http::Response MockIdp::Impl::clockJson() {
  return http::Response::json(
      200, json::serialize(json::object{{"now", core::toUnixSeconds(now())},
                                        {"now_rfc3339", core::formatRfc3339(now())},
                                        {"injected", clock_ != nullptr}}));
}

http::Response MockIdp::Impl::clockControl(http::Request& req) {
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

http::Response MockIdp::Impl::revokeControl(http::Request& req) {
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

http::Response MockIdp::Impl::settingsJson() {
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
                 {"revocation_endpoint", s.revocation_endpoint},
                 {"subject", s.subject}};
  return http::Response::json(200, json::serialize(o));
}

http::Response MockIdp::Impl::settingsControl(http::Request& req) {
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
    else if (key == "revocation_endpoint")
      ok = flag(s.revocation_endpoint);
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

http::Response MockIdp::Impl::clientsControl(http::Request& req) {
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

}  // namespace tether::mockidp

#include "admin/detail_fields.h"

#include "admin/list_query.h"
#include "core/clock.h"

namespace tether::admin::detail {
namespace {

namespace json = boost::json;

json::value timeOrNull(const std::optional<core::TimePoint>& t) {
  if (!t) return nullptr;
  return json::value(core::formatRfc3339(*t));
}

}  // namespace

void addUseIt(json::object& o, const ConnectionView& view, bool client_keys_required,
              std::string_view gateway_base_url) {
  o["upstream"] = view.upstream;
  const std::string path =
      view.key.kind == "mcp" ? "/mcp/" + view.key.name : "/api/" + view.key.name + "/";
  std::string_view base = gateway_base_url;
  while (base.ends_with('/')) base.remove_suffix(1);
  o["gateway_url"] = base.empty() ? json::value(nullptr) : json::value(std::string(base) + path);
  o["gateway_path"] = path;
  o["client_key_required"] = client_keys_required;
}

void addLastUse(json::object& o, const store::ConnectionActivity& activity) {
  o["last_used_at"] = timeOrNull(activity.last_used_at);
}

void addConsentingAccount(json::object& oauth, const store::ConnectionActivity& activity,
                          const std::optional<store::TokenRecord>& token) {
  const auto& a = activity.account;
  // Only beside a held token: after a delete or revocation nobody's consent is in use.
  if (!token || !activity.connected_at ||
      (a.subject.empty() && a.email.empty() && a.name.empty())) {
    oauth["consenting_account"] = nullptr;
    return;
  }
  oauth["consenting_account"] = json::object{{"subject", a.subject},
                                             {"email", a.email},
                                             {"name", a.name},
                                             {"at", core::formatRfc3339(*activity.connected_at)}};
}

void addPlanning(json::object& oauth, const ConnectionView& view,
                 const std::optional<store::TokenRecord>& token,
                 const std::optional<store::StateRecord>& state,
                 const lifecycle::ConnectionView& shown) {
  const auto deadline = refreshDeadlineOf(
      token ? token->refresh_expires_at : std::nullopt,
      token ? std::optional<core::TimePoint>(token->authenticated_at) : std::nullopt,
      view.refresh_max_lifetime);
  oauth["refresh_deadline_source"] = deadline.second;
  oauth["refresh_max_lifetime_s"] =
      view.refresh_max_lifetime
          ? json::value(std::chrono::duration_cast<std::chrono::seconds>(*view.refresh_max_lifetime)
                            .count())
          : json::value(nullptr);
  // The keeper's next planned refresh (its due set), while a token is held.
  oauth["next_refresh_at"] = timeOrNull(token && state ? state->next_due_at : std::nullopt);
  oauth["issuer"] = view.issuer;
  json::value failure = nullptr;
  if (const auto& f = shown.last_connect_failure) {
    failure = json::object{{"at", core::formatRfc3339(f->at)},
                           {"reason", f->reason},
                           {"idp_error", f->idp_error},
                           {"actor", f->actor}};
  }
  oauth["last_connect_failure"] = failure;
}

}  // namespace tether::admin::detail

#pragma once
/// The connection list's query (`GET /api/v1/admin/connections`): parsing and checking its
/// parameters (search `q`, filters `kind`, `auth`, `state`, `sort`, paging `limit`/`offset`)
/// and the page it selects from the configured connections merged with the store's bulk
/// health rows (one store query per page). Pure functions; thread-safe.

#include <array>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "admin/admin_api.h"
#include "core/result.h"
#include "store/types.h"

namespace tether::admin {

/// The list's states, also the keys of its per-state counts.
inline constexpr std::array<std::string_view, 6> kListStates = {
    "needs_reauth",  "needs_client_fix", "refresh_failing",
    "not_connected", "connected",        "not_applicable"};

struct ListQuery {
  std::string q;         // lower-cased; matched as a substring of the name and the upstream
  std::string kind;      // "" | mcp | api
  std::string auth;      // "" | none | bearer | api_key | oauth
  std::string state;     // "" | one of kListStates | attention (all but connected and static)
  bool by_name = false;  // sort=name; default sort=severity (then name)
  int limit = 100;       // 1..500
  int offset = 0;        // 0..

  /// sort=last_used: most recently used first, never used last (then name).
  bool by_last_use = false;
};

/// Reads the query parameters through `param`; a bad value is kInvalidArgument whose
/// message names the parameter and what it accepts.
core::Result<ListQuery> parseListQuery(
    const std::function<std::optional<std::string>(std::string_view)>& param);

/// One row of the list.
struct ListRow {
  const ConnectionView* view = nullptr;
  const store::HealthRow* health = nullptr;  // null: no registry row (not yet synced)
  std::string state;                         // one of kListStates
  /// 0 needs a human (re-auth, client fix), 1 failing, 2 not connected, 3 ok. A connection
  /// without a token whose last connect attempt failed is 0 when the IdP rejected the client,
  /// else 1: it sorts with the red and amber ones, not with the never-connected.
  int severity = 0;
  std::optional<core::TimePoint> refresh_deadline;
  std::string refresh_deadline_source;  // "idp" | "refresh_max_lifetime" | ""
};

struct ListPage {
  std::vector<ListRow> rows;  // the page
  size_t total = 0;           // rows matching every filter
  /// Per state, over the rows matching q, kind and auth (not state): the filter buttons.
  std::array<size_t, kListStates.size()> counts{};
};

/// The views matching the query's search, kind and auth (not state: the counts cover them),
/// in order; a narrowed list's page needs only their store rows (healthOf).
std::vector<ConnectionView> matchingViews(const std::vector<ConnectionView>& views,
                                          const ListQuery& query);

/// The page of `views` (ordered by key) matching `query`; `health` is the store's bulk
/// health answer (ordered by key).
ListPage selectPage(const std::vector<ConnectionView>& views,
                    const std::vector<store::HealthRow>& health, const ListQuery& query);

/// The refresh deadline and its source: the IdP's disclosed refresh-token expiry or the
/// configured refresh_max_lifetime after sign-in, whichever comes first.
std::pair<std::optional<core::TimePoint>, std::string> refreshDeadlineOf(
    std::optional<core::TimePoint> refresh_expires_at,
    std::optional<core::TimePoint> authenticated_at,
    std::optional<core::Duration> refresh_max_lifetime);

/// The list answer as JSON text: {"connections":[...],"total","offset","limit",
/// "next_offset","counts":{state:n}}. Each connection has last_used_at and
/// connect_failure ({at, reason, idp_error} or null).
std::string listJson(const ListPage& page, const ListQuery& query);

}  // namespace tether::admin

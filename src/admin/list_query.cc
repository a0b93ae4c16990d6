#include "admin/list_query.h"

#include <algorithm>
#include <charconv>

#include "admin/query_params.h"
#include "core/clock.h"
#include "core/errors.h"
#include "core/json_escape.h"

namespace tether::admin {
namespace {

using core::Errc;
using core::Error;

constexpr size_t kMaxQuery = 200;

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& ch : out) {
    if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
  }
  return out;
}

bool containsLower(std::string_view haystack, std::string_view needle_lower) {
  if (needle_lower.empty()) return true;
  if (haystack.size() < needle_lower.size()) return false;
  for (size_t i = 0; i + needle_lower.size() <= haystack.size(); ++i) {
    size_t j = 0;
    for (; j < needle_lower.size(); ++j) {
      char ch = haystack[i + j];
      if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
      if (ch != needle_lower[j]) break;
    }
    if (j == needle_lower.size()) return true;
  }
  return false;
}

/// Printable ASCII only: the value goes back into an error message.
std::string printable(std::string_view s) {
  std::string out;
  for (char ch : s) out += ch >= 0x20 && ch < 0x7f ? ch : '?';
  return out;
}

core::Result<int> number(const std::optional<std::string>& text, std::string_view name, int dflt,
                         int min, int max) {
  if (!text) return dflt;
  return boundedNumber(*text, name, min, max);
}

core::Result<std::string> oneOf(const std::optional<std::string>& text, std::string_view name,
                                std::initializer_list<std::string_view> allowed) {
  if (!text || text->empty()) return std::string();
  for (auto a : allowed) {
    if (*text == a) return std::string(a);
  }
  std::string list;
  for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
  return Error(Errc::kInvalidArgument, std::string(name) + " must be one of " + list + " (got \"" +
                                           printable(text->substr(0, 32)) + "\")");
}

bool clientRejected(const store::HealthRow& h) {
  for (const std::string* code : {&h.last_error_code, &h.reason}) {
    if (*code == "invalid_client" || *code == "unauthorized_client") return true;
  }
  return false;
}

bool connectClientRejected(const store::HealthRow& h) {
  for (const std::string* code : {&h.connect_failure_idp_error, &h.connect_failure_reason}) {
    if (*code == "invalid_client" || *code == "unauthorized_client") return true;
  }
  return false;
}

int stateIndex(std::string_view state) {
  for (size_t i = 0; i < kListStates.size(); ++i) {
    if (kListStates[i] == state) return static_cast<int>(i);
  }
  return 0;
}

void appendTime(std::string& out, std::string_view field, const std::optional<core::TimePoint>& t) {
  out += ",\"";
  out += field;
  out += "\":";
  if (t) {
    out += '"';
    out += core::formatRfc3339(*t);
    out += '"';
  } else {
    out += "null";
  }
}

}  // namespace

core::Result<ListQuery> parseListQuery(
    const std::function<std::optional<std::string>(std::string_view)>& param) {
  ListQuery q;
  if (auto text = param("q")) {
    if (text->size() > kMaxQuery) {
      return Error(Errc::kInvalidArgument,
                   "q must be at most " + std::to_string(kMaxQuery) + " characters");
    }
    for (unsigned char ch : *text) {
      if (ch < 0x20 || ch == 0x7f) {
        return Error(Errc::kInvalidArgument, "q must not contain control characters");
      }
    }
    q.q = lower(*text);
  }
  TETHER_TRY_ASSIGN(q.kind, oneOf(param("kind"), "kind", {"mcp", "api"}));
  TETHER_TRY_ASSIGN(q.auth, oneOf(param("auth"), "auth", {"none", "bearer", "api_key", "oauth"}));
  TETHER_TRY_ASSIGN(q.state, oneOf(param("state"), "state",
                                   {"needs_reauth", "needs_client_fix", "refresh_failing",
                                    "not_connected", "connected", "not_applicable", "attention"}));
  auto sort = oneOf(param("sort"), "sort", {"severity", "name", "last_used"});
  if (!sort.ok()) return std::move(sort).takeError();
  q.by_name = sort.value() == "name";
  q.by_last_use = sort.value() == "last_used";
  TETHER_TRY_ASSIGN(q.limit, number(param("limit"), "limit", 100, 1, 500));
  TETHER_TRY_ASSIGN(q.offset, number(param("offset"), "offset", 0, 0, 100'000'000));
  return q;
}

std::pair<std::optional<core::TimePoint>, std::string> refreshDeadlineOf(
    std::optional<core::TimePoint> refresh_expires_at,
    std::optional<core::TimePoint> authenticated_at,
    std::optional<core::Duration> refresh_max_lifetime) {
  std::optional<core::TimePoint> hard;
  if (refresh_max_lifetime && authenticated_at) hard = *authenticated_at + *refresh_max_lifetime;
  if (refresh_expires_at && (!hard || *refresh_expires_at <= *hard)) {
    return {refresh_expires_at, "idp"};
  }
  if (hard) return {hard, "refresh_max_lifetime"};
  return {std::nullopt, ""};
}

std::vector<ConnectionView> matchingViews(const std::vector<ConnectionView>& views,
                                          const ListQuery& query) {
  std::vector<ConnectionView> out;
  for (const auto& v : views) {
    if (!query.kind.empty() && v.key.kind != query.kind) continue;
    if (!query.auth.empty() && v.auth_mode != query.auth) continue;
    if (!query.q.empty() && !containsLower(v.key.name, query.q) &&
        !containsLower(v.upstream, query.q)) {
      continue;
    }
    out.push_back(v);
  }
  return out;
}

ListPage selectPage(const std::vector<ConnectionView>& views,
                    const std::vector<store::HealthRow>& health, const ListQuery& query) {
  ListPage page;
  std::vector<ListRow> matching;
  auto h = health.begin();
  for (const auto& v : views) {
    while (h != health.end() && h->key < v.key) ++h;
    const store::HealthRow* row = h != health.end() && h->key == v.key ? &*h : nullptr;
    if (!query.kind.empty() && v.key.kind != query.kind) continue;
    if (!query.auth.empty() && v.auth_mode != query.auth) continue;
    if (!query.q.empty() && !containsLower(v.key.name, query.q) &&
        !containsLower(v.upstream, query.q)) {
      continue;
    }
    ListRow r;
    r.view = &v;
    r.health = row;
    if (v.auth_mode != "oauth") {
      r.state = "not_applicable";
      r.severity = 4;
    } else {
      const auto state = row ? row->state : store::ConnectionState::kNotConnected;
      r.state = std::string(store::connectionStateName(state));
      switch (state) {
        case store::ConnectionState::kNeedsReauth:
        case store::ConnectionState::kNeedsClientFix:  // red: a human must fix the client
          r.severity = 0;
          break;
        case store::ConnectionState::kRefreshFailing:
          r.severity = 1;
          break;
        case store::ConnectionState::kNotConnected:
          r.severity = 2;
          break;
        case store::ConnectionState::kConnected:
          r.severity = 3;
          break;
      }
      if (row && clientRejected(*row)) r.severity = 0;  // a human must fix the client
      if (row && row->connect_failed_at && state == store::ConnectionState::kNotConnected) {
        r.severity = connectClientRejected(*row) ? 0 : 1;
      }
      if (row && row->token_acquired) {
        std::tie(r.refresh_deadline, r.refresh_deadline_source) = refreshDeadlineOf(
            row->refresh_expires_at, row->token_acquired_at, v.refresh_max_lifetime);
      }
    }
    ++page.counts[stateIndex(r.state)];
    const bool attention = r.severity <= 2;
    if (!query.state.empty() &&
        (query.state == "attention" ? !attention : r.state != query.state)) {
      continue;
    }
    matching.push_back(std::move(r));
  }
  page.total = matching.size();
  auto lastUse = [](const ListRow& r) -> std::optional<core::TimePoint> {
    return r.health ? r.health->last_used_at : std::nullopt;
  };
  auto less = [&](const ListRow& a, const ListRow& b) {
    if (query.by_last_use) {
      const auto ua = lastUse(a), ub = lastUse(b);
      if (ua != ub) return ua && (!ub || *ua > *ub);
    } else if (!query.by_name && a.severity != b.severity) {
      return a.severity < b.severity;
    }
    if (a.view->key.name != b.view->key.name) return a.view->key.name < b.view->key.name;
    return a.view->key.kind < b.view->key.kind;
  };
  const size_t begin = std::min(matching.size(), static_cast<size_t>(query.offset));
  const size_t end = std::min(matching.size(), begin + static_cast<size_t>(query.limit));
  // Only the page needs ordering among itself; the rest only needs to fall on its side.
  std::partial_sort(matching.begin(), matching.begin() + end, matching.end(), less);
  page.rows.assign(std::make_move_iterator(matching.begin() + begin),
                   std::make_move_iterator(matching.begin() + end));
  return page;
}

std::string listJson(const ListPage& page, const ListQuery& query) {
  std::string out;
  out.reserve(256 + page.rows.size() * 400);
  out += "{\"connections\":[";
  bool first = true;
  for (const auto& r : page.rows) {
    const auto& v = *r.view;
    const store::HealthRow* h = r.health;
    const bool oauth = v.auth_mode == "oauth";
    if (!first) out += ',';
    first = false;
    out += "{\"kind\":" + core::jsonString(v.key.kind);
    out += ",\"name\":" + core::jsonString(v.key.name);
    out += ",\"url_host\":" + core::jsonString(v.url_host);
    out += ",\"source\":" + core::jsonString(v.source);
    out += ",\"upstream\":" + core::jsonString(v.upstream);
    out += ",\"auth_mode\":" + core::jsonString(v.auth_mode);
    out += ",\"state\":\"" + r.state + "\"";
    out += ",\"severity\":" + std::to_string(r.severity);
    out += ",\"idp_error_code\":" + core::jsonString(oauth && h ? h->last_error_code : "");
    out += ",\"reason\":" + core::jsonString(oauth && h ? h->reason : "");
    out +=
        oauth && h && h->token_acquired ? ",\"token_acquired\":true" : ",\"token_acquired\":false";
    appendTime(out, "expires_at", oauth && h ? h->expires_at : std::nullopt);
    appendTime(out, "last_refreshed_at", oauth && h ? h->last_refreshed_at : std::nullopt);
    appendTime(out, "refresh_deadline", r.refresh_deadline);
    out += ",\"refresh_deadline_source\":\"" + r.refresh_deadline_source + "\"";
    appendTime(out, "next_attempt_at", oauth && h ? h->next_attempt_at : std::nullopt);
    appendTime(out, "last_used_at", h ? h->last_used_at : std::nullopt);
    if (oauth && h && h->connect_failed_at) {
      out += ",\"connect_failure\":{\"at\":\"" + core::formatRfc3339(*h->connect_failed_at);
      out += "\",\"reason\":" + core::jsonString(h->connect_failure_reason);
      out += ",\"idp_error\":" + core::jsonString(h->connect_failure_idp_error) + "}";
    } else {
      out += ",\"connect_failure\":null";
    }
    out += '}';
  }
  out += "],\"total\":" + std::to_string(page.total);
  out += ",\"offset\":" + std::to_string(query.offset);
  out += ",\"limit\":" + std::to_string(query.limit);
  const size_t next = static_cast<size_t>(query.offset) + page.rows.size();
  out += ",\"next_offset\":" + (next < page.total ? std::to_string(next) : std::string("null"));
  out += ",\"counts\":{";
  for (size_t i = 0; i < kListStates.size(); ++i) {
    if (i) out += ',';
    out += '"';
    out += kListStates[i];
    out += "\":" + std::to_string(page.counts[i]);
  }
  out += "}}";
  return out;
}

}  // namespace tether::admin

// The connection list's query parameters and the page they select (admin/list_query.h).

#include "admin/list_query.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <map>

namespace tether::admin {
namespace {

using store::ConnectionState;

core::Result<ListQuery> parse(std::map<std::string, std::string> params) {
  return parseListQuery([&](std::string_view n) -> std::optional<std::string> {
    auto it = params.find(std::string(n));
    if (it == params.end()) return std::nullopt;
    return it->second;
  });
}

TEST(ListQueryTest, DefaultsAndGoodValues) {
  auto q = parse({});
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->limit, 100);
  EXPECT_EQ(q->offset, 0);
  EXPECT_FALSE(q->by_name);
  q = parse({{"q", "GitHub"},
             {"kind", "api"},
             {"auth", "oauth"},
             {"state", "needs_reauth"},
             {"sort", "name"},
             {"limit", "500"},
             {"offset", "20"}});
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->q, "github");
  EXPECT_EQ(q->kind, "api");
  EXPECT_EQ(q->auth, "oauth");
  EXPECT_EQ(q->state, "needs_reauth");
  EXPECT_TRUE(q->by_name);
  EXPECT_EQ(q->limit, 500);
  EXPECT_EQ(q->offset, 20);
}

TEST(ListQueryTest, BadValuesNameTheParameter) {
  const std::vector<std::pair<std::string, std::string>> bad = {{"limit", "0"},
                                                                {"limit", "501"},
                                                                {"limit", "ten"},
                                                                {"limit", ""},
                                                                {"offset", "-1"},
                                                                {"offset", "1x"},
                                                                {"kind", "ftp"},
                                                                {"auth", "basic"},
                                                                {"state", "healthy"},
                                                                {"sort", "date"},
                                                                {"q", std::string(201, 'a')},
                                                                {"q", "a\nb"}};
  for (const auto& [name, value] : bad) {
    auto q = parse({{name, value}});
    ASSERT_FALSE(q.ok()) << name << "=" << value;
    EXPECT_EQ(q.error().code, core::Errc::kInvalidArgument);
    EXPECT_TRUE(q.error().message.starts_with(name + " must")) << q.error().message;
  }
}

ConnectionView view(std::string name, std::string auth, std::string upstream,
                    std::string kind = "mcp") {
  ConnectionView v;
  v.key = {std::move(kind), std::move(name)};
  v.auth_mode = std::move(auth);
  v.upstream = std::move(upstream);
  return v;
}

store::HealthRow health(const ConnectionView& v, ConnectionState s, std::string code = "") {
  store::HealthRow h;
  h.key = v.key;
  h.auth_mode = v.auth_mode;
  h.state = s;
  h.token_acquired = s != ConnectionState::kNotConnected;
  h.last_error_code = std::move(code);
  return h;
}

struct Fixture {
  std::vector<ConnectionView> views;
  std::vector<store::HealthRow> rows;
  Fixture() {
    views = {
        view("alpha", "oauth", "idp.example:8443/mcp"), view("bravo", "oauth", "bravo.example/v1"),
        view("charlie", "oauth", "charlie.example"),    view("delta", "bearer", "delta.example"),
        view("echo", "oauth", "echo.example"),          view("foxtrot", "oauth", "fox.example"),
        view("golf", "oauth", "golf.example", "api")};
    std::sort(views.begin(), views.end(),
              [](const auto& a, const auto& b) { return a.key < b.key; });
    for (const auto& v : views) {
      if (v.key.name == "alpha") rows.push_back(health(v, ConnectionState::kConnected));
      if (v.key.name == "bravo") rows.push_back(health(v, ConnectionState::kRefreshFailing));
      if (v.key.name == "echo") rows.push_back(health(v, ConnectionState::kNeedsReauth));
      if (v.key.name == "foxtrot")
        rows.push_back(health(v, ConnectionState::kRefreshFailing, "invalid_client"));
      if (v.key.name == "golf") rows.push_back(health(v, ConnectionState::kConnected));
    }
    std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.key < b.key; });
  }
  std::vector<std::string> names(std::map<std::string, std::string> params) {
    auto q = parse(std::move(params));
    EXPECT_TRUE(q.ok());
    std::vector<std::string> out;
    for (const auto& r : selectPage(views, rows, *q).rows) out.push_back(r.view->key.name);
    return out;
  }
};

TEST(ListQueryTest, SeverityFirstThenNameAndNeverConnectedNeedsAttention) {
  Fixture f;
  // Re-auth and a client the IdP rejects, then failing, then never connected, healthy, static.
  EXPECT_EQ(f.names({}), (std::vector<std::string>{"echo", "foxtrot", "bravo", "charlie", "alpha",
                                                   "golf", "delta"}));
  EXPECT_EQ(
      f.names({{"sort", "name"}}),
      (std::vector<std::string>{"alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf"}));
  EXPECT_EQ(f.names({{"state", "attention"}}),
            (std::vector<std::string>{"echo", "foxtrot", "bravo", "charlie"}));
}

// needs_client_fix (the IdP rejected Tether's client credentials) is red like needs_reauth,
// counted on its own and selectable with state=needs_client_fix.
TEST(ListQueryTest, NeedsClientFixIsRedCountedAndFilterable) {
  Fixture f;
  for (auto& r : f.rows) {
    if (r.key.name == "foxtrot") {
      r.state = ConnectionState::kNeedsClientFix;
      r.last_error_code = "invalid_client";
    }
  }
  EXPECT_EQ(f.names({}), (std::vector<std::string>{"echo", "foxtrot", "bravo", "charlie", "alpha",
                                                   "golf", "delta"}));
  EXPECT_EQ(f.names({{"state", "needs_client_fix"}}), (std::vector<std::string>{"foxtrot"}));
  EXPECT_EQ(f.names({{"state", "attention"}}),
            (std::vector<std::string>{"echo", "foxtrot", "bravo", "charlie"}));
  auto q = parse({{"state", "needs_client_fix"}});
  ASSERT_TRUE(q.ok());
  const auto page = selectPage(f.views, f.rows, *q);
  ASSERT_EQ(page.rows.size(), 1u);
  EXPECT_EQ(page.rows[0].state, "needs_client_fix");
  EXPECT_EQ(page.rows[0].severity, 0);
  auto v = boost::json::parse(listJson(page, *q)).as_object();
  EXPECT_EQ(v["counts"].as_object()["needs_client_fix"].as_int64(), 1);
  EXPECT_EQ(v["counts"].as_object()["needs_reauth"].as_int64(), 1);
}

TEST(ListQueryTest, SearchFiltersPagingAndCounts) {
  Fixture f;
  EXPECT_EQ(f.names({{"q", "EXAMPLE:8443"}}), (std::vector<std::string>{"alpha"}));
  EXPECT_EQ(f.names({{"q", "v1"}}), (std::vector<std::string>{"bravo"}));
  EXPECT_EQ(f.names({{"kind", "api"}}), (std::vector<std::string>{"golf"}));
  EXPECT_EQ(f.names({{"auth", "bearer"}}), (std::vector<std::string>{"delta"}));
  EXPECT_EQ(f.names({{"limit", "2"}, {"offset", "2"}}),
            (std::vector<std::string>{"bravo", "charlie"}));
  EXPECT_TRUE(f.names({{"offset", "99"}}).empty());

  auto q = parse({{"state", "connected"}, {"limit", "1"}});
  auto page = selectPage(f.views, f.rows, *q);
  EXPECT_EQ(page.total, 2u);
  auto v = boost::json::parse(listJson(page, *q)).as_object();
  EXPECT_EQ(v["total"].as_int64(), 2);
  EXPECT_EQ(v["next_offset"].as_int64(), 1);
  // Counts cover the set without the state filter: they are the state filter's buttons.
  auto counts = v["counts"].as_object();
  EXPECT_EQ(counts["needs_reauth"].as_int64(), 1);
  EXPECT_EQ(counts["refresh_failing"].as_int64(), 2);
  EXPECT_EQ(counts["not_connected"].as_int64(), 1);
  EXPECT_EQ(counts["connected"].as_int64(), 2);
  EXPECT_EQ(counts["not_applicable"].as_int64(), 1);
  auto row = v["connections"].as_array()[0].as_object();
  EXPECT_EQ(row["name"].as_string(), "alpha");
  EXPECT_EQ(row["upstream"].as_string(), "idp.example:8443/mcp");
  EXPECT_TRUE(row["last_refreshed_at"].is_null());
}

TEST(ListQueryTest, RefreshDeadlineNamesItsSource) {
  const core::TimePoint signed_in{std::chrono::hours(1000)};
  const auto idp = signed_in + std::chrono::hours(10);
  auto [d1, s1] = refreshDeadlineOf(idp, signed_in, std::chrono::hours(24));
  EXPECT_EQ(d1, idp);
  EXPECT_EQ(s1, "idp");
  auto [d2, s2] = refreshDeadlineOf(idp, signed_in, std::chrono::hours(8));
  EXPECT_EQ(d2, signed_in + std::chrono::hours(8));
  EXPECT_EQ(s2, "refresh_max_lifetime");
  auto [d3, s3] = refreshDeadlineOf(std::nullopt, signed_in, std::nullopt);
  EXPECT_FALSE(d3);
  EXPECT_EQ(s3, "");
}

TEST(ListQueryTest, AFailedConnectSortsWithTheRedAndAmberOnesAndShowsInTheRow) {
  Fixture f;
  // charlie (never connected) tried to connect: the IdP rejected the client (red); hotel's
  // sign-in was denied (amber). A connected one whose reconnect failed keeps its order.
  f.views.push_back(view("hotel", "oauth", "hotel.example"));
  store::HealthRow hotel = health(f.views.back(), ConnectionState::kNotConnected);
  hotel.connect_failed_at = core::TimePoint(std::chrono::hours(1));
  hotel.connect_failure_reason = "authorization_refused";
  hotel.connect_failure_idp_error = "access_denied";
  f.rows.push_back(hotel);
  for (auto& r : f.rows) {
    if (r.key.name == "alpha") {
      r.connect_failed_at = core::TimePoint(std::chrono::hours(2));
      r.connect_failure_reason = "invalid_client";
    }
  }
  const auto c = std::find_if(f.views.begin(), f.views.end(),
                              [](const auto& v) { return v.key.name == "charlie"; });
  store::HealthRow charlie = health(*c, ConnectionState::kNotConnected);
  charlie.connect_failed_at = core::TimePoint(std::chrono::hours(3));
  charlie.connect_failure_reason = "invalid_client";
  charlie.connect_failure_idp_error = "invalid_client";
  f.rows.push_back(charlie);
  std::sort(f.rows.begin(), f.rows.end(),
            [](const auto& a, const auto& b) { return a.key < b.key; });
  EXPECT_EQ(f.names({}), (std::vector<std::string>{"charlie", "echo", "foxtrot", "bravo", "hotel",
                                                   "alpha", "golf", "delta"}));
  auto q = parse({{"q", "charlie"}});
  auto v = boost::json::parse(listJson(selectPage(f.views, f.rows, *q), *q)).as_object();
  auto row = v["connections"].as_array()[0].as_object();
  EXPECT_EQ(row["state"].as_string(), "not_connected");
  EXPECT_EQ(row["severity"].as_int64(), 0);
  auto failure = row["connect_failure"].as_object();
  EXPECT_EQ(failure["reason"].as_string(), "invalid_client");
  EXPECT_EQ(failure["idp_error"].as_string(), "invalid_client");
  EXPECT_EQ(failure["at"].as_string(), "1970-01-01T03:00:00.000Z");
  q = parse({{"q", "golf"}});
  v = boost::json::parse(listJson(selectPage(f.views, f.rows, *q), *q)).as_object();
  EXPECT_TRUE(v["connections"].as_array()[0].as_object()["connect_failure"].is_null());
}

TEST(ListQueryTest, MatchingViewsAreWhatTheCountsCover) {
  Fixture f;
  auto names = [&](std::map<std::string, std::string> params) {
    std::vector<std::string> out;
    for (const auto& v : matchingViews(f.views, *parse(std::move(params))))
      out.push_back(v.key.name);
    return out;
  };
  EXPECT_EQ(names({{"q", "EXAMPLE:8443"}}), (std::vector<std::string>{"alpha"}));
  EXPECT_EQ(names({{"kind", "api"}}), (std::vector<std::string>{"golf"}));
  // The state filter is not applied: the counts over these rows are its buttons.
  EXPECT_EQ(names({{"auth", "bearer"}, {"state", "connected"}}),
            (std::vector<std::string>{"delta"}));
  // A page from the narrowed views and their rows equals the page from all of them.
  auto q = parse({{"q", "o"}});
  const auto narrowed = matchingViews(f.views, *q);
  EXPECT_EQ(listJson(selectPage(narrowed, f.rows, *q), *q),
            listJson(selectPage(f.views, f.rows, *q), *q));
}

TEST(ListQueryTest, LastUsedIsShownAndSortable) {
  Fixture f;
  for (auto& r : f.rows) {
    if (r.key.name == "bravo") r.last_used_at = core::TimePoint(std::chrono::hours(5));
    if (r.key.name == "golf") r.last_used_at = core::TimePoint(std::chrono::hours(9));
  }
  EXPECT_EQ(
      f.names({{"sort", "last_used"}}),
      (std::vector<std::string>{"golf", "bravo", "alpha", "charlie", "delta", "echo", "foxtrot"}));
  auto q = parse({{"q", "golf"}});
  auto v = boost::json::parse(listJson(selectPage(f.views, f.rows, *q), *q)).as_object();
  EXPECT_EQ(v["connections"].as_array()[0].as_object()["last_used_at"].as_string(),
            "1970-01-01T09:00:00.000Z");
  q = parse({{"q", "alpha"}});
  v = boost::json::parse(listJson(selectPage(f.views, f.rows, *q), *q)).as_object();
  EXPECT_TRUE(v["connections"].as_array()[0].as_object()["last_used_at"].is_null());
}

/// 10,000 connections: the time of one page (merge, filter, sort, JSON), store query aside.
TEST(ListQueryTest, TenThousandConnectionsPageFigure) {
  std::vector<ConnectionView> views;
  std::vector<store::HealthRow> rows;
  for (int i = 0; i < 10'000; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "conn-%05d", i);
    views.push_back(view(name, "oauth", "upstream-" + std::to_string(i % 97) + ".example/mcp"));
  }
  std::sort(views.begin(), views.end(), [](const auto& a, const auto& b) { return a.key < b.key; });
  for (size_t i = 0; i < views.size(); ++i) {
    if (i % 400 == 7) continue;  // never connected: no row
    rows.push_back(health(views[i], i % 400 == 0   ? ConnectionState::kNeedsReauth
                                    : i % 250 == 3 ? ConnectionState::kRefreshFailing
                                                   : ConnectionState::kConnected));
  }
  {
    // The first page: 25 red, 40 amber, then the 25 never connected, then healthy.
    auto q = parse({});
    auto page = selectPage(views, rows, *q);
    std::string order;
    for (const auto& r : page.rows) order += static_cast<char>('0' + r.severity);
    EXPECT_EQ(order, std::string(25, '0') + std::string(40, '1') + std::string(25, '2') +
                         std::string(10, '3'));
  }
  for (const char* search : {"", "upstream-42"}) {
    auto q = parse({{"q", search}});
    const auto t0 = std::chrono::steady_clock::now();
    std::string json;
    constexpr int kRuns = 20;
    for (int i = 0; i < kRuns; ++i) json = listJson(selectPage(views, rows, *q), *q);
    const auto us =
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0)
            .count() /
        kRuns;
    std::printf("list page over 10,000 connections (q=\"%s\"): %lld us, %zu bytes\n", search,
                static_cast<long long>(us), json.size());
    EXPECT_LT(us, 500'000);
    auto v = boost::json::parse(json).as_object();
  }
}

}  // namespace
}  // namespace tether::admin

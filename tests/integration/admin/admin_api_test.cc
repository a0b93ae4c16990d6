// The admin REST API (issue #8) over real HTTP, on the real lifecycle, connect flow, store
// (SQLite, sealed) and mock IdP: authentication (keys, hashes, viewer role, portal sessions
// with CSRF), every endpoint, and the health rules.
#include "admin/admin_api.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/sha.h>
#include <sqlite3.h>

#include <boost/json.hpp>
#include <condition_variable>
#include <filesystem>
#include <future>
#include <regex>
#include <thread>

#include "core/encoding.h"
#include "core/random.h"
#include "http/server.h"
#include "lifecycle/lifecycle.h"
#include "mockidp/mock_idp.h"
#include "support/faulty_store.h"
#include "support/sealed_sqlite.h"

namespace tether {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;
using ::testing::HasSubstr;
using ::testing::Not;
namespace json = boost::json;

const std::string kAdminKey = "admin-key-for-the-admin-api-tests";
const std::string kViewerKey = "viewer-key-for-the-admin-api-tests";
const std::string kHashedKey = "hashed-key-for-the-admin-api-tests";

/// Holds the thread that passes an armed point until released (every wait bounded).
class Hold {
 public:
  void arm() {
    std::lock_guard lock(mu_);
    armed_ = true;
    reached_ = released_ = false;
  }
  /// Called by the thread to hold; returns at once unless armed.
  void pass() {
    std::unique_lock lock(mu_);
    if (!armed_) return;
    armed_ = false;
    reached_ = true;
    cv_.notify_all();
    cv_.wait_for(lock, std::chrono::seconds(10), [this] { return released_; });
  }
  bool waitReached(std::chrono::seconds deadline) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, deadline, [this] { return reached_; });
  }
  void release() {
    std::lock_guard lock(mu_);
    released_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool armed_ = false;
  bool reached_ = false;
  bool released_ = false;
};

std::string sha256Raw(std::string_view s) {
  unsigned char d[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(), d);
  return std::string(reinterpret_cast<const char*>(d), sizeof d);
}

class AdminApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    mockidp::MockIdpOptions o;
    o.clients = {{"tether-client", "tether-secret", {}}};
    idp_ = std::make_unique<mockidp::MockIdp>(o, &clock_);
    ASSERT_TRUE(idp_->start().ok());

    db_ = std::make_unique<testing::SealedSqlite>(clock_, "tether-admin-");
    store_ = std::make_unique<testing::FaultyStore>(db_->store());
    store_->before_put_state = [this](const store::StateRecord& s) {
      if (!slow_connected_writes_ || s.state != store::ConnectionState::kConnected) return;
      std::unique_lock lock(race_mu_);
      race_cv_.wait_for(lock, seconds(1), [this] { return delete_answered_; });
    };
    recorder_ = std::make_unique<events::Recorder>(*store_, clock_, nullptr);

    std::vector<lifecycle::ConnectionSpec> specs;
    std::vector<flows::FlowConnection> flow_conns;
    std::vector<store::ConnectionInfo> infos;
    for (const char* name : {"healthy", "failing", "revoked"}) {
      lifecycle::ConnectionSpec s;
      s.key = {"mcp", name};
      s.oauth.authorization_url = idp_->authorizeUrl();
      s.oauth.token_url = idp_->tokenUrl();
      s.oauth.client_id = "tether-client";
      s.oauth.client_secret = "tether-secret";
      s.oauth.use_proxy = false;
      s.idp_host = "127.0.0.1";
      if (std::string(name) == "healthy") s.refresh_max_lifetime = hours(24 * 8);
      specs.push_back(s);
      flows::FlowConnection f;
      f.key = s.key;
      f.upstream_url = "https://mcp.example.com/" + std::string(name);
      f.oauth = s.oauth;
      f.client_id_configured = true;
      flow_conns.push_back(f);
      admin::ConnectionView v;
      v.key = s.key;
      v.url_host = "mcp.example.com";
      v.auth_mode = "oauth";
      v.refresh_max_lifetime = s.refresh_max_lifetime;
      views_.push_back(v);
      infos.push_back({s.key, "oauth", true, "127.0.0.1"});
    }
    views_.push_back({{"api", "static"},
                      "api.example.com",
                      "bearer",
                      std::nullopt,
                      "api.example.com",
                      "",
                      "config"});
    infos.push_back({{"api", "static"}, "bearer", false, ""});
    ASSERT_TRUE(store_->syncConnections(infos).ok());

    lifecycle::LifecycleOptions lo;
    lo.owner = "admin-test";
    lo.hooks.after_idp_response = [this] { idp_hold_.pass(); };
    lifecycle_ = std::make_unique<lifecycle::Lifecycle>(specs, *store_, *http_, *recorder_, clock_,
                                                        nullptr, lo);
    lifecycle_->start(false);

    http::ServerOptions ho;
    ho.port = 0;
    server_ = std::make_unique<http::Server>(ho, routes_, nullptr);
    // The public URL needs the port: start flows and routes after binding.
    admin::AdminDeps deps = makeDeps();
    api_ = std::make_unique<admin::AdminApi>(std::move(deps));
    api_->registerRoutes(routes_);
    ASSERT_TRUE(server_->start().ok());
    base_ = "http://127.0.0.1:" + std::to_string(server_->port());
    flows::FlowOptions fo;
    fo.public_url = base_;
    flows_ = std::make_unique<flows::Flows>(
        flow_conns, *store_, *http_, *recorder_, clock_, fo,
        [this](const store::ConnectionKey& k, const flows::ResolvedConnection&) {
          lifecycle_->source(k)->onConnected();
        });
  }

  admin::AdminDeps makeDeps() {
    admin::AdminDeps deps;
    config::AccessKey admin{"ops", kAdminKey, sha256Raw(kAdminKey), false};
    config::AccessKey viewer{"watcher", kViewerKey, sha256Raw(kViewerKey), true};
    config::AccessKey hashed{"hashed", "", sha256Raw(kHashedKey), false};
    deps.keys = {admin, viewer, hashed};
    deps.connections = views_;
    deps.flows = [this] { return flows_.get(); };
    deps.store = [this] { return store_.get(); };
    deps.recorder = [this] { return recorder_.get(); };
    deps.sources = [this](const store::ConnectionKey& k) { return lifecycle_->source(k); };
    deps.pool = &pool_;
    deps.clock = &clock_;
    deps.session_secret = std::string(32, 's');
    return deps;
  }

  /// Another admin API on the same store: a restarted process, or another replica.
  struct OtherInstance {
    http::Router routes;
    std::unique_ptr<admin::AdminApi> api;
    std::unique_ptr<http::Server> server;
    std::string base;
    ~OtherInstance() {
      if (server) server->stop();
    }
  };
  std::unique_ptr<OtherInstance> startOtherInstance() {
    auto other = std::make_unique<OtherInstance>();
    other->api = std::make_unique<admin::AdminApi>(makeDeps());
    other->api->registerRoutes(other->routes);
    http::ServerOptions ho;
    ho.port = 0;
    other->server = std::make_unique<http::Server>(ho, other->routes, nullptr);
    EXPECT_TRUE(other->server->start().ok());
    other->base = "http://127.0.0.1:" + std::to_string(other->server->port());
    return other;
  }

  /// Signs in with `key`: the "tether_session=..." cookie and the CSRF token.
  std::pair<std::string, std::string> signIn(const std::string& key) {
    auto opened = call("POST", "/api/v1/admin/session", std::nullopt,
                       json::serialize(json::object{{"key", key}}));
    EXPECT_EQ(opened.status, 200) << opened.body;
    const std::string set_cookie(http::findHeader(opened.headers, "Set-Cookie").value_or(""));
    const auto csrf = opened.json.if_contains("csrf_token");
    return {set_cookie.substr(0, set_cookie.find(';')),
            csrf && csrf->is_string() ? std::string(csrf->as_string()) : ""};
  }

  void TearDown() override {
    server_->stop();
    pool_.shutdown();
    lifecycle_->stop();
    idp_->stop();
  }

  struct Reply {
    int status = 0;
    std::string body;
    json::object json;
    http::Headers headers;
  };

  Reply call(const std::string& method, const std::string& path,
             std::optional<std::string> key = kAdminKey, const std::string& body = "",
             http::Headers extra = {}) {
    return callAt(base_, method, path, std::move(key), body, std::move(extra));
  }
  Reply callAt(const std::string& base, const std::string& method, const std::string& path,
               std::optional<std::string> key = kAdminKey, const std::string& body = "",
               http::Headers extra = {}) {
    http::ClientRequest req;
    req.method = method;
    req.url = base + path;
    req.body = body;
    req.headers = std::move(extra);
    if (key) req.headers.push_back({"Authorization", "Bearer " + *key});
    if (!body.empty()) req.headers.push_back({"Content-Type", "application/json"});
    auto r = http_->send(req);
    EXPECT_TRUE(r.ok()) << r.error_message;
    Reply out{r.response.status, r.response.body, {}, r.response.headers};
    boost::system::error_code ec;
    auto v = json::parse(out.body, ec);
    if (!ec && v.is_object()) out.json = v.as_object();
    return out;
  }

  // Connects through the real flow (the mock IdP auto-approves).
  void connect(const std::string& name) {
    auto started = call("POST", "/api/v1/admin/connections/mcp/" + name + "/oauth/start");
    ASSERT_EQ(started.status, 200) << started.body;
    http::ClientRequest at_idp;
    at_idp.url = std::string(started.json["authorization_url"].as_string());
    auto r = http_->send(at_idp);
    ASSERT_EQ(r.response.status, 302);
    http::ClientRequest back;
    back.url = std::string(*http::findHeader(r.response.headers, "Location"));
    auto done = http_->send(back);
    ASSERT_EQ(done.response.status, 200) << done.response.body;
  }

  void fault(const std::string& kind_error, int status, int times = -1) {
    mockidp::FaultRule rule;
    rule.endpoint = "token";
    rule.grant = "refresh_token";
    rule.times = times;
    rule.fault.kind = mockidp::FaultKind::kOAuthError;
    rule.fault.error = kind_error;
    rule.fault.status = status;
    idp_->addFault(rule);
  }

  json::object healthOf(const std::string& kind, const std::string& name) {
    auto h = call("GET", "/api/v1/admin/connections/oauth-health");
    EXPECT_EQ(h.status, 200) << h.body;
    for (const auto& c : h.json["connections"].as_array()) {
      if (c.at("kind").as_string() == kind && c.at("name").as_string() == name)
        return c.as_object();
    }
    ADD_FAILURE() << "no " << kind << "/" << name << " in " << h.body;
    return {};
  }

  // healthy connected; failing refreshes with a transient error; revoked got invalid_grant.
  void threeStates() {
    for (const char* n : {"healthy", "failing", "revoked"}) connect(n);
    clock_.advance(seconds(120));
    fault("temporarily_unavailable", 503, 1);
    EXPECT_EQ(call("POST", "/api/v1/admin/connections/mcp/failing/oauth/refresh").status, 503);
    fault("invalid_grant", 400, 1);
    EXPECT_EQ(call("POST", "/api/v1/admin/connections/mcp/revoked/oauth/refresh").status, 409);
  }

  // The delete-during-refresh race: the IdP's answer held, then a slow store whose
  // "connected" writes take until the admin's delete answered (at most 1 s each).
  Hold idp_hold_;
  std::atomic<bool> slow_connected_writes_{false};
  std::mutex race_mu_;
  std::condition_variable race_cv_;
  bool delete_answered_ = false;

  core::ManualClock clock_;
  std::unique_ptr<mockidp::MockIdp> idp_;
  std::unique_ptr<http::HttpClient> http_ = http::makeHttpClient();
  std::unique_ptr<testing::SealedSqlite> db_;
  std::unique_ptr<testing::FaultyStore> store_;
  std::unique_ptr<events::Recorder> recorder_;
  std::unique_ptr<lifecycle::Lifecycle> lifecycle_;
  std::vector<admin::ConnectionView> views_;
  core::ThreadPool pool_{4, "admin-api-test"};
  http::Router routes_;
  std::unique_ptr<admin::AdminApi> api_;
  std::unique_ptr<http::Server> server_;
  std::unique_ptr<flows::Flows> flows_;
  std::string base_;
};

// --- authentication -------------------------------------------------------------------

TEST_F(AdminApiTest, EveryRouteNeedsAKeyAndAnswersJsonErrors) {
  const std::vector<std::pair<std::string, std::string>> routes = {
      {"GET", "/api/v1/admin/connections"},
      {"GET", "/api/v1/admin/connections/oauth-health"},
      {"GET", "/api/v1/admin/connections/mcp/healthy"},
      {"GET", "/api/v1/admin/connections/mcp/healthy/auth-events"},
      {"POST", "/api/v1/admin/connections/mcp/healthy/oauth/start"},
      {"POST", "/api/v1/admin/connections/mcp/healthy/oauth/refresh"},
      {"DELETE", "/api/v1/admin/connections/mcp/healthy/oauth/token"},
      {"GET", "/api/v1/admin/connections/mcp/healthy/oauth/flows/x"},
  };
  for (const auto& [method, path] : routes) {
    auto none = call(method, path, std::nullopt);
    EXPECT_EQ(none.status, 401) << method << " " << path;
    EXPECT_EQ(none.json["error"].at("code"), "unauthenticated") << none.body;
    auto wrong = call(method, path, std::string("not-a-configured-key-at-all"));
    EXPECT_EQ(wrong.status, 401) << method << " " << path;
    EXPECT_THAT(wrong.body, Not(HasSubstr("not-a-configured-key")));
  }
  // A key configured only as its SHA-256 works.
  EXPECT_EQ(call("GET", "/api/v1/admin/connections", kHashedKey).status, 200);
  // A viewer may look, not change.
  EXPECT_EQ(call("GET", "/api/v1/admin/connections", kViewerKey).status, 200);
  auto denied = call("POST", "/api/v1/admin/connections/mcp/healthy/oauth/refresh", kViewerKey);
  EXPECT_EQ(denied.status, 403);
  EXPECT_EQ(denied.json["error"].at("code"), "permission_denied");
  EXPECT_THAT(denied.body, HasSubstr("watcher"));
  EXPECT_EQ(call("DELETE", "/api/v1/admin/connections/mcp/healthy/oauth/token", kViewerKey).status,
            403);
  EXPECT_EQ(call("GET", "/api/v1/admin/connections/mcp/nope").status, 404);
  EXPECT_EQ(call("GET", "/api/v1/admin/connections/xyz/healthy").status, 404);
}

TEST_F(AdminApiTest, PortalSessionIsAnHttpOnlyStrictCookieAndMutationsNeedTheCsrfToken) {
  auto bad = call("POST", "/api/v1/admin/session", std::nullopt, R"({"key":"wrong-key-123456"})");
  EXPECT_EQ(bad.status, 401);
  auto opened = call("POST", "/api/v1/admin/session", std::nullopt,
                     json::serialize(json::object{{"key", kAdminKey}}));
  ASSERT_EQ(opened.status, 200) << opened.body;
  EXPECT_EQ(opened.json["key_id"], "ops");
  const std::string csrf(opened.json["csrf_token"].as_string());
  const auto set_cookie = http::findHeader(opened.headers, "Set-Cookie");
  ASSERT_TRUE(set_cookie.has_value());
  EXPECT_THAT(std::string(*set_cookie), HasSubstr("HttpOnly"));
  EXPECT_THAT(std::string(*set_cookie), HasSubstr("SameSite=Strict"));
  EXPECT_THAT(std::string(*set_cookie), Not(HasSubstr(kAdminKey)));
  const std::string cookie(set_cookie->substr(0, set_cookie->find(';')));
  const http::Headers with_cookie = {{"Cookie", "theme=dark; " + cookie}};

  auto me = call("GET", "/api/v1/admin/session", std::nullopt, "", with_cookie);
  EXPECT_EQ(me.status, 200);
  EXPECT_EQ(me.json["csrf_token"].as_string(), csrf);
  EXPECT_EQ(call("GET", "/api/v1/admin/connections", std::nullopt, "", with_cookie).status, 200);
  // A mutation with the cookie alone is refused; with the token it goes through.
  connect("healthy");
  auto no_csrf = call("POST", "/api/v1/admin/connections/mcp/healthy/oauth/refresh", std::nullopt,
                      "", with_cookie);
  EXPECT_EQ(no_csrf.status, 403);
  EXPECT_THAT(no_csrf.body, HasSubstr("X-CSRF-Token"));
  auto wrong_csrf = call("POST", "/api/v1/admin/connections/mcp/healthy/oauth/refresh",
                         std::nullopt, "", {{"Cookie", cookie}, {"X-CSRF-Token", "nope"}});
  EXPECT_EQ(wrong_csrf.status, 403);
  auto ok = call("POST", "/api/v1/admin/connections/mcp/healthy/oauth/refresh", std::nullopt, "",
                 {{"Cookie", cookie}, {"X-CSRF-Token", csrf}});
  EXPECT_EQ(ok.status, 200) << ok.body;
  // The refresh is recorded with the session's key as actor.
  auto events = call("GET", "/api/v1/admin/connections/mcp/healthy/auth-events?limit=1");
  EXPECT_EQ(events.json["events"].as_array()[0].at("actor"), "admin:ops");

  // A tampered cookie is refused.
  std::string tampered = cookie;
  tampered[tampered.size() - 2] = tampered[tampered.size() - 2] == 'A' ? 'B' : 'A';
  EXPECT_EQ(
      call("GET", "/api/v1/admin/connections", std::nullopt, "", {{"Cookie", tampered}}).status,
      401);
  // Sign-out clears the cookie and the old value stops working.
  auto closed = call("DELETE", "/api/v1/admin/session", std::nullopt, "",
                     {{"Cookie", cookie}, {"X-CSRF-Token", csrf}});
  EXPECT_EQ(closed.status, 204);
  EXPECT_THAT(std::string(http::findHeader(closed.headers, "Set-Cookie").value_or("")),
              HasSubstr("Max-Age=0"));
  EXPECT_EQ(call("GET", "/api/v1/admin/connections", std::nullopt, "", with_cookie).status, 401);
  // Sessions expire.
  auto again = call("POST", "/api/v1/admin/session", std::nullopt,
                    json::serialize(json::object{{"key", kAdminKey}}));
  const auto c2 = std::string(*http::findHeader(again.headers, "Set-Cookie"));
  clock_.advance(hours(13));
  EXPECT_EQ(call("GET", "/api/v1/admin/session", std::nullopt, "",
                 {{"Cookie", c2.substr(0, c2.find(';'))}})
                .status,
            401);
}

// Sign-out is durable: it holds after a restart and on every other instance of the store
// (within the revocation cache's bound, admin::kRevocationRecheck), not only in the
// process that signed out.
TEST_F(AdminApiTest, SignOutHoldsAfterARestartAndOnOtherInstances) {
  const auto [cookie, csrf] = signIn(kAdminKey);
  const http::Headers with_cookie = {{"Cookie", cookie}};
  auto replica = startOtherInstance();  // running before the sign-out, cookie already seen
  EXPECT_EQ(callAt(replica->base, "GET", "/api/v1/admin/connections", std::nullopt, "", with_cookie)
                .status,
            200);

  auto closed = call("DELETE", "/api/v1/admin/session", std::nullopt, "",
                     {{"Cookie", cookie}, {"X-CSRF-Token", csrf}});
  ASSERT_EQ(closed.status, 204) << closed.body;
  EXPECT_EQ(call("GET", "/api/v1/admin/connections", std::nullopt, "", with_cookie).status, 401);

  // A restart: new API objects on the same store refuse the old cookie at once.
  auto restarted = startOtherInstance();
  EXPECT_EQ(
      callAt(restarted->base, "GET", "/api/v1/admin/connections", std::nullopt, "", with_cookie)
          .status,
      401);
  EXPECT_EQ(
      callAt(restarted->base, "GET", "/api/v1/admin/session", std::nullopt, "", with_cookie).status,
      401);

  // The replica that had checked the cookie before honours the sign-out within the bound.
  clock_.advance(admin::kRevocationRecheck + seconds(1));
  EXPECT_EQ(callAt(replica->base, "GET", "/api/v1/admin/connections", std::nullopt, "", with_cookie)
                .status,
            401);
  // Other sessions are untouched.
  const auto [other_cookie, other_csrf] = signIn(kAdminKey);
  EXPECT_EQ(callAt(replica->base, "GET", "/api/v1/admin/connections", std::nullopt, "",
                   {{"Cookie", other_cookie}})
                .status,
            200);
}

TEST_F(AdminApiTest, AViewerCanSignItselfOut) {
  const auto [cookie, csrf] = signIn(kViewerKey);
  EXPECT_EQ(call("GET", "/api/v1/admin/connections", std::nullopt, "", {{"Cookie", cookie}}).status,
            200);
  auto closed = call("DELETE", "/api/v1/admin/session", std::nullopt, "",
                     {{"Cookie", cookie}, {"X-CSRF-Token", csrf}});
  EXPECT_EQ(closed.status, 204) << closed.body;
  EXPECT_THAT(std::string(http::findHeader(closed.headers, "Set-Cookie").value_or("")),
              HasSubstr("Max-Age=0"));
  EXPECT_EQ(call("GET", "/api/v1/admin/connections", std::nullopt, "", {{"Cookie", cookie}}).status,
            401);
}

// Single sign-on sessions (admin.sso): the role granted at sign-in decides what the session
// may do. The cookies are made with the same secret, as a replica that finished the OIDC
// sign-in would have (admin/sso_login.h is tested on its own).
TEST_F(AdminApiTest, SingleSignOnRolesUserGets403ViewerReadsAndEverySessionMaySignOut) {
  EXPECT_EQ(call("GET", "/api/v1/admin/portal-config", std::nullopt).body, R"({"sso":null})");
  OtherInstance sso;
  admin::AdminDeps deps = makeDeps();
  deps.sso = config::SsoConfig{};
  deps.sso->issuer = "http://127.0.0.1:9";
  deps.sso->client_id = "tether-portal";
  deps.sso->display_name = "Example SSO";
  deps.http = http_.get();
  deps.public_url = [] { return std::string("http://127.0.0.1:9"); };
  sso.api = std::make_unique<admin::AdminApi>(std::move(deps));
  sso.api->registerRoutes(sso.routes);
  http::ServerOptions ho;
  ho.port = 0;
  sso.server = std::make_unique<http::Server>(ho, sso.routes, nullptr);
  ASSERT_TRUE(sso.server->start().ok());
  sso.base = "http://127.0.0.1:" + std::to_string(sso.server->port());

  auto config = callAt(sso.base, "GET", "/api/v1/admin/portal-config", std::nullopt);
  EXPECT_EQ(config.body, R"({"sso":{"name":"Example SSO","start_url":"/portal/sso/start"}})");

  admin::SessionCodec codec(std::string(32, 's'), clock_);
  admin::Session user;
  const std::string user_cookie =
      "tether_session=" + codec.issueSso("bob-sub", "Bob", admin::Role::kUser, &user);
  for (const char* path : {"/api/v1/admin/connections", "/api/v1/admin/connections/mcp/healthy",
                           "/api/v1/admin/connections/oauth-health"}) {
    auto r = callAt(sso.base, "GET", path, std::nullopt, "", {{"Cookie", user_cookie}});
    EXPECT_EQ(r.status, 403) << path;
    EXPECT_THAT(r.body, HasSubstr("your portal role is user"));
    EXPECT_THAT(r.body, Not(HasSubstr("healthy")));
  }
  auto me =
      callAt(sso.base, "GET", "/api/v1/admin/session", std::nullopt, "", {{"Cookie", user_cookie}});
  EXPECT_EQ(me.status, 200);
  EXPECT_EQ(me.json["role"], "user");
  EXPECT_EQ(me.json["subject"], "bob-sub");
  EXPECT_EQ(me.json["name"], "Bob");
  // The main instance has no admin.sso: it does not honour SSO sessions at all.
  EXPECT_EQ(
      call("GET", "/api/v1/admin/session", std::nullopt, "", {{"Cookie", user_cookie}}).status,
      401);

  admin::Session viewer;
  const std::string viewer_cookie =
      "tether_session=" + codec.issueSso("carol-sub", "", admin::Role::kViewer, &viewer);
  EXPECT_EQ(callAt(sso.base, "GET", "/api/v1/admin/connections", std::nullopt, "",
                   {{"Cookie", viewer_cookie}})
                .status,
            200);
  auto refused =
      callAt(sso.base, "POST", "/api/v1/admin/connections/mcp/healthy/oauth/refresh", std::nullopt,
             "", {{"Cookie", viewer_cookie}, {"X-CSRF-Token", viewer.csrf_token}});
  EXPECT_EQ(refused.status, 403);
  EXPECT_THAT(refused.body, HasSubstr("your portal sign-in has the viewer role"));

  auto closed = callAt(sso.base, "DELETE", "/api/v1/admin/session", std::nullopt, "",
                       {{"Cookie", user_cookie}, {"X-CSRF-Token", user.csrf_token}});
  EXPECT_EQ(closed.status, 204) << closed.body;
  EXPECT_EQ(
      callAt(sso.base, "GET", "/api/v1/admin/session", std::nullopt, "", {{"Cookie", user_cookie}})
          .status,
      401);

  // A callback nobody started: a page that says so, 401.
  auto cb = callAt(sso.base, "GET", "/portal/sso/callback?code=c0de-VALUE&state=st4te-VALUE",
                   std::nullopt);
  EXPECT_EQ(cb.status, 401);
  EXPECT_THAT(cb.body, HasSubstr("not started in this browser"));
  EXPECT_THAT(cb.body, Not(HasSubstr("VALUE")));
}

// Rows of the revocation table, read beside the store (-1 when it cannot be read).
int64_t revocationRows(const std::string& path) {
  sqlite3* db = nullptr;
  int64_t out = -1;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM session_revocations", -1, &stmt, nullptr) ==
            SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW) {
      out = sqlite3_column_int64(stmt, 0);
    }
    sqlite3_finalize(stmt);
  }
  sqlite3_close_v2(db);
  return out;
}

// Only a cookie whose signature holds is revoked: a forged one (here: a victim's payload
// under another signature) neither signs the victim out nor adds a row.
TEST_F(AdminApiTest, AForgedCookieRevokesNothingAndStoresNothing) {
  const auto [victim, csrf] = signIn(kAdminKey);
  const std::string value = victim.substr(victim.find('=') + 1);
  const std::string forged = std::string(admin::kSessionCookie) + "=" +
                             value.substr(0, value.find('.')) + "." +
                             core::base64UrlEncode(std::string(32, 'x'));
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(call("DELETE", "/api/v1/admin/session", kAdminKey, "", {{"Cookie", forged}}).status,
              204);
  }
  EXPECT_EQ(call("GET", "/api/v1/admin/connections", std::nullopt, "", {{"Cookie", victim}}).status,
            200);
  EXPECT_EQ(revocationRows(db_->path()), 0);

  // The genuine sign-out stores exactly one row.
  EXPECT_EQ(call("DELETE", "/api/v1/admin/session", std::nullopt, "",
                 {{"Cookie", victim}, {"X-CSRF-Token", csrf}})
                .status,
            204);
  EXPECT_EQ(revocationRows(db_->path()), 1);
}

// --- lists, health, detail ------------------------------------------------------------

TEST_F(AdminApiTest, ListAndHealthShowEveryConnectionWithItsState) {
  threeStates();
  auto list = call("GET", "/api/v1/admin/connections");
  ASSERT_EQ(list.status, 200) << list.body;
  std::map<std::string, std::string> states;
  for (const auto& c : list.json["connections"].as_array()) {
    states[std::string(c.at("kind").as_string()) + "/" + std::string(c.at("name").as_string())] =
        std::string(c.at("state").as_string());
    EXPECT_TRUE(c.as_object().contains("url_host"));
    EXPECT_TRUE(c.as_object().contains("auth_mode"));
  }
  EXPECT_EQ(states["mcp/healthy"], "connected");
  EXPECT_EQ(states["mcp/failing"], "refresh_failing");
  EXPECT_EQ(states["mcp/revoked"], "needs_reauth");
  EXPECT_EQ(states["api/static"], "not_applicable");

  auto healthy = healthOf("mcp", "healthy");
  EXPECT_EQ(healthy["has_oauth"], true);
  EXPECT_EQ(healthy["needs_reauth"], false);
  EXPECT_EQ(healthy["token_acquired"], true);
  EXPECT_EQ(healthy["idp_error_code"], "");
  auto failing = healthOf("mcp", "failing");
  EXPECT_EQ(failing["state"], "refresh_failing");
  EXPECT_EQ(failing["idp_error_code"], "temporarily_unavailable");
  auto revoked = healthOf("mcp", "revoked");
  EXPECT_EQ(revoked["needs_reauth"], true);
  EXPECT_EQ(revoked["idp_error_code"], "invalid_grant");
  auto api = healthOf("api", "static");
  EXPECT_EQ(api["has_oauth"], false);
}

TEST_F(AdminApiTest, ListSearchesFiltersSortsBySeverityAndPages) {
  threeStates();
  auto list = call("GET", "/api/v1/admin/connections?limit=2");
  ASSERT_EQ(list.status, 200) << list.body;
  const auto& rows = list.json["connections"].as_array();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].at("name"), "revoked");  // red first, then amber
  EXPECT_EQ(rows[1].at("name"), "failing");
  EXPECT_EQ(list.json["next_offset"], 2);
  EXPECT_EQ(list.json["counts"].at("needs_reauth"), 1);
  EXPECT_EQ(list.json["counts"].at("not_applicable"), 1);
  auto found = call("GET", "/api/v1/admin/connections?q=HEALTH&auth=oauth");
  ASSERT_EQ(found.status, 200) << found.body;
  ASSERT_EQ(found.json["connections"].as_array().size(), 1u);
  EXPECT_EQ(found.json["connections"].as_array()[0].at("name"), "healthy");
  for (const char* bad :
       {"limit=0", "offset=-3", "kind=ftp", "auth=basic", "state=red", "sort=age"}) {
    auto r = call("GET", std::string("/api/v1/admin/connections?") + bad);
    EXPECT_EQ(r.status, 400) << bad;
    const std::string param = std::string(bad).substr(0, std::string(bad).find('='));
    EXPECT_NE(r.body.find(param + " must"), std::string::npos) << r.body;
  }
}

TEST_F(AdminApiTest, TheIdpCodeShowsOnlyWhileTheNewestLifecycleFactIsAFailure) {
  threeStates();
  // A later success clears the transient code.
  clock_.advance(minutes(10));
  EXPECT_EQ(call("POST", "/api/v1/admin/connections/mcp/failing/oauth/refresh").status, 200);
  EXPECT_EQ(healthOf("mcp", "failing")["idp_error_code"], "");
  EXPECT_EQ(healthOf("mcp", "failing")["state"], "connected");
  // A reconnect clears the revocation's code though the revocation stays in history.
  connect("revoked");
  auto revoked = healthOf("mcp", "revoked");
  EXPECT_EQ(revoked["idp_error_code"], "");
  EXPECT_EQ(revoked["needs_reauth"], false);
  auto detail = call("GET", "/api/v1/admin/connections/mcp/revoked");
  EXPECT_EQ(detail.json["oauth"].at("state"), "connected");
  ASSERT_TRUE(detail.json["oauth"].at("last_revocation").is_object()) << detail.body;
}

TEST_F(AdminApiTest, DetailShowsTheStatusInEachStateAndNeverAToken) {
  auto never = call("GET", "/api/v1/admin/connections/mcp/healthy");
  ASSERT_EQ(never.status, 200);
  EXPECT_EQ(never.json["oauth"].at("state"), "not_connected");
  EXPECT_EQ(never.json["oauth"].at("expires_at"), nullptr);

  threeStates();
  auto h = call("GET", "/api/v1/admin/connections/mcp/healthy");
  const auto& o = h.json["oauth"].as_object();
  EXPECT_EQ(o.at("state"), "connected");
  EXPECT_TRUE(o.at("expires_at").is_string());
  EXPECT_EQ(o.at("authenticated_by"), "admin:ops");
  EXPECT_EQ(o.at("has_refresh_token"), true);
  EXPECT_EQ(o.at("reauthorize_soon"), false);  // refresh_max_lifetime 8d, just connected
  auto token = store_->getToken({"mcp", "healthy"}).value();
  EXPECT_THAT(h.body, Not(HasSubstr(token->access_token)));
  EXPECT_THAT(h.body, Not(HasSubstr(*token->refresh_token)));

  auto f = call("GET", "/api/v1/admin/connections/mcp/failing");
  EXPECT_EQ(f.json["oauth"].at("state"), "refresh_failing");
  EXPECT_EQ(f.json["oauth"].at("consecutive_failures"), 1);
  EXPECT_TRUE(f.json["oauth"].at("next_attempt_at").is_string());
  EXPECT_EQ(f.json["oauth"].at("last_error_code"), "temporarily_unavailable");

  auto r = call("GET", "/api/v1/admin/connections/mcp/revoked");
  EXPECT_EQ(r.json["oauth"].at("state"), "needs_reauth");
  const auto& rev = r.json["oauth"].at("last_revocation").as_object();
  EXPECT_EQ(rev.at("reason"), "invalid_grant");
  EXPECT_EQ(rev.at("idp_host"), "127.0.0.1");
  EXPECT_TRUE(rev.at("at").is_string());

  // Within 7 days of the refresh deadline: "re-authorize soon".
  clock_.advance(hours(24 * 2));
  EXPECT_EQ(
      call("GET", "/api/v1/admin/connections/mcp/healthy").json["oauth"].at("reauthorize_soon"),
      true);
  auto api = call("GET", "/api/v1/admin/connections/api/static");
  EXPECT_EQ(api.json["oauth"], nullptr);
  EXPECT_EQ(api.json["auth_mode"], "bearer");
}

TEST_F(AdminApiTest, AuthEventsNewestFirstWithALimit) {
  threeStates();
  auto all = call("GET", "/api/v1/admin/connections/mcp/revoked/auth-events");
  ASSERT_EQ(all.status, 200) << all.body;
  const auto& events = all.json["events"].as_array();
  ASSERT_GE(events.size(), 4u);
  std::vector<std::string> types;
  for (const auto& e : events) types.emplace_back(e.at("type").as_string());
  // Newest first: the revocation's token deletion, the failed refresh, then the connect.
  EXPECT_EQ(types[0], "token_deleted_revoked");
  EXPECT_EQ(types[1], "refresh_failed_revoked");
  EXPECT_EQ(types.back(), "connect_started");
  EXPECT_EQ(events[1].at("detail").at("idp_error"), "invalid_grant");
  auto one = call("GET", "/api/v1/admin/connections/mcp/revoked/auth-events?limit=1");
  EXPECT_EQ(one.json["events"].as_array().size(), 1u);
  EXPECT_EQ(call("GET", "/api/v1/admin/connections/mcp/revoked/auth-events?limit=0").status, 400);
  EXPECT_EQ(call("GET", "/api/v1/admin/connections/mcp/revoked/auth-events?limit=x").status, 400);
}

// --- actions --------------------------------------------------------------------------

TEST_F(AdminApiTest, RefreshNowAndDeleteToken) {
  connect("healthy");
  clock_.advance(seconds(120));
  const uint64_t before = idp_->counter("requests.token.refresh_token");
  auto refreshed = call("POST", "/api/v1/admin/connections/mcp/healthy/oauth/refresh");
  EXPECT_EQ(refreshed.status, 200) << refreshed.body;
  EXPECT_EQ(idp_->counter("requests.token.refresh_token"), before + 1);

  auto deleted = call("DELETE", "/api/v1/admin/connections/mcp/healthy/oauth/token");
  EXPECT_EQ(deleted.status, 200) << deleted.body;
  EXPECT_EQ(deleted.json["deleted"], true);
  EXPECT_FALSE(store_->getToken({"mcp", "healthy"}).value().has_value());
  auto events = call("GET", "/api/v1/admin/connections/mcp/healthy/auth-events?limit=1");
  EXPECT_EQ(events.json["events"].as_array()[0].at("type"), "token_deleted_admin");
  EXPECT_EQ(events.json["events"].as_array()[0].at("actor"), "admin:ops");
  EXPECT_EQ(call("GET", "/api/v1/admin/connections/mcp/healthy").json["oauth"].at("state"),
            "not_connected");
  EXPECT_EQ(call("DELETE", "/api/v1/admin/connections/mcp/healthy/oauth/token").json["deleted"],
            false);
  // Refresh now on a connection without a token: 409 with what to do.
  auto conflict = call("POST", "/api/v1/admin/connections/mcp/healthy/oauth/refresh");
  EXPECT_EQ(conflict.status, 409) << conflict.body;
  EXPECT_THAT(conflict.body, HasSubstr("mcp/healthy"));
  EXPECT_EQ(call("DELETE", "/api/v1/admin/connections/api/static/oauth/token").status, 404);
}

// Issue 13: an admin deletes the token while the keeper refreshes the same connection. The
// keeper is held at the IdP's answer, the delete is sent, then the keeper goes on against a
// slow store. Before the lifecycle owned the delete, the keeper wrote "connected" after it:
// list and health said connected with no token while the detail said not_connected.
TEST_F(AdminApiTest, ADeleteDuringAKeeperRefreshLeavesListHealthAndDetailAgreeing) {
  const store::ConnectionKey key{"mcp", "healthy"};
  connect("healthy");
  clock_.advance(minutes(56));  // within the access lead: the keeper refreshes
  idp_hold_.arm();
  std::thread keeper([this] { lifecycle_->keeper().tick(); });
  ASSERT_TRUE(idp_hold_.waitReached(seconds(10))) << "the keeper never called the IdP";
  slow_connected_writes_ = true;
  auto deleted = std::async(std::launch::async, [this] {
    auto reply = call("DELETE", "/api/v1/admin/connections/mcp/healthy/oauth/token");
    {
      std::lock_guard lock(race_mu_);
      delete_answered_ = true;
    }
    race_cv_.notify_all();
    return reply;
  });
  idp_hold_.release();
  keeper.join();
  const auto reply = deleted.get();
  slow_connected_writes_ = false;
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(reply.json.at("deleted"), true);

  // The delete came last: no token, and every view says so.
  EXPECT_FALSE(store_->getToken(key).value().has_value());
  std::string listed;
  auto list = call("GET", "/api/v1/admin/connections");
  for (const auto& c : list.json["connections"].as_array()) {
    if (c.at("name") == "healthy") listed = std::string(c.at("state").as_string());
  }
  auto health = healthOf("mcp", "healthy");
  auto detail = call("GET", "/api/v1/admin/connections/mcp/healthy");
  EXPECT_EQ(listed, "not_connected");
  EXPECT_EQ(health["state"], "not_connected");
  EXPECT_EQ(health["token_acquired"], false);
  EXPECT_EQ(detail.json["oauth"].at("state"), "not_connected") << detail.body;
  EXPECT_EQ(lifecycle_->source(key)->status().state, store::ConnectionState::kNotConnected);
  EXPECT_FALSE(lifecycle_->source(key)->token().ok());
}

TEST_F(AdminApiTest, AStoreErrorIsA500WithAJsonErrorAndNoStackTrace) {
  store_->broken_reads = true;
  for (const char* path : {"/api/v1/admin/connections/oauth-health", "/api/v1/admin/connections",
                           "/api/v1/admin/connections/mcp/healthy/auth-events"}) {
    auto r = call("GET", path);
    EXPECT_EQ(r.status, 500) << path;
    EXPECT_EQ(r.json["error"].at("code"), "store_error") << r.body;
    EXPECT_THAT(r.body, Not(HasSubstr(".cc:")));
    EXPECT_THAT(r.body, Not(HasSubstr("#0")));
  }
  store_->broken_reads = false;
  store_->down = true;
  auto down = call("GET", "/api/v1/admin/connections/oauth-health");
  EXPECT_EQ(down.status, 503);
  EXPECT_EQ(down.json["error"].at("code"), "unavailable");
  store_->down = false;
}

}  // namespace
}  // namespace tether

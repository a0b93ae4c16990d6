// Connections made through the admin API (issue #14) over real HTTP on a real sealed store:
// validation parity with `tether config check`, create / replace / patch / delete, the 409 and
// 412 rules, the viewer role, write-only secrets, history after a delete.
#include "admin/connections_api.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <future>
#include <thread>

#include "config/config.h"
#include "config/connection_entry.h"
#include "core/digest.h"
#include "http/http_client.h"
#include "http/server.h"
#include "support/faulty_store.h"
#include "support/sealed_sqlite.h"

namespace tether {
namespace {

namespace json = boost::json;

const std::string kAdminKey = "admin-key-for-the-connections-api";
const std::string kViewerKey = "viewer-key-for-the-connections-api";

struct Reply {
  int status = 0;
  std::string body;
  json::object json;
  http::Headers headers;
  std::string header(std::string_view name) const {
    return std::string(http::findHeader(headers, name).value_or(""));
  }
  std::string errorField() const {
    const auto* e = json.if_contains("error");
    if (!e || !e->is_object() || !e->as_object().contains("field")) return "<none>";
    return std::string(e->as_object().at("field").as_string());
  }
  std::string errorMessage() const {
    const auto* e = json.if_contains("error");
    if (!e || !e->is_object()) return "";
    return std::string(e->as_object().at("message").as_string());
  }
};

class ConnectionsApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = std::make_unique<testing::SealedSqlite>(clock_, "tether-connapi-");
    faulty_ = std::make_unique<testing::FaultyStore>(db_->store());
    recorder_ = std::make_unique<events::Recorder>(db_->store(), clock_, nullptr);
    admin::AdminDeps deps;
    deps.keys = {{"ops", kAdminKey, core::sha256(kAdminKey), false},
                 {"watcher", kViewerKey, core::sha256(kViewerKey), true}};
    deps.store = [this] { return &db_->store(); };
    deps.recorder = [this] { return recorder_.get(); };
    deps.pool = &pool_;
    deps.clock = &clock_;
    deps.session_secret = std::string(32, 's');
    api_ = std::make_unique<admin::AdminApi>(std::move(deps));
    api_->registerRoutes(routes_);
    admin::ConnectionsApiDeps cd;
    cd.store = [this] { return faulty_.get(); };
    cd.recorder = [this] { return recorder_.get(); };
    cd.pool = &pool_;
    cd.declared = [](const store::ConnectionKey& k) { return k.name == "declared"; };
    cd.config_file = "/etc/tether/tether.yaml";
    cd.apply_stored = [this] { ++applied_; };
    admin::registerConnectionRoutes(*api_, routes_, std::move(cd));
    http::ServerOptions ho;
    ho.port = 0;
    server_ = std::make_unique<http::Server>(ho, routes_, nullptr);
    ASSERT_TRUE(server_->start().ok());
    base_ = "http://127.0.0.1:" + std::to_string(server_->port());
  }
  void TearDown() override {
    server_->stop();
    pool_.shutdown();
  }

  Reply call(const std::string& method, const std::string& path, const std::string& body = "",
             const std::string& key = kAdminKey, http::Headers extra = {}) {
    http::ClientRequest req;
    req.method = method;
    req.url = base_ + "/api/v1/admin" + path;
    req.body = body;
    req.headers = std::move(extra);
    req.headers.push_back({"Authorization", "Bearer " + key});
    if (!body.empty()) req.headers.push_back({"Content-Type", "application/json"});
    req.total_timeout = std::chrono::seconds(10);
    auto r = http_->send(req);
    EXPECT_TRUE(r.ok()) << r.error_message;
    Reply out{r.response.status, r.response.body, {}, r.response.headers};
    boost::system::error_code ec;
    auto v = json::parse(out.body, ec);
    if (!ec && v.is_object()) out.json = v.as_object();
    return out;
  }

  core::ManualClock clock_;
  std::unique_ptr<testing::SealedSqlite> db_;
  std::unique_ptr<testing::FaultyStore> faulty_;  // what the connections API uses
  std::unique_ptr<events::Recorder> recorder_;
  core::ThreadPool pool_{2, "admin-test"};
  http::Router routes_;
  std::unique_ptr<admin::AdminApi> api_;
  std::unique_ptr<http::Server> server_;
  std::unique_ptr<http::HttpClient> http_ = http::makeHttpClient({});
  std::string base_;
  std::atomic<int> applied_{0};
};

const std::string kBearer = R"({"kind":"mcp","name":"made","url":"http://127.0.0.1:9/mcp",)"
                            R"("auth":{"mode":"bearer","token":"the-bearer-secret-value"}})";

// The same bad connections through `config check`'s loader and through the API: the same
// field and the same message.
TEST_F(ConnectionsApiTest, ValidationMessagesEqualConfigChecks) {
  const std::vector<std::string> bad = {
      R"({"kind":"mcp","name":"x","url":"ftp://host/"})",
      R"({"kind":"mcp","name":"Bad Name","url":"http://127.0.0.1/"})",
      R"({"kind":"sse","name":"x","url":"http://127.0.0.1/"})",
      R"({"kind":"mcp","name":"x"})",
      R"({"kind":"api","name":"v1","url":"http://127.0.0.1/"})",
      R"({"kind":"mcp","name":"x","url":"http://127.0.0.1/","colour":"red"})",
      R"({"kind":"mcp","name":"x","url":"http://127.0.0.1/","timeout":"soon"})",
      R"({"kind":"mcp","name":"x","url":"http://127.0.0.1/","auth":{"mode":"bearer"}})",
      R"({"kind":"mcp","name":"x","url":"http://127.0.0.1/","auth":{"mode":"oauth",)"
      R"("grant":"implicit"}})",
      R"({"kind":"api","name":"x","url":"http://127.0.0.1/","auth":{"mode":"oauth",)"
      R"("issuer":"http://127.0.0.1/","client_secret":"s"}})",
      R"({"kind":"mcp","name":"x","url":"http://127.0.0.1/","auth":{"mode":"api_key",)"
      R"("key":"a b"}})",
      R"({"kind":"mcp","name":"x","url":"http://127.0.0.1/","auth":{"mode":"none",)"
      R"("token":"t"}})",
  };
  for (const auto& entry : bad) {
    SCOPED_TRACE(entry);
    const std::string file = "storage:\n  allow_plaintext: true\nconnections:\n  - " + entry + "\n";
    auto checked = config::parseConfig(
        file, "tether.yaml", [](std::string_view) { return std::optional<std::string>(); });
    ASSERT_FALSE(checked.ok());
    auto r = call("POST", "/connections", entry);
    ASSERT_EQ(r.status, 400) << r.body;
    const std::string field = r.errorField();
    const std::string message = r.errorMessage();
    // config check: "tether.yaml:4: connections[0].<field>: <what>"; the API's message is
    // "<field>: <what>" with the same field.
    const std::string path = config::connectionFieldPath(0, field);
    std::string api_what = message;
    if (!field.empty()) {
      ASSERT_EQ(message.rfind(field + ": ", 0), 0u) << message;
      api_what = message.substr(field.size() + 2);
    }
    EXPECT_NE(checked.error().message.find(path + ": " + api_what), std::string::npos)
        << "config check: " << checked.error().message << "\nAPI: " << message;
    EXPECT_EQ(r.body.find("the-bearer-secret-value"), std::string::npos);
  }
}

TEST_F(ConnectionsApiTest, CreateShowsSecretsAsSetAndAnswersWithAnEtag) {
  auto r = call("POST", "/connections", kBearer);
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.header("ETag"), "\"1\"");
  EXPECT_EQ(r.json.at("source").as_string(), "api");
  EXPECT_EQ(r.json.at("auth").as_object().at("token").as_string(), "set");
  EXPECT_EQ(r.body.find("the-bearer-secret-value"), std::string::npos);
  EXPECT_GE(applied_.load(), 1);  // this replica applied it before answering
  // The same name again: 409 naming it.
  auto again = call("POST", "/connections", kBearer);
  EXPECT_EQ(again.status, 409);
  EXPECT_NE(again.errorMessage().find("mcp/made"), std::string::npos);
  // Stored sealed, opened with the store's key.
  auto stored = db_->store().definitions().getDefinition({"mcp", "made"}).value();
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->definition.find("the-bearer-secret-value"), std::string::npos);
  EXPECT_NE(stored->secrets.find("the-bearer-secret-value"), std::string::npos);
  // The event.
  auto events = db_->store().recentEvents({"mcp", "made"}, 10).value();
  recorder_->flush();
  events = db_->store().recentEvents({"mcp", "made"}, 10).value();
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events[0].type, store::EventType::kConnectionCreated);
  EXPECT_EQ(events[0].actor, "admin:ops");
}

TEST_F(ConnectionsApiTest, ViewerMayNotChangeAnything) {
  EXPECT_EQ(call("POST", "/connections", kBearer, kViewerKey).status, 403);
  ASSERT_EQ(call("POST", "/connections", kBearer).status, 201);
  EXPECT_EQ(
      call("PATCH", "/connections/mcp/made", R"({"url":"http://127.0.0.1:8/"})", kViewerKey).status,
      403);
  EXPECT_EQ(call("DELETE", "/connections/mcp/made", "", kViewerKey).status, 403);
  EXPECT_EQ(call("GET", "/connections/deleted", "", kViewerKey).status, 200);
}

TEST_F(ConnectionsApiTest, DeclaredConnectionsAreReadOnlyNamingTheFile) {
  auto r =
      call("POST", "/connections", R"({"kind":"mcp","name":"declared","url":"http://127.0.0.1/"})");
  EXPECT_EQ(r.status, 409);
  EXPECT_NE(r.errorMessage().find("/etc/tether/tether.yaml"), std::string::npos);
  EXPECT_EQ(call("PUT", "/connections/mcp/declared", R"({"url":"http://127.0.0.1/"})").status, 409);
  EXPECT_EQ(call("DELETE", "/connections/mcp/declared").status, 409);
}

TEST_F(ConnectionsApiTest, PatchKeepsAnAbsentSecretAndIfMatchGuardsEdits) {
  ASSERT_EQ(call("POST", "/connections", kBearer).status, 201);
  auto patched = call("PATCH", "/connections/mcp/made", R"({"url":"http://127.0.0.1:8/v2"})",
                      kAdminKey, {{"If-Match", "\"1\""}});
  ASSERT_EQ(patched.status, 200) << patched.body;
  EXPECT_EQ(patched.header("ETag"), "\"2\"");
  EXPECT_EQ(patched.json.at("url").as_string(), "http://127.0.0.1:8/v2");
  EXPECT_EQ(patched.json.at("auth").as_object().at("token").as_string(), "set");
  auto stored = db_->store().definitions().getDefinition({"mcp", "made"}).value();
  EXPECT_NE(stored->secrets.find("the-bearer-secret-value"), std::string::npos);
  // A stale version: 412, nothing changed.
  auto stale = call("PUT", "/connections/mcp/made", kBearer, kAdminKey, {{"If-Match", "\"1\""}});
  EXPECT_EQ(stale.status, 412) << stale.body;
  EXPECT_EQ(db_->store().definitions().getDefinition({"mcp", "made"}).value()->version, 2);
  // A bad edit names the field; nothing changed.
  auto bad = call("PATCH", "/connections/mcp/made", R"({"timeout":"soon"})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.errorField(), "timeout");
  // Name and kind come from the path.
  EXPECT_EQ(call("PATCH", "/connections/mcp/made", R"({"name":"other"})").status, 400);
  EXPECT_EQ(call("PATCH", "/connections/mcp/none", R"({"url":"http://127.0.0.1/"})").status, 404);
}

TEST_F(ConnectionsApiTest, ConcurrentEditsEndWithOneWinnerAndOne412) {
  ASSERT_EQ(call("POST", "/connections", kBearer).status, 201);
  for (int round = 0; round < 4; ++round) {
    const std::string v = "\"" + std::to_string(round + 1) + "\"";
    auto a = std::async(std::launch::async, [&] {
      return call("PATCH", "/connections/mcp/made", R"({"url":"http://127.0.0.1:8/a"})", kAdminKey,
                  {{"If-Match", v}});
    });
    auto b = std::async(std::launch::async, [&] {
      return call("PATCH", "/connections/mcp/made", R"({"url":"http://127.0.0.1:8/b"})", kAdminKey,
                  {{"If-Match", v}});
    });
    const int sa = a.get().status, sb = b.get().status;
    EXPECT_TRUE((sa == 200 && sb == 412) || (sa == 412 && sb == 200)) << sa << " " << sb;
  }
}

TEST_F(ConnectionsApiTest, DeleteTakesTheTokenAndKeepsTheHistoryReadable) {
  ASSERT_EQ(call("POST", "/connections", kBearer).status, 201);
  store::TokenRecord t;
  t.key = {"mcp", "made"};
  t.access_token = "access";
  t.refresh_token = "refresh";
  t.token_type = "Bearer";
  t.authenticated_at = clock_.now();
  t.authenticated_by = "test";
  ASSERT_TRUE(db_->store().putToken(t, 0).ok());
  auto r = call("DELETE", "/connections/mcp/made");
  EXPECT_EQ(r.status, 204) << r.body;
  EXPECT_FALSE(db_->store().getToken({"mcp", "made"}).value().has_value());
  EXPECT_EQ(call("DELETE", "/connections/mcp/made").status, 404);
  recorder_->flush();
  auto deleted = call("GET", "/connections/deleted/mcp/made");
  ASSERT_EQ(deleted.status, 200) << deleted.body;
  EXPECT_TRUE(deleted.json.contains("deleted_at"));
  const auto& history = deleted.json.at("auth_events").as_array();
  ASSERT_GE(history.size(), 2u);
  EXPECT_EQ(history[0].as_object().at("type").as_string(), "connection_deleted");
  auto list = call("GET", "/connections/deleted");
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(list.json.at("connections").as_array().size(), 1u);
  // The name may be used again.
  EXPECT_EQ(call("POST", "/connections", kBearer).status, 201);
}

// "A store failure answers 503 and changes nothing": create, edit and delete with the store
// down (every call fails) and with only its commits failing; 503 with a JSON error naming
// the connection, and once the store is back the stored set is exactly as before.
TEST_F(ConnectionsApiTest, AStoreFailureAnswers503AndChangesNothing) {
  ASSERT_EQ(call("POST", "/connections", kBearer).status, 201);
  store::TokenRecord t;
  t.key = {"mcp", "made"};
  t.access_token = "access";
  t.refresh_token = "refresh";
  t.token_type = "Bearer";
  t.authenticated_at = clock_.now();
  t.authenticated_by = "test";
  ASSERT_TRUE(db_->store().putToken(t, 0).ok());
  recorder_->flush();
  auto snapshot = [&] {
    std::string out;
    auto all = db_->store().definitions().listDefinitions(true);
    if (!all.ok()) return std::string("<store failed>");
    for (const auto& d : *all) {
      out += d.key.str() + " v" + std::to_string(d.version) + " " + d.definition + " " + d.secrets +
             (d.deleted_at ? " deleted" : "") + "\n";
    }
    return out;
  };
  const std::string before = snapshot();
  const int64_t registry = db_->store().definitions().definitionsVersion().value();
  const size_t events = db_->store().recentEvents({"mcp", "made"}, 100).value().size();
  const int applied = applied_.load();

  const std::string other = R"({"kind":"mcp","name":"other","url":"http://127.0.0.1:9/mcp"})";
  auto& defs = faulty_->faultyDefinitions();
  for (std::atomic<bool>* fault : {&defs.down, &defs.broken, &defs.writes_down}) {
    SCOPED_TRACE(fault == &defs.down     ? "store down"
                 : fault == &defs.broken ? "queries fail"
                                         : "commits fail");
    *fault = true;
    struct Case {
      std::string method, path, body;
    };
    const std::vector<Case> cases = {
        {"POST", "/connections", other},
        {"PUT", "/connections/mcp/made", kBearer},
        {"PATCH", "/connections/mcp/made", R"({"url":"http://127.0.0.1:8/v2"})"},
        {"DELETE", "/connections/mcp/made", ""},
    };
    for (const auto& c : cases) {
      SCOPED_TRACE(c.method + " " + c.path);
      auto r = call(c.method, c.path, c.body);
      EXPECT_EQ(r.status, 503) << r.body;
      const auto* error = r.json.if_contains("error");
      ASSERT_TRUE(error && error->is_object()) << r.body;
      EXPECT_EQ(error->as_object().at("code").as_string(), "unavailable");
      const std::string message = r.errorMessage();
      EXPECT_NE(message.find(c.method == "POST" ? "mcp/other" : "mcp/made"), std::string::npos)
          << message;
      EXPECT_NE(message.find("nothing was changed"), std::string::npos) << message;
      EXPECT_EQ(r.body.find("the-bearer-secret-value"), std::string::npos);
    }
    // Reads of the deleted set fail as clearly.
    auto listed = call("GET", "/connections/deleted");
    EXPECT_EQ(listed.status, fault == &defs.writes_down ? 200 : 503) << listed.body;
    if (fault != &defs.writes_down) {
      EXPECT_NE(listed.errorMessage().find("cannot read the deleted connections"),
                std::string::npos)
          << listed.body;
    }
    *fault = false;
  }
  // The store is back: everything as before, nothing applied, no event, the token kept.
  EXPECT_EQ(snapshot(), before);
  EXPECT_EQ(db_->store().definitions().definitionsVersion().value(), registry);
  EXPECT_TRUE(db_->store().getToken({"mcp", "made"}).value().has_value());
  EXPECT_EQ(applied_.load(), applied);
  recorder_->flush();
  EXPECT_EQ(db_->store().recentEvents({"mcp", "made"}, 100).value().size(), events);
  EXPECT_FALSE(db_->store().definitions().getDefinition({"mcp", "other"}).value().has_value());
  // And it works again.
  EXPECT_EQ(call("DELETE", "/connections/mcp/made").status, 204);
}

}  // namespace
}  // namespace tether

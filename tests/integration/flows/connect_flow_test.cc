// The connect flow (issue #6) end to end over real HTTP on loopback: the admin start route,
// the mock IdP's /authorize (auto-approve), Tether's /oauth/callback, discovery documents
// served by a metadata host the test controls, and the store (SQLite, sealed).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/sha.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <set>

#include "admin/admin_api.h"
#include "core/encoding.h"
#include "core/random.h"
#include "flows/flows.h"
#include "http/router.h"
#include "http/server.h"
#include "mockidp/mock_idp.h"
#include "oauth/token_endpoint_client.h"
#include "support/sealed_sqlite.h"

namespace tether {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kAdminKey[] = "admin-key-for-connect-flow-tests";

std::string sha256Raw(std::string_view s);

// A host serving whatever documents a test puts in it (discovery metadata, an MCP 401).
class MetadataHost {
 public:
  struct Doc {
    int status = 200;
    std::string body;
    std::string content_type = "application/json";
    std::string www_authenticate;
  };
  static Doc json(int status, std::string body) {
    Doc d;
    d.status = status;
    d.body = std::move(body);
    return d;
  }

  MetadataHost() {
    for (const char* method : {"GET", "POST"}) {
      routes_.add(method, "/{rest*}", [this](http::Request& req, http::Responder r) {
        Doc doc;
        {
          std::lock_guard lock(mu_);
          hits_.push_back(req.method + " " + req.path);
          auto it = docs_.find(req.path);
          if (it == docs_.end()) {
            r.send(http::Response::json(404, R"({"error":"not_found"})"));
            return;
          }
          doc = it->second;
        }
        http::Response res;
        res.status = doc.status;
        res.headers.push_back({"Content-Type", doc.content_type});
        if (!doc.www_authenticate.empty()) {
          res.headers.push_back({"WWW-Authenticate", doc.www_authenticate});
        }
        res.body = doc.body;
        r.send(std::move(res));
      });
    }
    http::ServerOptions so;
    so.port = 0;
    server_ = std::make_unique<http::Server>(so, routes_, nullptr);
    EXPECT_TRUE(server_->start().ok());
  }
  ~MetadataHost() { server_->stop(); }

  std::string base() const { return "http://127.0.0.1:" + std::to_string(server_->port()); }
  void put(const std::string& path, Doc doc) {
    std::lock_guard lock(mu_);
    docs_[path] = std::move(doc);
  }
  std::vector<std::string> hits() {
    std::lock_guard lock(mu_);
    return hits_;
  }

 private:
  http::Router routes_;
  std::unique_ptr<http::Server> server_;
  std::mutex mu_;
  std::map<std::string, Doc> docs_;
  std::vector<std::string> hits_;
};

class ConnectFlowTest : public ::testing::Test {
 protected:
  void SetUp() override {
    meta_ = std::make_unique<MetadataHost>();
    mockidp::MockIdpOptions o;
    o.clients = {{"tether-client", "tether-secret", {}}};
    // For discovery tests the IdP answers as the issuer the metadata host describes.
    if (idp_issuer_on_meta_) o.issuer = meta_->base() + "/tenant";
    idp_ = std::make_unique<mockidp::MockIdp>(o, &clock_);
    ASSERT_TRUE(idp_->start().ok());
    idp_base_ = "http://127.0.0.1:" + std::to_string(idp_->port());

    db_ = std::make_unique<testing::SealedSqlite>(clock_, "tether-flow-");
    store_ = &db_->store();
    recorder_ = std::make_unique<events::Recorder>(*store_, clock_, nullptr);

    config::AccessKey key;
    key.id = "alice";
    key.key = kAdminKey;
    key.sha256 = sha256Raw(kAdminKey);
    admin::AdminDeps deps;
    deps.keys = {key};
    deps.flows = [this] { return flows_ptr_.load(); };
    deps.pool = &pool_;
    deps.clock = &clock_;
    api_ = std::make_unique<admin::AdminApi>(std::move(deps));
    api_->registerRoutes(routes_);
    http::ServerOptions ho;
    ho.port = 0;
    server_ = std::make_unique<http::Server>(ho, routes_, nullptr);
    ASSERT_TRUE(server_->start().ok());
    public_url_ = "http://127.0.0.1:" + std::to_string(server_->port());
  }

  void TearDown() override {
    server_->stop();
    pool_.shutdown();
    flows_.reset();
    idp_->stop();
    meta_.reset();
    db_.reset();
  }

  // An OAuth connection with the given issuer / endpoints / client.
  flows::FlowConnection connection(std::string name, std::string issuer, bool client) {
    flows::FlowConnection c;
    c.key = {"mcp", std::move(name)};
    c.upstream_url = meta_->base() + "/mcp";
    c.issuer = std::move(issuer);
    c.oauth.resource = c.upstream_url;
    c.oauth.use_proxy = false;
    if (client) {
      c.oauth.client_id = "tether-client";
      c.oauth.client_secret = "tether-secret";
      c.oauth.client_auth = oauth::ClientAuthStyle::kBasic;
      c.client_id_configured = true;
    }
    return c;
  }

  void makeFlows(std::vector<flows::FlowConnection> conns,
                 std::vector<std::string> allowed_hosts = {}) {
    flows::FlowOptions fo;
    fo.public_url = public_url_;
    fo.allowed_hosts = std::move(allowed_hosts);
    flows_ = std::make_unique<flows::Flows>(
        std::move(conns), *store_, *http_, *recorder_, clock_, fo,
        [this](const store::ConnectionKey& k, const flows::ResolvedConnection& r) {
          std::lock_guard lock(mu_);
          connected_[k.str()] = r;
        });
    flows_ptr_.store(flows_.get());
  }

  struct Reply {
    int status = 0;
    std::string body;
    std::string location;
  };

  Reply get(const std::string& url, const http::Headers& headers = {}) {
    http::ClientRequest req;
    req.url = url;
    req.headers = headers;
    auto r = http_->send(req);
    EXPECT_TRUE(r.ok()) << r.error_message;
    Reply out{r.response.status, r.response.body, {}};
    if (auto loc = http::findHeader(r.response.headers, "Location")) out.location = *loc;
    return out;
  }

  Reply post(const std::string& path, const std::string& body, bool with_key = true) {
    http::ClientRequest req;
    req.method = "POST";
    req.url = public_url_ + path;
    req.body = body;
    req.headers = {{"Content-Type", "application/json"}};
    if (with_key) req.headers.push_back({"Authorization", std::string("Bearer ") + kAdminKey});
    auto r = http_->send(req);
    EXPECT_TRUE(r.ok()) << r.error_message;
    return {r.response.status, r.response.body, {}};
  }

  boost::json::object startOverHttp(const std::string& name, const std::string& body = "") {
    auto r = post("/api/v1/admin/connections/mcp/" + name + "/oauth/start", body);
    EXPECT_EQ(r.status, 200) << r.body;
    boost::system::error_code ec;
    auto v = boost::json::parse(r.body, ec);
    return !ec && v.is_object() ? v.as_object() : boost::json::object{};
  }

  // The browser: the authorization URL at the IdP, then wherever it redirects (the callback).
  Reply followAuthorization(const std::string& authorization_url) {
    Reply at_idp = get(authorization_url);
    EXPECT_EQ(at_idp.status, 302) << at_idp.body;
    EXPECT_THAT(at_idp.location, ::testing::StartsWith(public_url_ + "/oauth/callback?"));
    return get(at_idp.location);
  }

  std::vector<store::AuthEvent> history(const std::string& name) {
    auto events = store_->recentEvents({"mcp", name}, 50).value();
    std::reverse(events.begin(), events.end());  // oldest first
    return events;
  }

  std::string rawDatabase() {
    std::string all;
    for (const char* suffix : {"", "-wal"}) {
      std::ifstream in(db_->path() + suffix, std::ios::binary);
      all.append(std::istreambuf_iterator<char>(in), {});
    }
    return all;
  }

  // A token the connection had before a failing attempt: it must survive the attempt.
  void storeExistingToken(const std::string& name) {
    store::TokenRecord r;
    r.key = {"mcp", name};
    r.access_token = "existing-access-token";
    r.refresh_token = "existing-refresh-token";
    r.authenticated_at = clock_.now();
    ASSERT_TRUE(store_->putToken(r, 0).ok());
  }
  void expectExistingTokenUntouched(const std::string& name) {
    auto t = store_->getToken({"mcp", name}).value();
    ASSERT_TRUE(t.has_value());
    EXPECT_EQ(t->access_token, "existing-access-token");
    EXPECT_EQ(t->refresh_token, "existing-refresh-token");
  }

  bool idp_issuer_on_meta_ = false;
  core::ManualClock clock_;
  std::unique_ptr<MetadataHost> meta_;
  std::unique_ptr<mockidp::MockIdp> idp_;
  std::string idp_base_;
  std::unique_ptr<http::HttpClient> http_ = http::makeHttpClient();
  std::unique_ptr<testing::SealedSqlite> db_;
  store::Store* store_ = nullptr;
  std::unique_ptr<events::Recorder> recorder_;
  core::ThreadPool pool_{4, "admin-test"};
  http::Router routes_;
  std::unique_ptr<admin::AdminApi> api_;
  std::unique_ptr<http::Server> server_;
  std::string public_url_;
  std::unique_ptr<flows::Flows> flows_;
  std::atomic<flows::Flows*> flows_ptr_{nullptr};
  std::mutex mu_;
  std::map<std::string, flows::ResolvedConnection> connected_;
};

std::string sha256Raw(std::string_view s) {
  unsigned char d[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(), d);
  return std::string(reinterpret_cast<const char*>(d), sizeof d);
}

// --- the mock IdP end to end -------------------------------------------------------------

TEST_F(ConnectFlowTest, StartFollowCallbackConnectsWithSealedTokensAndHistory) {
  makeFlows({connection("demo", idp_base_, /*client=*/true)});
  auto started = startOverHttp("demo", R"({"return_url":"/portal/connections/mcp/demo"})");
  const std::string auth_url(started["authorization_url"].as_string());
  EXPECT_THAT(auth_url, ::testing::StartsWith(idp_->authorizeUrl() + "?"));
  EXPECT_THAT(auth_url, HasSubstr("code_challenge_method=S256"));
  EXPECT_EQ(started["redirect_uri"].as_string(), public_url_ + "/oauth/callback");
  EXPECT_FALSE(std::string(started["state"].as_string()).empty());
  const std::string correlation(started["correlation_id"].as_string());

  Reply done = followAuthorization(auth_url);
  // Back to the same-origin return URL.
  EXPECT_EQ(done.status, 302) << done.body;
  EXPECT_EQ(done.location, public_url_ + "/portal/connections/mcp/demo");

  auto token = store_->getToken({"mcp", "demo"}).value();
  ASSERT_TRUE(token.has_value());
  EXPECT_EQ(token->authenticated_by, "admin:alice");
  ASSERT_TRUE(token->refresh_token.has_value());
  // Sealed at rest: neither token appears in the database files.
  const std::string raw = rawDatabase();
  EXPECT_EQ(raw.find(token->access_token), std::string::npos);
  EXPECT_EQ(raw.find(*token->refresh_token), std::string::npos);

  auto events = history("demo");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].type, store::EventType::kConnectStarted);
  EXPECT_EQ(events[1].type, store::EventType::kConnectCompleted);
  EXPECT_EQ(events[0].correlation_id, correlation);
  EXPECT_EQ(events[1].correlation_id, correlation);
  EXPECT_EQ(events[1].actor, "admin:alice");
  EXPECT_EQ(flows_->status({"mcp", "demo"}, correlation).value().outcome,
            flows::FlowOutcome::kCompleted);

  // The lifecycle is told, with settings that refresh at the IdP.
  flows::ResolvedConnection resolved;
  {
    std::lock_guard lock(mu_);
    ASSERT_EQ(connected_.count("mcp/demo"), 1u);
    resolved = connected_["mcp/demo"];
  }
  EXPECT_EQ(resolved.oauth.token_url, idp_->tokenUrl());
  oauth::TokenEndpointClient client(*http_, resolved.oauth, clock_);
  EXPECT_TRUE(client.refresh(*token->refresh_token).ok());
}

TEST_F(ConnectFlowTest, AdminStartNeedsAKeyAndAKnownConnection) {
  makeFlows({connection("demo", idp_base_, true)});
  auto no_key = post("/api/v1/admin/connections/mcp/demo/oauth/start", "", false);
  EXPECT_EQ(no_key.status, 401);
  EXPECT_THAT(no_key.body, HasSubstr("\"code\":\"unauthenticated\""));
  auto unknown = post("/api/v1/admin/connections/mcp/nope/oauth/start", "");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_THAT(unknown.body, HasSubstr("mcp/nope"));
  auto bad_body = post("/api/v1/admin/connections/mcp/demo/oauth/start", "[1,2]");
  EXPECT_EQ(bad_body.status, 400);
  EXPECT_TRUE(history("demo").empty());
}

// Issue 20, 13: `tether login` polls the flow by correlation id; an id no flow has must not
// read as "pending" forever, nor a flow nobody finished before it expired.
TEST_F(ConnectFlowTest, FlowStatusIsNotFoundForAnUnknownIdAndFailedOnceExpired) {
  makeFlows({connection("demo", idp_base_, true)});
  auto started = startOverHttp("demo");
  const std::string correlation(started["correlation_id"].as_string());
  const std::string flows_url = public_url_ + "/api/v1/admin/connections/mcp/demo/oauth/flows/";
  const http::Headers auth = {{"Authorization", std::string("Bearer ") + kAdminKey}};

  auto pending = get(flows_url + correlation, auth);
  EXPECT_EQ(pending.status, 200) << pending.body;
  EXPECT_THAT(pending.body, HasSubstr("\"status\":\"pending\""));

  auto unknown = get(flows_url + "no-such-flow-id", auth);
  EXPECT_EQ(unknown.status, 404) << unknown.body;
  EXPECT_THAT(unknown.body, HasSubstr("no-such-flow-id"));
  auto direct = flows_->status({"mcp", "demo"}, "no-such-flow-id");
  ASSERT_FALSE(direct.ok());
  EXPECT_EQ(direct.error().code, core::Errc::kNotFound);

  // Never called back: once the flow's lifetime has passed it failed (it can no longer finish).
  clock_.advance(std::chrono::minutes(12));
  auto expired = get(flows_url + correlation, auth);
  EXPECT_EQ(expired.status, 200) << expired.body;
  EXPECT_THAT(expired.body, HasSubstr("\"status\":\"failed\""));
  EXPECT_THAT(expired.body, HasSubstr("expired"));
}

TEST_F(ConnectFlowTest, ReturnUrlToAnotherOriginFallsBackToThePortal) {
  makeFlows({connection("demo", idp_base_, true)});
  auto started = startOverHttp("demo", R"({"return_url":"https://evil.example/steal"})");
  Reply done = followAuthorization(std::string(started["authorization_url"].as_string()));
  EXPECT_EQ(done.status, 302);
  EXPECT_EQ(done.location, public_url_ + "/portal/");
  // Protocol-relative and backslash tricks too.
  for (const char* trick : {"//evil.example/x", "/\\evil.example", "http://127.0.0.1:1/x"}) {
    auto again = startOverHttp(
        "demo", std::string(R"({"return_url":")") +
                    (std::string(trick) == "/\\evil.example" ? "/\\\\evil.example" : trick) +
                    "\"}");
    Reply d = followAuthorization(std::string(again["authorization_url"].as_string()));
    EXPECT_EQ(d.location, public_url_ + "/portal/") << trick;
  }
}

TEST_F(ConnectFlowTest, WithoutAReturnUrlTheCallbackSaysConnected) {
  makeFlows({connection("demo", idp_base_, true)});
  auto started = startOverHttp("demo");
  Reply done = followAuthorization(std::string(started["authorization_url"].as_string()));
  EXPECT_EQ(done.status, 200);
  EXPECT_THAT(done.body, HasSubstr("Connected"));
  EXPECT_THAT(done.body, HasSubstr("mcp/demo"));
}

// --- one flow per connection --------------------------------------------------------------

TEST_F(ConnectFlowTest, TenConcurrentStartsYieldOnePendingFlow) {
  makeFlows({connection("demo", idp_base_, /*client=*/false)});  // registers dynamically
  std::vector<std::future<core::Result<flows::StartedFlow>>> starts;
  std::promise<void> go;
  auto gate = go.get_future().share();
  for (int i = 0; i < 10; ++i) {
    starts.push_back(std::async(std::launch::async, [&, gate] {
      gate.wait();
      return flows_->start({"mcp", "demo"}, "admin:alice", "");
    }));
  }
  go.set_value();
  std::set<std::string> states, urls;
  int created = 0;
  for (auto& f : starts) {
    auto r = f.get();
    ASSERT_TRUE(r.ok()) << r.error().message;
    states.insert(r->state);
    urls.insert(r->authorization_url);
    created += r->created ? 1 : 0;
  }
  EXPECT_EQ(states.size(), 1u);
  EXPECT_EQ(urls.size(), 1u);
  EXPECT_EQ(created, 1);
  EXPECT_EQ(idp_->counter(mockidp::counters::kClientsRegistered), 1u);
  int started_events = 0;
  for (const auto& e : history("demo")) {
    started_events += e.type == store::EventType::kConnectStarted ? 1 : 0;
  }
  EXPECT_EQ(started_events, 1);
  // A second Tether (another replica on the same store) gets the same pending flow too.
  flows::FlowOptions fo;
  fo.public_url = public_url_;
  flows::Flows replica({connection("demo", idp_base_, false)}, *store_, *http_, *recorder_, clock_,
                       fo);
  auto other = replica.start({"mcp", "demo"}, "admin:bob", "");
  ASSERT_TRUE(other.ok()) << other.error().message;
  EXPECT_FALSE(other->created);
  EXPECT_EQ(other->state, *states.begin());
  EXPECT_EQ(other->authorization_url, *urls.begin());
  // The flow completes once; afterwards a new start makes a new flow.
  Reply done = followAuthorization(*urls.begin());
  EXPECT_EQ(done.status, 200) << done.body;
  auto next = flows_->start({"mcp", "demo"}, "admin:alice", "");
  ASSERT_TRUE(next.ok());
  EXPECT_TRUE(next->created);
  EXPECT_NE(next->state, *states.begin());
  EXPECT_EQ(idp_->counter(mockidp::counters::kClientsRegistered), 1u);  // reused
}

// --- dynamic registration -----------------------------------------------------------------

TEST_F(ConnectFlowTest, RegisteredClientIsStoredSealedAndRenewedOnceAfterInvalidClient) {
  makeFlows({connection("demo", idp_base_, /*client=*/false)});
  auto started = flows_->start({"mcp", "demo"}, "admin:alice", "");
  ASSERT_TRUE(started.ok()) << started.error().message;
  EXPECT_EQ(idp_->counter(mockidp::counters::kClientsRegistered), 1u);
  auto client = store_->getClient(idp_base_).value();
  ASSERT_TRUE(client.has_value());
  EXPECT_THAT(started->authorization_url, HasSubstr("client_id=" + client->client_id));
  ASSERT_TRUE(client->registration_json.has_value());
  EXPECT_EQ(rawDatabase().find(*client->registration_json), std::string::npos);
  Reply done = followAuthorization(started->authorization_url);
  ASSERT_EQ(done.status, 200) << done.body;

  // The IdP forgets the client: the lifecycle sees invalid_client on refresh.
  idp_->revokeClient(client->client_id);
  store::StateRecord st;
  st.key = {"mcp", "demo"};
  st.state = store::ConnectionState::kNeedsReauth;
  st.last_error_code = "invalid_client";
  ASSERT_TRUE(store_->putState(st).ok());
  auto again = flows_->start({"mcp", "demo"}, "admin:alice", "");
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(idp_->counter(mockidp::counters::kClientsRegistered), 2u);
  auto renewed = store_->getClient(idp_base_).value();
  EXPECT_NE(renewed->client_id, client->client_id);
  Reply reconnected = followAuthorization(again->authorization_url);
  EXPECT_EQ(reconnected.status, 200) << reconnected.body;
}

// unauthorized_client rejects the client just as invalid_client does (lifecycle::rejectsClient).
TEST_F(ConnectFlowTest, ARegisteredClientRefusedAsUnauthorizedIsRenewed) {
  makeFlows({connection("demo", idp_base_, /*client=*/false)});
  auto started = flows_->start({"mcp", "demo"}, "admin:alice", "");
  ASSERT_TRUE(started.ok()) << started.error().message;
  auto client = store_->getClient(idp_base_).value();
  ASSERT_TRUE(client.has_value());
  ASSERT_EQ(followAuthorization(started->authorization_url).status, 200);
  store::StateRecord st;
  st.key = {"mcp", "demo"};
  st.state = store::ConnectionState::kNeedsReauth;
  st.last_error_code = "unauthorized_client";
  ASSERT_TRUE(store_->putState(st).ok());
  auto again = flows_->start({"mcp", "demo"}, "admin:alice", "");
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(idp_->counter(mockidp::counters::kClientsRegistered), 2u);
  EXPECT_NE(store_->getClient(idp_base_).value()->client_id, client->client_id);
}

TEST_F(ConnectFlowTest, AConfiguredClientIsNeverReRegistered) {
  makeFlows({connection("demo", idp_base_, /*client=*/true)});
  store::StateRecord st;
  st.key = {"mcp", "demo"};
  st.state = store::ConnectionState::kNeedsReauth;
  st.last_error_code = "invalid_client";
  ASSERT_TRUE(store_->putState(st).ok());
  auto started = flows_->start({"mcp", "demo"}, "admin:alice", "");
  ASSERT_TRUE(started.ok());
  EXPECT_THAT(started->authorization_url, HasSubstr("client_id=tether-client"));
  EXPECT_EQ(idp_->counter(mockidp::counters::kClientsRegistered), 0u);
}

// --- hostile callbacks: each a clear page, existing tokens untouched ----------------------

TEST_F(ConnectFlowTest, UnknownReusedAndExpiredStatesAreRefused) {
  makeFlows({connection("demo", idp_base_, true)});
  storeExistingToken("demo");
  Reply unknown = get(public_url_ + "/oauth/callback?state=never-issued&code=x");
  EXPECT_EQ(unknown.status, 400);
  EXPECT_THAT(unknown.body, HasSubstr("not valid"));
  EXPECT_THAT(unknown.body, HasSubstr("Start again"));
  Reply missing = get(public_url_ + "/oauth/callback?code=x");
  EXPECT_EQ(missing.status, 400);

  // Reused: the first callback consumes the state.
  auto started = flows_->start({"mcp", "demo"}, "admin:alice", "");
  ASSERT_TRUE(started.ok());
  Reply at_idp = get(started->authorization_url);
  ASSERT_EQ(at_idp.status, 302);
  // Tamper nothing; replay the same callback twice.
  Reply first = get(at_idp.location);
  EXPECT_EQ(first.status, 200) << first.body;
  auto after_first = store_->getToken({"mcp", "demo"}).value();
  Reply second = get(at_idp.location);
  EXPECT_EQ(second.status, 400);
  EXPECT_THAT(second.body, HasSubstr("already used"));
  EXPECT_EQ(store_->getToken({"mcp", "demo"}).value()->version, after_first->version);

  // Expired: more than 10 minutes between start and callback.
  auto late = flows_->start({"mcp", "demo"}, "admin:alice", "");
  ASSERT_TRUE(late.ok());
  Reply late_idp = get(late->authorization_url);
  clock_.advance(minutes(11));
  Reply expired = get(late_idp.location);
  EXPECT_EQ(expired.status, 400);
  EXPECT_THAT(expired.body, HasSubstr("expired"));
  EXPECT_EQ(store_->getToken({"mcp", "demo"}).value()->version, after_first->version);
}

TEST_F(ConnectFlowTest, IssMismatchIsRefusedAndLeavesTokensAlone) {
  makeFlows({connection("demo", idp_base_, true)});
  storeExistingToken("demo");
  auto started = flows_->start({"mcp", "demo"}, "admin:alice", "");
  ASSERT_TRUE(started.ok());
  Reply at_idp = get(started->authorization_url);
  std::string forged = at_idp.location;
  const auto pos = forged.find("iss=");
  ASSERT_NE(pos, std::string::npos) << "the mock IdP sends iss (RFC 9207)";
  forged = forged.substr(0, pos) + "iss=" + core::formUrlEncode("https://attacker.example");
  Reply page = get(forged);
  EXPECT_EQ(page.status, 400);
  EXPECT_THAT(page.body, HasSubstr("wrong server"));
  EXPECT_THAT(page.body, HasSubstr("https://attacker.example"));
  expectExistingTokenUntouched("demo");
  auto events = history("demo");
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().type, store::EventType::kConnectFailed);
  EXPECT_THAT(events.back().detail_json, HasSubstr("iss_mismatch"));
  EXPECT_EQ(flows_->status({"mcp", "demo"}, started->correlation_id).value().outcome,
            flows::FlowOutcome::kFailed);
}

TEST_F(ConnectFlowTest, AccessDeniedAtTheIdpIsAClearPage) {
  makeFlows({connection("demo", idp_base_, true)});
  storeExistingToken("demo");
  auto started = flows_->start({"mcp", "demo"}, "admin:alice", "");
  ASSERT_TRUE(started.ok());
  Reply page = get(public_url_ + "/oauth/callback?state=" + core::formUrlEncode(started->state) +
                   "&error=access_denied&error_description=%3Cscript%3Ealert(1)%3C%2Fscript%3E");
  EXPECT_EQ(page.status, 400);
  EXPECT_THAT(page.body, HasSubstr("Access was not granted"));
  EXPECT_THAT(page.body, HasSubstr("access_denied"));
  EXPECT_THAT(page.body, Not(HasSubstr("<script>")));
  expectExistingTokenUntouched("demo");
  auto events = history("demo");
  EXPECT_EQ(events.back().type, store::EventType::kConnectFailed);
  EXPECT_THAT(events.back().detail_json, HasSubstr("access_denied"));
  EXPECT_THAT(events.back().detail_json, Not(HasSubstr("script")));
}

// The list shows a failed connect (one query per page): the flow records it on the
// connection's activity row; a completed connect clears it and names the consenting account
// from the ID token's claims (never the token).
TEST_F(ConnectFlowTest, AFailedConnectIsRecordedAndTheNextOneNamesTheConsentingAccount) {
  auto conn = connection("demo", idp_base_, true);
  conn.oauth.scopes = "openid offline_access";
  makeFlows({conn});
  auto started = flows_->start({"mcp", "demo"}, "admin:alice", "");
  ASSERT_TRUE(started.ok());
  Reply denied = get(public_url_ + "/oauth/callback?state=" +
                     core::formUrlEncode(started->state) + "&error=access_denied");
  EXPECT_EQ(denied.status, 400);
  auto activity = store_->activity({"mcp", "demo"}).value();
  ASSERT_TRUE(activity.connect_failed_at.has_value());
  EXPECT_EQ(activity.connect_failure_reason, "authorization_refused");
  EXPECT_EQ(activity.connect_failure_idp_error, "access_denied");

  auto again = startOverHttp("demo", "{}");
  Reply done = followAuthorization(std::string(again["authorization_url"].as_string()));
  EXPECT_EQ(done.status, 200) << done.body;
  activity = store_->activity({"mcp", "demo"}).value();
  EXPECT_FALSE(activity.connect_failed_at.has_value());
  EXPECT_TRUE(activity.connected_at.has_value());
  EXPECT_EQ(activity.account.subject, "mock-user");
  EXPECT_EQ(activity.account.email, "mock-user@mock-idp.test");
  EXPECT_EQ(activity.account.name, "Mock User mock-user");
}

TEST_F(ConnectFlowTest, AnIdpThatRejectsTheCodeLeavesTokensAlone) {
  makeFlows({connection("demo", idp_base_, true)});
  storeExistingToken("demo");
  auto started = flows_->start({"mcp", "demo"}, "admin:alice", "");
  ASSERT_TRUE(started.ok());
  Reply at_idp = get(started->authorization_url);
  mockidp::FaultRule rule;
  rule.endpoint = "token";
  rule.grant = "authorization_code";
  rule.fault.kind = mockidp::FaultKind::kOAuthError;
  rule.fault.error = "invalid_grant";
  idp_->addFault(rule);
  Reply page = get(at_idp.location);
  EXPECT_EQ(page.status, 502);
  EXPECT_THAT(page.body, HasSubstr("invalid_grant"));
  expectExistingTokenUntouched("demo");
}

// --- discovery for an MCP upstream known only by URL --------------------------------------

class DiscoveryFlowTest : public ConnectFlowTest {
 protected:
  void SetUp() override {
    idp_issuer_on_meta_ = true;
    ConnectFlowTest::SetUp();
  }
  std::string issuer() const { return meta_->base() + "/tenant"; }

  std::string asMetadata(const std::string& claimed_issuer, bool s256 = true) const {
    boost::json::object o;
    o["issuer"] = claimed_issuer;
    o["authorization_endpoint"] = idp_base_ + "/authorize";
    o["token_endpoint"] = idp_base_ + "/token";
    o["registration_endpoint"] = idp_base_ + "/register";
    o["code_challenge_methods_supported"] =
        s256 ? boost::json::array{"S256"} : boost::json::array{"plain"};
    o["authorization_response_iss_parameter_supported"] = true;
    return boost::json::serialize(o);
  }
  void serveChallenge(bool with_resource_metadata) {
    MetadataHost::Doc challenge;
    challenge.status = 401;
    challenge.body = R"({"error":"invalid_token"})";
    challenge.www_authenticate =
        with_resource_metadata
            ? "Bearer resource_metadata=\"" + meta_->base() +
                  "/.well-known/oauth-protected-resource/mcp\", scope=\"mcp:tools offline_access\""
            : "Bearer realm=\"mcp\"";
    meta_->put("/mcp", challenge);
  }
  void serveResource(const std::string& path, const std::string& as) {
    boost::json::object o;
    o["resource"] = meta_->base() + "/mcp";
    o["authorization_servers"] = boost::json::array{boost::json::string(as)};
    o["scopes_supported"] = boost::json::array{"mcp:read"};
    meta_->put(path, MetadataHost::json(200, boost::json::serialize(o)));
  }
};

TEST_F(DiscoveryFlowTest, EachWellKnownFormOfAuthorizationServerMetadataIsFound) {
  const std::vector<std::string> forms = {
      "/.well-known/oauth-authorization-server/tenant",  // RFC 8414 path-insert
      "/.well-known/openid-configuration/tenant",        // OIDC path-insert
      "/tenant/.well-known/openid-configuration",        // OIDC path-append
  };
  for (size_t i = 0; i < forms.size(); ++i) {
    SCOPED_TRACE(forms[i]);
    auto conn = connection("found" + std::to_string(i), "", /*client=*/false);
    makeFlows({conn});
    serveChallenge(true);
    serveResource("/.well-known/oauth-protected-resource/mcp", issuer());
    for (const auto& f : forms) meta_->put(f, MetadataHost::json(404, "{}"));
    meta_->put(forms[i], MetadataHost::json(200, asMetadata(issuer())));
    auto started = flows_->start(conn.key, "admin:alice", "");
    ASSERT_TRUE(started.ok()) << started.error().message;
    EXPECT_THAT(started->authorization_url, ::testing::StartsWith(idp_base_ + "/authorize?"));
    // Scopes from the 401 challenge win over scopes_supported.
    EXPECT_THAT(started->authorization_url, HasSubstr("scope=mcp%3Atools%20offline_access"));
    EXPECT_THAT(started->authorization_url,
                HasSubstr("resource=" + core::formUrlEncode(meta_->base() + "/mcp")));
    Reply at_idp = get(started->authorization_url);
    Reply done = get(at_idp.location);
    EXPECT_EQ(done.status, 200) << done.body;
    EXPECT_TRUE(store_->getToken(conn.key).value().has_value());
    auto ep = store_->getEndpoints(conn.key).value();
    ASSERT_TRUE(ep.has_value());
    EXPECT_EQ(ep->issuer, issuer());
    EXPECT_EQ(ep->token_endpoint, idp_base_ + "/token");
    // Restart: the lifecycle gets the stored endpoints and registered client back.
    auto resolved = flows_->resolved(conn.key).value();
    ASSERT_TRUE(resolved.has_value());
    EXPECT_EQ(resolved->oauth.token_url, idp_base_ + "/token");
    EXPECT_FALSE(resolved->oauth.client_id.empty());
  }
}

TEST_F(DiscoveryFlowTest, ProtectedResourceMetadataAtThePathFormThenTheRoot) {
  auto conn = connection("found", "", false);
  makeFlows({conn});
  serveChallenge(/*with_resource_metadata=*/false);                  // no pointer: well-known URLs
  serveResource("/.well-known/oauth-protected-resource", issuer());  // root only
  meta_->put("/.well-known/oauth-authorization-server/tenant",
             MetadataHost::json(200, asMetadata(issuer())));
  auto started = flows_->start(conn.key, "admin:alice", "");
  ASSERT_TRUE(started.ok()) << started.error().message;
  // scopes_supported is used when the challenge names none.
  EXPECT_THAT(started->authorization_url, HasSubstr("scope=mcp%3Aread"));
  auto hits = meta_->hits();
  const auto path_form =
      std::find(hits.begin(), hits.end(), "GET /.well-known/oauth-protected-resource/mcp");
  const auto root =
      std::find(hits.begin(), hits.end(), "GET /.well-known/oauth-protected-resource");
  ASSERT_NE(path_form, hits.end());
  ASSERT_NE(root, hits.end());
  EXPECT_LT(path_form - hits.begin(), root - hits.begin());
}

TEST_F(DiscoveryFlowTest, HostileMetadataIsRefusedWithAClearErrorAndTokensUntouched) {
  auto conn = connection("found", "", false);
  makeFlows({conn});
  storeExistingToken("found");
  serveChallenge(true);
  serveResource("/.well-known/oauth-protected-resource/mcp", issuer());
  const std::string as_path = "/.well-known/oauth-authorization-server/tenant";

  // An issuer that differs from the one it was fetched for.
  meta_->put(as_path, MetadataHost::json(200, asMetadata("https://evil.example/tenant")));
  auto forged = flows_->start(conn.key, "admin:alice", "");
  ASSERT_FALSE(forged.ok());
  EXPECT_THAT(forged.error().message, HasSubstr("differs"));
  EXPECT_THAT(forged.error().message, HasSubstr("https://evil.example/tenant"));

  // No S256.
  meta_->put(as_path, MetadataHost::json(200, asMetadata(issuer(), /*s256=*/false)));
  auto plain = flows_->start(conn.key, "admin:alice", "");
  ASSERT_FALSE(plain.ok());
  EXPECT_THAT(plain.error().message, HasSubstr("S256"));

  // A 5 MB document.
  meta_->put(as_path,
             MetadataHost::json(200, std::string(5 * 1024 * 1024, ' ') + asMetadata(issuer())));
  auto huge = flows_->start(conn.key, "admin:alice", "");
  ASSERT_FALSE(huge.ok());
  EXPECT_THAT(huge.error().message, HasSubstr("larger than"));

  // An authorization server on a host the connection was not configured with.
  serveResource("/.well-known/oauth-protected-resource/mcp", "http://127.0.0.2:9/tenant");
  auto internal = flows_->start(conn.key, "admin:alice", "");
  ASSERT_FALSE(internal.ok());
  EXPECT_THAT(internal.error().message, HasSubstr("127.0.0.2"));
  EXPECT_THAT(internal.error().message, HasSubstr("discovery.allowed_hosts"));
  // ... also when an allow-list is set and does not name it.
  makeFlows({conn}, {"idp.example.com"});
  auto listed = flows_->start(conn.key, "admin:alice", "");
  ASSERT_FALSE(listed.ok());
  EXPECT_THAT(listed.error().message, HasSubstr("not in discovery.allowed_hosts"));

  expectExistingTokenUntouched("found");
  EXPECT_EQ(idp_->counter(mockidp::counters::kClientsRegistered), 0u);
  for (const auto& e : history("found")) {
    EXPECT_NE(e.type, store::EventType::kConnectStarted);
  }
}

}  // namespace
}  // namespace tether

// Which client a connect flow uses (issue 21 points 1-3), against a loopback authorization
// server double: strict registration (only supported scopes, the retry without optional
// members), hostile registration answers, Client ID Metadata Documents, offline_access, and
// a new registration when the issuer changes. Flows::start over real HTTP, a sealed SQLite.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <boost/url/parse.hpp>
#include <mutex>

#include "admin/client_metadata_route.h"
#include "flows/flows.h"
#include "http/router.h"
#include "http/server.h"
#include "mockidp/mock_idp.h"
#include "support/sealed_sqlite.h"

namespace tether {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// An authorization server: metadata at /<tenant>/.well-known..., registration at
// /<tenant>/reg answered by `registrar` (which sees each request body).
class AuthorizationServer {
 public:
  struct Answer {
    int status = 201;
    std::string body;
    std::string content_type = "application/json";
    std::string location;
  };
  static Answer answer(int status, std::string body, std::string type = "application/json",
                       std::string location = "") {
    return Answer{status, std::move(body), std::move(type), std::move(location)};
  }
  std::function<Answer(const boost::json::object&)> registrar = [](const boost::json::object&) {
    return answer(201, R"({"client_id":"registered-1"})");
  };
  boost::json::object metadata_extra;
  std::vector<std::string> scopes_supported = {"openid", "offline_access"};

  AuthorizationServer() {
    routes_.add("GET", "/.well-known/oauth-authorization-server/{tenant}",
                [this](http::Request& req, http::Responder r) {
                  const std::string issuer = base() + req.path.substr(req.path.rfind('/'));
                  boost::json::object md{
                      {"issuer", issuer},
                      {"authorization_endpoint", issuer + "/authorize"},
                      {"token_endpoint", issuer + "/token"},
                      {"registration_endpoint", issuer + "/reg"},
                      {"code_challenge_methods_supported", boost::json::array{"S256"}},
                  };
                  boost::json::array scopes;
                  for (const auto& s : scopes_supported) scopes.emplace_back(s);
                  md["scopes_supported"] = std::move(scopes);
                  for (const auto& [k, v] : metadata_extra) md[k] = v;
                  r.send(http::Response::json(200, boost::json::serialize(md)));
                });
    routes_.add("POST", "/{tenant}/reg", [this](http::Request& req, http::Responder r) {
      boost::json::object body;
      boost::system::error_code ec;
      auto v = boost::json::parse(req.body, ec);
      if (!ec && v.is_object()) body = v.as_object();
      Answer a;
      {
        std::lock_guard lock(mu_);
        registrations_.push_back(body);
        a = registrar(body);
      }
      http::Response res;
      res.status = a.status;
      res.headers.push_back({"Content-Type", a.content_type});
      if (!a.location.empty()) res.headers.push_back({"Location", a.location});
      res.body = std::move(a.body);
      r.send(std::move(res));
    });
    http::ServerOptions so;
    so.port = 0;
    server_ = std::make_unique<http::Server>(so, routes_, nullptr);
    EXPECT_TRUE(server_->start().ok());
  }
  ~AuthorizationServer() { server_->stop(); }

  std::string base() const { return "http://127.0.0.1:" + std::to_string(server_->port()); }
  std::vector<boost::json::object> registrations() {
    std::lock_guard lock(mu_);
    return registrations_;
  }

 private:
  http::Router routes_;
  std::unique_ptr<http::Server> server_;
  std::mutex mu_;
  std::vector<boost::json::object> registrations_;
};

std::map<std::string, std::string> queryOf(const std::string& url) {
  std::map<std::string, std::string> out;
  auto u = boost::urls::parse_uri(url);
  if (!u) return out;
  for (auto p : u->params()) out[std::string(p.key)] = std::string(p.value);
  return out;
}

class ClientSelectionTest : public ::testing::Test {
 protected:
  void TearDown() override {
    flows_.reset();
    as_.reset();
  }

  flows::FlowConnection connection(const std::string& tenant, std::string scopes = "") {
    flows::FlowConnection c;
    c.key = {"mcp", "strict"};
    c.upstream_url = "http://127.0.0.1:1/mcp";
    c.issuer = as_->base() + "/" + tenant;
    c.oauth.scopes = std::move(scopes);
    c.oauth.use_proxy = false;
    return c;
  }

  void makeFlows(flows::FlowConnection conn, std::string public_url = "http://127.0.0.1:8080",
                 std::string client_metadata_url = "") {
    flows::FlowOptions fo;
    fo.public_url = std::move(public_url);
    fo.client_metadata_url = std::move(client_metadata_url);
    flows_ = std::make_unique<flows::Flows>(std::vector<flows::FlowConnection>{std::move(conn)},
                                            db_.store(), *http_, recorder_, clock_, fo);
  }

  core::Result<flows::StartedFlow> start() {
    return flows_->start({"mcp", "strict"}, "admin:test", "");
  }

  int registeredEvents() {
    int n = 0;
    auto events = db_.store().recentEvents({"mcp", "strict"}, 50);
    EXPECT_TRUE(events.ok());
    if (!events.ok()) return -1;
    for (const auto& e : *events) {
      n += e.type == store::EventType::kClientRegistered;
    }
    return n;
  }

  core::ManualClock clock_{core::TimePoint(std::chrono::seconds(1'900'000'000))};
  testing::SealedSqlite db_{clock_, "tether-clientsel-"};
  events::Recorder recorder_{db_.store(), clock_, nullptr};
  std::unique_ptr<http::HttpClient> http_ = http::makeHttpClient();
  std::unique_ptr<AuthorizationServer> as_ = std::make_unique<AuthorizationServer>();
  std::unique_ptr<flows::Flows> flows_;
};

// The reported failure: oidc-provider refused `scope: mcp:tools` with
// invalid_client_metadata. Only scopes the server lists are registered.
TEST_F(ClientSelectionTest, AStrictServerIsAskedOnlyForWhatItSupports) {
  as_->registrar = [](const boost::json::object& body) {
    if (body.contains("scope")) {
      return AuthorizationServer::answer(400, R"({"error":"invalid_client_metadata"})");
    }
    return AuthorizationServer::answer(201, R"({"client_id":"strict-1"})");
  };
  makeFlows(connection("t1", "mcp:tools"));
  auto started = start();
  ASSERT_TRUE(started.ok()) << started.error().message;
  const auto regs = as_->registrations();
  ASSERT_EQ(regs.size(), 1u);  // no retry needed
  const auto& body = regs[0];
  EXPECT_FALSE(body.contains("scope"));
  EXPECT_EQ(body.at("application_type").as_string(), "native");  // loopback public_url
  EXPECT_EQ(body.at("client_name").as_string(), "Tether");
  EXPECT_EQ(body.at("token_endpoint_auth_method").as_string(), "none");
  EXPECT_EQ(body.at("redirect_uris").as_array().at(0).as_string(),
            "http://127.0.0.1:8080/oauth/callback");
  EXPECT_EQ(boost::json::serialize(body.at("grant_types")),
            R"(["authorization_code","refresh_token"])");
  const auto q = queryOf(started->authorization_url);
  EXPECT_EQ(q.at("client_id"), "strict-1");
  EXPECT_EQ(q.at("scope"), "mcp:tools");  // the operator's scopes: no offline_access added
  EXPECT_EQ(q.count("prompt"), 0u);
  auto stored = db_.store().getClient(as_->base() + "/t1");
  ASSERT_TRUE(stored.ok() && *stored);
  EXPECT_EQ((*stored)->client_id, "strict-1");
  EXPECT_EQ(registeredEvents(), 1);
}

TEST_F(ClientSelectionTest, RefusedMetadataIsRetriedOnceWithoutTheOptionalMembers) {
  as_->registrar = [](const boost::json::object& body) {
    if (body.contains("application_type")) {
      return AuthorizationServer::answer(400, R"({"error":"invalid_client_metadata"})");
    }
    return AuthorizationServer::answer(201, R"({"client_id":"plain-1"})");
  };
  makeFlows(connection("t2"));
  auto started = start();
  ASSERT_TRUE(started.ok()) << started.error().message;
  const auto regs = as_->registrations();
  ASSERT_EQ(regs.size(), 2u);
  EXPECT_TRUE(regs[0].contains("application_type"));
  EXPECT_EQ(regs[0].at("scope").as_string(), "offline_access");
  for (const char* dropped : {"application_type", "client_name", "scope"}) {
    EXPECT_FALSE(regs[1].contains(dropped)) << dropped;
  }
  EXPECT_TRUE(regs[1].contains("redirect_uris"));
  EXPECT_EQ(queryOf(started->authorization_url).at("client_id"), "plain-1");

  // A server that refuses both: the second refusal is the error, nothing stored.
  as_->registrar = [](const boost::json::object&) {
    return AuthorizationServer::answer(400, R"({"error":"invalid_client_metadata"})");
  };
  makeFlows(connection("t2b"));
  auto refused = start();
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.error().message, HasSubstr("HTTP 400 invalid_client_metadata"));
  EXPECT_EQ(as_->registrations().size(), 4u);
  EXPECT_FALSE(db_.store().getClient(as_->base() + "/t2b").value().has_value());
}

// offline_access: asked for (with prompt=consent at an OpenID provider) when the server
// lists it and the operator set no scopes.
TEST_F(ClientSelectionTest, OfflineAccessIsAskedForWithConsent) {
  makeFlows(connection("t3"));
  auto started = start();
  ASSERT_TRUE(started.ok()) << started.error().message;
  const auto q = queryOf(started->authorization_url);
  EXPECT_EQ(q.at("scope"), "offline_access");
  EXPECT_EQ(q.at("prompt"), "consent");

  // Not an OpenID provider: offline_access without prompt.
  as_->scopes_supported = {"offline_access", "mcp:tools"};
  auto conn = connection("t3b");
  conn.key = {"mcp", "strict"};
  makeFlows(conn);
  clock_.advance(std::chrono::minutes(11));  // the first flow expired
  auto again = start();
  ASSERT_TRUE(again.ok()) << again.error().message;
  const auto q2 = queryOf(again->authorization_url);
  EXPECT_EQ(q2.at("scope"), "offline_access");
  EXPECT_EQ(q2.count("prompt"), 0u);
}

// Bad input: each a clear error naming the server, nothing stored, no event.
TEST_F(ClientSelectionTest, HostileRegistrationAnswersStoreNothing) {
  struct Case {
    std::string name;
    AuthorizationServer::Answer answer;
    std::string says;
  };
  const std::vector<Case> cases = {
      {"html", AuthorizationServer::answer(200, "<html><body>Sign in</body></html>", "text/html"),
       "HTML page"},
      {"huge",
       AuthorizationServer::answer(
           201, "{\"client_id\":\"" + std::string(10 * 1024 * 1024, 'a') + "\"}"),
       "KiB"},
      {"redirect",
       AuthorizationServer::answer(302, "", "text/plain", "https://elsewhere.example/reg"),
       "redirect"},
      {"no-id", AuthorizationServer::answer(201, R"({"client_secret":"s3cr3t-no-id"})"),
       "no client_id"},
  };
  for (const auto& c : cases) {
    as_->registrar = [&](const boost::json::object&) { return c.answer; };
    makeFlows(connection(c.name));
    auto r = start();
    ASSERT_FALSE(r.ok()) << c.name;
    EXPECT_THAT(r.error().message, HasSubstr(as_->base() + "/" + c.name + "/reg")) << c.name;
    EXPECT_THAT(r.error().message, HasSubstr("mcp/strict")) << c.name;
    EXPECT_THAT(r.error().message, HasSubstr(c.says)) << c.name;
    EXPECT_THAT(r.error().message, Not(HasSubstr("s3cr3t"))) << c.name;
    EXPECT_FALSE(db_.store().getClient(as_->base() + "/" + c.name).value().has_value()) << c.name;
  }
  EXPECT_EQ(registeredEvents(), 0);
}

// CIMD: with an https public_url and a server that takes metadata documents, the
// document's URL is the client_id and nothing is registered.
TEST_F(ClientSelectionTest, AServerTakingMetadataDocumentsGetsTheDocumentUrl) {
  as_->metadata_extra["client_id_metadata_document_supported"] = true;
  makeFlows(connection("t5"), "https://tether.example");
  auto started = start();
  ASSERT_TRUE(started.ok()) << started.error().message;
  const auto q = queryOf(started->authorization_url);
  EXPECT_EQ(q.at("client_id"), "https://tether.example/oauth/client-metadata.json");
  EXPECT_EQ(q.at("redirect_uri"), "https://tether.example/oauth/callback");
  EXPECT_TRUE(as_->registrations().empty());
  EXPECT_EQ(registeredEvents(), 1);
  // The restart path (Flows::resolved) finds it like a registered client.
  auto stored = db_.store().getClient(as_->base() + "/t5");
  ASSERT_TRUE(stored.ok() && *stored);
  EXPECT_EQ((*stored)->client_id, "https://tether.example/oauth/client-metadata.json");
}

// client_metadata_url: the operator publishes the document elsewhere; that URL is the
// client_id, even with a loopback http public_url (the server fetches the published copy).
TEST_F(ClientSelectionTest, AConfiguredMetadataUrlIsTheClientId) {
  as_->metadata_extra["client_id_metadata_document_supported"] = true;
  makeFlows(connection("t8"), "http://127.0.0.1:8080", "https://docs.example/tether/client.json");
  auto started = start();
  ASSERT_TRUE(started.ok()) << started.error().message;
  const auto q = queryOf(started->authorization_url);
  EXPECT_EQ(q.at("client_id"), "https://docs.example/tether/client.json");
  EXPECT_EQ(q.at("redirect_uri"), "http://127.0.0.1:8080/oauth/callback");
  EXPECT_TRUE(as_->registrations().empty());
}

TEST_F(ClientSelectionTest, AnHttpPublicUrlFallsBackToRegistration) {
  as_->metadata_extra["client_id_metadata_document_supported"] = true;
  makeFlows(connection("t6"), "http://127.0.0.1:8080");
  auto started = start();
  ASSERT_TRUE(started.ok()) << started.error().message;
  EXPECT_EQ(queryOf(started->authorization_url).at("client_id"), "registered-1");
  EXPECT_EQ(as_->registrations().size(), 1u);
}

TEST_F(ClientSelectionTest, NoWayToGetAClientSaysWhatToConfigure) {
  as_->metadata_extra["registration_endpoint"] = nullptr;
  as_->metadata_extra["client_id_metadata_document_supported"] = true;
  makeFlows(connection("t7"), "http://127.0.0.1:8080");
  auto r = start();
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().message, HasSubstr("https public_url"));
  EXPECT_THAT(r.error().message, HasSubstr("auth.client_id"));
  EXPECT_THAT(r.error().message, HasSubstr("http://127.0.0.1:8080/oauth/callback"));
}

// 2026-07-28 "authorization server binding": a client belongs to one issuer; a connection
// whose issuer changed registers again there.
TEST_F(ClientSelectionTest, ANewIssuerGetsANewRegistration) {
  int n = 0;
  as_->registrar = [&](const boost::json::object&) {
    return AuthorizationServer::answer(201, "{\"client_id\":\"c-" + std::to_string(++n) + "\"}");
  };
  makeFlows(connection("old"));
  auto first = start();
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(queryOf(first->authorization_url).at("client_id"), "c-1");
  clock_.advance(std::chrono::minutes(11));
  makeFlows(connection("new"));
  auto second = start();
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ(queryOf(second->authorization_url).at("client_id"), "c-2");
  auto events = db_.store().recentEvents({"mcp", "strict"}, 50);
  ASSERT_TRUE(events.ok());
  bool issuer_changed = false;
  for (const auto& e : *events) {
    issuer_changed |= e.type == store::EventType::kClientRegistered &&
                      e.detail_json.find("issuer_changed") != std::string::npos;
  }
  EXPECT_TRUE(issuer_changed);
}

// offline_access is asked for, but a refresh token is never assumed: a connection that got
// none says so in its connect_completed event (and the lifecycle makes it needs_reauth with
// no_refresh_token at expiry: lifecycle_test NoRefreshTokenAfterExpiryNeedsReauth).
TEST_F(ClientSelectionTest, AConnectionWithoutARefreshTokenSaysSo) {
  mockidp::MockIdpOptions o;
  o.settings.issue_refresh_tokens = false;
  o.clients = {{"tether-client", "tether-secret", {}}};
  mockidp::MockIdp idp(o, &clock_);
  ASSERT_TRUE(idp.start().ok());
  flows::FlowConnection c;
  c.key = {"mcp", "strict"};
  c.upstream_url = "http://127.0.0.1:1/mcp";
  c.issuer = idp.issuer();
  c.oauth.client_id = "tether-client";
  c.oauth.client_secret = "tether-secret";
  c.oauth.client_auth = oauth::ClientAuthStyle::kBasic;
  c.oauth.use_proxy = false;
  c.client_id_configured = true;
  makeFlows(c);
  auto started = start();
  ASSERT_TRUE(started.ok()) << started.error().message;
  http::ClientRequest req;
  req.url = started->authorization_url;
  auto at_idp = http_->send(req);
  ASSERT_TRUE(at_idp.ok());
  ASSERT_EQ(at_idp.response.status, 302) << at_idp.response.body;
  auto page = flows_->callback(
      queryOf(std::string(*http::findHeader(at_idp.response.headers, "Location"))));
  EXPECT_EQ(page.status, 200) << page.html;
  idp.stop();
  auto token = db_.store().getToken({"mcp", "strict"});
  ASSERT_TRUE(token.ok() && *token);
  EXPECT_FALSE((*token)->refresh_token.has_value());
  auto events = db_.store().recentEvents({"mcp", "strict"}, 10);
  ASSERT_TRUE(events.ok());
  ASSERT_FALSE(events->empty());
  EXPECT_EQ(events->front().type, store::EventType::kConnectCompleted);
  EXPECT_THAT(events->front().detail_json, HasSubstr("\"reason\":\"no_refresh_token\""));
}

// The document itself, as Tether serves it.
TEST(ClientMetadataRouteTest, ServesTheDocumentForThePublicUrl) {
  http::Router routes;
  const std::string public_url = "https://tether.example";
  const std::string no_published_url;
  admin::registerClientMetadataRoute(routes, public_url, no_published_url);
  http::ServerOptions so;
  so.port = 0;
  http::Server server(so, routes, nullptr);
  ASSERT_TRUE(server.start().ok());
  auto client = http::makeHttpClient();
  http::ClientRequest req;
  req.url = "http://127.0.0.1:" + std::to_string(server.port()) + "/oauth/client-metadata.json";
  auto got = client->send(req);
  server.stop();
  ASSERT_TRUE(got.ok()) << got.error_message;
  EXPECT_EQ(got.response.status, 200);
  auto doc = boost::json::parse(got.response.body).as_object();
  EXPECT_EQ(doc.at("client_id").as_string(), "https://tether.example/oauth/client-metadata.json");
  EXPECT_EQ(doc.at("token_endpoint_auth_method").as_string(), "none");
}

TEST(ClientMetadataRouteTest, APublishedUrlIsTheDocumentsClientId) {
  http::Router routes;
  const std::string public_url = "https://tether.example";
  const std::string published = "https://docs.example/tether/client.json";
  admin::registerClientMetadataRoute(routes, public_url, published);
  http::ServerOptions so;
  so.port = 0;
  http::Server server(so, routes, nullptr);
  ASSERT_TRUE(server.start().ok());
  auto client = http::makeHttpClient();
  http::ClientRequest req;
  req.url = "http://127.0.0.1:" + std::to_string(server.port()) + "/oauth/client-metadata.json";
  auto got = client->send(req);
  server.stop();
  ASSERT_TRUE(got.ok()) << got.error_message;
  auto doc = boost::json::parse(got.response.body).as_object();
  EXPECT_EQ(doc.at("client_id").as_string(), published);
  EXPECT_EQ(doc.at("redirect_uris").as_array().at(0).as_string(),
            "https://tether.example/oauth/callback");
}

}  // namespace
}  // namespace tether

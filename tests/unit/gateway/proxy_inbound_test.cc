// Tether as an OAuth resource server, through the real proxy on loopback: callers present
// bearer tokens of the organisation's IdP, whose JWK Set a counting loopback server serves.
// The bad-input table: each case is a 401 invalid_token whose log line names the failed
// check and never holds the token.
#include <gtest/gtest.h>

#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#include <atomic>
#include <boost/json.hpp>
#include <mutex>

#include "core/digest.h"
#include "core/thread_pool.h"
#include "http/http_client.h"
#include "identity/issuer_client.h"
#include "identity/validator.h"
#include "support/counting_listener.h"
#include "support/jwt_signer.h"
#include "unit/gateway/fake_token_provider.h"
#include "unit/gateway/proxy_fixture.h"

namespace tether::gateway {
namespace {

using namespace std::chrono_literals;
using namespace testing::proxy;
using testing::TestKey;
namespace json = boost::json;

constexpr std::string_view kPublicUrl = "https://tether.example";
constexpr std::string_view kIssuer = "https://idp.example";
constexpr std::string_view kAudience = "https://tether.example/mcp/docs";

class LogCapture {
 public:
  LogCapture() {
    core::log::init(core::log::Format::kJson, core::LogLevel::kInfo);
    core::log::setSinkForTesting([this](std::string_view line) {
      std::lock_guard lock(mu_);
      lines_.append(line).push_back('\n');
    });
  }
  ~LogCapture() {
    core::log::setSinkForTesting(nullptr);
    core::log::init(core::log::Format::kText, core::LogLevel::kWarn);
  }
  std::string text() {
    std::lock_guard lock(mu_);
    return lines_;
  }
  void clear() {
    std::lock_guard lock(mu_);
    lines_.clear();
  }

 private:
  std::mutex mu_;
  std::string lines_;
};

// The issuer's JWK Set endpoint: counts fetches; its answer can be swapped.
class JwksServer {
 public:
  explicit JwksServer(std::string doc)
      : doc_(std::move(doc)), server_(serveHttp([this](const ReceivedRequest&) {
          fetches_.fetch_add(1);
          std::lock_guard lock(mu_);
          return httpResponse(200, doc_, {{"Content-Type", "application/json"}});
        })) {}
  void set(std::string doc) {
    std::lock_guard lock(mu_);
    doc_ = std::move(doc);
  }
  std::string url() const { return server_.url("/jwks"); }
  int fetches() const { return fetches_.load(); }

 private:
  std::mutex mu_;
  std::string doc_;
  std::atomic<int> fetches_{0};
  TestServer server_;
};

struct Inbound {
  Inbound(std::string jwks_uri, const core::Clock& clock, identity::ValidatorOptions o = {},
          std::chrono::milliseconds timeout = 5s) {
    identity::IssuerClientOptions io;
    io.issuer = std::string(kIssuer);
    io.jwks_uri = std::move(jwks_uri);
    io.total_timeout = timeout;
    io.use_proxy = false;
    issuer = std::make_unique<identity::IssuerClient>(*http, io);
    o.issuer = std::string(kIssuer);
    identity::ValidatorDeps deps;
    deps.clock = &clock;
    deps.fetch_jwks = [c = issuer.get()] { return c->fetchJwks(); };
    deps.run_blocking = [this](std::function<void()> f) { pool.post(std::move(f)); };
    validator = identity::Validator::create(std::move(o), std::move(deps));
  }
  ~Inbound() { pool.shutdown(); }
  std::unique_ptr<http::HttpClient> http = http::makeHttpClient({});
  std::unique_ptr<identity::IssuerClient> issuer;
  core::ThreadPool pool{2, "inbound-test"};
  std::shared_ptr<identity::Validator> validator;
};

ProxyOptions inboundOptions(std::vector<std::string> scopes = {"mcp:tools"}) {
  ProxyOptions o;
  o.public_url = std::string(kPublicUrl);
  o.inbound.public_url = std::string(kPublicUrl);
  o.inbound.issuer = std::string(kIssuer);
  o.inbound.scopes_supported = std::move(scopes);
  return o;
}

class ProxyInboundTest : public ::testing::Test {
 protected:
  ProxyInboundTest()
      : key_(TestKey::Type::kRsa, "k1"),
        jwks_(testing::jwksJson({&key_})),
        upstream_(serveHttp([](const ReceivedRequest& r) {
          return httpResponse(200, R"({"jsonrpc":"2.0","id":1,"result":{"ok":true}})",
                              {{"Content-Type", "application/json"},
                               {"X-Seen-Authorization", r.header("Authorization").value_or("")}});
        })) {}

  json::object claims(int64_t exp_in = 300) const {
    const int64_t now =
        std::chrono::duration_cast<std::chrono::seconds>(clock_.now().time_since_epoch()).count();
    return {{"iss", kIssuer},      {"aud", kAudience}, {"sub", "alice@example"},
            {"exp", now + exp_in}, {"iat", now},       {"scope", "mcp:tools"}};
  }

  Reply call(uint16_t port, const std::string& token, std::string_view path = "/mcp/docs") {
    http::Headers h = kMcpPostHeaders;
    if (!token.empty()) h.push_back({"Authorization", "Bearer " + token});
    return fetch(port, "POST", path, h, jsonrpc(1, "tools/list"), 10s);
  }

  core::ManualClock clock_;
  TestKey key_;
  JwksServer jwks_;
  TestServer upstream_;
};

TEST_F(ProxyInboundTest, NoTokenGets401PointingAtTheProtectedResourceMetadata) {
  Inbound in(jwks_.url(), clock_);
  Gateway gw({.connections = {bearerMcp("docs", upstream_.url("/mcp"))},
              .options = inboundOptions(),
              .clock = &clock_,
              .validator = in.validator});
  const Reply r = call(gw.port(), "");
  EXPECT_EQ(r.status, 401) << r.raw;
  EXPECT_EQ(r.header("WWW-Authenticate"),
            "Bearer resource_metadata=\"https://tether.example/.well-known/"
            "oauth-protected-resource/mcp/docs\"");
  EXPECT_EQ(json::parse(r.body).at("id").as_int64(), 1);  // a JSON-RPC error for MCP POSTs
  EXPECT_TRUE(upstream_.requests().empty());

  const Reply prm =
      fetch(gw.port(), "GET", "/.well-known/oauth-protected-resource/mcp/docs", {}, {}, 10s);
  ASSERT_EQ(prm.status, 200) << prm.raw;
  const auto doc = json::parse(prm.body).as_object();
  EXPECT_EQ(doc.at("resource").as_string(), kAudience);
  EXPECT_EQ(doc.at("authorization_servers").as_array().at(0).as_string(), kIssuer);
  EXPECT_EQ(doc.at("scopes_supported").as_array().at(0).as_string(), "mcp:tools");
  const Reply api_prm =
      fetch(gw.port(), "GET", "/.well-known/oauth-protected-resource/api/docs", {}, {}, 10s);
  EXPECT_EQ(json::parse(api_prm.body).at("resource").as_string(),
            "https://tether.example/api/docs");
}

TEST_F(ProxyInboundTest, AValidTokenIsServedAndNeverForwardedUpstream) {
  LogCapture logs;
  Inbound in(jwks_.url(), clock_);
  Gateway gw({.connections = {bearerMcp("docs", upstream_.url("/mcp"), "tether-upstream-token")},
              .options = inboundOptions(),
              .clock = &clock_,
              .validator = in.validator});
  const std::string token = testing::signJwt(key_, claims());
  for (int i = 0; i < 3; ++i) {
    const Reply r = call(gw.port(), token);
    ASSERT_EQ(r.status, 200) << r.raw;
    EXPECT_EQ(r.header("X-Seen-Authorization"), "Bearer tether-upstream-token");
  }
  for (const auto& req : upstream_.requests()) {
    EXPECT_EQ(req.head.find(token), std::string::npos);
  }
  EXPECT_EQ(jwks_.fetches(), 1);  // cached after the first call
  EXPECT_TRUE(eventually([&] {
    return logs.text().find(R"("subject":"alice@example")") != std::string::npos;
  })) << logs.text();
  EXPECT_EQ(logs.text().find(token), std::string::npos);
}

TEST_F(ProxyInboundTest, TheCallerIsTheActorOfTheTokenItCausesToBeFetched) {
  Inbound in(jwks_.url(), clock_);
  testing::FakeTokenProvider tokens("oauth-upstream-token", 3);
  auto oauth = connection(config::ConnectionKind::kMcp, "docs", upstream_.url("/mcp"),
                          config::AuthMode::kOAuth);
  oauth.auth.oauth = config::OAuthConfig{};
  Gateway gw({.connections = {oauth},
              .options = inboundOptions(),
              .provider = &tokens,
              .clock = &clock_,
              .validator = in.validator});
  const std::string token = testing::signJwt(key_, claims());
  const Reply r = call(gw.port(), token);
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(tokens.lastActor(), "user:alice@example");
  EXPECT_EQ(r.header("X-Seen-Authorization"), "Bearer oauth-upstream-token");
}

TEST_F(ProxyInboundTest, BadInputTable) {
  LogCapture logs;
  Inbound in(jwks_.url(), clock_);
  Gateway gw({.connections = {bearerMcp("docs", upstream_.url("/mcp"))},
              .options = inboundOptions(),
              .clock = &clock_,
              .validator = in.validator});
  ASSERT_EQ(call(gw.port(), testing::signJwt(key_, claims())).status, 200);
  const int64_t now =
      std::chrono::duration_cast<std::chrono::seconds>(clock_.now().time_since_epoch()).count();
  auto with = [&](std::string key, json::value v) {
    auto c = claims();
    c[key] = std::move(v);
    return testing::signJwt(key_, c);
  };
  json::object unknown_kid{{"kid", "rotated-away"}};
  struct Case {
    std::string name;
    std::string token;
    std::string check;
  };
  const std::vector<Case> cases = {
      {"expired", with("exp", now - 3600), "expired"},
      {"not yet valid", with("nbf", now + 3600), "not_yet_valid"},
      {"wrong iss", with("iss", "https://evil.example"), "issuer"},
      {"wrong aud", with("aud", "https://tether.example/mcp/other"), "audience"},
      {"unknown kid", testing::signJwt(key_, claims(), "", unknown_kid), "unknown_kid"},
      {"alg none", testing::unsignedJwt(claims()), "algorithm"},
      {"HS256 with the public key", testing::hs256WithPublicKey(key_, claims()), "algorithm"},
      {"malformed base64url", "eyJhbGciOiJSUzI1NiJ9.e+J9.c2ln", "malformed"},
      {"not a JWT", "some-opaque-value", "malformed"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    logs.clear();
    const Reply r = call(gw.port(), c.token);
    EXPECT_EQ(r.status, 401) << r.raw;
    const auto challenge = r.header("WWW-Authenticate").value_or("");
    EXPECT_NE(challenge.find("error=\"invalid_token\""), std::string::npos) << challenge;
    EXPECT_NE(challenge.find("resource_metadata="), std::string::npos) << challenge;
    EXPECT_TRUE(eventually([&] {
      return logs.text().find("\"check\":\"" + c.check + "\"") != std::string::npos;
    })) << logs.text();
    EXPECT_EQ(logs.text().find(c.token), std::string::npos) << "the token was logged";
    EXPECT_EQ(r.raw.find(c.token), std::string::npos) << "the token was echoed";
  }
  EXPECT_EQ(upstream_.requests().size(), 1u);  // only the valid call
}

// A token of 1 MiB passes the server's head limit: the caller still learns that its token
// was refused (401 invalid_token with the metadata URL, not 431), the log says why, the head
// is never buffered whole, and the gateway keeps serving.
TEST_F(ProxyInboundTest, AOneMebibyteTokenIs401InvalidTokenWithALogLine) {
  LogCapture logs;
  Inbound in(jwks_.url(), clock_);
  Gateway gw({.connections = {bearerMcp("docs", upstream_.url("/mcp"))},
              .options = inboundOptions(),
              .clock = &clock_,
              .validator = in.validator});
  const std::string token(1 << 20, 'a');
  const Reply huge = call(gw.port(), token);
  EXPECT_EQ(huge.status, 401) << huge.raw.substr(0, 400);
  const auto challenge = huge.header("WWW-Authenticate").value_or("");
  EXPECT_NE(challenge.find("error=\"invalid_token\""), std::string::npos) << challenge;
  EXPECT_NE(challenge.find("resource_metadata=\"https://tether.example/.well-known/"
                           "oauth-protected-resource/mcp/docs\""),
            std::string::npos)
      << challenge;
  EXPECT_EQ(huge.header("Connection"), "close");
  EXPECT_TRUE(eventually([&] {
    const std::string t = logs.text();
    return t.find(R"("check":"malformed")") != std::string::npos &&
           t.find("token too large") != std::string::npos;
  })) << logs.text().substr(0, 2000);
  EXPECT_EQ(logs.text().find(token.substr(0, 64)), std::string::npos) << "the token was logged";
  EXPECT_EQ(huge.raw.find(token.substr(0, 64)), std::string::npos) << "the token was echoed";
  EXPECT_TRUE(upstream_.requests().empty());
  EXPECT_EQ(call(gw.port(), testing::signJwt(key_, claims())).status, 200);

  // Other oversized heads keep their 431: another field, or a protected path's neighbour.
  http::Headers junk = kMcpPostHeaders;
  junk.push_back({"X-Junk", std::string(1 << 20, 'j')});
  const Reply other = fetch(gw.port(), "POST", "/mcp/docs", junk, jsonrpc(1, "tools/list"), 10s);
  EXPECT_EQ(other.status, 431) << other.raw.substr(0, 400);
  http::Headers prm_huge = {{"Authorization", "Bearer " + token}};
  const Reply prm =
      fetch(gw.port(), "GET", "/.well-known/oauth-protected-resource/mcp/docs", prm_huge, {}, 10s);
  EXPECT_EQ(prm.status, 431) << prm.raw.substr(0, 400);
}

// Without `inbound:` the proxy takes no bearer tokens of its own: an oversized head is 431.
TEST_F(ProxyInboundTest, WithoutInboundAnOversizedAuthorizationStays431) {
  Gateway gw({.connections = {bearerMcp("docs", upstream_.url("/mcp"))}, .clock = &clock_});
  const Reply r = call(gw.port(), std::string(1 << 20, 'a'));
  EXPECT_EQ(r.status, 431) << r.raw.substr(0, 400);
}

TEST_F(ProxyInboundTest, MissingScopeIs403WithTheScopeToAskFor) {
  identity::ValidatorOptions o;
  o.required_scopes = {"mcp:admin"};
  Inbound in(jwks_.url(), clock_, o);
  Gateway gw({.connections = {bearerMcp("docs", upstream_.url("/mcp"))},
              .options = inboundOptions({"mcp:admin"}),
              .clock = &clock_,
              .validator = in.validator});
  const Reply r = call(gw.port(), testing::signJwt(key_, claims()));
  EXPECT_EQ(r.status, 403) << r.raw;
  const auto challenge = r.header("WWW-Authenticate").value_or("");
  EXPECT_NE(challenge.find("error=\"insufficient_scope\""), std::string::npos) << challenge;
  EXPECT_NE(challenge.find("scope=\"mcp:admin\""), std::string::npos) << challenge;
}

TEST_F(ProxyInboundTest, ClientKeysKeepWorkingBesideTokens) {
  Inbound in(jwks_.url(), clock_);
  ProxyOptions o = inboundOptions();
  config::AccessKey k;
  k.id = "ci-bot";
  k.key = "a-client-key-of-enough-length";
  k.sha256 = core::sha256(k.key);
  o.client_keys = {k};
  Gateway gw({.connections = {bearerMcp("docs", upstream_.url("/mcp"))},
              .options = o,
              .clock = &clock_,
              .validator = in.validator});
  EXPECT_EQ(call(gw.port(), k.key).status, 200);
  EXPECT_EQ(call(gw.port(), testing::signJwt(key_, claims())).status, 200);
  EXPECT_EQ(call(gw.port(), "a-client-key-of-wrong-length").status, 401);
}

TEST_F(ProxyInboundTest, AFloodOfUnknownKidsCostsOneFetchAMinute) {
  Inbound in(jwks_.url(), clock_);
  Gateway gw({.connections = {bearerMcp("docs", upstream_.url("/mcp"))},
              .options = inboundOptions(),
              .clock = &clock_,
              .validator = in.validator});
  ASSERT_EQ(call(gw.port(), testing::signJwt(key_, claims())).status, 200);
  ASSERT_EQ(jwks_.fetches(), 1);
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 50; ++i) {
      json::object h{{"kid", "flood-" + std::to_string(round) + "-" + std::to_string(i)}};
      EXPECT_EQ(call(gw.port(), testing::signJwt(key_, claims(), "", h)).status, 401);
    }
    clock_.advance(61s);
  }
  // The first round is within the interval of the initial fetch; each later one may fetch once.
  EXPECT_EQ(jwks_.fetches(), 3);
}

TEST_F(ProxyInboundTest, AHugeSlowOrInvalidJwksIsRefusedNotCrashed) {
  for (const std::string& body :
       {std::string("<html>not json</html>"), std::string(R"({"keys":"nope"})"),
        R"({"keys":[)" + std::string(300 * 1024, ' ') + "]}"}) {
    JwksServer bad(body);
    Inbound in(bad.url(), clock_);
    Gateway gw({.connections = {bearerMcp("docs", upstream_.url("/mcp"))},
                .options = inboundOptions(),
                .clock = &clock_,
                .validator = in.validator});
    const Reply r = call(gw.port(), testing::signJwt(key_, claims()));
    EXPECT_EQ(r.status, 401) << body.substr(0, 40) << r.raw;
  }
  TestServer slow([](testing::TestConnection& c) {
    c.readRequest();
    c.waitForPeerClose();
  });
  Inbound in(slow.url("/jwks"), clock_, {}, 500ms);
  Gateway gw({.connections = {bearerMcp("docs", upstream_.url("/mcp"))},
              .options = inboundOptions(),
              .clock = &clock_,
              .validator = in.validator});
  const auto started = std::chrono::steady_clock::now();
  const Reply r = call(gw.port(), testing::signJwt(key_, claims()));
  EXPECT_EQ(r.status, 401) << r.raw;
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
  EXPECT_TRUE(upstream_.requests().empty());
}

// The issuer's metadata names a jwks_uri whose host resolves to an internal address (a name
// the test resolves, never DNS): the JWK Set is not fetched from there, the log says why,
// and the caller gets 401. Nothing connects to the listener at that address.
TEST_F(ProxyInboundTest, ADiscoveredJwksUriOnAnInternalAddressIsRefusedBeforeConnecting) {
  LogCapture logs;
  testing::CountingListener internal;  // 127.0.0.2
  const std::string jwks_uri =
      "https://jwks.rebind.test:" + std::to_string(internal.port()) + "/jwks";
  TestServer idp(serveHttp([&](const ReceivedRequest& r) {
    if (r.target != "/.well-known/openid-configuration") return httpResponse(404, "{}", {});
    json::object doc{{"issuer", "http://127.0.0.1"}, {"jwks_uri", jwks_uri}};
    return httpResponse(200, json::serialize(doc), {{"Content-Type", "application/json"}});
  }));
  http::HttpClientOptions ho;
  ho.resolver = [](const std::string& host,
                   std::chrono::milliseconds) -> core::Result<std::vector<http::IpAddress>> {
    if (host == "jwks.rebind.test") {
      return std::vector<http::IpAddress>{*http::IpAddress::parse("127.0.0.2")};
    }
    return core::Error(core::Errc::kNotFound, "the host name " + host + " does not resolve");
  };
  auto client = http::makeHttpClient(ho);
  identity::IssuerClientOptions io;
  io.issuer = idp.url("");  // no jwks_uri configured: from the metadata
  io.total_timeout = 3s;
  io.use_proxy = false;
  identity::IssuerClient issuer(*client, io);
  const auto direct = issuer.fetchJwks();
  ASSERT_FALSE(direct.ok());
  EXPECT_NE(direct.error().message.find("jwks.rebind.test resolves to a loopback address "
                                        "127.0.0.2, not allowed for discovery"),
            std::string::npos)
      << direct.error().message;

  core::ThreadPool pool{1, "inbound-ssrf"};
  identity::ValidatorOptions vo;
  vo.issuer = std::string(kIssuer);
  identity::ValidatorDeps deps;
  deps.clock = &clock_;
  deps.fetch_jwks = [&issuer] { return issuer.fetchJwks(); };
  deps.run_blocking = [&pool](std::function<void()> f) { pool.post(std::move(f)); };
  auto validator = identity::Validator::create(vo, std::move(deps));
  {
    Gateway gw({.connections = {bearerMcp("docs", upstream_.url("/mcp"))},
                .options = inboundOptions(),
                .clock = &clock_,
                .validator = validator});
    const Reply r = call(gw.port(), testing::signJwt(key_, claims()));
    EXPECT_EQ(r.status, 401) << r.raw;
    EXPECT_TRUE(eventually([&] {
      const std::string t = logs.text();
      return t.find("inbound JWK Set fetch failed") != std::string::npos &&
             t.find("jwks.rebind.test resolves to a loopback address") != std::string::npos;
    })) << logs.text();
  }
  pool.shutdown();
  EXPECT_EQ(internal.accepted(), 0);
  EXPECT_TRUE(upstream_.requests().empty());
}

}  // namespace
}  // namespace tether::gateway

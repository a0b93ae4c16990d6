// The proxy end to end inside one process: a real http::Server with the gateway routes, a
// scripted upstream (tests/support TestServer, plain or TLS) and a raw client, all on
// loopback. In-process and free of external binaries, so it also runs under ASan+UBSan
// with the unit tests (client disconnects, cancelled streams, pooled sockets).

#include "gateway/proxy.h"

#include <gtest/gtest.h>

// Designated initializers that leave members at their defaults read best for test setups.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#include <atomic>
#include <boost/json.hpp>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "core/clock.h"
#include "http/server.h"
#include "support/test_certs.h"
#include "unit/gateway/fake_token_provider.h"
#include "unit/gateway/proxy_fixture.h"

namespace tether::gateway {
namespace {

using namespace std::chrono_literals;
using namespace testing::proxy;
using testing::FakeTokenProvider;
namespace json = boost::json;

// Every exchange in these tests must end with a whole answer: this fetch() (which hides
// proxy::fetch) fails the test when the gateway does not close the connection in time.
Reply fetch(uint16_t port, std::string_view method, std::string_view path,
            const http::Headers& headers = {}, std::string_view body = {},
            std::chrono::milliseconds deadline = 10s) {
  Reply r = testing::proxy::fetch(port, method, path, headers, body, deadline);
  EXPECT_TRUE(r.closed) << "no complete answer in time";
  return r;
}

std::string sseHead() {
  return "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
         "Mcp-Session-Id: s-stream\r\nTransfer-Encoding: chunked\r\n\r\n";
}

config::ConnectionConfig oauthMcp(std::string name, std::string url) {
  auto c = connection(config::ConnectionKind::kMcp, std::move(name), std::move(url),
                      config::AuthMode::kOAuth);
  c.auth.oauth = config::OAuthConfig{};
  return c;
}

std::string okResult(std::string_view id) {
  return R"({"jsonrpc":"2.0","id":)" + std::string(id) + R"(,"result":{}})";
}

// ---- relaying ----------------------------------------------------------------------------

TEST(ProxyTest, McpPostRelaysJsonAndHeadersBothWays) {
  TestServer upstream(serveHttp([](const ReceivedRequest&) {
    return httpResponse(200, okResult("1"),
                        {{"Content-Type", "application/json"},
                         {"Mcp-Session-Id", "s-42"},
                         {"Connection", "X-Hop"},
                         {"X-Hop", "must-not-pass"},
                         {"WWW-Authenticate", "Bearer realm=\"upstream\""},
                         {"X-Upstream", "kept"}});
  }));
  Gateway gw({.connections = {bearerMcp("demo", upstream.url("/mcp"))}});
  const Reply r = fetch(gw.port(), "POST", "/mcp/demo",
                        {{"Content-Type", "application/json"},
                         {"Accept", "application/json, text/event-stream"},
                         {"Authorization", "Bearer client-own-credential"},
                         {"Cookie", "portal=secret"},
                         {"Mcp-Session-Id", "s-42"},
                         {"MCP-Protocol-Version", "2025-11-25"},
                         {"Mcp-Method", "tools/call"},
                         {"Mcp-Name", "echo"},
                         {"X-Custom", "client-only"}},
                        jsonrpc(1, "tools/call"));
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body, okResult("1"));
  EXPECT_FALSE(r.chunked);  // small Content-Length answer: the fast path
  EXPECT_EQ(r.header("Mcp-Session-Id"), "s-42");
  EXPECT_EQ(r.header("X-Upstream"), "kept");
  EXPECT_FALSE(r.header("X-Hop"));
  EXPECT_FALSE(r.header("WWW-Authenticate"));

  const auto reqs = upstream.requests();
  ASSERT_EQ(reqs.size(), 1u);
  const auto& up = reqs[0];
  EXPECT_EQ(up.method, "POST");
  EXPECT_EQ(up.target, "/mcp");
  EXPECT_EQ(up.header("Authorization"), "Bearer upstream-secret");
  EXPECT_EQ(up.header("Host"), "127.0.0.1:" + std::to_string(upstream.port()));
  EXPECT_FALSE(up.header("Cookie"));
  EXPECT_FALSE(up.header("X-Custom"));
  EXPECT_EQ(up.header("Mcp-Session-Id"), "s-42");
  EXPECT_EQ(up.header("MCP-Protocol-Version"), "2025-11-25");
  EXPECT_EQ(up.header("Mcp-Method"), "tools/call");
  EXPECT_EQ(up.header("Mcp-Name"), "echo");
  EXPECT_EQ(up.header("Accept"), "application/json, text/event-stream");
  EXPECT_TRUE(up.header("X-Request-Id"));
  EXPECT_EQ(up.body, jsonrpc(1, "tools/call"));
}

TEST(ProxyTest, SessionlessEraHeadersPassThrough) {
  TestServer upstream(serveHttp([](const ReceivedRequest&) {
    return httpResponse(200, okResult("3"), {{"Content-Type", "application/json"}});
  }));
  Gateway gw({.connections = {bearerMcp("demo", upstream.url("/mcp"))}});
  const Reply r = fetch(gw.port(), "POST", "/mcp/demo",
                        {{"Content-Type", "application/json"},
                         {"Accept", "application/json, text/event-stream"},
                         {"MCP-Protocol-Version", "2026-07-28"},
                         {"Mcp-Method", "tools/list"}},
                        jsonrpc(3, "tools/list"));
  ASSERT_EQ(r.status, 200);
  const auto up = upstream.requests().at(0);
  EXPECT_EQ(up.header("MCP-Protocol-Version"), "2026-07-28");
  EXPECT_EQ(up.header("Mcp-Method"), "tools/list");
  EXPECT_FALSE(up.header("Mcp-Session-Id"));
}

TEST(ProxyTest, MalformedJsonRpcIsPassedThroughUntouched) {
  const std::string garbage = "{\"jsonrpc\":\"2.0\",,, not json \x01";
  TestServer upstream(serveHttp([](const ReceivedRequest& req) {
    return httpResponse(400, "upstream says: " + req.body, {{"Content-Type", "text/plain"}});
  }));
  Gateway gw({.connections = {bearerMcp("demo", upstream.url("/mcp"))}});
  const Reply r = fetch(gw.port(), "POST", "/mcp/demo", kMcpPostHeaders, garbage);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, "upstream says: " + garbage);
  EXPECT_EQ(upstream.requests().at(0).body, garbage);
}

TEST(ProxyTest, SseIsRelayedChunkByChunkWithoutBuffering) {
  Gate second;
  TestServer upstream([&](TestConnection& c) {
    if (!c.readRequest()) return;
    c.write(sseHead());
    c.write(chunk("event: message\ndata: {\"progress\":1}\n\n"));
    // The next event only exists once the client has seen the first: a buffering proxy
    // would deadlock here (and the test fail on its deadline).
    if (!second.wait()) return;
    c.write(chunk("event: message\ndata: {\"result\":2}\n\n"));
    c.write("0\r\n\r\n");
  });
  Gateway gw({.connections = {bearerMcp("demo", upstream.url("/mcp"))}});
  RawConnection client(gw.port());
  client.send(requestText("POST", "/mcp/demo", kMcpPostHeaders, jsonrpc(5, "tools/call")));
  const std::string first = client.readUntil("\"progress\":1", 5s);
  ASSERT_NE(first.find("\"progress\":1"), std::string::npos) << first;
  EXPECT_EQ(first.find("\"result\":2"), std::string::npos);
  second.open();
  ASSERT_TRUE(client.readUntilClosed(5s));
  const Reply r = parseReply(client.received());
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.chunked);
  EXPECT_EQ(r.header("Content-Type"), "text/event-stream");
  EXPECT_EQ(r.header("Mcp-Session-Id"), "s-stream");
  EXPECT_EQ(r.body,
            "event: message\ndata: {\"progress\":1}\n\nevent: message\ndata: {\"result\":2}\n\n");
}

TEST(ProxyTest, GetStreamAndDeleteAreRelayed) {
  TestServer upstream([](TestConnection& c) {
    while (auto req = c.readRequest()) {
      if (req->method == "GET") {
        c.write(sseHead() + chunk(": server stream open\n\n") + "0\r\n\r\n");
      } else {
        c.write(httpResponse(200, ""));
      }
    }
  });
  Gateway gw({.connections = {bearerMcp("demo", upstream.url("/mcp"))}});
  const Reply get = fetch(
      gw.port(), "GET", "/mcp/demo",
      {{"Accept", "text/event-stream"}, {"Mcp-Session-Id", "s-1"}, {"Last-Event-ID", "ev-9"}});
  EXPECT_EQ(get.status, 200);
  EXPECT_EQ(get.body, ": server stream open\n\n");
  const Reply del = fetch(gw.port(), "DELETE", "/mcp/demo", {{"Mcp-Session-Id", "s-1"}});
  EXPECT_EQ(del.status, 200);
  const auto reqs = upstream.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].header("Last-Event-ID"), "ev-9");
  EXPECT_EQ(reqs[1].method, "DELETE");
  EXPECT_EQ(reqs[1].header("Mcp-Session-Id"), "s-1");
  EXPECT_EQ(reqs[1].header("Authorization"), "Bearer upstream-secret");
}

TEST(ProxyTest, KeepAliveConnectionsAreReused) {
  TestServer upstream(serveHttp([](const ReceivedRequest&) {
    return httpResponse(200, okResult("1"), {{"Content-Type", "application/json"}});
  }));
  Gateway gw({.connections = {bearerMcp("demo", upstream.url("/mcp"))}, .io_threads = 1});
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(fetch(gw.port(), "POST", "/mcp/demo", kMcpPostHeaders, jsonrpc(i, "ping")).status,
              200);
  }
  EXPECT_EQ(upstream.acceptedConnections(), 1u);
}

TEST(ProxyTest, AClosedPooledConnectionIsReplaced) {
  // The upstream answers one request per connection without announcing the close. Each
  // call starts once the previous connection is closed (its FIN is then queued on loopback):
  // the pool must notice it before writing. A close racing the next write is another case
  // (a POST whose bytes went out is never sent again: upstream_client_test.cc).
  std::atomic<int> closed{0};
  TestServer upstream([&closed](TestConnection& c) {
    if (!c.readRequest()) return;
    c.write(httpResponse(200, okResult("1"), {{"Content-Type", "application/json"}}));
    c.close();
    ++closed;
  });
  Gateway gw({.connections = {bearerMcp("demo", upstream.url("/mcp"))}, .io_threads = 1});
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(fetch(gw.port(), "POST", "/mcp/demo", kMcpPostHeaders, jsonrpc(i, "ping")).status,
              200);
    ASSERT_TRUE(eventually([&] { return closed.load() == i + 1; }));
  }
  EXPECT_EQ(upstream.requests().size(), 3u);
}

// ---- the API proxy -----------------------------------------------------------------------

TEST(ProxyTest, ApiForwardsMethodPathQueryAndItsOwnCredential) {
  TestServer upstream(serveHttp([](const ReceivedRequest& req) {
    return httpResponse(201, "{\"got\":\"" + req.method + " " + req.target + "\"}",
                        {{"Content-Type", "application/json"}});
  }));
  auto api = connection(config::ConnectionKind::kApi, "crm", upstream.url("/base/v2/"),
                        config::AuthMode::kApiKey);
  api.auth.api_key_header = "X-Api-Key";
  api.auth.api_key = "crm-key-123";
  Gateway gw({.connections = {api}});
  const Reply r = fetch(gw.port(), "PATCH", "/api/crm/items/a%20b?x=1&y=two",
                        {{"Authorization", "Bearer client-key"},
                         {"X-Api-Key", "client-supplied"},
                         {"Content-Type", "application/json"},
                         {"X-Trace", "t-1"}},
                        R"({"name":"n"})");
  ASSERT_EQ(r.status, 201) << r.raw;
  EXPECT_EQ(r.body, R"({"got":"PATCH /base/v2/items/a%20b?x=1&y=two"})");
  const auto up = upstream.requests().at(0);
  EXPECT_EQ(up.header("X-Api-Key"), "crm-key-123");
  EXPECT_FALSE(up.header("Authorization"));
  EXPECT_EQ(up.header("X-Trace"), "t-1");
  EXPECT_EQ(up.body, R"({"name":"n"})");

  const Reply root = fetch(gw.port(), "GET", "/api/crm");
  EXPECT_EQ(root.body, R"({"got":"GET /base/v2/"})");
}

TEST(ProxyTest, ApiRefusesDotSegments) {
  TestServer upstream(serveHttp([](const ReceivedRequest&) { return httpResponse(200, "x"); }));
  auto api = connection(config::ConnectionKind::kApi, "crm", upstream.url("/base"),
                        config::AuthMode::kNone);
  Gateway gw({.connections = {api}});
  EXPECT_EQ(fetch(gw.port(), "GET", "/api/crm/../admin").status, 400);
  EXPECT_EQ(fetch(gw.port(), "GET", "/api/crm/%2e%2e/admin").status, 400);
  EXPECT_TRUE(upstream.requests().empty());
}

TEST(ProxyTest, LargeBodiesAreStreamed) {
  const std::string big(3 * 1024 * 1024 + 7, 'z');
  TestServer upstream(serveHttp([&](const ReceivedRequest&) {
    return httpResponse(200, big, {{"Content-Type", "application/octet-stream"}});
  }));
  auto api =
      connection(config::ConnectionKind::kApi, "files", upstream.url("/"), config::AuthMode::kNone);
  Gateway gw({.connections = {api}});
  const Reply r = fetch(gw.port(), "GET", "/api/files/blob");
  ASSERT_EQ(r.status, 200);
  EXPECT_TRUE(r.chunked);
  EXPECT_EQ(r.body.size(), big.size());
  EXPECT_EQ(r.body, big);
}

TEST(ProxyTest, HeadAnswersKeepTheUpstreamContentLength) {
  TestServer upstream([](TestConnection& c) {
    if (!c.readRequest()) return;
    c.write("HTTP/1.1 200 OK\r\nContent-Type: application/pdf\r\nContent-Length: 5000\r\n\r\n");
    c.waitForPeerClose();
  });
  auto api =
      connection(config::ConnectionKind::kApi, "files", upstream.url("/"), config::AuthMode::kNone);
  Gateway gw({.connections = {api}});
  const Reply r = fetch(gw.port(), "HEAD", "/api/files/report.pdf");
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.header("Content-Length"), "5000") << r.raw;  // what a GET would get, not 0
  EXPECT_EQ(r.header("Content-Type"), "application/pdf");
  EXPECT_TRUE(r.body.empty());
}

TEST(ProxyTest, AnAnswerTheUpstreamEndsByClosingArrivesWholeAtOnce) {
  // No length and no chunks: the body ends where the upstream closes, right after writing
  // it (the end comes with the last bytes). Deadlines are a minute; the answer must not wait
  // for one.
  const std::string body = okResult("eof-delimited");
  TestServer upstream([&](TestConnection& c) {
    if (!c.readRequest()) return;
    c.write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n" +
            body);
    c.close();
  });
  Gateway gw({.connections = {bearerMcp("demo", upstream.url("/mcp"))}});
  for (int i = 0; i < 3; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    const Reply mcp = fetch(gw.port(), "POST", "/mcp/demo", kMcpPostHeaders, jsonrpc(i, "ping"));
    ASSERT_EQ(mcp.status, 200) << mcp.raw;
    EXPECT_EQ(mcp.body, body);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  }
  auto api =
      connection(config::ConnectionKind::kApi, "files", upstream.url("/"), config::AuthMode::kNone);
  Gateway gw2({.connections = {api}});
  const Reply streamed = fetch(gw2.port(), "GET", "/api/files/x", {}, {}, 5s);
  ASSERT_EQ(streamed.status, 200) << streamed.raw;
  EXPECT_EQ(streamed.body, body);
}

TEST(ProxyTest, AStreamTheUpstreamBreaksOffIsCutShortForTheClientToo) {
  TestServer upstream([](TestConnection& c) {
    if (!c.readRequest()) return;
    c.write(sseHead());
    c.write(chunk("data: first\n\n"));
    c.abort();  // no terminating chunk: the stream is truncated
  });
  Gateway gw({.connections = {bearerMcp("demo", upstream.url("/mcp"))}});
  RawConnection client(gw.port());
  client.send(requestText("GET", "/mcp/demo", {{"Accept", "text/event-stream"}}, ""));
  ASSERT_TRUE(client.readUntilClosed(5s));
  EXPECT_NE(client.received().find("data: first"), std::string::npos);
  // A complete chunked message would end with the last chunk; this one must not.
  EXPECT_EQ(client.received().find("\r\n0\r\n\r\n"), std::string::npos) << client.received();
}

TEST(ProxyTest, ClientDisconnectBeforeABufferedAnswerClosesTheUpstream) {
  Gate upstream_closed;
  Gate request_seen;
  TestServer upstream([&](TestConnection& c) {
    if (!c.readRequest()) return;
    request_seen.open();
    c.waitForPeerClose();  // never answers; returns once the gateway drops the connection
    upstream_closed.open();
  });
  Gateway gw({.connections = {bearerMcp("demo", upstream.url("/mcp"))}});
  {
    RawConnection client(gw.port());
    client.send(requestText("POST", "/mcp/demo", kMcpPostHeaders, jsonrpc(1, "tools/list")));
    ASSERT_TRUE(request_seen.wait(5s));
  }  // the client goes away while the gateway waits for the (60 s) answer
  EXPECT_TRUE(upstream_closed.wait(5s));
  EXPECT_TRUE(eventually([] { return UpstreamClient::openConnections() == 0; }));
  EXPECT_TRUE(eventually([&] { return gw.openClientConnections() == 0; }));
}

// ---- refusals and failures -----------------------------------------------------------------

TEST(ProxyTest, UnknownConnectionIs404NamingIt) {
  Gateway gw({});
  const Reply mcp = fetch(gw.port(), "POST", "/mcp/nope", kMcpPostHeaders, jsonrpc(11, "x"));
  EXPECT_EQ(mcp.status, 404);
  const auto doc = json::parse(mcp.body).as_object();
  EXPECT_EQ(doc.at("id").as_int64(), 11);
  EXPECT_NE(std::string(doc.at("error").at("message").as_string()).find("\"nope\""),
            std::string::npos);
  const Reply api = fetch(gw.port(), "GET", "/api/missing/x");
  EXPECT_EQ(api.status, 404);
  EXPECT_NE(api.body.find("missing"), std::string::npos);
}

TEST(ProxyTest, OversizedBodyIs413) {
  TestServer upstream(serveHttp([](const ReceivedRequest&) { return httpResponse(200, "{}"); }));
  ProxyOptions options;
  options.max_request_body_bytes = 1024;
  Gateway gw({.connections = {bearerMcp("demo", upstream.url("/mcp"))}, .options = options});
  const Reply r = fetch(gw.port(), "POST", "/mcp/demo", kMcpPostHeaders, std::string(4096, 'x'));
  EXPECT_EQ(r.status, 413);
  EXPECT_TRUE(upstream.requests().empty());
}

TEST(ProxyTest, UnreachableUpstreamIs502NamingTheConnection) {
  uint16_t dead_port = 0;
  {
    TestServer probe(serveHttp([](const ReceivedRequest&) { return std::string(); }));
    dead_port = probe.port();
  }
  Gateway gw({.connections = {
                  bearerMcp("gone", "http://127.0.0.1:" + std::to_string(dead_port) + "/mcp")}});
  const Reply r = fetch(gw.port(), "POST", "/mcp/gone", kMcpPostHeaders, jsonrpc(4, "x"));
  EXPECT_EQ(r.status, 502);
  const auto doc = json::parse(r.body).as_object();
  EXPECT_EQ(doc.at("id").as_int64(), 4);
  EXPECT_NE(std::string(doc.at("error").at("message").as_string()).find("mcp/gone"),
            std::string::npos);
}

TEST(ProxyTest, StalledUpstreamIs504AfterTheConnectionTimeout) {
  TestServer upstream([](TestConnection& c) {
    if (c.readRequest()) c.waitForPeerClose();
  });
  auto conn = bearerMcp("slow", upstream.url("/mcp"));
  conn.timeout = 300ms;
  Gateway gw({.connections = {conn}});
  const auto started = std::chrono::steady_clock::now();
  const Reply r = fetch(gw.port(), "POST", "/mcp/slow", kMcpPostHeaders, jsonrpc(1, "x"));
  EXPECT_EQ(r.status, 504);
  EXPECT_NE(r.body.find("mcp/slow"), std::string::npos);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
}

TEST(ProxyTest, EndlessBodyOnTheBufferedPathHitsTheLimit) {
  std::atomic<bool> writer_stopped{false};
  TestServer upstream([&](TestConnection& c) {
    if (!c.readRequest()) return;
    c.write(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
    const std::string piece = chunk(std::string(16 * 1024, ' '));
    while (c.write(piece)) {
    }
    writer_stopped = true;
  });
  ProxyOptions options;
  options.limits.max_buffered_body_bytes = 256 * 1024;
  Gateway gw({.connections = {bearerMcp("flood", upstream.url("/mcp"))}, .options = options});
  const Reply r = fetch(gw.port(), "POST", "/mcp/flood", kMcpPostHeaders, jsonrpc(1, "x"));
  EXPECT_EQ(r.status, 502);
  EXPECT_NE(r.body.find("exceeds 262144 bytes"), std::string::npos) << r.body;
  EXPECT_TRUE(eventually([&] { return writer_stopped.load(); }));  // upstream cut off
}

TEST(ProxyTest, ClientDisconnectMidStreamClosesTheUpstream) {
  Gate upstream_closed;
  TestServer upstream([&](TestConnection& c) {
    if (!c.readRequest()) return;
    c.write(sseHead());
    c.write(chunk("data: first\n\n"));
    c.waitForPeerClose();  // returns once the gateway drops the upstream connection
    upstream_closed.open();
  });
  Gateway gw({.connections = {bearerMcp("demo", upstream.url("/mcp"))}});
  {
    RawConnection client(gw.port());
    client.send(requestText("GET", "/mcp/demo", {{"Accept", "text/event-stream"}}, ""));
    ASSERT_NE(client.readUntil("data: first", 5s).find("data: first"), std::string::npos);
  }  // the client goes away mid-stream
  EXPECT_TRUE(upstream_closed.wait(5s));
  EXPECT_TRUE(eventually([] { return UpstreamClient::openConnections() == 0; }));
  EXPECT_TRUE(eventually([&] { return gw.openClientConnections() == 0; }));
}

// ---- gateway clients -------------------------------------------------------------------------

TEST(ProxyTest, DisallowedOriginIs403AndClientKeysAreEnforced) {
  TestServer upstream(serveHttp([](const ReceivedRequest&) {
    return httpResponse(200, okResult("1"), {{"Content-Type", "application/json"}});
  }));
  ProxyOptions options;
  config::AccessKey key;
  key.id = "client-1";
  key.key = "gateway-client-key-0001";
  options.client_keys = {key};
  Gateway gw({.connections = {bearerMcp("demo", upstream.url("/mcp"))}, .options = options});
  const http::Headers authed = {{"Content-Type", "application/json"},
                                {"Authorization", "Bearer gateway-client-key-0001"}};
  auto with = [&](http::Headers extra) {
    http::Headers h = authed;
    h.insert(h.end(), extra.begin(), extra.end());
    return h;
  };
  EXPECT_EQ(fetch(gw.port(), "POST", "/mcp/demo", with({{"Origin", "https://evil.example"}}),
                  jsonrpc(1, "x"))
                .status,
            403);
  EXPECT_EQ(fetch(gw.port(), "POST", "/mcp/demo", with({{"Origin", "http://localhost:6274"}}),
                  jsonrpc(1, "x"))
                .status,
            200);
  const Reply no_key = fetch(gw.port(), "POST", "/mcp/demo", kMcpPostHeaders, jsonrpc(1, "x"));
  EXPECT_EQ(no_key.status, 401);
  EXPECT_EQ(fetch(gw.port(), "POST", "/mcp/demo",
                  {{"Authorization", "Bearer wrong-key-0000000000"}}, jsonrpc(1, "x"))
                .status,
            401);
  // Without a key nobody learns which connections exist.
  EXPECT_EQ(fetch(gw.port(), "POST", "/mcp/unknown", kMcpPostHeaders, jsonrpc(1, "x")).status, 401);
  EXPECT_EQ(upstream.requests().size(), 1u);
  // The accepted client key stayed with the gateway.
  EXPECT_EQ(upstream.requests()[0].header("Authorization"), "Bearer upstream-secret");
}

// ---- OAuth tokens ----------------------------------------------------------------------------

TEST(ProxyTest, OAuthTokenIsInjectedFromTheProvider) {
  FakeTokenProvider tokens("tok-1", 1);
  tokens.setAsync(true);  // answered from another thread, as a refreshing TokenSource does
  TestServer upstream(serveHttp([](const ReceivedRequest&) {
    return httpResponse(200, okResult("1"), {{"Content-Type", "application/json"}});
  }));
  Gateway gw({.connections = {oauthMcp("demo", upstream.url("/mcp"))}, .provider = &tokens});
  EXPECT_EQ(fetch(gw.port(), "POST", "/mcp/demo", kMcpPostHeaders, jsonrpc(1, "x")).status, 200);
  EXPECT_EQ(upstream.requests().at(0).header("Authorization"), "Bearer tok-1");
  EXPECT_EQ(tokens.lastActor(), "system:tool-call");
}

TEST(ProxyTest, Upstream401OnceRefreshesAndReplaysExactlyOnce) {
  FakeTokenProvider tokens("tok-old", 1);
  tokens.setRefreshTo("tok-new", 2);
  TestServer upstream(serveHttp([](const ReceivedRequest& req) {
    if (req.header("Authorization") != "Bearer tok-new") {
      return httpResponse(401, "", {{"WWW-Authenticate", "Bearer error=\"invalid_token\""}});
    }
    return httpResponse(200, okResult("8"), {{"Content-Type", "application/json"}});
  }));
  Gateway gw({.connections = {oauthMcp("demo", upstream.url("/mcp"))}, .provider = &tokens});
  const Reply r = fetch(gw.port(), "POST", "/mcp/demo", kMcpPostHeaders, jsonrpc(8, "tools/list"));
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body, okResult("8"));
  EXPECT_EQ(tokens.invalidate_calls.load(), 1);
  EXPECT_EQ(tokens.acquire_calls.load(), 2);
  const auto reqs = upstream.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].header("Authorization"), "Bearer tok-old");
  EXPECT_EQ(reqs[1].header("Authorization"), "Bearer tok-new");
  EXPECT_EQ(reqs[1].body, jsonrpc(8, "tools/list"));  // the replay carries the same body
  // The next call uses the new token straight away.
  EXPECT_EQ(fetch(gw.port(), "POST", "/mcp/demo", kMcpPostHeaders, jsonrpc(9, "x")).status, 200);
  EXPECT_EQ(upstream.requests().size(), 3u);
  EXPECT_EQ(tokens.invalidate_calls.load(), 1);
}

TEST(ProxyTest, Upstream401AlwaysGivesTheActionableErrorWithoutAStorm) {
  FakeTokenProvider tokens("tok-a", 1);
  tokens.setRefreshTo("tok-b", 2);
  TestServer upstream(serveHttp([](const ReceivedRequest&) { return httpResponse(401, ""); }));
  Gateway gw({.connections = {oauthMcp("demo", upstream.url("/mcp"))}, .provider = &tokens});
  const Reply r = fetch(gw.port(), "POST", "/mcp/demo", kMcpPostHeaders, jsonrpc(21, "x"));
  EXPECT_EQ(r.status, 424);  // needs_reauth from the error table: never a bare 401
  EXPECT_FALSE(r.header("WWW-Authenticate"));
  const auto doc = json::parse(r.body).as_object();
  EXPECT_EQ(doc.at("id").as_int64(), 21);
  const std::string message(doc.at("error").at("message").as_string());
  EXPECT_NE(message.find("mcp/demo"), std::string::npos);
  EXPECT_NE(message.find("https://tether.example/portal/connections/mcp/demo"), std::string::npos);
  EXPECT_EQ(tokens.invalidate_calls.load(), 1);
  EXPECT_EQ(tokens.acquire_calls.load(), 2);
  EXPECT_EQ(upstream.requests().size(), 2u);
}

TEST(ProxyTest, NoReplayWhenTheProviderHasNothingNewer) {
  FakeTokenProvider tokens("tok-a", 1);  // invalidate() refuses: refreshed very recently
  TestServer upstream(serveHttp([](const ReceivedRequest&) { return httpResponse(401, ""); }));
  Gateway gw({.connections = {oauthMcp("demo", upstream.url("/mcp"))}, .provider = &tokens});
  const Reply r = fetch(gw.port(), "GET", "/mcp/demo", {{"Accept", "text/event-stream"}});
  EXPECT_EQ(r.status, 424);
  EXPECT_EQ(upstream.requests().size(), 1u);
  EXPECT_EQ(tokens.invalidate_calls.load(), 1);
  EXPECT_EQ(tokens.acquire_calls.load(), 2);
}

TEST(ProxyTest, NeedsReauthIsAJsonRpcErrorWithThePortalUrl) {
  FakeTokenProvider tokens;
  lifecycle::TokenError te;
  te.kind = lifecycle::TokenError::Kind::kNeedsReauth;
  te.reason = "invalid_grant";
  tokens.setError(te);
  TestServer upstream(serveHttp([](const ReceivedRequest&) { return httpResponse(200, "{}"); }));
  Gateway gw({.connections = {oauthMcp("demo", upstream.url("/mcp"))}, .provider = &tokens});
  const Reply r = fetch(gw.port(), "POST", "/mcp/demo", kMcpPostHeaders,
                        R"({"jsonrpc":"2.0","id":"call-7","method":"tools/call"})");
  EXPECT_EQ(r.status, 424);
  const auto doc = json::parse(r.body).as_object();
  EXPECT_EQ(doc.at("id"), "call-7");
  EXPECT_EQ(doc.at("error").at("code").as_int64(), -32012);
  const std::string message(doc.at("error").at("message").as_string());
  EXPECT_NE(message.find("mcp/demo"), std::string::npos);
  EXPECT_NE(message.find("https://tether.example/portal/connections/mcp/demo"), std::string::npos);
  EXPECT_TRUE(upstream.requests().empty());
}

TEST(ProxyTest, TemporarilyUnavailableIs503WithRetryAfter) {
  core::ManualClock clock;
  FakeTokenProvider tokens;
  lifecycle::TokenError te;
  te.kind = lifecycle::TokenError::Kind::kTemporarilyUnavailable;
  te.reason = "http_503";
  te.retry_at = clock.now() + 37s;
  tokens.setError(te);
  TestServer upstream(serveHttp([](const ReceivedRequest&) { return httpResponse(200, "{}"); }));
  auto api =
      connection(config::ConnectionKind::kApi, "crm", upstream.url("/"), config::AuthMode::kOAuth);
  api.auth.oauth = config::OAuthConfig{};
  Gateway gw({.connections = {oauthMcp("demo", upstream.url("/mcp")), api},
              .provider = &tokens,
              .clock = &clock});
  const Reply mcp = fetch(gw.port(), "POST", "/mcp/demo", kMcpPostHeaders, jsonrpc(2, "x"));
  EXPECT_EQ(mcp.status, 503);
  EXPECT_EQ(mcp.header("Retry-After"), "37");
  EXPECT_EQ(json::parse(mcp.body).at("error").at("code").as_int64(), -32011);
  const Reply plain = fetch(gw.port(), "GET", "/api/crm/x");
  EXPECT_EQ(plain.status, 503);
  EXPECT_EQ(plain.header("Retry-After"), "37");
  EXPECT_EQ(json::parse(plain.body).at("error").at("code"), "temporarily_unavailable");
  EXPECT_TRUE(upstream.requests().empty());
}

TEST(ProxyTest, TokenRotationDuringALongStreamKeepsTheStream) {
  FakeTokenProvider tokens("tok-1", 1);
  Gate finish_stream;
  TestServer upstream([&](TestConnection& c) {
    auto req = c.readRequest();
    if (!req) return;
    if (req->method == "GET") {  // the long stream
      c.write(sseHead());
      c.write(chunk("data: before-rotation\n\n"));
      if (!finish_stream.wait()) return;
      c.write(chunk("data: after-rotation\n\n"));
      c.write("0\r\n\r\n");
      return;
    }
    c.write(httpResponse(200, okResult("2"), {{"Content-Type", "application/json"}}));
  });
  Gateway gw({.connections = {oauthMcp("demo", upstream.url("/mcp"))}, .provider = &tokens});
  RawConnection stream(gw.port());
  stream.send(requestText("GET", "/mcp/demo", {{"Accept", "text/event-stream"}}, ""));
  ASSERT_NE(stream.readUntil("before-rotation", 5s).find("before-rotation"), std::string::npos);

  tokens.setToken("tok-2", 2);  // the lifecycle rotated the token meanwhile
  EXPECT_EQ(fetch(gw.port(), "POST", "/mcp/demo", kMcpPostHeaders, jsonrpc(2, "x")).status, 200);
  finish_stream.open();
  ASSERT_TRUE(stream.readUntilClosed(5s));
  const Reply r = parseReply(stream.received());
  EXPECT_EQ(r.body, "data: before-rotation\n\ndata: after-rotation\n\n");
  const auto reqs = upstream.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].header("Authorization"), "Bearer tok-1");
  EXPECT_EQ(reqs[1].header("Authorization"), "Bearer tok-2");
}

TEST(ProxyTest, StaticCredentialRejectedIsAnActionable502) {
  TestServer upstream(serveHttp([](const ReceivedRequest&) { return httpResponse(401, ""); }));
  Gateway gw({.connections = {bearerMcp("demo", upstream.url("/mcp"))}});
  const Reply r = fetch(gw.port(), "POST", "/mcp/demo", kMcpPostHeaders, jsonrpc(1, "x"));
  EXPECT_EQ(r.status, 502);
  EXPECT_NE(r.body.find("rejected the configured credential"), std::string::npos);
}

// ---- TLS upstreams ---------------------------------------------------------------------------

TEST(ProxyTest, TlsUpstreamIsVerifiedByNameOrAddress) {
  testing::TestCa ca;
  const auto by_ip = ca.issueServerCert("ip", {"IP:127.0.0.1"});
  const auto by_name = ca.issueServerCert("name", {"DNS:localhost"});
  auto ok = [](const ReceivedRequest&) {
    return httpResponse(200, okResult("1"), {{"Content-Type", "application/json"}});
  };
  TestServer ip_server(serveHttp(ok),
                       {.tls = true, .cert_path = by_ip.cert_path, .key_path = by_ip.key_path});
  TestServer name_server(
      serveHttp(ok), {.tls = true, .cert_path = by_name.cert_path, .key_path = by_name.key_path});
  ProxyOptions options;
  options.upstream_ca_bundle = ca.caCertPath();
  Gateway gw({.connections = {bearerMcp("ip", ip_server.url("/mcp")),
                              bearerMcp("name", name_server.url("/mcp", "localhost")),
                              bearerMcp("wrong", name_server.url("/mcp"))},
              .options = options});
  EXPECT_EQ(fetch(gw.port(), "POST", "/mcp/ip", kMcpPostHeaders, jsonrpc(1, "x")).status, 200);
  EXPECT_EQ(fetch(gw.port(), "POST", "/mcp/name", kMcpPostHeaders, jsonrpc(1, "x")).status, 200);
  ASSERT_EQ(name_server.requests().size(), 1u);
  // The certificate names localhost, not 127.0.0.1: refused.
  const Reply wrong = fetch(gw.port(), "POST", "/mcp/wrong", kMcpPostHeaders, jsonrpc(1, "x"));
  EXPECT_EQ(wrong.status, 502);
  EXPECT_NE(wrong.body.find("tls"), std::string::npos) << wrong.body;
  EXPECT_EQ(name_server.requests().size(), 1u);
}

TEST(ProxyTest, TlsUpstreamWithUnknownCaIsRefused) {
  testing::TestCa ca;
  const auto cert = ca.issueServerCert("ip", {"IP:127.0.0.1"});
  TestServer server(serveHttp([](const ReceivedRequest&) { return httpResponse(200, "{}"); }),
                    {.tls = true, .cert_path = cert.cert_path, .key_path = cert.key_path});
  Gateway gw({.connections = {bearerMcp("demo", server.url("/mcp"))}});  // system roots only
  const Reply r = fetch(gw.port(), "POST", "/mcp/demo", kMcpPostHeaders, jsonrpc(1, "x"));
  EXPECT_EQ(r.status, 502);
  EXPECT_TRUE(server.requests().empty());
}

// ---- metrics ---------------------------------------------------------------------------------

TEST(ProxyTest, MetricsCountCallsByConnectionAndStatus) {
  TestServer upstream(serveHttp([](const ReceivedRequest&) {
    return httpResponse(200, okResult("1"), {{"Content-Type", "application/json"}});
  }));
  Gateway gw({.connections = {bearerMcp("demo", upstream.url("/mcp"))}});
  for (int i = 0; i < 3; ++i) fetch(gw.port(), "POST", "/mcp/demo", kMcpPostHeaders, "{}");
  const std::string text = gw.metrics().render();
  EXPECT_NE(text.find(R"(tether_proxy_requests_total{kind="mcp",name="demo",status="200"} 3)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find(R"(tether_proxy_upstream_latency_seconds_count{kind="mcp",name="demo"} 3)"),
            std::string::npos);
}

}  // namespace
}  // namespace tether::gateway

// The upstream client against upstreams that misbehave on purpose (THREATS.md: "an upstream
// MCP server or API controls every byte of its answers"): endless framing, extra bytes
// after an answer, a request read and then dropped, statuses outside 100..599, interim
// answers. Real loopback sockets, a real http::Server with the gateway routes, scripted
// upstreams (tests/support TestServer, plain or TLS). Built into gateway_proxy_test, so it
// also runs under ASan+UBSan and TSan.

#include <gtest/gtest.h>

// Designated initializers that leave members at their defaults read best for test setups.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#include <atomic>
#include <string>

#include "gateway/upstream_client.h"
#include "gateway/upstream_pool.h"
#include "support/test_certs.h"
#include "unit/gateway/proxy_fixture.h"

namespace tether::gateway {
namespace {

using namespace std::chrono_literals;
using namespace testing::proxy;

constexpr size_t kMiB = 1024 * 1024;
// What a hostile upstream offers in the flood tests, and the most of it the gateway may take
// before giving up: its framing limit (64 KiB) plus what the kernel's socket buffers on both
// ends of a loopback connection hold (a few MiB).
constexpr size_t kFloodBytes = 64 * kMiB;
constexpr size_t kMaxAbsorbed = 24 * kMiB;

// Writes `start`, then `piece` again and again until `total` bytes went out or the gateway
// stops reading (the write fails). Returns the bytes written.
size_t flood(TestConnection& c, std::string_view start, std::string_view piece, size_t total) {
  if (!c.write(start)) return 0;
  size_t written = start.size();
  while (written < total && c.write(piece)) written += piece.size();
  return written;
}

// An upstream that answers its first request with `start` followed by an endless `piece`,
// and records how much of it went out.
struct FloodingUpstream {
  FloodingUpstream(std::string start, std::string piece)
      : server([this, start = std::move(start), piece = std::move(piece)](TestConnection& c) {
          if (!c.readRequest()) return;
          written = flood(c, start, piece, kFloodBytes);
          c.close();
          done.open();
        }) {}

  std::atomic<size_t> written{0};
  Gate done;
  TestServer server;  // last: its handler threads use the members above
};

const std::string kChunkedJsonHead =
    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";

// ---- defect 3: bounded framing buffers -----------------------------------------------------

TEST(UpstreamHostileTest, EndlessChunkExtensionOnABufferedAnswerIs502AndStopsReading) {
  FloodingUpstream up(kChunkedJsonHead + "1;ext=", std::string(64 * 1024, 'a'));
  Gateway gw({.connections = {bearerMcp("ext", up.server.url("/mcp"))}, .io_threads = 1});
  const Reply r = fetch(gw.port(), "POST", "/mcp/ext", kMcpPostHeaders, jsonrpc(1, "x"), 60s);
  EXPECT_EQ(r.status, 502) << r.raw.substr(0, 300);
  EXPECT_NE(r.body.find("mcp/ext"), std::string::npos) << r.body;
  ASSERT_TRUE(up.done.wait(60s));
  EXPECT_LT(up.written.load(), kMaxAbsorbed) << "the gateway kept reading the chunk line";
  EXPECT_TRUE(eventually([] { return UpstreamClient::openConnections() == 0; }));
}

TEST(UpstreamHostileTest, EndlessChunkExtensionOnAStreamCutsItShort) {
  FloodingUpstream up(
      "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
      "Transfer-Encoding: chunked\r\n\r\n" +
          chunk("first") + "1;",
      std::string(64 * 1024, 'a'));
  Gateway gw({.connections = {openApi("files", up.server.url("/"))}, .io_threads = 1});
  const Reply r = fetch(gw.port(), "GET", "/api/files/blob", {}, {}, 60s);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "first");
  EXPECT_FALSE(r.complete_chunked) << "a stream the gateway broke off must not look complete";
  ASSERT_TRUE(up.done.wait(60s));
  EXPECT_LT(up.written.load(), kMaxAbsorbed) << "the gateway kept reading the chunk line";
}

TEST(UpstreamHostileTest, EndlessTrailersAre502AndStopReading) {
  FloodingUpstream up(kChunkedJsonHead + chunk("{}") + "0\r\n",
                      "X-Trailer: " + std::string(1000, 't') + "\r\n");
  Gateway gw({.connections = {bearerMcp("trail", up.server.url("/mcp"))}, .io_threads = 1});
  const Reply r = fetch(gw.port(), "POST", "/mcp/trail", kMcpPostHeaders, jsonrpc(1, "x"), 60s);
  EXPECT_EQ(r.status, 502) << r.raw.substr(0, 300);
  EXPECT_NE(r.body.find("mcp/trail"), std::string::npos) << r.body;
  ASSERT_TRUE(up.done.wait(60s));
  EXPECT_LT(up.written.load(), kMaxAbsorbed) << "the gateway kept reading trailers";
}

TEST(UpstreamHostileTest, EndlessResponseHeadIs502AndStopsReading) {
  FloodingUpstream up("HTTP/1.1 200 OK\r\nX-Long: ", std::string(64 * 1024, 'h'));
  Gateway gw({.connections = {openApi("head", up.server.url("/"))}, .io_threads = 1});
  const Reply r = fetch(gw.port(), "GET", "/api/head/x", {}, {}, 60s);
  EXPECT_EQ(r.status, 502) << r.raw.substr(0, 300);
  EXPECT_NE(r.body.find("api/head"), std::string::npos) << r.body;
  ASSERT_TRUE(up.done.wait(60s));
  EXPECT_LT(up.written.load(), kMaxAbsorbed);
}

TEST(UpstreamHostileTest, TrailerFieldsNeverBecomeHeadersOfTheAnswer) {
  // The head went through the header filter before the body was read; trailers come after
  // it and must not slip into the answer's headers.
  TestServer upstream([](TestConnection& c) {
    while (c.readRequest()) {
      if (!c.write(kChunkedJsonHead + chunk(R"({"ok":true})") +
                   "0\r\nX-Trailer: smuggled\r\nSet-Cookie: sid=upstream\r\n\r\n")) {
        return;
      }
    }
  });
  Gateway gw({.connections = {bearerMcp("demo", upstream.url("/mcp"))}});
  const Reply r = fetch(gw.port(), "POST", "/mcp/demo", kMcpPostHeaders, jsonrpc(1, "x"));
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body, R"({"ok":true})");
  EXPECT_FALSE(r.header("X-Trailer")) << r.raw;
}

// ---- defect 4: the pool never hands one answer's leftovers to the next call -----------------

struct DesyncCase {
  bool tls;
  bool extra_at_once;  // extra bytes written right after the answer (else once it arrived)
  bool next_is_other;  // the next call is another Tether connection's (another credential)
};

class PoolDesyncTest : public ::testing::TestWithParam<DesyncCase> {};

TEST_P(PoolDesyncTest, ExtraBytesAfterAnAnswerNeverReachTheNextCall) {
  const DesyncCase p = GetParam();
  testing::TestCa ca;
  const auto cert = ca.issueServerCert("up", {"IP:127.0.0.1"});
  Gate answered;       // the caller has the first answer
  Gate extra_written;  // the upstream wrote its extra bytes
  std::atomic<bool> extra_sent{false};
  const std::string fake =
      httpResponse(200, R"({"fake":"answer"})", {{"Content-Type", "application/json"}});
  TestServer upstream(
      [&](TestConnection& c) {
        while (auto req = c.readRequest()) {
          const std::string real =
              R"({"real":")" + req->header("Authorization").value_or("none") + "\"}";
          if (!c.write(httpResponse(200, real, {{"Content-Type", "application/json"}}))) return;
          if (extra_sent.exchange(true)) continue;
          if (!p.extra_at_once && !answered.wait()) return;
          c.write(fake);  // a whole second answer nobody asked for
          extra_written.open();
        }
      },
      {.tls = p.tls, .cert_path = cert.cert_path, .key_path = cert.key_path});
  ProxyOptions options;
  options.upstream_ca_bundle = ca.caCertPath();
  Gateway gw({.connections = {bearerMcp("a", upstream.url("/mcp"), "token-a"),
                              bearerMcp("b", upstream.url("/mcp"), "token-b")},
              .options = options,
              .io_threads = 1});

  const Reply first = fetch(gw.port(), "POST", "/mcp/a", kMcpPostHeaders, jsonrpc(1, "x"));
  ASSERT_EQ(first.status, 200) << first.raw;
  EXPECT_EQ(first.body, R"({"real":"Bearer token-a"})");
  answered.open();
  ASSERT_TRUE(extra_written.wait());
  // The upstream's socket (no TCP_NODELAY) holds the extra bytes back until the gateway
  // acknowledges the answer, which Linux may delay by up to 40 ms: let them arrive. (Bytes
  // that arrive only after the next request went out cannot be told from its answer; that
  // is why the pool is per Tether connection.)
  std::this_thread::sleep_for(200ms);

  const std::string name = p.next_is_other ? "b" : "a";
  const Reply next = fetch(gw.port(), "POST", "/mcp/" + name, kMcpPostHeaders, jsonrpc(2, "x"));
  ASSERT_EQ(next.status, 200) << next.raw;
  EXPECT_EQ(next.body, R"({"real":"Bearer token-)" + name + "\"}")
      << "the next call got bytes the upstream wrote after an earlier answer";
  EXPECT_EQ(upstream.requests().size(), 2u);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, PoolDesyncTest,
    ::testing::Values(DesyncCase{false, false, false}, DesyncCase{false, false, true},
                      DesyncCase{false, true, false}, DesyncCase{false, true, true},
                      DesyncCase{true, false, false}, DesyncCase{true, false, true},
                      DesyncCase{true, true, false}, DesyncCase{true, true, true}),
    [](const ::testing::TestParamInfo<DesyncCase>& info) {
      return std::string(info.param.tls ? "Tls" : "Plain") +
             (info.param.extra_at_once ? "AtOnce" : "Later") +
             (info.param.next_is_other ? "OtherConnection" : "SameConnection");
    });

TEST(UpstreamHostileTest, CallsOfTwoConnectionsNeverShareAnUpstreamSocket) {
  TestServer upstream(serveHttp([](const ReceivedRequest&) {
    return httpResponse(200, "{}", {{"Content-Type", "application/json"}});
  }));
  Gateway gw({.connections = {bearerMcp("a", upstream.url("/mcp"), "token-a"),
                              bearerMcp("b", upstream.url("/mcp"), "token-b")},
              .io_threads = 1});
  for (int i = 0; i < 3; ++i) {
    for (const char* name : {"a", "b"}) {
      ASSERT_EQ(
          fetch(gw.port(), "POST", std::string("/mcp/") + name, kMcpPostHeaders, jsonrpc(i, "ping"))
              .status,
          200);
    }
  }
  const auto reqs = upstream.requests();
  ASSERT_EQ(reqs.size(), 6u);
  size_t socket_of_a = 0, socket_of_b = 0;
  for (const auto& r : reqs) {
    size_t& socket = r.header("Authorization") == "Bearer token-a" ? socket_of_a : socket_of_b;
    if (socket == 0) socket = r.connection_id;
    EXPECT_EQ(r.connection_id, socket) << "each connection keeps to its own pooled socket";
  }
  EXPECT_NE(socket_of_a, socket_of_b);
  EXPECT_EQ(upstream.acceptedConnections(), 2u);
}

// ---- defect 5: a request the upstream may have run is never sent twice --------------------

// An upstream whose first socket answers one request, then reads the next and closes
// without answering; later sockets answer everything.
TestServer::Handler dropsTheSecondRequestOfItsFirstSocket(std::atomic<size_t>& sockets) {
  return [&sockets](TestConnection& c) {
    const size_t socket = ++sockets;
    int seen = 0;
    while (auto req = c.readRequest()) {
      if (socket == 1 && ++seen == 2) {
        c.close();
        return;
      }
      if (!c.write(httpResponse(200, R"({"ran":")" + req->target + "\"}",
                                {{"Content-Type", "application/json"}}))) {
        return;
      }
    }
  };
}

TEST(UpstreamHostileTest, APostTheUpstreamReadAndDroppedIs502AndNotSentAgain) {
  std::atomic<size_t> sockets{0};
  TestServer upstream(dropsTheSecondRequestOfItsFirstSocket(sockets));
  Gateway gw({.connections = {bearerMcp("demo", upstream.url("/mcp"))}, .io_threads = 1});
  ASSERT_EQ(fetch(gw.port(), "POST", "/mcp/demo", kMcpPostHeaders, jsonrpc(1, "x")).status, 200);
  const Reply r = fetch(gw.port(), "POST", "/mcp/demo", kMcpPostHeaders, jsonrpc(2, "x"));
  EXPECT_EQ(r.status, 502) << r.raw;
  EXPECT_NE(r.body.find("mcp/demo"), std::string::npos) << r.body;
  const auto reqs = upstream.requests();
  ASSERT_EQ(reqs.size(), 2u) << "the upstream received the second POST twice";
  EXPECT_EQ(reqs[1].body, jsonrpc(2, "x"));
}

TEST(UpstreamHostileTest, AGetTheUpstreamReadAndDroppedIsRetriedOnceOnAFreshSocket) {
  std::atomic<size_t> sockets{0};
  TestServer upstream(dropsTheSecondRequestOfItsFirstSocket(sockets));
  Gateway gw({.connections = {openApi("files", upstream.url("/"))}, .io_threads = 1});
  ASSERT_EQ(fetch(gw.port(), "GET", "/api/files/one").status, 200);
  const Reply r = fetch(gw.port(), "GET", "/api/files/two");
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body, R"({"ran":"/two"})");
  const auto reqs = upstream.requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[1].target, "/two");
  EXPECT_EQ(reqs[2].target, "/two");
  EXPECT_NE(reqs[1].connection_id, reqs[2].connection_id);
}

// ---- defect 13: statuses and interim answers -------------------------------------------------

TEST(UpstreamHostileTest, AStatusOutsideTheRangeIs502) {
  for (const std::string code : {"099", "000", "600", "999"}) {
    for (const bool chunked : {false, true}) {
      SCOPED_TRACE(code + (chunked ? " chunked" : " with a length"));
      const std::string answer =
          "HTTP/1.1 " + code + " Odd\r\nContent-Type: application/json\r\n" +
          (chunked ? "Transfer-Encoding: chunked\r\n\r\n" + chunk("{}") + "0\r\n\r\n"
                   : std::string("Content-Length: 2\r\n\r\n{}"));
      TestServer upstream(serveHttp([&](const ReceivedRequest&) { return answer; }));
      Gateway gw({.connections = {openApi("odd", upstream.url("/"))}});
      const Reply r = fetch(gw.port(), "GET", "/api/odd/x");
      EXPECT_EQ(r.status, 502) << r.raw;
      EXPECT_NE(r.body.find("api/odd"), std::string::npos) << r.body;
    }
  }
}

TEST(UpstreamHostileTest, InterimAnswersAreSkippedForTheFinalOne) {
  TestServer upstream([&](TestConnection& c) {
    if (!c.readRequest()) return;
    c.write(
        "HTTP/1.1 100 Continue\r\n\r\n"
        "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n");
    std::this_thread::sleep_for(50ms);  // the final answer in a later segment
    c.write(httpResponse(200, R"({"final":true})", {{"Content-Type", "application/json"}}));
    c.waitForPeerClose();
  });
  Gateway gw({.connections = {bearerMcp("demo", upstream.url("/mcp"))}});
  const Reply r = fetch(gw.port(), "POST", "/mcp/demo", kMcpPostHeaders, jsonrpc(1, "x"));
  EXPECT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body, R"({"final":true})");
  EXPECT_EQ(r.raw.find("HTTP/1.1 1"), std::string::npos) << r.raw;
}

TEST(UpstreamHostileTest, EndlessInterimAnswersAre502) {
  TestServer upstream([&](TestConnection& c) {
    if (!c.readRequest()) return;
    std::string interim;
    for (int i = 0; i < 1000; ++i) interim += "HTTP/1.1 102 Processing\r\n\r\n";
    c.write(interim);
    c.write(httpResponse(200, "{}", {{"Content-Type", "application/json"}}));
    c.waitForPeerClose();
  });
  Gateway gw({.connections = {bearerMcp("chatty", upstream.url("/mcp"))}});
  const Reply r = fetch(gw.port(), "POST", "/mcp/chatty", kMcpPostHeaders, jsonrpc(1, "x"));
  EXPECT_EQ(r.status, 502) << r.raw;
  EXPECT_NE(r.body.find("mcp/chatty"), std::string::npos) << r.body;
}

// ---- memory: what a stream holds while it waits ---------------------------------------------

// An SSE stream that sent a burst (1 MiB of events) and then waits for hours, as standalone
// GET streams do, must not keep the read buffer the burst needed: thousands of them are held
// open at once (issue 17: at most 16 KiB per idle stream in all).
TEST(UpstreamMemoryTest, AStreamIdleAfterABurstReleasesItsReadBuffer) {
  Gate release;
  TestServer upstream([&](TestConnection& c) {
    if (!c.readRequest()) return;
    std::string burst =
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n";
    const std::string event = "data: " + std::string(4000, 'x') + "\n\n";
    while (burst.size() < kMiB) burst += chunk(event);
    burst += chunk("data: end of burst\n\n");
    if (!c.write(burst)) return;
    release.wait(60s);  // then idle, the stream open
    c.close();
  });
  Gateway gw({.connections = {bearerMcp("demo", upstream.url("/mcp"))}, .io_threads = 1});
  RawConnection client(gw.port());
  client.send(requestText("GET", "/mcp/demo", {{"Accept", "text/event-stream"}}, ""));
  const std::string got = client.readUntil("end of burst", 30s);
  ASSERT_NE(got.find("end of burst"), std::string::npos) << got.substr(0, 300);
  EXPECT_GE(got.size(), kMiB);
  // All of it reached the client; the stream now waits for the upstream.
  const bool released = eventually([] { return upstream::readBufferBytes() <= 4 * 1024; }, 10s);
  EXPECT_TRUE(released) << upstream::readBufferBytes() << " bytes held by an idle stream";
  release.open();
}

}  // namespace
}  // namespace tether::gateway

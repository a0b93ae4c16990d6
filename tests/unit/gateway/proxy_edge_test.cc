// The proxy's edge policy, in one process over loopback (issue 20, defects 6, 7 and 13):
// which Host names and fetch contexts may reach the gateway routes (DNS rebinding), what
// every relayed answer carries so upstream content never runs with the portal's authority,
// and which request targets never reach an upstream.

#include <gtest/gtest.h>

// Designated initializers that leave members at their defaults read best for test setups.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#include <algorithm>
#include <string>

#include "core/encoding.h"
#include "gateway/proxy.h"
#include "unit/gateway/proxy_fixture.h"

namespace tether::gateway {
namespace {

using namespace std::chrono_literals;
using namespace testing::proxy;

struct Answer {
  int status = 0;
  std::string head;  // status line and headers, CRLF separated
  std::string body;  // as sent (still chunked for a streamed answer)

  /// Every value of header `name` (case-insensitive).
  std::vector<std::string> all(std::string_view name) const {
    std::vector<std::string> out;
    size_t pos = head.find("\r\n");
    while (pos != std::string::npos && pos + 2 < head.size()) {
      const size_t start = pos + 2;
      const size_t eol = head.find("\r\n", start);
      const std::string line = head.substr(start, eol == std::string::npos ? eol : eol - start);
      const size_t colon = line.find(':');
      if (colon != std::string::npos && colon == name.size() &&
          core::iequals(std::string_view(line).substr(0, colon), name)) {
        std::string value = line.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') value.erase(0, 1);
        out.push_back(value);
      }
      pos = eol;
    }
    return out;
  }
  std::optional<std::string> header(std::string_view name) const {
    auto v = all(name);
    if (v.empty()) return std::nullopt;
    return v.front();
  }
};

// One request with a chosen Host (and raw target), answered before the connection closes.
Answer send(uint16_t port, std::string_view method, std::string_view target, std::string_view host,
            const std::vector<std::pair<std::string, std::string>>& extra = {}) {
  std::string req = std::string(method) + " " + std::string(target) + " HTTP/1.1\r\n";
  req += "Host: " + std::string(host) + "\r\n";
  for (const auto& [n, v] : extra) req += n + ": " + v + "\r\n";
  req += "Content-Length: 0\r\nConnection: close\r\n\r\n";
  RawConnection c(port);
  EXPECT_TRUE(c.connected());
  c.send(req);
  EXPECT_TRUE(c.readUntilClosed(10s)) << "no complete answer in time";
  Answer a;
  const std::string& raw = c.received();
  a.status = testing::statusOf(raw);
  const size_t end = raw.find("\r\n\r\n");
  a.head = raw.substr(0, end);
  if (end != std::string::npos) a.body = raw.substr(end + 4);
  return a;
}

std::string local(uint16_t port) { return "127.0.0.1:" + std::to_string(port); }

TestServer okUpstream() {
  return TestServer(serveHttp([](const ReceivedRequest&) {
    return httpResponse(200, R"({"secret":"upstream data"})",
                        {{"Content-Type", "application/json"}});
  }));
}

// ---- defect 6: DNS rebinding --------------------------------------------------------------

TEST(ProxyEdgeTest, AReboundHostNameGets403OnGatewayGets) {
  TestServer upstream = okUpstream();
  Gateway gw({.connections = {bearerApi("crm", upstream.url("/v1")),
                              bearerMcp("demo", upstream.url("/mcp"))}});
  const std::string port = std::to_string(gw.port());
  // A page on rebound.test whose name now resolves to 127.0.0.1: same-origin GETs carry
  // no Origin, only the page's own host name.
  for (const char* target : {"/api/crm/items", "/mcp/demo"}) {
    const Answer a = send(gw.port(), "GET", target, "rebound.test:" + port);
    EXPECT_EQ(a.status, 403) << target << "\n" << a.head;
    EXPECT_NE(a.body.find("allowed_hosts"), std::string::npos) << a.body;
    EXPECT_EQ(a.body.find("upstream data"), std::string::npos);
  }
  EXPECT_TRUE(upstream.requests().empty());
  // The loopback names with the listener's port are this gateway's own.
  for (const std::string& host : {local(gw.port()), "localhost:" + port, "[::1]:" + port}) {
    const Answer a = send(gw.port(), "GET", "/api/crm/items", host);
    EXPECT_EQ(a.status, 200) << host << "\n" << a.head;
  }
}

TEST(ProxyEdgeTest, TheRefusalNamesTheRuleWithoutEchoingAHugeHost) {
  TestServer upstream = okUpstream();
  Gateway gw({.connections = {bearerApi("crm", upstream.url("/v1"))}});
  const std::string huge(4000, 'h');
  const Answer a = send(gw.port(), "GET", "/api/crm/x", huge + ".example");
  EXPECT_EQ(a.status, 403);
  EXPECT_LT(a.body.size(), 1000u) << a.body.substr(0, 200);
  EXPECT_NE(a.body.find("Host"), std::string::npos);
  EXPECT_TRUE(upstream.requests().empty());
}

TEST(ProxyEdgeTest, CrossSiteFetchesAreRefusedOnGatewayRoutes) {
  TestServer upstream = okUpstream();
  Gateway gw({.connections = {bearerApi("crm", upstream.url("/v1"))}});
  const Answer cross =
      send(gw.port(), "GET", "/api/crm/x", local(gw.port()), {{"Sec-Fetch-Site", "cross-site"}});
  EXPECT_EQ(cross.status, 403) << cross.head;
  EXPECT_NE(cross.body.find("Sec-Fetch-Site"), std::string::npos) << cross.body;
  EXPECT_TRUE(upstream.requests().empty());
  for (const char* site : {"same-origin", "none"}) {
    EXPECT_EQ(
        send(gw.port(), "GET", "/api/crm/x", local(gw.port()), {{"Sec-Fetch-Site", site}}).status,
        200)
        << site;
  }
}

// ---- defect 7: relayed answers never run with the portal's authority ---------------------

TEST(ProxyEdgeTest, WholeAnswersAreSandboxedAndLoseSetCookie) {
  TestServer upstream(serveHttp([](const ReceivedRequest&) {
    return httpResponse(200, "<script>fetch('/api/v1/admin/session')</script>",
                        {{"Content-Type", "text/html"},
                         {"Set-Cookie", "tether_session=forged; Path=/"},
                         {"Content-Security-Policy", "default-src 'self'"},
                         {"X-Content-Type-Options", "sniff-please"}});
  }));
  Gateway gw({.connections = {bearerApi("crm", upstream.url("/v1"))}});
  const Answer a = send(gw.port(), "GET", "/api/crm/page", local(gw.port()));
  ASSERT_EQ(a.status, 200) << a.head;
  EXPECT_TRUE(a.all("Set-Cookie").empty()) << a.head;
  EXPECT_EQ(a.all("X-Content-Type-Options"), std::vector<std::string>{"nosniff"}) << a.head;
  const auto csp = a.all("Content-Security-Policy");
  EXPECT_NE(std::find(csp.begin(), csp.end(), "sandbox"), csp.end()) << a.head;
}

TEST(ProxyEdgeTest, StreamedAnswersAreSandboxedAndLoseSetCookie) {
  TestServer upstream([](TestConnection& c) {
    if (!c.readRequest()) return;
    c.write(
        "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nSet-Cookie: a=b\r\n"
        "Transfer-Encoding: chunked\r\n\r\n5\r\n<b>x<\r\n0\r\n\r\n");
  });
  Gateway gw({.connections = {bearerApi("crm", upstream.url("/v1"))}});
  const Answer a = send(gw.port(), "GET", "/api/crm/page", local(gw.port()));
  ASSERT_EQ(a.status, 200) << a.head;
  EXPECT_TRUE(a.all("Set-Cookie").empty()) << a.head;
  EXPECT_EQ(a.header("X-Content-Type-Options"), "nosniff") << a.head;
  EXPECT_EQ(a.header("Content-Security-Policy"), "sandbox") << a.head;
}

TEST(ProxyEdgeTest, AConnectionMayOptInToSetCookie) {
  TestServer upstream(serveHttp([](const ReceivedRequest&) {
    return httpResponse(200, "ok", {{"Set-Cookie", "app=1; Path=/api/shop"}});
  }));
  auto shop = bearerApi("shop", upstream.url("/"));
  shop.forward_set_cookie = true;
  Gateway gw({.connections = {shop}});
  const Answer a = send(gw.port(), "GET", "/api/shop/login", local(gw.port()));
  ASSERT_EQ(a.status, 200) << a.head;
  EXPECT_EQ(a.all("Set-Cookie"), std::vector<std::string>{"app=1; Path=/api/shop"});
  EXPECT_EQ(a.header("X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(a.header("Content-Security-Policy"), "sandbox");
}

// ---- defect 13: request targets that never reach an upstream -----------------------------

TEST(ProxyEdgeTest, ApiPathTricksAre400AndNeverReachTheUpstream) {
  TestServer upstream = okUpstream();
  Gateway gw({.connections = {bearerApi("crm", upstream.url("/base"))}});
  const std::string host = local(gw.port());
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"/api/crm/a%2fb", "encoded"},
      {"/api/crm/..%2fadmin", "encoded"},
      {"/api/crm/..%2Fadmin", "encoded"},
      {"/api/crm/%2e%2e%2fadmin", "encoded"},
      {"/api/crm/..%5cadmin", "encoded"},
      {"/api/crm/..%5Cadmin", "encoded"},
      {"/api/crm/..\\admin", "backslash"},
      {"/api/crm/%2e%2e/admin", "segment"},
      {"/api/crm/.%2e/admin", "segment"},
      {"/api/crm/%2e./admin", "segment"},
      {"/api/crm/../admin", "segment"},
      {"/api/crm/./admin", "segment"},
      {"/api/crm/x#fragment", "fragment"},
      {"/api/crm/x?q=1#fragment", "fragment"},
      {"/api/crm/caf\xc3\xa9", "non-ASCII"},
      {"/api/crm/x?q=\xff", "non-ASCII"},
      {"/api/crm/a\x01"
       "b",
       ""},  // control bytes: refused (by the server or the proxy)
  };
  for (const auto& [target, problem] : cases) {
    const Answer a = send(gw.port(), "GET", target, host);
    EXPECT_EQ(a.status, 400) << target << "\n" << a.head;
    EXPECT_NE(a.body.find(problem), std::string::npos) << target << ": " << a.body;
  }
  EXPECT_TRUE(upstream.requests().empty()) << upstream.requests().front().target;
  // Ordinary encodings still pass, untouched.
  EXPECT_EQ(send(gw.port(), "GET", "/api/crm/a%20b/c.d/..e?x=%2F", host).status, 200);
  ASSERT_EQ(upstream.requests().size(), 1u);
  EXPECT_EQ(upstream.requests()[0].target, "/base/a%20b/c.d/..e?x=%2F");
}

}  // namespace
}  // namespace tether::gateway

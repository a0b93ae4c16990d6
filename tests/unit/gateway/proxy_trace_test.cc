// W3C trace context through the proxy, and the access log line of a proxied request: the
// upstream sees a valid traceparent (and tracestate) unchanged and never an invalid one; the
// log line names the route, the connection, the client key and the trace id, and no query.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <mutex>

#include "core/digest.h"
#include "core/log.h"
#include "unit/gateway/proxy_fixture.h"

namespace tether::gateway {
namespace {

using namespace testing::proxy;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr std::string_view kTraceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
const std::string kClientKey = "client-key-for-trace-tests-0001";

// Captures the process logs (JSON) for one test.
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
  // The access log lines ("msg":"request").
  std::string requests() {
    std::string out;
    const std::string all = text();
    size_t start = 0;
    while (start < all.size()) {
      const size_t end = all.find('\n', start);
      const std::string line = all.substr(start, end - start);
      if (line.find("\"msg\":\"request\"") != std::string::npos) out += line + "\n";
      start = end + 1;
    }
    return out;
  }

 private:
  std::mutex mu_;
  std::string lines_;
};

TestServer recordingUpstream() {
  return TestServer(serveHttp([](const ReceivedRequest&) {
    return httpResponse(200, "{}", {{"Content-Type", "application/json"}});
  }));
}

testing::GatewaySetup setupFor(const TestServer& upstream) {
  testing::GatewaySetup setup;
  setup.connections = {bearerApi("crm", upstream.url("/v1/")),
                       bearerMcp("docs", upstream.url("/mcp"))};
  config::AccessKey key;
  key.id = "ci-bot";
  key.key = kClientKey;
  key.sha256 = core::sha256(kClientKey);
  setup.options.client_keys = {key};
  return setup;
}

TEST(ProxyTraceTest, AValidTraceparentAndTracestateReachTheUpstreamUnchanged) {
  TestServer upstream = recordingUpstream();
  Gateway gw(setupFor(upstream));
  const http::Headers headers = {{"Authorization", "Bearer " + kClientKey},
                                 {"traceparent", std::string(kTraceparent)},
                                 {"tracestate", "vendor=opaque,other=1"}};
  ASSERT_EQ(fetch(gw.port(), "GET", "/api/crm/items", headers).status, 200);
  http::Headers mcp = kMcpPostHeaders;
  mcp.insert(mcp.end(), headers.begin(), headers.end());
  ASSERT_EQ(fetch(gw.port(), "POST", "/mcp/docs", mcp, jsonrpc(1, "tools/list")).status, 200);
  const auto reqs = upstream.requests();
  ASSERT_EQ(reqs.size(), 2u);
  for (const auto& up : reqs) {
    EXPECT_EQ(up.header("traceparent"), std::string(kTraceparent)) << up.target;
    EXPECT_EQ(up.header("tracestate"), "vendor=opaque,other=1") << up.target;
  }
}

TEST(ProxyTraceTest, InvalidOrRepeatedTraceparentsAreDroppedWithTheirTracestate) {
  TestServer upstream = recordingUpstream();
  Gateway gw(setupFor(upstream));
  const std::vector<http::Headers> cases = {
      {{"traceparent", "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}},
      {{"traceparent", "00-00000000000000000000000000000000-00f067aa0ba902b7-01"}},
      {{"traceparent", "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"}},
      {{"traceparent", std::string(kTraceparent)}, {"traceparent", std::string(kTraceparent)}},
      {{"tracestate", "vendor=alone"}},
  };
  for (auto headers : cases) {
    headers.push_back({"Authorization", "Bearer " + kClientKey});
    headers.push_back({"tracestate", "vendor=x"});
    ASSERT_EQ(fetch(gw.port(), "GET", "/api/crm/items", headers).status, 200);
  }
  for (const auto& up : upstream.requests()) {
    EXPECT_FALSE(up.header("traceparent")) << *up.header("traceparent");
    EXPECT_FALSE(up.header("tracestate"));
  }
}

TEST(ProxyTraceTest, TheAccessLogLineNamesRouteConnectionSubjectAndTraceIdButNoQuery) {
  TestServer upstream = recordingUpstream();
  Gateway gw(setupFor(upstream));
  LogCapture logs;
  ASSERT_EQ(fetch(gw.port(), "GET", "/api/crm/items?code=SECRETCODE&state=SECRETSTATE",
                  {{"Authorization", "Bearer " + kClientKey},
                   {"traceparent", std::string(kTraceparent)},
                   {"X-Request-Id", "req-trace-1"}})
                .status,
            200);
  ASSERT_TRUE(eventually([&] { return !logs.requests().empty(); })) << logs.text();
  const std::string line = logs.requests();
  EXPECT_THAT(line, HasSubstr("\"level\":\"info\""));
  EXPECT_THAT(line, HasSubstr("\"method\":\"GET\""));
  EXPECT_THAT(line, HasSubstr("\"route\":\"/api/{name}/{path*}\""));
  EXPECT_THAT(line, HasSubstr("\"connection\":\"api/crm\""));
  EXPECT_THAT(line, HasSubstr("\"status\":200"));
  EXPECT_THAT(line, HasSubstr("\"duration_ms\":"));
  EXPECT_THAT(line, HasSubstr("\"subject\":\"ci-bot\""));
  EXPECT_THAT(line, HasSubstr("\"request_id\":\"req-trace-1\""));
  EXPECT_THAT(line, HasSubstr("\"trace_id\":\"4bf92f3577b34da6a3ce929d0e0e4736\""));
  EXPECT_THAT(logs.text(), Not(HasSubstr("SECRETCODE")));
  EXPECT_THAT(logs.text(), Not(HasSubstr("SECRETSTATE")));
  EXPECT_THAT(logs.text(), Not(HasSubstr(kClientKey)));

  // A refused caller: no subject, no connection.
  ASSERT_EQ(fetch(gw.port(), "GET", "/api/crm/items").status, 401);
  ASSERT_TRUE(
      eventually([&] { return logs.requests().find("\"status\":401") != std::string::npos; }));
  const std::string all = logs.requests();
  const std::string refused = all.substr(all.find("\"status\":401"));
  EXPECT_THAT(refused, HasSubstr("\"subject\":\"\""));
}

}  // namespace
}  // namespace tether::gateway

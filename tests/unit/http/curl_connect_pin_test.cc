// The outbound client with a ConnectGuard: the decision is made on the addresses the client
// itself resolved, before any connection, and the connection goes to a checked address.
// Loopback only: names come from an injected resolver, never from DNS.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>

#include "http/http_client.h"
#include "support/counting_listener.h"

namespace tether::http {
namespace {

using testing::CountingListener;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

// Refuses every address that is not public; remembers what it was asked.
class PublicOnly final : public ConnectGuard {
 public:
  std::string refusal(const UrlTarget& target, const IpAddress& address) const override {
    std::lock_guard lock(mu_);
    asked_.push_back(target.host + " " + address.str());
    const auto c = classifyAddress(address);
    if (c.cls == AddressClass::kPublic) return {};
    return target.host + " resolves to " + describeAddress(address, c);
  }
  std::vector<std::string> asked() const {
    std::lock_guard lock(mu_);
    return asked_;
  }

 private:
  mutable std::mutex mu_;
  mutable std::vector<std::string> asked_;
};

class AllowAll final : public ConnectGuard {
 public:
  std::string refusal(const UrlTarget&, const IpAddress&) const override { return {}; }
};

struct Fixture {
  std::map<std::string, std::vector<std::string>> names;
  std::atomic<int> lookups{0};
  std::unique_ptr<HttpClient> client;

  Fixture() {
    HttpClientOptions o;
    o.worker_threads = 1;
    o.resolver = [this](const std::string& host,
                        std::chrono::milliseconds) -> core::Result<std::vector<IpAddress>> {
      lookups.fetch_add(1);
      auto it = names.find(host);
      if (it == names.end()) return core::Error(core::Errc::kNotFound, host + " does not resolve");
      std::vector<IpAddress> out;
      for (const auto& a : it->second) out.push_back(*IpAddress::parse(a));
      return out;
    };
    client = makeHttpClient(o);
  }

  ClientResult get(const std::string& url, std::shared_ptr<const ConnectGuard> guard) {
    ClientRequest r;
    r.url = url;
    r.connect_timeout = 2s;
    r.total_timeout = 3s;
    r.connect_guard = std::move(guard);
    return client->send(r);
  }
};

TEST(ConnectGuard, EveryResolvedAddressIsCheckedBeforeAnyConnection) {
  CountingListener listener;
  Fixture f;
  f.names["127.0.0.1.evil.example"] = {"127.0.0.2"};
  f.names["mixed.test"] = {"8.8.8.8", "2606:4700::1111", "::ffff:127.0.0.2"};
  std::string port = ":";  // appended: g++ 12 -O3 misreports ":" + s (-Wrestrict)
  port += std::to_string(listener.port());
  auto guard = std::make_shared<PublicOnly>();

  auto evil = f.get("http://127.0.0.1.evil.example" + port + "/", guard);
  EXPECT_EQ(evil.error, TransportError::kInvalidRequest);
  EXPECT_THAT(evil.error_message,
              HasSubstr("127.0.0.1.evil.example resolves to a loopback address 127.0.0.2"));
  EXPECT_FALSE(evil.request_sent);

  auto mixed = f.get("https://mixed.test" + port + "/", guard);
  EXPECT_EQ(mixed.error, TransportError::kInvalidRequest);
  EXPECT_THAT(mixed.error_message, HasSubstr("(embedded in ::ffff:127.0.0.2)"));

  // IP literals in any spelling are judged as the address libcurl would connect to.
  for (const char* host : {"0x7f000002", "2130706434", "0177.0.0.2", "127.2", "[::ffff:7f00:2]"}) {
    auto literal = f.get(std::string("http://") + host + port + "/", guard);
    EXPECT_EQ(literal.error, TransportError::kInvalidRequest) << host;
    EXPECT_THAT(literal.error_message, HasSubstr("loopback address 127.0.0.2")) << host;
  }
  EXPECT_EQ(listener.accepted(), 0);
  EXPECT_EQ(f.lookups.load(), 2);  // names only; literals are not looked up

  auto unknown = f.get("http://nowhere.test" + port + "/", guard);
  EXPECT_EQ(unknown.error, TransportError::kDns);
}

TEST(ConnectGuard, TheConnectionGoesToTheCheckedAddress) {
  CountingListener listener;
  Fixture f;
  f.names["pinned.test"] = {"127.0.0.2"};
  const std::string url = "http://pinned.test:" + std::to_string(listener.port()) + "/";
  auto guard = std::make_shared<AllowAll>();
  // No DNS knows pinned.test: the listener is reached through the pin alone (it hangs up).
  for (int i = 0; i < 2; ++i) {
    auto r = f.get(url, guard);
    EXPECT_NE(r.error, TransportError::kDns) << r.error_message;
    EXPECT_NE(r.error, TransportError::kNone);
  }
  EXPECT_EQ(listener.accepted(), 2);
  EXPECT_EQ(f.lookups.load(), 2);  // resolved afresh each time: no cached decision

  // A later unguarded request is not steered by the pin (no DNS entry leaked into the pool).
  ClientRequest plain;
  plain.url = url;
  plain.connect_timeout = 2s;
  plain.total_timeout = 3s;
  auto r = f.client->send(plain);
  EXPECT_EQ(listener.accepted(), 2) << transportErrorName(r.error) << " " << r.error_message;
}

// Through a proxy the proxy's address (here loopback) is the operator's choice: a guarded
// request still checks the target it could resolve, then connects to the proxy only.
TEST(ConnectGuard, AProxyIsReachedAndTheTargetStillChecked) {
  CountingListener proxy("127.0.0.3");
  CountingListener target;
  Fixture f;
  f.names["public.test"] = {"8.8.8.8"};
  f.names["internal.test"] = {"127.0.0.2"};
  std::string proxy_url = "http://127.0.0.3:";  // appended: g++ 12 -Wrestrict
  proxy_url += std::to_string(proxy.port());
  ::setenv("https_proxy", proxy_url.c_str(), 1);
  auto guard = std::make_shared<PublicOnly>();
  ClientRequest r;
  r.url = "https://internal.test:" + std::to_string(target.port()) + "/";
  r.connect_timeout = 2s;
  r.total_timeout = 3s;
  r.use_proxy = true;
  r.connect_guard = guard;
  auto refused = f.client->send(r);
  EXPECT_EQ(refused.error, TransportError::kInvalidRequest);
  EXPECT_EQ(proxy.accepted(), 0);

  r.url = "https://public.test/";
  auto through = f.client->send(r);  // the proxy hangs up: a failure, after one connection
  EXPECT_NE(through.error, TransportError::kNone);
  EXPECT_NE(through.error, TransportError::kInvalidRequest) << through.error_message;
  ::unsetenv("https_proxy");
  EXPECT_EQ(proxy.accepted(), 1);
  EXPECT_EQ(target.accepted(), 0);
}

}  // namespace
}  // namespace tether::http

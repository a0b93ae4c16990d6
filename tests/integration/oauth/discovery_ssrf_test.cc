// Issue 20, 8: the SSRF guard of discovery decides on the address libcurl actually connects
// to. Every refused URL here points at a listener on 127.0.0.2 that counts the connections it
// accepts: a refusal must come before any connection (no traffic leaves loopback).

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "http/http_client.h"
#include "oauth/discovery.h"
#include "support/counting_listener.h"

namespace tether::oauth {
namespace {

using testing::CountingListener;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

DiscoveryOptions quickOptions() {
  DiscoveryOptions o;
  o.use_proxy = false;
  o.connect_timeout = 2'000ms;
  o.total_timeout = 3'000ms;
  return o;
}

// Every spelling of 127.0.0.2 that boost::urls reads as a name or hides in IPv6.
const char* const kLoopbackForms[] = {
    "0x7f000002",      "2130706434",        "0177.0.0.2",    "127.2",
    "0x7f.0.0.2",      "%31%32%37.0.0.2",   "[::127.0.0.2]", "[::ffff:127.0.0.2]",
    "[::ffff:7f00:2]", "[64:ff9b::7f00:2]",
};

TEST(DiscoverySsrf, NonCanonicalLoopbackIsRefusedBeforeAnyConnection) {
  CountingListener listener;
  auto http = http::makeHttpClient();
  Discovery discovery(*http, quickOptions());
  for (const char* form : kLoopbackForms) {
    const std::string base = std::string("https://") + form + ":" + std::to_string(listener.port());
    auto metadata = discovery.authorizationServer(base + "/tenant");
    ASSERT_FALSE(metadata.ok()) << base;
    EXPECT_THAT(metadata.error().message, HasSubstr("loopback address")) << base;
    EXPECT_THAT(metadata.error().message, HasSubstr("discovery.allowed_hosts")) << base;

    auto registered = discovery.registerClient(base + "/register", RegistrationRequest{});
    ASSERT_FALSE(registered.ok()) << base;
    EXPECT_THAT(registered.error().message, HasSubstr("loopback address")) << base;

    auto resource = discovery.protectedResource("https://mcp.example/mcp",
                                                base + "/.well-known/oauth-protected-resource");
    ASSERT_FALSE(resource.ok()) << base;
    EXPECT_THAT(resource.error().message, HasSubstr("loopback address")) << base;
  }
  EXPECT_EQ(listener.accepted(), 0);
}

// Names resolved by the test, never by DNS: "*.rebind.test" leads where the map says.
http::HttpClientOptions resolvingOptions() {
  http::HttpClientOptions o;
  o.resolver = [](const std::string& host,
                  std::chrono::milliseconds) -> core::Result<std::vector<http::IpAddress>> {
    if (host == "idp.rebind.test" || host == "127.0.0.1.evil.example") {
      return std::vector<http::IpAddress>{*http::IpAddress::parse("127.0.0.2")};
    }
    if (host == "mixed.rebind.test") {  // one public answer, one internal
      return std::vector<http::IpAddress>{*http::IpAddress::parse("8.8.8.8"),
                                          *http::IpAddress::parse("::ffff:169.254.169.254")};
    }
    if (host == "public.rebind.test") {
      return std::vector<http::IpAddress>{*http::IpAddress::parse("2606:4700::1111")};
    }
    return core::Error(core::Errc::kNotFound, "the host name " + host + " does not resolve");
  };
  return o;
}

TEST(DiscoverySsrf, ANameThatResolvesInternallyIsRefusedBeforeAnyConnection) {
  CountingListener listener;
  auto http = http::makeHttpClient(resolvingOptions());
  Discovery discovery(*http, quickOptions());
  const std::string port = std::to_string(listener.port());

  auto rebound = discovery.authorizationServer("https://idp.rebind.test:" + port + "/tenant");
  ASSERT_FALSE(rebound.ok());
  EXPECT_THAT(rebound.error().message,
              HasSubstr("idp.rebind.test resolves to a loopback address 127.0.0.2, not allowed "
                        "for discovery"));

  auto mixed = discovery.registerClient("https://mixed.rebind.test:" + port + "/register",
                                        RegistrationRequest{});
  ASSERT_FALSE(mixed.ok());
  EXPECT_THAT(mixed.error().message,
              HasSubstr("mixed.rebind.test resolves to a link-local address 169.254.169.254"));

  // boost::urls reads this host as 127.0.0.1, libcurl resolves it by name: refused either way.
  DiscoveryOptions listed = quickOptions();
  listed.policy.allowed_hosts = {"127.0.0.1"};
  Discovery with_list(*http, listed);
  for (const char* scheme : {"http", "https"}) {
    auto evil = with_list.registerClient(
        std::string(scheme) + "://127.0.0.1.evil.example:" + port + "/register",
        RegistrationRequest{});
    ASSERT_FALSE(evil.ok());
    EXPECT_THAT(evil.error().message, HasSubstr("127.0.0.1.evil.example"));
  }
  EXPECT_EQ(listener.accepted(), 0);
}

TEST(DiscoverySsrf, AnAllowedNameIsConnectedToTheAddressThatWasChecked) {
  CountingListener listener;
  auto http = http::makeHttpClient(resolvingOptions());
  DiscoveryOptions o = quickOptions();
  o.policy.allowed_hosts = {"idp.rebind.test"};
  Discovery discovery(*http, o);
  // "idp.rebind.test" has no DNS record: reaching the listener proves the connection went
  // to the address the guard saw (then the TLS handshake fails: the listener hangs up).
  auto got = discovery.registerClient(
      "https://idp.rebind.test:" + std::to_string(listener.port()) + "/register",
      RegistrationRequest{});
  ASSERT_FALSE(got.ok());
  EXPECT_THAT(got.error().message, ::testing::Not(HasSubstr("resolve")));
  EXPECT_EQ(listener.accepted(), 1);
}

}  // namespace
}  // namespace tether::oauth

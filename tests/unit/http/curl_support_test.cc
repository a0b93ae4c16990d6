// parseClientUrl (declared in http_client.h, implemented in curl_support.cc).
#include <gtest/gtest.h>

#include <utility>

#include "http/http_client.h"

namespace tether::http {
namespace {

// The host libcurl connects to, whatever the spelling (the host every policy must judge).
TEST(ParseClientUrl, NormalisesHostsAsTheConnectingParserDoes) {
  const std::pair<const char*, const char*> cases[] = {
      {"https://0x7f000002/", "127.0.0.2"},
      {"https://2130706434/", "127.0.0.2"},
      {"https://0177.0.0.2/", "127.0.0.2"},
      {"https://127.2/", "127.0.0.2"},
      {"https://%31%32%37.0.0.2/", "127.0.0.2"},
      {"https://[::FFFF:127.0.0.2]:8443/x", "::ffff:127.0.0.2"},
      {"http://127.0.0.1.evil.example/", "127.0.0.1.evil.example"},
      {"https://IdP.Example.COM/x?y#z", "idp.example.com"},
  };
  for (const auto& [url, host] : cases) {
    auto t = parseClientUrl(url);
    ASSERT_TRUE(t) << url;
    EXPECT_EQ(t->host, host) << url;
  }
  EXPECT_EQ(parseClientUrl("https://a.example/")->port, 443);
  EXPECT_EQ(parseClientUrl("http://a.example/")->port, 80);
  EXPECT_EQ(parseClientUrl("http://a.example:8080/")->port, 8080);
  EXPECT_FALSE(parseClientUrl("ftp://a.example/"));
  EXPECT_FALSE(parseClientUrl("/relative"));
}

}  // namespace
}  // namespace tether::http

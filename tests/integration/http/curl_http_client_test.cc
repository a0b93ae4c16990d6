// Integration tests of the libcurl HttpClient against local scripted servers (plain and TLS)
// on 127.0.0.1 with OS-chosen ports. Deadlines are real but short, and only where the test is
// about a deadline.

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "http/http_client.h"
#include "support/test_certs.h"
#include "support/tls_test_server.h"

namespace tether::http {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using tether::testing::CertKeyFiles;
using tether::testing::httpResponse;
using tether::testing::ReceivedRequest;
using tether::testing::serveHttp;
using tether::testing::TestCa;
using tether::testing::TestConnection;
using tether::testing::TestServer;
using tether::testing::TestServerOptions;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr milliseconds kShortDeadline{300};

std::unique_ptr<HttpClient> newClient(size_t workers = 4) {
  return makeHttpClient({.worker_threads = workers, .user_agent = "tether-test"});
}

ClientRequest get(std::string url) {
  ClientRequest r;
  r.url = std::move(url);
  r.connect_timeout = milliseconds(2'000);
  r.total_timeout = milliseconds(5'000);
  return r;
}

milliseconds since(Clock::time_point start) {
  return std::chrono::duration_cast<milliseconds>(Clock::now() - start);
}

// Sets the proxy variables for one test and restores the process environment afterwards.
class ScopedProxyEnv {
 public:
  explicit ScopedProxyEnv(const std::map<std::string, std::string>& values) {
    for (const char* name : kNames) {
      const char* old = std::getenv(name);
      saved_.emplace_back(name, old ? std::optional<std::string>(old) : std::nullopt);
      unsetenv(name);
    }
    for (const auto& [name, value] : values) setenv(name.c_str(), value.c_str(), 1);
  }
  ~ScopedProxyEnv() {
    for (const auto& [name, value] : saved_) {
      if (value) {
        setenv(name.c_str(), value->c_str(), 1);
      } else {
        unsetenv(name.c_str());
      }
    }
  }

 private:
  static constexpr std::array<const char*, 8> kNames = {"http_proxy",  "HTTP_PROXY", "https_proxy",
                                                        "HTTPS_PROXY", "no_proxy",   "NO_PROXY",
                                                        "all_proxy",   "ALL_PROXY"};
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

// ---- plain HTTP round trips ------------------------------------------------------------------

TEST(HttpClientTest, GetRoundTripSendsExactlyTheGivenHeaders) {
  TestServer server(serveHttp([](const ReceivedRequest&) {
    return httpResponse(200, "hello",
                        {{"Content-Type", "text/plain"},
                         {"WWW-Authenticate", "Bearer realm=\"a\""},
                         {"X-Multi", "one"},
                         {"WWW-Authenticate", "Basic realm=\"b\""},
                         {"X-Multi", "two"}});
  }));
  auto client = newClient();
  ClientRequest request = get(server.url("/path/x?q=1&r=two"));
  request.headers = {{"X-Custom", "value 1"}, {"Authorization", "Bearer tok"}};

  const ClientResult result = client->send(request);

  ASSERT_TRUE(result.ok()) << result.error_message;
  EXPECT_TRUE(result.request_sent);
  EXPECT_EQ(result.response.status, 200);
  EXPECT_EQ(result.response.body, "hello");
  const Headers expected_headers = {{"Content-Type", "text/plain"},
                                    {"WWW-Authenticate", "Bearer realm=\"a\""},
                                    {"X-Multi", "one"},
                                    {"WWW-Authenticate", "Basic realm=\"b\""},
                                    {"X-Multi", "two"},
                                    {"Content-Length", "5"}};
  ASSERT_EQ(result.response.headers.size(), expected_headers.size());
  for (size_t i = 0; i < expected_headers.size(); ++i) {
    EXPECT_EQ(result.response.headers[i].name, expected_headers[i].name);
    EXPECT_EQ(result.response.headers[i].value, expected_headers[i].value);
  }

  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  // No Accept, no Expect, no Content-Type: exactly Host, the user agent and ours.
  EXPECT_EQ(requests[0].head,
            "GET /path/x?q=1&r=two HTTP/1.1\r\n"
            "Host: 127.0.0.1:" +
                std::to_string(server.port()) +
                "\r\n"
                "User-Agent: tether-test\r\n"
                "X-Custom: value 1\r\n"
                "Authorization: Bearer tok\r\n"
                "\r\n");
}

TEST(HttpClientTest, PostRoundTripDeliversTheBodyExactly) {
  TestServer server(serveHttp([](const ReceivedRequest& r) {
    return httpResponse(201, "got " + std::to_string(r.body.size()), {{"Location", "/x/1"}});
  }));
  auto client = newClient();
  ClientRequest request = get(server.url("/token"));
  request.method = "POST";
  request.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                     {"Accept", "application/json"}};
  request.body = "grant_type=refresh_token&refresh_token=abc%20def";

  const ClientResult result = client->send(request);

  ASSERT_TRUE(result.ok()) << result.error_message;
  EXPECT_EQ(result.response.status, 201);
  EXPECT_EQ(result.response.body, "got 48");
  EXPECT_EQ(findHeader(result.response.headers, "location"), "/x/1");
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].target, "/token");
  EXPECT_EQ(requests[0].body, request.body);
  EXPECT_EQ(requests[0].header("Content-Length"), "48");
  EXPECT_EQ(requests[0].header("Content-Type"), "application/x-www-form-urlencoded");
  EXPECT_EQ(requests[0].header("Accept"), "application/json");
  EXPECT_EQ(requests[0].header("Expect"), std::nullopt);
}

TEST(HttpClientTest, LargePostIsSentWithoutExpectContinue) {
  TestServer server(serveHttp(
      [](const ReceivedRequest& r) { return httpResponse(200, std::to_string(r.body.size())); }));
  auto client = newClient();
  ClientRequest request = get(server.url("/upload"));
  request.method = "POST";
  request.body = std::string(3 << 20, 'x');  // libcurl would add Expect: 100-continue
  request.body[12345] = 'y';

  const ClientResult result = client->send(request);

  ASSERT_TRUE(result.ok()) << result.error_message;
  EXPECT_EQ(result.response.body, std::to_string(3 << 20));
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].header("Expect"), std::nullopt);
  EXPECT_EQ(requests[0].body, request.body);
}

TEST(HttpClientTest, EveryMethodIsSentAsGiven) {
  TestServer server(serveHttp([](const ReceivedRequest& r) {
    if (r.method == "HEAD") {
      // A HEAD answer announces a length but carries no body, even above the size cap.
      return std::string("HTTP/1.1 200 OK\r\nContent-Length: 99999999\r\n\r\n");
    }
    return httpResponse(200, r.method + ":" + r.body);
  }));
  auto client = newClient();
  for (const std::string method : {"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}) {
    ClientRequest request = get(server.url("/m"));
    request.method = method;
    request.body = method == "GET" || method == "DELETE" ? "" : "b";
    const ClientResult result = client->send(request);
    ASSERT_TRUE(result.ok()) << method << ": " << result.error_message;
    EXPECT_EQ(result.response.body, method + ":" + request.body);
  }
  ClientRequest head = get(server.url("/m"));
  head.method = "HEAD";
  head.max_response_bytes = 1000;
  const ClientResult result = client->send(head);
  ASSERT_TRUE(result.ok()) << result.error_message;
  EXPECT_EQ(result.response.status, 200);
  EXPECT_EQ(result.response.body, "");

  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 7u);
  std::vector<std::string> methods;
  for (const auto& r : requests) methods.push_back(r.method);
  EXPECT_THAT(methods,
              ::testing::ElementsAre("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"));
  EXPECT_EQ(requests[2].header("Content-Length"), "1");           // PUT
  EXPECT_EQ(requests[4].header("Content-Length"), std::nullopt);  // DELETE without a body
}

TEST(HttpClientTest, PutWithEmptyBodyAnnouncesZeroLength) {
  TestServer server(serveHttp([](const ReceivedRequest&) { return httpResponse(204, ""); }));
  auto client = newClient();
  ClientRequest request = get(server.url("/r"));
  request.method = "PUT";
  const ClientResult result = client->send(request);
  ASSERT_TRUE(result.ok()) << result.error_message;
  EXPECT_EQ(result.response.status, 204);
  ASSERT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(server.requests()[0].header("Content-Length"), "0");
}

// ---- TLS -------------------------------------------------------------------------------------

class HttpClientTlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ca_ = std::make_unique<TestCa>();
    good_ = ca_->issueServerCert("server", {"IP:127.0.0.1", "DNS:localhost"});
    wrong_name_ = ca_->issueServerCert("other", {"DNS:other.example"});
  }
  static void TearDownTestSuite() { ca_.reset(); }

  static TestServerOptions tls(const CertKeyFiles& files) {
    return {.tls = true, .cert_path = files.cert_path, .key_path = files.key_path};
  }

  static std::unique_ptr<TestCa> ca_;
  static CertKeyFiles good_;
  static CertKeyFiles wrong_name_;
};

std::unique_ptr<TestCa> HttpClientTlsTest::ca_;
CertKeyFiles HttpClientTlsTest::good_;
CertKeyFiles HttpClientTlsTest::wrong_name_;

TEST_F(HttpClientTlsTest, PrivateCaIsTrustedWithTheBundle) {
  TestServer server(serveHttp([](const ReceivedRequest&) { return httpResponse(200, "secure"); }),
                    tls(good_));
  auto client = newClient();
  ClientRequest request = get(server.url("/"));
  request.ca_bundle_path = ca_->caCertPath();

  const ClientResult result = client->send(request);

  ASSERT_TRUE(result.ok()) << result.error_message;
  EXPECT_EQ(result.response.body, "secure");
}

TEST_F(HttpClientTlsTest, SniCarriesTheHostNameAndDnsNamesVerify) {
  std::mutex mu;
  std::string sni;
  TestServer server(
      [&](TestConnection& c) {
        {
          std::lock_guard lock(mu);
          sni = c.serverName();
        }
        serveHttp([](const ReceivedRequest&) { return httpResponse(200, "ok"); })(c);
      },
      tls(good_));
  auto client = newClient();
  ClientRequest request = get(server.url("/", "localhost"));
  request.ca_bundle_path = ca_->caCertPath();

  const ClientResult result = client->send(request);

  ASSERT_TRUE(result.ok()) << result.error_message;
  std::lock_guard lock(mu);
  EXPECT_EQ(sni, "localhost");
}

TEST_F(HttpClientTlsTest, PrivateCaIsRefusedWithoutTheBundle) {
  TestServer server(serveHttp([](const ReceivedRequest&) { return httpResponse(200, "x"); }),
                    tls(good_));
  auto client = newClient();

  const ClientResult result = client->send(get(server.url("/")));

  EXPECT_EQ(result.error, TransportError::kTls) << result.error_message;
  EXPECT_FALSE(result.request_sent);
  EXPECT_TRUE(server.requests().empty());
}

TEST_F(HttpClientTlsTest, HostNameMismatchIsRefused) {
  TestServer server(serveHttp([](const ReceivedRequest&) { return httpResponse(200, "x"); }),
                    tls(wrong_name_));
  auto client = newClient();
  ClientRequest request = get(server.url("/"));
  request.ca_bundle_path = ca_->caCertPath();

  const ClientResult result = client->send(request);

  EXPECT_EQ(result.error, TransportError::kTls) << result.error_message;
  EXPECT_FALSE(result.request_sent);
  EXPECT_TRUE(server.requests().empty());
}

TEST_F(HttpClientTlsTest, TrustFromABundleDoesNotLeakToRequestsWithoutIt) {
  TestServer server(serveHttp([](const ReceivedRequest&) { return httpResponse(200, "x"); }),
                    tls(good_));
  auto client = newClient(1);
  ClientRequest with_bundle = get(server.url("/"));
  with_bundle.ca_bundle_path = ca_->caCertPath();
  ASSERT_TRUE(client->send(with_bundle).ok());

  // Same client, same origin, a live verified connection in the pool: still refused.
  const ClientResult without = client->send(get(server.url("/")));
  EXPECT_EQ(without.error, TransportError::kTls) << without.error_message;

  // And the bundle keeps working afterwards.
  EXPECT_TRUE(client->send(with_bundle).ok());
}

TEST_F(HttpClientTlsTest, UnreadableBundleIsAnInvalidRequest) {
  TestServer server(serveHttp([](const ReceivedRequest&) { return httpResponse(200, "x"); }),
                    tls(good_));
  auto client = newClient();
  ClientRequest request = get(server.url("/"));
  request.ca_bundle_path = ca_->dir() + "/does-not-exist.pem";

  const ClientResult result = client->send(request);

  EXPECT_EQ(result.error, TransportError::kInvalidRequest) << result.error_message;
  EXPECT_THAT(result.error_message, HasSubstr("CA bundle"));
}

TEST_F(HttpClientTlsTest, TlsConnectionIsReused) {
  TestServer server(serveHttp([](const ReceivedRequest&) { return httpResponse(200, "x"); }),
                    tls(good_));
  auto client = newClient();
  ClientRequest request = get(server.url("/"));
  request.ca_bundle_path = ca_->caCertPath();
  ASSERT_TRUE(client->send(request).ok());
  ASSERT_TRUE(client->send(request).ok());
  EXPECT_EQ(server.acceptedConnections(), 1u);
  EXPECT_EQ(server.requests().size(), 2u);
}

TEST_F(HttpClientTlsTest, ServerClosingAfterTheRequestIsAResetAfterSending) {
  TestServer server(
      [](TestConnection& c) {
        if (c.readRequest()) c.close();
      },
      tls(good_));
  auto client = newClient();
  ClientRequest request = get(server.url("/token"));
  request.method = "POST";
  request.body = "grant_type=refresh_token&refresh_token=one-time";
  request.ca_bundle_path = ca_->caCertPath();

  const ClientResult result = client->send(request);

  EXPECT_EQ(result.error, TransportError::kReset) << result.error_message;
  EXPECT_TRUE(result.request_sent);
  ASSERT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(server.requests()[0].body, request.body);
}

// ---- size cap --------------------------------------------------------------------------------

TEST(HttpClientTest, BodyOverTheCapWithContentLengthIsTooLarge) {
  TestServer server(
      serveHttp([](const ReceivedRequest&) { return httpResponse(200, std::string(5000, 'a')); }));
  auto client = newClient();
  ClientRequest request = get(server.url("/big"));
  request.max_response_bytes = 1000;

  const ClientResult result = client->send(request);

  EXPECT_EQ(result.error, TransportError::kTooLarge) << result.error_message;
  EXPECT_THAT(result.error_message, HasSubstr("1000"));
}

TEST(HttpClientTest, AnnouncedLengthOverTheCapIsRefusedBeforeTheBody) {
  // The server announces 10 MB and sends nothing: only an early refusal returns in time.
  TestServer server([](TestConnection& c) {
    if (!c.readRequest()) return;
    c.write("HTTP/1.1 200 OK\r\nContent-Length: 10000000\r\n\r\n");
    c.waitForPeerClose();
  });
  auto client = newClient();
  ClientRequest request = get(server.url("/big"));
  request.max_response_bytes = 1000;
  request.total_timeout = milliseconds(5'000);

  const auto start = Clock::now();
  const ClientResult result = client->send(request);

  EXPECT_EQ(result.error, TransportError::kTooLarge) << result.error_message;
  EXPECT_LT(since(start), milliseconds(2'000));
}

TEST(HttpClientTest, ChunkedBodyOverTheCapIsTooLarge) {
  TestServer server([](TestConnection& c) {
    if (!c.readRequest()) return;
    if (!c.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")) return;
    const std::string chunk(512, 'c');
    for (int i = 0; i < 64; ++i) {
      if (!c.write("200\r\n" + chunk + "\r\n")) return;  // 0x200 = 512
    }
    c.write("0\r\n\r\n");
  });
  auto client = newClient();
  ClientRequest request = get(server.url("/chunked"));
  request.max_response_bytes = 4000;

  const ClientResult result = client->send(request);

  EXPECT_EQ(result.error, TransportError::kTooLarge) << result.error_message;
}

TEST(HttpClientTest, CloseDelimitedBodyOverTheCapIsTooLarge) {
  TestServer server([](TestConnection& c) {
    if (!c.readRequest()) return;
    c.write("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + std::string(50'000, 'z'));
    c.close();
  });
  auto client = newClient();
  ClientRequest request = get(server.url("/stream"));
  request.max_response_bytes = 10'000;

  const ClientResult result = client->send(request);

  EXPECT_EQ(result.error, TransportError::kTooLarge) << result.error_message;
}

TEST(HttpClientTest, BodyExactlyAtTheCapIsAccepted) {
  TestServer server([](TestConnection& c) {
    if (!c.readRequest()) return;
    // Chunked, so only the streaming check can decide.
    c.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3e8\r\n" +
            std::string(1000, 'k') + "\r\n0\r\n\r\n");
  });
  auto client = newClient();
  ClientRequest request = get(server.url("/exact"));
  request.max_response_bytes = 1000;

  const ClientResult result = client->send(request);

  ASSERT_TRUE(result.ok()) << result.error_message;
  EXPECT_EQ(result.response.body.size(), 1000u);
}

// ---- deadlines and failures ------------------------------------------------------------------

TEST(HttpClientTest, StallAfterHeadersTimesOutNearTheDeadline) {
  TestServer server([](TestConnection& c) {
    if (!c.readRequest()) return;
    c.write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial");
    c.waitForPeerClose();
  });
  auto client = newClient();
  ClientRequest request = get(server.url("/slow"));
  request.total_timeout = kShortDeadline;

  const auto start = Clock::now();
  const ClientResult result = client->send(request);
  const auto elapsed = since(start);

  EXPECT_EQ(result.error, TransportError::kTimeout) << result.error_message;
  EXPECT_TRUE(result.request_sent);
  EXPECT_GE(elapsed, kShortDeadline - milliseconds(20));
  EXPECT_LT(elapsed, 5 * kShortDeadline);
}

TEST(HttpClientTest, ServerThatNeverAnswersTimesOut) {
  TestServer server([](TestConnection& c) {
    if (c.readRequest()) c.waitForPeerClose();
  });
  auto client = newClient();
  ClientRequest request = get(server.url("/silent"));
  request.method = "POST";
  request.body = "x=1";
  request.total_timeout = kShortDeadline;

  const auto start = Clock::now();
  const ClientResult result = client->send(request);

  EXPECT_EQ(result.error, TransportError::kTimeout) << result.error_message;
  EXPECT_TRUE(result.request_sent);
  EXPECT_LT(since(start), 5 * kShortDeadline);
}

TEST(HttpClientTest, RefusedPortIsAConnectErrorBeforeSending) {
  uint16_t port = 0;
  {
    TestServer server([](TestConnection&) {});
    port = server.port();
  }  // closed: nothing listens there any more
  auto client = newClient();

  const ClientResult result = client->send(get("http://127.0.0.1:" + std::to_string(port) + "/x"));

  EXPECT_EQ(result.error, TransportError::kConnect) << result.error_message;
  EXPECT_FALSE(result.request_sent);
}

TEST(HttpClientTest, ConnectDeadlineIsATimeoutBeforeSending) {
  // A listener whose accept queue is full: Linux drops further SYNs, so connect() hangs.
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(listener, 0), 0);
  ASSERT_EQ(::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const int filler = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_EQ(::connect(filler, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);

  auto client = newClient();
  ClientRequest request = get("http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/");
  request.connect_timeout = kShortDeadline;

  const auto start = Clock::now();
  const ClientResult result = client->send(request);
  const auto elapsed = since(start);
  ::close(filler);
  ::close(listener);

  EXPECT_EQ(result.error, TransportError::kTimeout) << result.error_message;
  EXPECT_FALSE(result.request_sent);
  EXPECT_THAT(result.error_message, HasSubstr("connect"));
  EXPECT_LT(elapsed, 5 * kShortDeadline);
}

TEST(HttpClientTest, ServerClosingAfterReadingTheRequestIsAResetAfterSending) {
  TestServer server([](TestConnection& c) {
    if (c.readRequest()) c.close();
  });
  auto client = newClient();
  ClientRequest request = get(server.url("/token"));
  request.method = "POST";
  request.body = "grant_type=refresh_token&refresh_token=one-time";

  const ClientResult result = client->send(request);

  EXPECT_EQ(result.error, TransportError::kReset) << result.error_message;
  EXPECT_TRUE(result.request_sent);
  ASSERT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(server.requests()[0].body, request.body);
}

TEST(HttpClientTest, LargeRequestThenCloseIsAResetAfterSending) {
  // A body far larger than a socket buffer goes out in many writes: every byte must be
  // accounted for before request_sent turns true.
  TestServer server([](TestConnection& c) {
    if (c.readRequest()) c.close();
  });
  auto client = newClient();
  ClientRequest request = get(server.url("/upload"));
  request.method = "PUT";
  request.body = std::string(8 << 20, 'u');

  const ClientResult result = client->send(request);

  EXPECT_EQ(result.error, TransportError::kReset) << result.error_message;
  EXPECT_TRUE(result.request_sent);
  ASSERT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(server.requests()[0].body.size(), request.body.size());
}

TEST(HttpClientTest, ConnectionDroppedBeforeTheBodyIsSentIsNotSent) {
  // The server reads the head only and closes: most of a 32 MiB body can never have left.
  TestServer server([](TestConnection& c) {
    if (c.readRequestHead()) c.close();
  });
  auto client = newClient();
  ClientRequest request = get(server.url("/upload"));
  request.method = "POST";
  request.body = std::string(32 << 20, 'u');

  const ClientResult result = client->send(request);

  EXPECT_EQ(result.error, TransportError::kReset) << result.error_message;
  EXPECT_FALSE(result.request_sent);
  ASSERT_EQ(server.requests().size(), 1u);
}

TEST(HttpClientTest, InterimResponsesAreNotReturned) {
  TestServer server([](TestConnection& c) {
    if (!c.readRequest()) return;
    c.write("HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n" +
            httpResponse(200, "final", {{"X-Final", "yes"}}));
    c.waitForPeerClose();
  });
  auto client = newClient();

  const ClientResult result = client->send(get(server.url("/")));

  ASSERT_TRUE(result.ok()) << result.error_message;
  EXPECT_EQ(result.response.status, 200);
  EXPECT_EQ(result.response.body, "final");
  EXPECT_EQ(findHeader(result.response.headers, "Link"), std::nullopt);
  EXPECT_EQ(findHeader(result.response.headers, "X-Final"), "yes");
}

TEST(HttpClientTest, ConnectionResetMidBodyIsAResetAfterSending) {
  TestServer server([](TestConnection& c) {
    if (!c.readRequest()) return;
    c.write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten b");
    c.abort();
  });
  auto client = newClient();

  const ClientResult result = client->send(get(server.url("/")));

  EXPECT_EQ(result.error, TransportError::kReset) << result.error_message;
  EXPECT_TRUE(result.request_sent);
}

TEST(HttpClientTest, MalformedResponseIsAProtocolError) {
  TestServer server([](TestConnection& c) {
    if (!c.readRequest()) return;
    c.write("this is not HTTP at all\r\n\r\n");
    c.close();
  });
  auto client = newClient();

  const ClientResult result = client->send(get(server.url("/")));

  EXPECT_EQ(result.error, TransportError::kProtocol) << result.error_message;
}

TEST(HttpClientTest, UnresolvableHostIsADnsError) {
  auto client = newClient();
  ClientRequest request = get("http://tether-test-host.invalid/");
  request.total_timeout = milliseconds(3'000);

  const ClientResult result = client->send(request);

  if (result.error == TransportError::kTimeout) {
    GTEST_SKIP() << "the resolver did not answer in time here: " << result.error_message;
  }
  EXPECT_EQ(result.error, TransportError::kDns) << result.error_message;
  EXPECT_FALSE(result.request_sent);
}

TEST(HttpClientTest, InvalidRequestsNeverTouchTheNetwork) {
  auto client = newClient();
  ClientRequest bad_scheme = get("ftp://127.0.0.1/x");
  EXPECT_EQ(client->send(bad_scheme).error, TransportError::kInvalidRequest);
  ClientRequest not_a_url = get("not a url");
  EXPECT_EQ(client->send(not_a_url).error, TransportError::kInvalidRequest);
  ClientRequest bad_method = get("http://127.0.0.1:1/");
  bad_method.method = "GE T";
  EXPECT_EQ(client->send(bad_method).error, TransportError::kInvalidRequest);
  ClientRequest injected = get("http://127.0.0.1:1/");
  injected.headers = {{"X-A", "1\r\nX-Injected: 2"}};
  EXPECT_EQ(client->send(injected).error, TransportError::kInvalidRequest);
  ClientRequest no_deadline = get("http://127.0.0.1:1/");
  no_deadline.total_timeout = milliseconds(0);
  EXPECT_EQ(client->send(no_deadline).error, TransportError::kInvalidRequest);
}

TEST(HttpClientTest, ErrorMessagesCarryNoRequestSecrets) {
  TestServer server([](TestConnection& c) {
    if (c.readRequest()) c.close();
  });
  auto client = newClient();
  ClientRequest request = get(server.url("/cb?code=SECRETCODE123&state=s"));
  request.method = "POST";
  request.headers = {{"Authorization", "Bearer SECRETBEARER456"}};
  request.body = "refresh_token=SECRETREFRESH789";

  const ClientResult result = client->send(request);
  ClientRequest bad = get("gopher://h/?access_token=SECRETQUERY000");
  const ClientResult invalid = client->send(bad);

  ASSERT_FALSE(result.ok());
  ASSERT_FALSE(invalid.ok());
  for (const auto* message : {&result.error_message, &invalid.error_message}) {
    EXPECT_FALSE(message->empty());
    EXPECT_THAT(*message, Not(HasSubstr("SECRET")));
  }
}

// ---- redirects -------------------------------------------------------------------------------

TEST(HttpClientTest, RedirectIsReturnedNotFollowed) {
  TestServer server(serveHttp([](const ReceivedRequest& r) {
    if (r.target == "/start") return httpResponse(302, "", {{"Location", "/target"}});
    return httpResponse(200, "target reached");
  }));
  auto client = newClient();

  const ClientResult result = client->send(get(server.url("/start")));

  ASSERT_TRUE(result.ok()) << result.error_message;
  EXPECT_EQ(result.response.status, 302);
  EXPECT_EQ(findHeader(result.response.headers, "Location"), "/target");
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].target, "/start");
}

TEST(HttpClientTest, RedirectIsFollowedWhenAsked) {
  TestServer server(serveHttp([](const ReceivedRequest& r) {
    if (r.target == "/start") {
      return httpResponse(302, "", {{"Location", "/target"}, {"X-Hop", "first"}});
    }
    return httpResponse(200, "target reached", {{"X-Hop", "second"}});
  }));
  auto client = newClient();
  ClientRequest request = get(server.url("/start"));
  request.follow_redirects = true;

  const ClientResult result = client->send(request);

  ASSERT_TRUE(result.ok()) << result.error_message;
  EXPECT_EQ(result.response.status, 200);
  EXPECT_EQ(result.response.body, "target reached");
  // Only the final response's headers.
  EXPECT_EQ(findHeader(result.response.headers, "X-Hop"), "second");
  EXPECT_EQ(findHeader(result.response.headers, "Location"), std::nullopt);
  ASSERT_EQ(server.requests().size(), 2u);
  EXPECT_EQ(server.requests()[1].target, "/target");
}

// ---- connection reuse ------------------------------------------------------------------------

TEST(HttpClientTest, SequentialRequestsToOneOriginReuseTheConnection) {
  TestServer server(
      serveHttp([](const ReceivedRequest& r) { return httpResponse(200, r.target); }));
  auto client = newClient();

  for (const char* path : {"/one", "/two", "/three"}) {
    const ClientResult result = client->send(get(server.url(path)));
    ASSERT_TRUE(result.ok()) << result.error_message;
    EXPECT_EQ(result.response.body, path);
  }

  EXPECT_EQ(server.acceptedConnections(), 1u);
}

TEST(HttpClientTest, InterleavedOriginsEachKeepTheirConnection) {
  TestServer a(serveHttp([](const ReceivedRequest&) { return httpResponse(200, "a"); }));
  TestServer b(serveHttp([](const ReceivedRequest&) { return httpResponse(200, "b"); }));
  auto client = newClient();
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(client->send(get(a.url("/"))).ok());
    ASSERT_TRUE(client->send(get(b.url("/"))).ok());
  }
  EXPECT_EQ(a.acceptedConnections(), 1u);
  EXPECT_EQ(b.acceptedConnections(), 1u);
}

// ---- proxies ---------------------------------------------------------------------------------

class HttpClientProxyTest : public ::testing::Test {
 protected:
  TestServer origin_{serveHttp([](const ReceivedRequest&) { return httpResponse(200, "origin"); })};
  TestServer proxy_{serveHttp([](const ReceivedRequest& r) {
    if (r.method == "CONNECT") return httpResponse(403, "");
    return httpResponse(200, "via proxy");
  })};
  std::unique_ptr<HttpClient> client_ = newClient();

  std::string proxyUrl() const { return "http://127.0.0.1:" + std::to_string(proxy_.port()); }
};

TEST_F(HttpClientProxyTest, HttpProxyFromTheEnvironmentIsUsedWhenAsked) {
  ScopedProxyEnv env({{"HTTP_PROXY", proxyUrl()}});  // upper case: libcurl alone ignores it
  ClientRequest request = get(origin_.url("/resource?x=1"));
  request.use_proxy = true;

  const ClientResult result = client_->send(request);

  ASSERT_TRUE(result.ok()) << result.error_message;
  EXPECT_EQ(result.response.body, "via proxy");
  const auto seen = proxy_.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].method, "GET");
  EXPECT_EQ(seen[0].target, origin_.url("/resource?x=1"));  // absolute-form
  EXPECT_TRUE(origin_.requests().empty());
}

TEST_F(HttpClientProxyTest, LowerCaseHttpProxyIsUsedToo) {
  ScopedProxyEnv env({{"http_proxy", proxyUrl()}});
  ClientRequest request = get(origin_.url("/"));
  request.use_proxy = true;

  const ClientResult result = client_->send(request);

  ASSERT_TRUE(result.ok()) << result.error_message;
  EXPECT_EQ(result.response.body, "via proxy");
}

TEST_F(HttpClientProxyTest, ProxyIsIgnoredUnlessAsked) {
  ScopedProxyEnv env(
      {{"HTTP_PROXY", proxyUrl()}, {"http_proxy", proxyUrl()}, {"ALL_PROXY", proxyUrl()}});
  const ClientResult result = client_->send(get(origin_.url("/")));

  ASSERT_TRUE(result.ok()) << result.error_message;
  EXPECT_EQ(result.response.body, "origin");
  EXPECT_TRUE(proxy_.requests().empty());
  EXPECT_EQ(proxy_.acceptedConnections(), 0u);
}

TEST_F(HttpClientProxyTest, NoProxyIsRespected) {
  ScopedProxyEnv env({{"HTTP_PROXY", proxyUrl()}, {"NO_PROXY", "example.com,127.0.0.1"}});
  ClientRequest request = get(origin_.url("/"));
  request.use_proxy = true;

  const ClientResult result = client_->send(request);

  ASSERT_TRUE(result.ok()) << result.error_message;
  EXPECT_EQ(result.response.body, "origin");
  EXPECT_TRUE(proxy_.requests().empty());
}

TEST_F(HttpClientProxyTest, HttpsGoesThroughAConnectTunnel) {
  ScopedProxyEnv env({{"HTTPS_PROXY", proxyUrl()}});
  ClientRequest request = get("https://127.0.0.1:" + std::to_string(origin_.port()) + "/secret");
  request.use_proxy = true;

  const ClientResult result = client_->send(request);

  // The fake proxy refuses the tunnel: the request itself was never sent.
  EXPECT_EQ(result.error, TransportError::kConnect) << result.error_message;
  EXPECT_FALSE(result.request_sent);
  const auto seen = proxy_.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].method, "CONNECT");
  EXPECT_EQ(seen[0].target, "127.0.0.1:" + std::to_string(origin_.port()));
  EXPECT_TRUE(origin_.requests().empty());
}

// ---- asynchronous sends ----------------------------------------------------------------------

TEST(HttpClientTest, SendAsyncCompletesOnAWorkerThread) {
  TestServer server(serveHttp([](const ReceivedRequest&) { return httpResponse(200, "async"); }));
  auto client = newClient();
  std::promise<std::pair<std::thread::id, ClientResult>> promise;
  auto future = promise.get_future();

  client->sendAsync(get(server.url("/")), [&promise](ClientResult r) {
    promise.set_value({std::this_thread::get_id(), std::move(r)});
  });

  ASSERT_EQ(future.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  auto [thread_id, result] = future.get();
  EXPECT_NE(thread_id, std::this_thread::get_id());
  ASSERT_TRUE(result.ok()) << result.error_message;
  EXPECT_EQ(result.response.body, "async");
}

TEST(HttpClientTest, ManyConcurrentSendAsyncCallsAllComplete) {
  TestServer server(
      serveHttp([](const ReceivedRequest& r) { return httpResponse(200, r.target); }));
  auto client = newClient(4);
  constexpr int kCalls = 64;
  std::mutex mu;
  std::map<int, ClientResult> results;
  std::promise<void> all_done;
  auto all_done_future = all_done.get_future();

  std::vector<std::thread> callers;
  for (int t = 0; t < 4; ++t) {
    callers.emplace_back([&, t] {
      for (int i = t; i < kCalls; i += 4) {
        client->sendAsync(get(server.url("/item/" + std::to_string(i))), [&, i](ClientResult r) {
          std::lock_guard lock(mu);
          results.emplace(i, std::move(r));
          if (results.size() == static_cast<size_t>(kCalls)) all_done.set_value();
        });
      }
    });
  }
  for (auto& c : callers) c.join();

  ASSERT_EQ(all_done_future.wait_for(std::chrono::seconds(30)), std::future_status::ready);
  std::lock_guard lock(mu);
  ASSERT_EQ(results.size(), static_cast<size_t>(kCalls));
  for (const auto& [i, r] : results) {
    ASSERT_TRUE(r.ok()) << i << ": " << r.error_message;
    EXPECT_EQ(r.response.body, "/item/" + std::to_string(i));
  }
  // Four workers, keep-alive: connections are reused rather than one per call.
  EXPECT_LE(server.acceptedConnections(), 8u);
}

TEST(HttpClientTest, DestroyingTheClientCompletesEveryPendingCall) {
  std::promise<void> first_request_arrived;
  std::once_flag once;
  TestServer server([&](TestConnection& c) {
    if (!c.readRequest()) return;
    std::call_once(once, [&] { first_request_arrived.set_value(); });
    c.waitForPeerClose();
  });
  auto client = newClient(1);
  std::atomic<int> completed{0};
  std::atomic<int> failed{0};
  for (int i = 0; i < 3; ++i) {
    ClientRequest request = get(server.url("/stall"));
    request.total_timeout = milliseconds(30'000);
    client->sendAsync(std::move(request), [&](ClientResult r) {
      if (!r.ok()) ++failed;
      ++completed;
    });
  }

  // One transfer is in flight (the server holds it), two wait in the queue.
  ASSERT_EQ(first_request_arrived.get_future().wait_for(std::chrono::seconds(10)),
            std::future_status::ready);
  const auto start = Clock::now();
  client.reset();  // in-flight transfer aborted, queued ones answered without a transfer

  EXPECT_EQ(completed.load(), 3);
  EXPECT_EQ(failed.load(), 3);
  EXPECT_LT(since(start), milliseconds(5'000));
}

TEST(HttpClientTest, TransportErrorNamesAreStable) {
  EXPECT_STREQ(transportErrorName(TransportError::kNone), "none");
  EXPECT_STREQ(transportErrorName(TransportError::kDns), "dns");
  EXPECT_STREQ(transportErrorName(TransportError::kConnect), "connect");
  EXPECT_STREQ(transportErrorName(TransportError::kTls), "tls");
  EXPECT_STREQ(transportErrorName(TransportError::kTimeout), "timeout");
  EXPECT_STREQ(transportErrorName(TransportError::kReset), "reset");
  EXPECT_STREQ(transportErrorName(TransportError::kTooLarge), "too_large");
  EXPECT_STREQ(transportErrorName(TransportError::kProtocol), "protocol");
  EXPECT_STREQ(transportErrorName(TransportError::kInvalidRequest), "invalid_request");
  EXPECT_STREQ(transportErrorName(TransportError::kOther), "other");
}

}  // namespace
}  // namespace tether::http

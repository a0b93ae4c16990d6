#include "http/head_scanner.h"

#include <gtest/gtest.h>

#include <boost/beast/http.hpp>
#include <string>

#include "http/request_reading.h"

namespace tether::http {
namespace {

ScanResult request(const std::string& text, ScannedHead& head, size_t limit = 16 * 1024) {
  return scanRequestHead(text, limit, head);
}

ScanResult response(const std::string& text, ScannedHead& head, size_t limit = 16 * 1024) {
  return scanResponseHead(text, limit, head);
}

TEST(HeadScannerTest, PlainRequestHead) {
  const std::string text =
      "POST /mcp/x?y=1 HTTP/1.1\r\nHost: a:1\r\nContent-Type:application/json  \r\n"
      "Content-Length: 12\r\nX-Empty:\r\n\r\n{\"jsonrpc\":1}";
  ScannedHead h;
  ASSERT_EQ(request(text, h), ScanResult::kOk);
  EXPECT_EQ(h.method, "POST");
  EXPECT_EQ(h.target, "/mcp/x?y=1");
  EXPECT_EQ(h.version, 11u);
  EXPECT_EQ(h.size, text.find("\r\n\r\n") + 4);
  ASSERT_EQ(h.field_count, 4u);
  EXPECT_EQ(h.fields[0].name, "Host");
  EXPECT_EQ(h.fields[0].value, "a:1");
  EXPECT_EQ(h.fields[1].value, "application/json");
  EXPECT_EQ(h.fields[3].name, "X-Empty");
  EXPECT_EQ(h.fields[3].value, "");
  ASSERT_TRUE(h.content_length);
  EXPECT_EQ(*h.content_length, 12u);
  EXPECT_TRUE(h.keepAlive());
}

// The server checks only the Host rule on a scanned head (checkScannedFraming): the scanner
// counts Host fields, and its verdict must be checkFraming()'s on the same fields.
TEST(HeadScannerTest, ScannedFramingAgreesWithTheFullCheck) {
  const std::vector<std::string> heads = {
      "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
      "GET / HTTP/1.1\r\nAccept: */*\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\r\nhOsT: b\r\n\r\n",
      "GET / HTTP/1.0\r\n\r\n",
      "GET / HTTP/1.0\r\nHost: a\r\nHOST: a\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi",
      "GET / HTTP/1.1\r\nHosts: a\r\nX-Host: b\r\n\r\n",
  };
  for (const auto& text : heads) {
    ScannedHead h;
    ASSERT_EQ(request(text, h), ScanResult::kOk) << text;
    Headers fields;
    for (size_t i = 0; i < h.field_count; ++i) {
      fields.push_back({std::string(h.fields[i].name), std::string(h.fields[i].value)});
    }
    const auto full = checkFraming(fields, h.version);
    const auto scanned = checkScannedFraming(h);
    ASSERT_EQ(full.has_value(), scanned.has_value()) << text;
    if (full) {
      EXPECT_EQ(scanned->status, full->status) << text;
      EXPECT_EQ(scanned->message, full->message) << text;
    }
  }
  ScannedHead two;
  ASSERT_EQ(request(heads[2], two), ScanResult::kOk);
  EXPECT_EQ(two.host_fields, 2u);
}

TEST(HeadScannerTest, KeepAliveFollowsVersionAndConnectionTokens) {
  ScannedHead h;
  ASSERT_EQ(request("GET / HTTP/1.1\r\nConnection: Keep-Alive, CLOSE\r\n\r\n", h), ScanResult::kOk);
  EXPECT_FALSE(h.keepAlive());
  ASSERT_EQ(request("GET / HTTP/1.0\r\n\r\n", h), ScanResult::kOk);
  EXPECT_EQ(h.version, 10u);
  EXPECT_FALSE(h.keepAlive());
  ASSERT_EQ(request("GET / HTTP/1.0\r\nconnection: keep-alive\r\n\r\n", h), ScanResult::kOk);
  EXPECT_TRUE(h.keepAlive());
  ASSERT_EQ(request("GET / HTTP/1.0\r\nProxy-Connection: keep-alive\r\n\r\n", h), ScanResult::kOk);
  EXPECT_TRUE(h.keepAlive());
  EXPECT_FALSE(h.content_length);
}

TEST(HeadScannerTest, PlainResponseHead) {
  const std::string text =
      "HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\n{}";
  ScannedHead h;
  ASSERT_EQ(response(text, h), ScanResult::kOk);
  EXPECT_EQ(h.status, 200);
  EXPECT_EQ(*h.content_length, 2u);
  EXPECT_EQ(h.field_count, 3u);
  EXPECT_TRUE(h.keepAlive());
  ASSERT_EQ(response("HTTP/1.0 404 \r\n\r\n", h), ScanResult::kOk);
  EXPECT_EQ(h.status, 404);
  EXPECT_FALSE(h.keepAlive());
}

// Everything outside the plain subset goes to the full parser, which decides.
TEST(HeadScannerTest, AnythingUnusualFallsBack) {
  const char* requests[] = {
      "GET / HTTP/1.1\r\nHost: a\r\n",                          // incomplete
      "GET / HTTP/1.1\nHost: a\r\n\r\n",                        // bare LF
      "GET / HTTP/1.1\r\nHost: a\n\r\n",                        // bare LF in a field
      "GET / HTTP/1.1\r\nX-A: 1\r\n folded\r\n\r\n",            // obs-fold
      "GET / HTTP/1.1\r\nX-A : 1\r\n\r\n",                      // space before the colon
      "GET / HTTP/1.1\r\nX-A: a\tb\r\n\r\n",                    // HTAB
      "GET / HTTP/1.1\r\nX-A: caf\xc3\xa9\r\n\r\n",             // non-ASCII
      "GET / HTTP/1.1\r\nX-A: a\x01\r\n\r\n",                   // control byte
      "GET / HTTP/1.1\r\nX-A: a\x7f\r\n\r\n",                   // DEL
      "GET / HTTP/1.1\r\nX(A): 1\r\n\r\n",                      // name not a token
      "GET / HTTP/1.1\r\n: 1\r\n\r\n",                          // empty name
      "GET / HTTP/1.1\r\nNoColon\r\n\r\n",                      // no colon
      "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",  // chunked
      "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n",  // repeated
      "POST / HTTP/1.1\r\nContent-Length: 1, 1\r\n\r\n",                    // list
      "POST / HTTP/1.1\r\nContent-Length: +1\r\n\r\n",                      // not digits
      "POST / HTTP/1.1\r\nContent-Length: 1234567890123456789\r\n\r\n",     // too long
      "GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n",                       // upgrade
      "GET / HTTP/1.1\r\nConnection: upgrade\r\n\r\n",                      // upgrade
      "GET / HTTP/1.1\r\nConnection: a b\r\n\r\n",                          // not a token list
      "GET  / HTTP/1.1\r\n\r\n",                                            // empty target
      "GET / HTTP/2.0\r\n\r\n",                                             // version
      "GET / http/1.1\r\n\r\n",                                             // version
      "GET / HTTP/1.1 \r\n\r\n",                                            // trailing space
      "G(T / HTTP/1.1\r\n\r\n",                                             // method not a token
      "GET /\x80 HTTP/1.1\r\n\r\n",                                         // non-ASCII target
      "GET /\x7f HTTP/1.1\r\n\r\n",                                         // DEL in the target
  };
  for (const char* text : requests) {
    ScannedHead h;
    EXPECT_EQ(request(text, h), ScanResult::kFallback) << text;
  }
  const char* responses[] = {
      "HTTP/1.1 200\r\n\r\n",       // no reason separator
      "HTTP/1.1 20x OK\r\n\r\n",    // status
      "HTTP/1.1 099 OK\r\n\r\n",    // status
      "HTTP/1.1  200 OK\r\n\r\n",   // double space
      "HTTP/1.1 200 O\tK\r\n\r\n",  // HTAB in the reason
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
  };
  for (const char* text : responses) {
    ScannedHead h;
    EXPECT_EQ(response(text, h), ScanResult::kFallback) << text;
  }
}

TEST(HeadScannerTest, LimitsFallBack) {
  const std::string head = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
  ScannedHead h;
  EXPECT_EQ(request(head, h, head.size() + 1), ScanResult::kOk);
  EXPECT_EQ(request(head, h, head.size()), ScanResult::kFallback);  // the parser reports it
  std::string many = "GET / HTTP/1.1\r\n";
  for (size_t i = 0; i <= kMaxScannedFields; ++i) many += "X-A: " + std::to_string(i) + "\r\n";
  many += "\r\n";
  EXPECT_EQ(request(many, h), ScanResult::kFallback);
}

// Values are checked eight bytes at a time: a byte outside the plain subset at any position
// of values of any length sends the head to the fallback; plain values come back whole.
TEST(HeadScannerTest, EveryValueByteIsChecked) {
  for (size_t len = 0; len <= 40; ++len) {
    std::string value;
    for (size_t i = 0; i < len; ++i) value.push_back(static_cast<char>('!' + (i * 7) % 94));
    ScannedHead h;
    const std::string text = "GET / HTTP/1.1\r\nX-V: " + value + "\r\n\r\n";  // h views it
    ASSERT_EQ(request(text, h), ScanResult::kOk) << len;
    EXPECT_EQ(h.fields[0].value, value);
    for (size_t pos = 0; pos < len; ++pos) {
      for (int b = 0; b < 256; ++b) {
        if (b >= 0x20 && b < 0x7f) continue;
        std::string bad = value;
        bad[pos] = static_cast<char>(b);
        ASSERT_EQ(request("GET / HTTP/1.1\r\nX-V: " + bad + "\r\n\r\n", h), ScanResult::kFallback)
            << len << " " << pos << " " << b;
      }
    }
  }
}

// What the scanner accepts, Beast's parser reads the same way: fields, framing, keep-alive.
TEST(HeadScannerTest, AgreesWithBeastOnWhatItAccepts) {
  namespace bhttp = boost::beast::http;
  const char* requests[] = {
      "POST /mcp/x HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\n"
      "Content-Length: 2\r\n\r\n{}",
      "GET /a?b=c%20d HTTP/1.0\r\nConnection: keep-alive\r\nX-Empty:\r\n\r\n",
      "DELETE /mcp/x HTTP/1.1\r\nmcp-session-id:   s-1   \r\nConnection: close\r\n\r\n",
      "GET / HTTP/1.1\r\nProxy-Connection: close\r\nAccept: */*\r\n\r\n",
      "PATCH /api/x HTTP/1.1\r\nContent-Length: 0\r\nX-A: \"quoted, list\"; q=1\r\n\r\n",
  };
  for (const std::string text : requests) {  // h views it
    ScannedHead h;
    ASSERT_EQ(request(text, h), ScanResult::kOk) << text;
    bhttp::request_parser<bhttp::string_body> beast;
    boost::system::error_code ec;
    beast.put(boost::asio::buffer(text), ec);
    ASSERT_FALSE(ec) << text << ": " << ec.message();
    ASSERT_TRUE(beast.is_header_done());
    const auto& m = beast.get();
    EXPECT_EQ(h.method, m.method_string());
    EXPECT_EQ(h.target, m.target());
    EXPECT_EQ(h.version, m.version());
    EXPECT_EQ(h.keepAlive(), beast.keep_alive()) << text;
    EXPECT_EQ(h.content_length.has_value(), beast.content_length().has_value());
    size_t i = 0;
    for (const auto& f : m) {
      ASSERT_LT(i, h.field_count);
      EXPECT_EQ(h.fields[i].name, f.name_string());
      EXPECT_EQ(h.fields[i].value, f.value()) << text;
      ++i;
    }
    EXPECT_EQ(i, h.field_count);
  }
  const char* responses[] = {
      "HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\n{}",
      "HTTP/1.0 503 Service Unavailable\r\nRetry-After: 5\r\nContent-Length: 0\r\n\r\n",
      "HTTP/1.1 404 \r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
  };
  for (const std::string text : responses) {  // h views it
    ScannedHead h;
    ASSERT_EQ(response(text, h), ScanResult::kOk) << text;
    bhttp::response_parser<bhttp::string_body> beast;
    boost::system::error_code ec;
    beast.put(boost::asio::buffer(text), ec);
    ASSERT_FALSE(ec) << text << ": " << ec.message();
    const auto& m = beast.get();
    EXPECT_EQ(h.status, m.result_int());
    EXPECT_EQ(h.version, m.version());
    EXPECT_EQ(h.keepAlive(), beast.keep_alive()) << text;
    EXPECT_EQ(h.content_length, std::optional<uint64_t>(*beast.content_length()));
    size_t i = 0;
    for (const auto& f : m) {
      ASSERT_LT(i, h.field_count);
      EXPECT_EQ(h.fields[i].name, f.name_string());
      EXPECT_EQ(h.fields[i].value, f.value()) << text;
      ++i;
    }
    EXPECT_EQ(i, h.field_count);
  }
}

// A head refused at the limit: an Authorization field taking more than half of it (an
// oversized bearer token) is told apart from any other oversized head, whether the parser
// had already taken the request line and the complete fields or not.
TEST(HeadScannerTest, OversizedAuthorizationIsToldApartFromOtherOversizedHeads) {
  const size_t limit = 16 * 1024;
  const std::string token(40 * 1024, 'a');
  const std::string line = "POST /mcp/docs?x=1 HTTP/1.1\r\n";
  {
    Request req;
    EXPECT_TRUE(
        oversizedAuthorization(line + "Host: gw\r\nauthorization: Bearer " + token, limit, req));
    EXPECT_EQ(req.method, "POST");
    EXPECT_EQ(req.target, "/mcp/docs?x=1");
  }
  {
    Request req;  // the parser took the request line and Host; the token is cut off
    req.method = "GET";
    req.target = "/api/x/y";
    EXPECT_TRUE(oversizedAuthorization("Authorization: Bearer " + token, limit, req));
    EXPECT_EQ(req.target, "/api/x/y");
  }
  const auto fresh = [&](const std::string& buffered) {
    Request req;
    return oversizedAuthorization(buffered, limit, req);
  };
  EXPECT_FALSE(fresh(line + "X-Junk: " + token));
  EXPECT_FALSE(fresh(line + "Authorization: Bearer short\r\nX-Junk: " + token));
  EXPECT_FALSE(fresh("POST no-slash HTTP/1.1\r\nAuthorization: " + token));
  EXPECT_FALSE(fresh("Authorization: " + token));  // no request line
  EXPECT_FALSE(fresh(""));
  EXPECT_FALSE(fresh(line + "\r\nAuthorization: " + token));  // past the end of the head
}

}  // namespace
}  // namespace tether::http

// The request head's two parsers agree on every head the fast scanner accepts, over the
// smuggling corpus and the inputs the differential fuzzer (fuzz/fuzz_request_head.cc) found.
//
// Finding of that fuzzer (kept here as a case): with a field name repeated after another
// name, Beast files the repeat next to the first occurrence while the scanner keeps the wire
// order, so `Host, X-A, Host` comes out as `Host, Host, X-A` from Beast. Only the order
// between different names differs, which RFC 9110 §5.3 says carries no meaning; each name's
// values stay in order in both. Both also accept two Host lines today (RFC 9112 §3.2
// wants a 400: the server has to check that itself, on either path).

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cctype>
#include <string>
#include <utility>
#include <vector>

#include "edge_cases.h"
#include "http/head_scanner.h"

namespace tether::testing {
namespace {

namespace bhttp = boost::beast::http;
using http::ScannedHead;
using http::ScanResult;
using Fields = std::vector<std::pair<std::string, std::string>>;

constexpr size_t kLimit = 8192;

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Fields grouped by name (stable: each name's values keep their order).
Fields byName(Fields f) {
  std::stable_sort(f.begin(), f.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  return f;
}

// Whether the scanner accepted `text`; if so, every difference from Beast is a failure.
bool expectAgreement(const std::string& text, const std::string& label) {
  ScannedHead head;
  if (http::scanRequestHead(text, kLimit, head) != ScanResult::kOk) return false;
  bhttp::request_parser<bhttp::string_body> beast;
  beast.eager(false);
  beast.header_limit(kLimit);
  beast.body_limit(boost::none);
  boost::system::error_code ec;
  const size_t used = beast.put(boost::asio::buffer(text), ec);
  EXPECT_FALSE(ec) << label << ": " << ec.message();
  if (ec) return true;
  EXPECT_EQ(used, head.size) << label;
  const auto& m = beast.get();
  EXPECT_EQ(head.method, m.method_string()) << label;
  EXPECT_EQ(head.target, m.target()) << label;
  EXPECT_EQ(head.version, m.version()) << label;
  EXPECT_EQ(head.keepAlive(), beast.keep_alive()) << label;
  const auto length = beast.content_length();
  EXPECT_EQ(head.content_length, length ? std::optional<uint64_t>(*length) : std::nullopt) << label;
  EXPECT_FALSE(beast.chunked()) << label;
  Fields scanned, parsed;
  for (size_t i = 0; i < head.field_count; ++i) {
    scanned.emplace_back(lower(head.fields[i].name), std::string(head.fields[i].value));
  }
  for (const auto& f : m) parsed.emplace_back(lower(f.name_string()), std::string(f.value()));
  EXPECT_EQ(byName(scanned), byName(parsed)) << label;
  return true;
}

TEST(HeadParsersTest, AgreeOnTheSmugglingCorpus) {
  size_t accepted = 0;
  for (const auto& c : edgeCases("127.0.0.1:8080")) {
    std::string bytes;
    for (const auto& s : c.segments) bytes += s;
    accepted += expectAgreement(bytes, c.id);
  }
  EXPECT_GT(accepted, 20u);  // the fast path is exercised, not only the fallback
}

TEST(HeadParsersTest, AgreeOnFuzzerFindings) {
  // fuzz_request_head, first minute: a name repeated after another one (the order between
  // different names differs, see the top comment; each name's values agree).
  expectAgreement("GET / HTTP/1.1\r\nHost: a\r\nX-B: 1\r\nX-A: 1\r\nX-B: 2\r\n\r\n",
                  "repeated name");
  expectAgreement("GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\nHost: b\r\n\r\n", "repeated Host");
}

}  // namespace
}  // namespace tether::testing

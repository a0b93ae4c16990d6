// Differential fuzzing of the request head's two parsers: whenever the fast scanner
// (http/head_scanner.h) accepts a head, Beast's request parser must read the same bytes the
// same way: head size, method, target, version, every field (name and value; each name's
// values in order), Content-Length, keep-alive, and no other framing (chunked, upgrade). A
// disagreement is printed (what differs) and aborts, so libFuzzer keeps the input.
//
// Input: the request bytes. The head limit is 8 KiB (the server's is configurable; the
// limit only decides where the scanner gives up, tested in head_scanner_test).
#include <algorithm>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fuzz_util.h"
#include "http/head_scanner.h"

namespace {

namespace bhttp = boost::beast::http;
using tether::http::ScannedHead;

constexpr size_t kHeadLimit = 8192;

std::string shown(std::string_view s) {
  std::string out;
  for (unsigned char c : s.substr(0, 200)) {
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
    }
  }
  return out;
}

[[noreturn]] void disagree(std::string_view what, std::string_view scanner, std::string_view beast,
                           std::string_view input) {
  std::fprintf(stderr,
               "head scanner and Beast disagree on %.*s:\n  scanner: \"%s\"\n  beast:   \"%s\"\n"
               "  input:   \"%s\"\n",
               static_cast<int>(what.size()), what.data(), shown(scanner).c_str(),
               shown(beast).c_str(), shown(input).c_str());
  std::abort();
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

template <class S>
std::string_view view(const S& s) {
  return std::string_view(s.data(), s.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  ScannedHead head;
  if (tether::http::scanRequestHead(in, kHeadLimit, head) != tether::http::ScanResult::kOk) {
    return 0;  // Beast decides alone: nothing to compare
  }
  // Beast on the same bytes, up to the end of the head (eager off: it stops there).
  bhttp::request_parser<bhttp::string_body> beast;
  beast.eager(false);
  beast.header_limit(static_cast<std::uint32_t>(kHeadLimit));
  beast.body_limit(boost::none);
  boost::system::error_code ec;
  const size_t used = beast.put(boost::asio::buffer(in.data(), in.size()), ec);
  if (ec || !beast.is_header_done()) {
    disagree("acceptance", "kOk", ec ? ec.message() : "header incomplete", in);
  }
  if (used != head.size) {
    disagree("head size", std::to_string(head.size), std::to_string(used), in);
  }
  const auto& m = beast.get();
  if (head.method != view(m.method_string())) {
    disagree("method", head.method, view(m.method_string()), in);
  }
  if (head.target != view(m.target())) disagree("target", head.target, view(m.target()), in);
  if (head.version != m.version()) {
    disagree("version", std::to_string(head.version), std::to_string(m.version()), in);
  }
  // Fields: the same (name, value) pairs, and for each name the values in the same order.
  // The order between different names may differ: Beast files a repeated name next to its
  // first occurrence, the scanner keeps the wire order (RFC 9110 §5.3: only the order of
  // one name's lines carries meaning).
  std::vector<std::pair<std::string, std::string>> scanned, parsed;
  for (size_t i = 0; i < head.field_count; ++i) {
    scanned.emplace_back(lower(head.fields[i].name), std::string(head.fields[i].value));
  }
  for (const auto& f : m)
    parsed.emplace_back(lower(view(f.name_string())), std::string(view(f.value())));
  auto byName = [](const auto& a, const auto& b) { return a.first < b.first; };
  std::stable_sort(scanned.begin(), scanned.end(), byName);
  std::stable_sort(parsed.begin(), parsed.end(), byName);
  if (scanned.size() != parsed.size()) {
    disagree("field count", std::to_string(scanned.size()), std::to_string(parsed.size()), in);
  }
  for (size_t i = 0; i < scanned.size(); ++i) {
    if (scanned[i] != parsed[i]) {
      disagree("field", scanned[i].first + ": " + scanned[i].second,
               parsed[i].first + ": " + parsed[i].second, in);
    }
  }
  const auto beast_length = beast.content_length();
  const bool same_length = head.content_length.has_value() == beast_length.has_value() &&
                           (!beast_length || *head.content_length == *beast_length);
  if (!same_length) {
    disagree("content length", head.content_length ? std::to_string(*head.content_length) : "none",
             beast_length ? std::to_string(*beast_length) : "none", in);
  }
  if (head.keepAlive() != beast.keep_alive()) {
    disagree("keep-alive", head.keepAlive() ? "yes" : "no", beast.keep_alive() ? "yes" : "no", in);
  }
  if (beast.chunked()) disagree("chunked framing", "no", "chunked", in);
  if (beast.upgrade()) disagree("upgrade", "no", "upgrade", in);
  return 0;
}

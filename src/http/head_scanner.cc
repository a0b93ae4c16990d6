#include "http/head_scanner.h"

#include <bit>
#include <cstring>

namespace tether::http {
namespace {

using namespace std::string_view_literals;

constexpr uint64_t kOnes = 0x0101010101010101ull;
constexpr uint64_t kHighBits = 0x8080808080808080ull;

// RFC 9110 tchar.
constexpr std::array<bool, 256> kTokenChar = [] {
  std::array<bool, 256> t{};
  for (int c = '0'; c <= '9'; ++c) t[c] = true;
  for (int c = 'a'; c <= 'z'; ++c) t[c] = true;
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = true;
  for (char c : "!#$%&'*+-.^_`|~"sv) t[static_cast<unsigned char>(c)] = true;
  return t;
}();

bool isToken(std::string_view s) {
  if (s.empty()) return false;
  bool ok = true;
  for (unsigned char c : s) ok &= kTokenChar[c];
  return ok;
}

// Every byte printable ASCII or a space (0x20..0x7e), eight at a time.
bool printable(std::string_view s) {
  const char* p = s.data();
  size_t n = s.size();
  uint64_t bad = 0;
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t v;
    std::memcpy(&v, p, sizeof v);
    // byte >= 0x80 | byte < 0x20 | byte == 0x7f (a borrow or carry out of a bad byte can
    // only mark later bytes as well)
    bad |= (v | (v - 0x20 * kOnes) | (v + kOnes)) & kHighBits;
  }
  bool bad_tail = false;
  for (size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(p[i]);
    bad_tail |= (c < 0x20) | (c > 0x7e);
  }
  return bad == 0 && !bad_tail;
}

// The first byte in [p, end) that is not printable ASCII or a space (end if none): eight at
// a time. The lowest marked byte of a word is a bad one: borrows and carries out of a bad
// byte only mark bytes above it.
const char* firstNonPrintable(const char* p, const char* end) {
  while (end - p >= 8) {
    uint64_t v;
    std::memcpy(&v, p, sizeof v);
    const uint64_t bad = (v | (v - 0x20 * kOnes) | (v + kOnes)) & kHighBits;
    if (bad != 0) return p + std::countr_zero(bad) / 8;
    p += 8;
  }
  while (p < end && static_cast<unsigned char>(*p) >= 0x20 &&
         static_cast<unsigned char>(*p) < 0x7f) {
    ++p;
  }
  return p;
}

bool sameName(std::string_view a, std::string_view lower) {
  if (a.size() != lower.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char c = a[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != lower[i]) return false;
  }
  return true;
}

std::string_view trimSpaces(std::string_view v) {
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
  return v;
}

// The next line without its CRLF; false at a bare LF or when no line end is in sight.
bool nextLine(const char*& p, const char* end, std::string_view& line) {
  const auto* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
  if (!nl || nl == p || nl[-1] != '\r') return false;
  line = std::string_view(p, static_cast<size_t>(nl - 1 - p));
  p = nl + 1;
  return true;
}

bool parseVersion(std::string_view v, unsigned& version) {
  if (v == "HTTP/1.1"sv) {
    version = 11;
    return true;
  }
  if (v == "HTTP/1.0"sv) {
    version = 10;
    return true;
  }
  return false;
}

// Connection (or Proxy-Connection) tokens; false for what the fallback must judge.
bool connectionTokens(std::string_view v, ScannedHead& head) {
  while (!v.empty()) {
    const size_t comma = v.find(',');
    const std::string_view token = trimSpaces(v.substr(0, comma));
    if (!token.empty()) {
      if (!isToken(token)) return false;
      if (sameName(token, "close"sv)) {
        head.connection_close = true;
      } else if (sameName(token, "keep-alive"sv)) {
        head.connection_keep_alive = true;
      } else if (sameName(token, "upgrade"sv)) {
        return false;
      }
    }
    if (comma == std::string_view::npos) break;
    v.remove_prefix(comma + 1);
  }
  return true;
}

bool contentLength(std::string_view v, ScannedHead& head) {
  if (head.content_length || v.empty() || v.size() > 18) return false;
  uint64_t n = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  head.content_length = n;
  return true;
}

// The field lines up to the blank line that ends the head: one pass over each name (token
// bytes up to the colon) and one search for the line end.
ScanResult scanFields(const char* begin, const char* p, const char* end, ScannedHead& head) {
  for (;;) {
    if (end - p >= 2 && p[0] == '\r' && p[1] == '\n') {
      p += 2;
      break;
    }
    const char* name_end = p;
    while (name_end < end && kTokenChar[static_cast<unsigned char>(*name_end)]) ++name_end;
    // An empty name, a space before the colon or a folded line (starting with a space) ends
    // up here too.
    if (name_end == p || name_end == end || *name_end != ':') return ScanResult::kFallback;
    const std::string_view name(p, static_cast<size_t>(name_end - p));
    // The value runs to the first byte that is not printable: it must start the CRLF.
    const char* value_begin = name_end + 1;
    const char* value_end = firstNonPrintable(value_begin, end);
    if (end - value_end < 2 || value_end[0] != '\r' || value_end[1] != '\n') {
      return ScanResult::kFallback;
    }
    const std::string_view raw(value_begin, static_cast<size_t>(value_end - value_begin));
    p = value_end + 2;
    const std::string_view value = trimSpaces(raw);
    switch (name.size()) {
      case 4:
        head.host_fields += sameName(name, "host"sv) ? 1 : 0;
        break;
      case 7:
        if (sameName(name, "upgrade"sv)) return ScanResult::kFallback;
        break;
      case 10:
        if (sameName(name, "connection"sv) && !connectionTokens(value, head)) {
          return ScanResult::kFallback;
        }
        break;
      case 14:
        if (sameName(name, "content-length"sv) && !contentLength(value, head)) {
          return ScanResult::kFallback;
        }
        break;
      case 16:
        if (sameName(name, "proxy-connection"sv) && !connectionTokens(value, head)) {
          return ScanResult::kFallback;
        }
        break;
      case 17:
        if (sameName(name, "transfer-encoding"sv)) return ScanResult::kFallback;
        break;
      default:
        break;
    }
    if (head.field_count == head.fields.size()) return ScanResult::kFallback;
    head.fields[head.field_count++] = {name, value};
  }
  head.size = static_cast<size_t>(p - begin);
  return ScanResult::kOk;
}

void reset(ScannedHead& head) {
  head.method = {};
  head.target = {};
  head.status = 0;
  head.version = 11;
  head.content_length.reset();
  head.connection_close = false;
  head.connection_keep_alive = false;
  head.host_fields = 0;
  head.size = 0;
  head.field_count = 0;
}

// A head of at most `limit` bytes: only that much is looked at (strictly less than the
// limit, so a head at the limit goes to the fallback, which reports it).
const char* scanEnd(std::string_view data, size_t limit) {
  return data.data() + std::min(data.size(), limit > 0 ? limit - 1 : 0);
}

}  // namespace

ScanResult scanRequestHead(std::string_view data, size_t limit, ScannedHead& head) {
  reset(head);
  const char* p = data.data();
  const char* end = scanEnd(data, limit);
  std::string_view line;
  if (!nextLine(p, end, line)) return ScanResult::kFallback;
  const size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos) return ScanResult::kFallback;
  const size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) return ScanResult::kFallback;
  head.method = line.substr(0, sp1);
  head.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  if (!isToken(head.method) || head.target.empty() || !printable(head.target) ||
      !parseVersion(line.substr(sp2 + 1), head.version)) {
    return ScanResult::kFallback;
  }
  return scanFields(data.data(), p, end, head);
}

ScanResult scanResponseHead(std::string_view data, size_t limit, ScannedHead& head) {
  reset(head);
  const char* p = data.data();
  const char* end = scanEnd(data, limit);
  std::string_view line;
  if (!nextLine(p, end, line)) return ScanResult::kFallback;
  // HTTP/1.x SP ddd SP reason
  if (line.size() < 13 || !parseVersion(line.substr(0, 8), head.version) || line[8] != ' ' ||
      line[12] != ' ' || !printable(line.substr(13))) {
    return ScanResult::kFallback;
  }
  int status = 0;
  for (size_t i = 9; i < 12; ++i) {
    if (line[i] < '0' || line[i] > '9') return ScanResult::kFallback;
    status = status * 10 + (line[i] - '0');
  }
  if (status < 100) return ScanResult::kFallback;
  head.status = status;
  return scanFields(data.data(), p, end, head);
}

}  // namespace tether::http

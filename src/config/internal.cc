#include "config/internal.h"

#include <boost/url/ipv4_address.hpp>
#include <boost/url/ipv6_address.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <cctype>
#include <cstdint>

#include "core/encoding.h"
#include "core/redact.h"

namespace tether::config::internal {
namespace {

using core::Errc;
using core::Error;

Error fail(std::string message) { return Error(Errc::kConfig, std::move(message)); }

bool isAsciiDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

bool isHexChar(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool isVarStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool isVarChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

/// A URL as it may appear in a message: short, redacted by shape, printable.
std::string quoteUrl(std::string_view url) {
  std::string shown = core::redactText(url.substr(0, 120));
  std::string out = "\"";
  for (char c : shown) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      out += '?';
    } else if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else {
      out += c;
    }
  }
  if (url.size() > 120) out += "...";
  out += '"';
  return out;
}

bool isValidHostName(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  for (char c : host) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-')) return false;
  }
  return host.front() != '.' && host.front() != '-';
}

}  // namespace

core::Result<std::string> interpolateEnv(std::string_view raw, const EnvLookup& env) {
  std::string out;
  out.reserve(raw.size());
  size_t i = 0;
  while (i < raw.size()) {
    if (raw.compare(i, 3, "$${") == 0) {
      out += "${";
      i += 3;
      continue;
    }
    if (raw.compare(i, 2, "${") != 0) {
      out += raw[i++];
      continue;
    }
    size_t close = raw.find('}', i + 2);
    if (close == std::string_view::npos) {
      return fail("unterminated ${ (write ${NAME}, or $${ for a literal ${)");
    }
    std::string_view name = raw.substr(i + 2, close - i - 2);
    bool valid = !name.empty() && name.size() <= 128 && isVarStart(name.front());
    for (char c : name) valid = valid && isVarChar(c);
    if (!valid) {
      return fail(
          "invalid environment variable reference (expected ${NAME} with letters, digits and "
          "_; write $${ for a literal ${)");
    }
    std::optional<std::string> value = env ? env(name) : std::nullopt;
    if (!value) return fail("${" + std::string(name) + "} is not set");
    out += *value;
    i = close + 1;
  }
  return out;
}

bool isLoopbackHost(std::string_view host) {
  std::string h = core::toLower(host);
  if (h == "localhost" || (h.size() > 10 && h.ends_with(".localhost"))) return true;
  if (h == "::1") return true;
  auto v4 = boost::urls::parse_ipv4_address(h);
  if (v4) return v4->is_loopback();
  auto v6 = boost::urls::parse_ipv6_address(h);
  if (v6) return v6->is_loopback();
  return false;
}

core::Result<UrlFacts> checkHttpUrl(std::string_view url) {
  constexpr std::string_view kExpected =
      "expected an absolute http(s) URL such as https://host/path";
  if (url.empty()) return fail(std::string(kExpected) + ", got an empty string");
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) {
    // An unparsable URL may still carry "user:password@"; show it only when it cannot.
    if (url.find('@') != std::string_view::npos) return fail(std::string(kExpected));
    return fail(std::string(kExpected) + ", got " + quoteUrl(url));
  }
  const boost::urls::url_view& u = *parsed;
  if (u.has_userinfo()) {
    return fail(
        "must not contain a user name or password (user@ / user:password@); configure "
        "credentials under auth instead");
  }
  std::string scheme = core::toLower(u.scheme());
  if (scheme != "http" && scheme != "https") {
    return fail(std::string(kExpected) + ", got scheme \"" + scheme.substr(0, 20) + "\"");
  }
  if (!u.has_authority() || u.encoded_host().empty()) {
    return fail(std::string(kExpected) + " with a host, got " + quoteUrl(url));
  }
  if (u.has_fragment()) return fail("must not have a fragment (#...), got " + quoteUrl(url));
  if (u.has_port()) {
    std::string_view port = u.port();
    if (!isAsciiDigits(port) || port.size() > 5 || std::stoi(std::string(port)) < 1 ||
        std::stoi(std::string(port)) > 65535) {
      return fail("port must be a number from 1 to 65535, got " + quoteUrl(url));
    }
  }
  UrlFacts facts;
  facts.scheme = scheme;
  switch (u.host_type()) {
    case boost::urls::host_type::ipv6:
      facts.host = core::toLower(u.host_ipv6_address().to_string());
      break;
    case boost::urls::host_type::ipv4:
      facts.host = u.host_ipv4_address().to_string();
      break;
    case boost::urls::host_type::name:
      facts.host = core::toLower(u.encoded_host());
      break;
    default:
      return fail(std::string(kExpected) + ", got an unsupported host in " + quoteUrl(url));
  }
  facts.loopback = isLoopbackHost(facts.host);
  return facts;
}

std::string badOriginMessage(std::string_view text) {
  const std::string expected =
      "expected an origin such as http://localhost:6274 (scheme, host and optional port only)";
  auto facts = checkHttpUrl(text);
  if (!facts.ok()) return expected + ": " + facts.error().message;
  return expected + ", got " + quoteUrl(text);
}

core::Result<HostPort> parseListen(std::string_view text) {
  constexpr std::string_view kExpected =
      "expected host:port such as 127.0.0.1:8080, 0.0.0.0:8080 or [::1]:8080";
  auto bad = [&] {
    return fail(std::string(kExpected) + ", got \"" + std::string(text.substr(0, 80)) + "\"");
  };
  HostPort hp;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return bad();
    }
    std::string_view host = text.substr(1, close - 1);
    if (!boost::urls::parse_ipv6_address(host)) return bad();
    hp.host = core::toLower(host);
    port = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos || colon == 0) return bad();
    std::string_view host = text.substr(0, colon);
    if (!isValidHostName(host)) return bad();
    hp.host = core::toLower(host);
    port = text.substr(colon + 1);
  }
  if (!isAsciiDigits(port) || port.size() > 5) return bad();
  int n = std::stoi(std::string(port));
  if (n > 65535) return fail("port must be from 0 to 65535, got " + std::to_string(n));
  hp.port = static_cast<uint16_t>(n);
  return hp;
}

core::Result<std::string> normalizeAllowedHost(std::string_view text) {
  auto bad = [&] {
    return fail(
        "expected a host name or host:port such as tether.internal or 10.0.0.5:8080 (no "
        "scheme, path or wildcard; IPv6 in brackets), got \"" +
        std::string(text.substr(0, 80)) + "\"");
  };
  std::string out;
  std::string_view rest;
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string_view::npos) return bad();
    auto v6 = boost::urls::parse_ipv6_address(text.substr(1, close - 1));
    if (!v6) return bad();
    out.assign(1, '[').append(v6->to_string()).append(1, ']');
    rest = text.substr(close + 1);
  } else {
    const size_t colon = text.find(':');
    const std::string_view host = text.substr(0, colon);
    if (!isValidHostName(host)) return bad();
    out = core::toLower(host);
    if (colon != std::string_view::npos) rest = text.substr(colon);
  }
  if (!rest.empty()) {
    if (rest.front() != ':') return bad();
    const std::string_view port = rest.substr(1);
    if (!isAsciiDigits(port) || port.size() > 5) return bad();
    const int n = std::stoi(std::string(port));
    if (n < 1 || n > 65535) return bad();
    out.append(1, ':').append(std::to_string(n));
  }
  return out;
}

bool listenersOverlap(const HostPort& a, const HostPort& b) {
  if (a.port == 0 || b.port == 0 || a.port != b.port) return false;
  auto wildcard = [](const std::string& h) { return h == "0.0.0.0" || h == "::"; };
  return a.host == b.host || wildcard(a.host) || wildcard(b.host);
}

core::Result<std::string> decodeKey32(std::string_view text) {
  constexpr std::string_view kExpected =
      "expected a 32-byte key written as 64 hex characters or Base64 (44 characters), got "
      "<hidden>";
  bool hex = text.size() == 64;
  for (char c : text) hex = hex && isHexChar(c);
  if (hex) return core::hexDecode(text).value();
  bool all_hex = !text.empty();
  for (char c : text) all_hex = all_hex && isHexChar(c);
  if (all_hex && text.size() > 44) {
    // Clearly meant as hex (Base64 of 32 bytes is 43 or 44 characters).
    return fail(std::string(kExpected) + " (" + std::to_string(text.size()) +
                " hex characters; a 32-byte key needs 64)");
  }
  auto decoded = core::base64Decode(text);
  if (!decoded.ok()) {
    return fail(std::string(kExpected) + " (" + std::to_string(text.size()) +
                " characters, neither hex nor Base64)");
  }
  if (decoded->size() != 32) {
    return fail(std::string(kExpected) + " (" + std::to_string(text.size()) +
                " characters that decode to " + std::to_string(decoded->size()) + " bytes)");
  }
  return std::move(decoded).value();
}

bool isValidName(std::string_view name) {
  if (name.empty() || name.size() > 63) return false;
  auto lowerOrDigit = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!lowerOrDigit(name.front())) return false;
  for (char c : name) {
    if (!(lowerOrDigit(c) || c == '_' || c == '-')) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------
// PostgreSQL DSNs: "host=db user=t password='a b'" or "postgres://u:p@host/db?password=p".

namespace {

struct Span {
  size_t begin = 0;
  size_t end = 0;
  std::string decoded;
};

bool isUriDsn(std::string_view dsn) {
  return dsn.starts_with("postgres://") || dsn.starts_with("postgresql://");
}

/// Spans of password values in a DSN; false when the DSN cannot be parsed.
bool findPasswordSpans(std::string_view dsn, std::vector<Span>& spans) {
  if (isUriDsn(dsn)) {
    size_t start = dsn.find("://") + 3;
    size_t auth_end = dsn.find_first_of("/?#", start);
    if (auth_end == std::string_view::npos) auth_end = dsn.size();
    size_t at = dsn.rfind('@', auth_end);
    if (at != std::string_view::npos && at >= start) {
      size_t colon = dsn.find(':', start);
      if (colon != std::string_view::npos && colon < at) {
        std::string_view raw = dsn.substr(colon + 1, at - colon - 1);
        auto decoded = core::formUrlDecode(raw);
        spans.push_back({colon + 1, at, decoded.ok() ? *decoded : std::string(raw)});
      }
    }
    size_t q = dsn.find('?', start);
    while (q != std::string_view::npos && q < dsn.size()) {
      size_t param = q + 1;
      size_t next = dsn.find('&', param);
      size_t end = next == std::string_view::npos ? dsn.size() : next;
      std::string_view kv = dsn.substr(param, end - param);
      if (kv.starts_with("password=")) {
        std::string_view raw = kv.substr(9);
        auto decoded = core::formUrlDecode(raw);
        spans.push_back({param + 9, end, decoded.ok() ? *decoded : std::string(raw)});
      }
      q = next;
    }
    return true;
  }
  size_t i = 0;
  auto skipSpace = [&] {
    while (i < dsn.size() && std::isspace(static_cast<unsigned char>(dsn[i]))) ++i;
  };
  while (true) {
    skipSpace();
    if (i >= dsn.size()) return true;
    size_t key_begin = i;
    while (i < dsn.size() && dsn[i] != '=' && !std::isspace(static_cast<unsigned char>(dsn[i]))) {
      ++i;
    }
    std::string_view key = dsn.substr(key_begin, i - key_begin);
    skipSpace();
    if (i >= dsn.size() || dsn[i] != '=' || key.empty()) return false;
    ++i;
    skipSpace();
    size_t value_begin = i;
    std::string value;
    if (i < dsn.size() && dsn[i] == '\'') {
      ++i;
      bool closed = false;
      while (i < dsn.size()) {
        if (dsn[i] == '\\' && i + 1 < dsn.size()) {
          value += dsn[i + 1];
          i += 2;
        } else if (dsn[i] == '\'') {
          ++i;
          closed = true;
          break;
        } else {
          value += dsn[i++];
        }
      }
      if (!closed) return false;
    } else {
      while (i < dsn.size() && !std::isspace(static_cast<unsigned char>(dsn[i]))) {
        if (dsn[i] == '\\' && i + 1 < dsn.size()) {
          value += dsn[i + 1];
          i += 2;
        } else {
          value += dsn[i++];
        }
      }
    }
    if (key == "password") spans.push_back({value_begin, i, value});
  }
}

}  // namespace

std::string maskDsnPassword(std::string_view dsn) {
  std::vector<Span> spans;
  if (!findPasswordSpans(dsn, spans)) return std::string(kMask);
  std::string out;
  size_t pos = 0;
  for (const Span& s : spans) {
    out.append(dsn.substr(pos, s.begin - pos));
    out += kMask;
    pos = s.end;
  }
  out.append(dsn.substr(pos));
  return out;
}

std::vector<std::string> dsnPasswords(std::string_view dsn) {
  std::vector<Span> spans;
  std::vector<std::string> out;
  if (!findPasswordSpans(dsn, spans)) return out;
  for (const Span& s : spans) {
    std::string raw(dsn.substr(s.begin, s.end - s.begin));
    if (!s.decoded.empty()) out.push_back(s.decoded);
    if (raw != s.decoded && !raw.empty()) out.push_back(raw);
  }
  return out;
}

}  // namespace tether::config::internal

#include "identity/jose.h"

#include <array>
#include <boost/json.hpp>
#include <cmath>
#include <limits>

namespace tether::identity {
namespace {

constexpr size_t kMaxDepth = 16;
constexpr size_t kMaxStringClaim = 1024;
constexpr size_t kMaxAudiences = 32;
constexpr size_t kMaxListValues = 256;

core::Error bad(std::string message) {
  return core::Error(core::Errc::kUnauthenticated, std::move(message));
}

// -1 for a byte outside the base64url alphabet.
constexpr std::array<int8_t, 256> makeTable() {
  std::array<int8_t, 256> t{};
  for (auto& v : t) v = -1;
  for (int i = 0; i < 26; ++i) {
    t[static_cast<size_t>('A' + i)] = static_cast<int8_t>(i);
    t[static_cast<size_t>('a' + i)] = static_cast<int8_t>(26 + i);
  }
  for (int i = 0; i < 10; ++i) t[static_cast<size_t>('0' + i)] = static_cast<int8_t>(52 + i);
  t[static_cast<size_t>('-')] = 62;
  t[static_cast<size_t>('_')] = 63;
  return t;
}
constexpr auto kTable = makeTable();

core::Result<boost::json::object> parseObject(std::string_view json, std::string_view what) {
  boost::json::parse_options opts;
  opts.max_depth = kMaxDepth;
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(json, ec, {}, opts);
  if (ec) return bad(std::string(what) + " is not valid JSON (" + ec.message() + ")");
  if (!v.is_object()) return bad(std::string(what) + " is not a JSON object");
  return std::move(v.as_object());
}

// A string member, bounded; absent: empty.
core::Status readString(const boost::json::object& o, std::string_view key, std::string& out,
                        std::string_view what) {
  const auto* v = o.if_contains(key);
  if (!v || v->is_null()) return {};
  if (!v->is_string()) return bad(std::string(what) + " " + std::string(key) + " is not a string");
  if (v->as_string().size() > kMaxStringClaim) {
    return bad(std::string(what) + " " + std::string(key) + " is longer than 1 KiB");
  }
  out.assign(v->as_string().data(), v->as_string().size());
  return {};
}

// A NumericDate (RFC 7519 §2): seconds, possibly fractional; absent: nullopt.
core::Status readTime(const boost::json::object& o, std::string_view key,
                      std::optional<int64_t>& out) {
  const auto* v = o.if_contains(key);
  if (!v || v->is_null()) return {};
  if (v->is_int64()) {
    out = v->as_int64();
  } else if (v->is_uint64()) {
    if (v->as_uint64() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return bad("claim " + std::string(key) + " is out of range");
    }
    out = static_cast<int64_t>(v->as_uint64());
  } else if (v->is_double()) {
    const double d = v->as_double();
    if (!std::isfinite(d) || d > 9.0e15 || d < -9.0e15) {
      return bad("claim " + std::string(key) + " is out of range");
    }
    out = static_cast<int64_t>(std::floor(d));
  } else {
    return bad("claim " + std::string(key) + " is not a number");
  }
  return {};
}

// A string or an array of strings, each bounded, at most `max_values`.
core::Status readList(const boost::json::value& v, std::string_view key, size_t max_values,
                      std::vector<std::string>& out) {
  auto add = [&](const boost::json::value& item) -> core::Status {
    if (!item.is_string()) return bad("claim " + std::string(key) + " holds a non-string value");
    if (item.as_string().size() > kMaxStringClaim) {
      return bad("claim " + std::string(key) + " holds a value longer than 1 KiB");
    }
    if (out.size() >= max_values) {
      return bad("claim " + std::string(key) + " has more than " + std::to_string(max_values) +
                 " values");
    }
    out.emplace_back(item.as_string().data(), item.as_string().size());
    return {};
  };
  if (v.is_string()) return add(v);
  if (v.is_array()) {
    for (const auto& item : v.as_array()) TETHER_TRY(add(item));
    return {};
  }
  return bad("claim " + std::string(key) + " is neither a string nor an array of strings");
}

// A space-separated scope string, split, bounded.
core::Status splitScopes(std::string_view s, std::vector<std::string>& out) {
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && s[i] == ' ') ++i;
    size_t j = i;
    while (j < s.size() && s[j] != ' ') ++j;
    if (j > i) {
      if (out.size() >= kMaxListValues) return bad("claim scope has more than 256 values");
      out.emplace_back(s.substr(i, j - i));
    }
    i = j;
  }
  return {};
}

core::Result<TokenClaims> claimsOf(const boost::json::object& o, const ClaimNames& names) {
  TokenClaims c;
  TETHER_TRY(readString(o, "iss", c.iss, "claim"));
  if (const auto* aud = o.if_contains("aud"); aud && !aud->is_null()) {
    TETHER_TRY(readList(*aud, "aud", kMaxAudiences, c.aud));
  }
  TETHER_TRY(readTime(o, "exp", c.exp));
  TETHER_TRY(readTime(o, "nbf", c.nbf));
  TETHER_TRY(readTime(o, "iat", c.iat));
  if (const auto* scope = o.if_contains("scope"); scope && !scope->is_null()) {
    if (!scope->is_string()) return bad("claim scope is not a string");
    if (scope->as_string().size() > 8 * 1024) return bad("claim scope is longer than 8 KiB");
    TETHER_TRY(splitScopes(std::string_view(scope->as_string()), c.scopes));
  }
  if (const auto* scp = o.if_contains("scp"); scp && !scp->is_null()) {
    if (scp->is_string()) {
      TETHER_TRY(splitScopes(std::string_view(scp->as_string()), c.scopes));
    } else {
      TETHER_TRY(readList(*scp, "scp", kMaxListValues, c.scopes));
    }
  }
  if (const auto* sub = o.if_contains(names.subject); sub && !sub->is_null()) {
    if (sub->is_int64()) {
      c.subject = std::to_string(sub->as_int64());
    } else if (sub->is_uint64()) {
      c.subject = std::to_string(sub->as_uint64());
    } else {
      TETHER_TRY(readString(o, names.subject, c.subject, "subject claim"));
    }
  }
  if (!names.groups.empty()) {
    if (const auto* g = o.if_contains(names.groups); g && !g->is_null()) {
      TETHER_TRY(readList(*g, "groups", kMaxListValues, c.groups));
    }
  }
  TETHER_TRY(readString(o, "client_id", c.client_id, "claim"));
  if (c.client_id.empty()) TETHER_TRY(readString(o, "azp", c.client_id, "claim"));
  return c;
}

}  // namespace

std::optional<std::string> decodeBase64Url(std::string_view text) {
  if (text.size() % 4 == 1) return std::nullopt;  // no whole byte in the last group
  std::string out;
  out.reserve(text.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (unsigned char ch : text) {
    const int8_t v = kTable[ch];
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  // The unused low bits of the last character must be zero (canonical encoding).
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

bool looksLikeJws(std::string_view token) {
  const size_t a = token.find('.');
  if (a == std::string_view::npos) return false;
  const size_t b = token.find('.', a + 1);
  return b != std::string_view::npos && token.find('.', b + 1) == std::string_view::npos;
}

core::Result<TokenClaims> parseClaims(std::string_view json, const ClaimNames& names) {
  if (json.size() > kMaxClaimsBytes) return bad("claims are larger than 8 KiB");
  TETHER_TRY_ASSIGN(auto object, parseObject(json, "claims"));
  return claimsOf(object, names);
}

core::Result<ParsedJws> parseJws(std::string_view token, const ClaimNames& names) {
  if (token.size() > kMaxTokenBytes) return bad("token is larger than 16 KiB");
  if (token.empty()) return bad("token is empty");
  const size_t a = token.find('.');
  const size_t b = a == std::string_view::npos ? a : token.find('.', a + 1);
  if (b == std::string_view::npos || token.find('.', b + 1) != std::string_view::npos) {
    return bad("token is not a compact JWS (three dot-separated parts)");
  }
  const std::string_view h64 = token.substr(0, a);
  const std::string_view p64 = token.substr(a + 1, b - a - 1);
  const std::string_view s64 = token.substr(b + 1);
  if (h64.empty() || p64.empty()) return bad("token has an empty header or payload");
  if (h64.size() > (kMaxHeaderBytes * 4 + 2) / 3) return bad("token header is larger than 2 KiB");
  if (p64.size() > (kMaxClaimsBytes * 4 + 2) / 3) return bad("token payload is larger than 8 KiB");

  auto header_json = decodeBase64Url(h64);
  if (!header_json) return bad("token header is not base64url");
  auto payload_json = decodeBase64Url(p64);
  if (!payload_json) return bad("token payload is not base64url");
  auto sig = decodeBase64Url(s64);
  if (!sig) return bad("token signature is not base64url");

  ParsedJws out;
  {
    TETHER_TRY_ASSIGN(auto h, parseObject(*header_json, "token header"));
    TETHER_TRY(readString(h, "alg", out.header.alg, "header"));
    if (out.header.alg.empty()) return bad("token header has no alg");
    TETHER_TRY(readString(h, "kid", out.header.kid, "header"));
    TETHER_TRY(readString(h, "typ", out.header.typ, "header"));
    if (h.contains("crit")) return bad("token header has crit (no extension is supported)");
  }
  TETHER_TRY_ASSIGN(out.claims, parseClaims(*payload_json, names));
  out.signing_input = token.substr(0, b);
  out.signature = std::move(*sig);
  return out;
}

}  // namespace tether::identity

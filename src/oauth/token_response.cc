#include "oauth/token_response.h"

#include <boost/json.hpp>
#include <cmath>
#include <cstdint>

#include "core/encoding.h"
#include "oauth/error_response.h"
#include "oauth/form.h"
#include "oauth/sanitize.h"

namespace tether::oauth {
namespace {

// Latest `exp` accepted: 2200-01-01 (core::TimePoint counts 64-bit nanoseconds, to 2262).
constexpr int64_t kMaxUnixSeconds = 7258118400;

// A JSON or form member as seen by the parser, independent of the body's encoding.
class Members {
 public:
  virtual ~Members() = default;
  virtual bool has(std::string_view name) const = 0;
  /// The member as a string; nullopt when absent or not a string.
  virtual std::optional<std::string_view> string(std::string_view name) const = 0;
  /// The member as whole seconds; nullopt when absent, not a number, a string that is
  /// not digits, fractional garbage or negative.
  virtual std::optional<int64_t> seconds(std::string_view name) const = 0;
};

std::optional<int64_t> digitsValue(std::string_view s) {
  if (s.empty() || s.size() > 15) return std::nullopt;
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

std::optional<int64_t> jsonSeconds(const boost::json::value& v) {
  if (v.is_int64())
    return v.get_int64() >= 0 ? std::optional<int64_t>(v.get_int64()) : std::nullopt;
  if (v.is_uint64()) {
    return v.get_uint64() <= static_cast<uint64_t>(INT64_MAX / 2)
               ? std::optional<int64_t>(static_cast<int64_t>(v.get_uint64()))
               : std::nullopt;
  }
  if (v.is_double()) {
    const double d = v.get_double();
    if (!std::isfinite(d) || d < 0 || d > 1e15) return std::nullopt;
    return static_cast<int64_t>(d);
  }
  if (v.is_string()) {
    const auto& s = v.get_string();
    return digitsValue(std::string_view(s.data(), s.size()));
  }
  return std::nullopt;
}

class JsonMembers final : public Members {
 public:
  explicit JsonMembers(const boost::json::object& o) : o_(o) {}
  bool has(std::string_view name) const override { return o_.contains(name); }
  std::optional<std::string_view> string(std::string_view name) const override {
    const auto* v = o_.if_contains(name);
    if (!v || !v->is_string()) return std::nullopt;
    return std::string_view(v->get_string().data(), v->get_string().size());
  }
  std::optional<int64_t> seconds(std::string_view name) const override {
    const auto* v = o_.if_contains(name);
    if (!v) return std::nullopt;
    return jsonSeconds(*v);
  }

 private:
  const boost::json::object& o_;
};

class FormMembers final : public Members {
 public:
  explicit FormMembers(FormPairs pairs) : pairs_(std::move(pairs)) {}
  bool has(std::string_view name) const override { return findFormValue(pairs_, name).has_value(); }
  std::optional<std::string_view> string(std::string_view name) const override {
    return findFormValue(pairs_, name);
  }
  std::optional<int64_t> seconds(std::string_view name) const override {
    const auto v = findFormValue(pairs_, name);
    return v ? digitsValue(*v) : std::nullopt;
  }

 private:
  FormPairs pairs_;
};

std::optional<boost::json::value> parseJson(std::string_view text) {
  boost::json::parse_options opts;
  opts.max_depth = protocol::kMaxJsonDepth;
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(text, ec, {}, opts);
  if (ec) return std::nullopt;
  return v;
}

bool isScopeChar(char c) {
  // RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ), separated by spaces.
  return c == ' ' || c == 0x21 || (c >= 0x23 && c <= 0x5B) || (c >= 0x5D && c <= 0x7E);
}

std::string cleanScope(std::string_view in) {
  std::string out;
  for (char c : in.substr(0, protocol::kMaxScopeBytes + 1)) {
    if (isScopeChar(c)) out += c;
  }
  if (out.size() > protocol::kMaxScopeBytes) {
    // Cut between scope tokens so no half scope is reported.
    const size_t sp = out.rfind(' ', protocol::kMaxScopeBytes);
    out.resize(sp == std::string::npos ? 0 : sp);
  }
  return out;
}

TokenParseResult failure(TokenParseFailure f, std::string idp_error = {}) {
  TokenParseResult r;
  r.error = {f, std::move(idp_error)};
  return r;
}

std::optional<std::chrono::seconds> lifetime(const Members& m, std::string_view name) {
  const auto s = m.seconds(name);
  if (!s || *s <= 0 || *s > protocol::kMaxLifetime.count()) return std::nullopt;
  return std::chrono::seconds(*s);
}

TokenParseResult fromMembers(const Members& m, const TokenParseOptions& options) {
  if (m.has(protocol::kError)) {
    const auto e = m.string(protocol::kError);
    return failure(TokenParseFailure::kErrorMember, e ? sanitizeIdpString(*e) : std::string());
  }
  const auto access = m.string(protocol::kAccessToken);
  if (!access || access->empty()) return failure(TokenParseFailure::kNoAccessToken);
  if (!isAcceptableToken(*access)) return failure(TokenParseFailure::kBadToken);

  TokenSet t;
  t.access_token = std::string(*access);
  const auto type = m.string(protocol::kTokenType);
  t.token_type = type && !type->empty() ? sanitizeIdpString(*type) : std::string("Bearer");

  if (const auto life = lifetime(m, protocol::kExpiresIn)) {
    t.access_expires_at = options.now + *life;
    t.access_expiry_source = ExpirySource::kExpiresIn;
  } else if (const auto exp = jwtExpiry(t.access_token); exp && *exp > options.now) {
    t.access_expires_at = *exp;
    t.access_expiry_source = ExpirySource::kJwtExp;
  } else {
    const auto fallback = options.default_lifetime.count() > 0
                              ? options.default_lifetime
                              : protocol::kDefaultAccessTokenLifetime;
    t.access_expires_at = options.now + fallback;
    t.access_expiry_source = ExpirySource::kDefault;
  }

  const auto refresh = m.string(protocol::kRefreshToken);
  if (refresh && !refresh->empty()) {
    if (!isAcceptableToken(*refresh)) return failure(TokenParseFailure::kBadToken);
    t.refresh_token = std::string(*refresh);
    t.refresh_token_rotated = *refresh != options.previous_refresh_token;
  } else {
    t.refresh_token = std::string(options.previous_refresh_token);
  }
  // Keycloak sends refresh_expires_in 0 for tokens without an idle or max lifetime.
  if (const auto life = lifetime(m, protocol::kRefreshExpiresIn)) {
    t.refresh_expires_at = options.now + *life;
  }
  if (const auto scope = m.string(protocol::kScope)) t.scope = cleanScope(*scope);
  if (const auto id = m.string(protocol::kIdToken); id && isAcceptableToken(*id)) {
    t.id_token = std::string(*id);
  }
  TokenParseResult r;
  r.tokens = std::move(t);
  return r;
}

}  // namespace

bool isAcceptableToken(std::string_view token) {
  if (token.empty() || token.size() > protocol::kMaxTokenBytes) return false;
  for (char c : token) {
    if (c < 0x20 || c > 0x7E) return false;
  }
  return true;
}

std::optional<core::TimePoint> jwtExpiry(std::string_view token) {
  if (token.size() > protocol::kMaxTokenBytes) return std::nullopt;
  const size_t dot1 = token.find('.');
  if (dot1 == std::string_view::npos) return std::nullopt;
  const size_t dot2 = token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return std::nullopt;
  }
  auto payload = core::base64Decode(token.substr(dot1 + 1, dot2 - dot1 - 1));
  if (!payload.ok()) return std::nullopt;
  const auto claims = parseJson(payload.value());
  if (!claims || !claims->is_object()) return std::nullopt;
  const auto* exp = claims->get_object().if_contains("exp");
  if (!exp || exp->is_string()) return std::nullopt;  // RFC 7519: exp is a NumericDate
  const auto secs = jsonSeconds(*exp);
  if (!secs || *secs <= 0 || *secs > kMaxUnixSeconds) return std::nullopt;
  return core::fromUnixSeconds(*secs);
}

TokenParseResult parseTokenResponse(std::string_view body, std::string_view content_type,
                                    const TokenParseOptions& options) {
  if (body.size() > protocol::kMaxResponseBytes) return failure(TokenParseFailure::kTooLarge);
  const size_t first = body.find_first_not_of(" \t\r\n");
  const bool json_shaped = first != std::string_view::npos && body[first] == '{';
  if (!json_shaped && mediaType(content_type) == protocol::kMediaForm) {
    return fromMembers(FormMembers(parseFormBody(body, 64)), options);
  }
  const auto v = parseJson(body);
  if (!v || !v->is_object()) return failure(TokenParseFailure::kUnparsable);
  return fromMembers(JsonMembers(v->get_object()), options);
}

}  // namespace tether::oauth

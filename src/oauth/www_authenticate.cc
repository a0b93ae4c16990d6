#include "oauth/www_authenticate.h"

#include "core/encoding.h"
#include "oauth/protocol.h"
#include "oauth/scopes.h"

namespace tether::oauth {
namespace {

// RFC 9110 tchar.
bool isTchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  static constexpr std::string_view kOther = "!#$%&'*+-.^_`|~";
  return kOther.find(c) != std::string_view::npos;
}

// RFC 9110 token68 characters (excluding the trailing '=' padding).
bool isToken68Char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
}

bool isWs(char c) { return c == ' ' || c == '\t'; }

class Parser {
 public:
  explicit Parser(std::string_view s) : s_(s) {}

  std::vector<AuthChallenge> run() {
    std::vector<AuthChallenge> out;
    while (i_ < s_.size()) {
      skipSeparators();
      if (i_ >= s_.size()) break;
      const std::string_view name = token();
      if (name.empty()) {
        ++i_;  // a character that cannot start anything: skip it
        continue;
      }
      const size_t after_name = i_;
      skipWs();
      if (i_ < s_.size() && s_[i_] == '=') {
        // name=value: a parameter of the current challenge.
        ++i_;
        skipWs();
        std::string value = i_ < s_.size() && s_[i_] == '"' ? quoted() : std::string(token());
        if (!out.empty() && out.back().params.size() < protocol::kMaxWwwAuthenticateParams) {
          out.back().params.emplace_back(std::string(name), std::move(value));
        }
        continue;
      }
      i_ = after_name;
      if (out.size() >= protocol::kMaxWwwAuthenticateChallenges) break;
      AuthChallenge challenge;
      challenge.scheme = std::string(name);
      skipWs();
      challenge.token68 = token68();
      out.push_back(std::move(challenge));
    }
    return out;
  }

 private:
  void skipWs() {
    while (i_ < s_.size() && isWs(s_[i_])) ++i_;
  }
  void skipSeparators() {
    while (i_ < s_.size() && (isWs(s_[i_]) || s_[i_] == ',')) ++i_;
  }
  std::string_view token() {
    const size_t start = i_;
    while (i_ < s_.size() && isTchar(s_[i_])) ++i_;
    return s_.substr(start, i_ - start);
  }
  // A quoted-string starting at '"'; an unterminated one runs to the end of the input.
  std::string quoted() {
    std::string out;
    ++i_;
    while (i_ < s_.size()) {
      const char c = s_[i_++];
      if (c == '"') return out;
      if (c == '\\' && i_ < s_.size()) {
        out += s_[i_++];
      } else {
        out += c;
      }
    }
    return out;
  }
  // A token68 right after a scheme: only when it is followed by the end or a comma
  // (otherwise what follows is `name=value` parameters, handled by the main loop).
  std::string token68() {
    size_t j = i_;
    while (j < s_.size() && isToken68Char(s_[j])) ++j;
    if (j == i_) return {};
    while (j < s_.size() && s_[j] == '=') ++j;
    size_t k = j;
    while (k < s_.size() && isWs(s_[k])) ++k;
    if (k < s_.size() && s_[k] != ',') return {};
    std::string out(s_.substr(i_, j - i_));
    i_ = k;
    return out;
  }

  std::string_view s_;
  size_t i_ = 0;
};

}  // namespace

std::optional<std::string_view> AuthChallenge::param(std::string_view name) const {
  for (const auto& [k, v] : params) {
    if (core::iequals(k, name)) return std::string_view(v);
  }
  return std::nullopt;
}

std::vector<AuthChallenge> parseWwwAuthenticate(std::string_view value) {
  if (value.size() > protocol::kMaxWwwAuthenticateBytes) {
    value = value.substr(0, protocol::kMaxWwwAuthenticateBytes);
  }
  return Parser(value).run();
}

std::optional<std::string> wwwAuthenticateError(const http::Headers& headers) {
  for (const auto& h : headers) {
    if (!core::iequals(h.name, protocol::kHeaderWwwAuthenticate)) continue;
    for (const auto& challenge : parseWwwAuthenticate(h.value)) {
      if (auto e = challenge.param(protocol::kError)) return std::string(*e);
    }
  }
  return std::nullopt;
}

std::optional<InsufficientScope> insufficientScopeChallenge(const http::Headers& headers) {
  for (const auto& h : headers) {
    if (!core::iequals(h.name, protocol::kHeaderWwwAuthenticate)) continue;
    for (const auto& challenge : parseWwwAuthenticate(h.value)) {
      if (!core::iequals(challenge.scheme, "Bearer")) continue;
      auto error = challenge.param(protocol::kError);
      if (!error || *error != "insufficient_scope") continue;
      InsufficientScope out;
      auto scope = challenge.param("scope");
      if (!scope) return out;
      if (h.value.size() > protocol::kMaxWwwAuthenticateBytes) {
        out.refused = "the WWW-Authenticate header is longer than " +
                      std::to_string(protocol::kMaxWwwAuthenticateBytes) + " bytes";
        return out;
      }
      auto parsed = parseScopeList(*scope);
      if (parsed.ok()) {
        out.scopes = std::move(parsed).value();
      } else {
        out.refused = parsed.error().message;
      }
      return out;
    }
  }
  return std::nullopt;
}

}  // namespace tether::oauth

#include "oauth/scopes.h"

#include <algorithm>

namespace tether::oauth {
namespace {

// RFC 6749 §3.3 NQCHAR: %x21 / %x23-5B / %x5D-7E (no space, '"' or '\').
bool isScopeChar(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u >= 0x21 && u <= 0x7e && c != '"' && c != '\\';
}

}  // namespace

core::Result<std::vector<std::string>> parseScopeList(std::string_view text) {
  if (text.size() > kMaxScopeListBytes) {
    return core::Error(core::Errc::kInvalidArgument,
                       "scope list of " + std::to_string(text.size()) + " bytes is longer than " +
                           std::to_string(kMaxScopeListBytes));
  }
  std::vector<std::string> out;
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] == ' ' || text[i] == '\t') {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < text.size() && text[j] != ' ' && text[j] != '\t') {
      if (!isScopeChar(text[j])) {
        return core::Error(core::Errc::kInvalidArgument,
                           "scope list holds a character a scope may not have (RFC 6749 §3.3)");
      }
      ++j;
    }
    if (j - i > kMaxScopeTokenBytes) {
      return core::Error(
          core::Errc::kInvalidArgument,
          "scope list holds a scope longer than " + std::to_string(kMaxScopeTokenBytes) + " bytes");
    }
    std::string token(text.substr(i, j - i));
    if (std::find(out.begin(), out.end(), token) == out.end()) {
      if (out.size() >= kMaxScopes) {
        return core::Error(core::Errc::kInvalidArgument,
                           "scope list holds more than " + std::to_string(kMaxScopes) + " scopes");
      }
      out.push_back(std::move(token));
    }
    i = j;
  }
  return out;
}

std::string joinScopeList(const std::vector<std::string>& scopes) {
  std::string out;
  for (const auto& s : scopes) {
    if (!out.empty()) out += ' ';
    out += s;
  }
  return out;
}

core::Result<std::string> unionScopes(std::string_view a, std::string_view b) {
  TETHER_TRY_ASSIGN(auto left, parseScopeList(a));
  TETHER_TRY_ASSIGN(const auto right, parseScopeList(b));
  for (const auto& s : right) {
    if (std::find(left.begin(), left.end(), s) != left.end()) continue;
    if (left.size() >= kMaxScopes) {
      return core::Error(
          core::Errc::kInvalidArgument,
          "the union of the scopes would hold more than " + std::to_string(kMaxScopes) + " scopes");
    }
    left.push_back(s);
  }
  std::string joined = joinScopeList(left);
  if (joined.size() > kMaxScopeListBytes) {
    return core::Error(
        core::Errc::kInvalidArgument,
        "the union of the scopes is longer than " + std::to_string(kMaxScopeListBytes) + " bytes");
  }
  return joined;
}

bool containsAllScopes(std::string_view have, std::string_view needed) {
  auto h = parseScopeList(have);
  auto n = parseScopeList(needed);
  if (!h.ok() || !n.ok()) return false;
  return std::all_of(n->begin(), n->end(), [&](const std::string& s) {
    return std::find(h->begin(), h->end(), s) != h->end();
  });
}

}  // namespace tether::oauth

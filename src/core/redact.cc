#include "core/redact.h"

#include <algorithm>
#include <array>
#include <mutex>
#include <shared_mutex>
#include <vector>

#include "core/encoding.h"

namespace tether::core {
namespace {

constexpr std::array<std::string_view, 5> kSecretHeaders = {"authorization", "proxy-authorization",
                                                            "cookie", "set-cookie", "x-api-key"};

constexpr std::array<std::string_view, 11> kSecretParams = {
    "access_token",  "refresh_token", "id_token",  "client_secret",    "code",
    "code_verifier", "password",      "assertion", "client_assertion", "subject_token",
    "device_code"};

// Secret only as `name=value` (query strings, form bodies): OAuth's `state` binds a callback
// to its flow, while the same word names a connection's lifecycle state in JSON and prose.
constexpr std::array<std::string_view, 1> kSecretQueryParams = {"state"};

bool isSecretQueryParam(std::string_view name) {
  for (auto p : kSecretQueryParams) {
    if (iequals(p, name)) return true;
  }
  return false;
}

struct SecretRegistry {
  std::shared_mutex mu;
  std::vector<std::string> values;
};

SecretRegistry& registry() {
  static SecretRegistry r;
  return r;
}

bool isNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

// Characters that end an unquoted parameter value in URLs, forms, headers and prose.
bool endsValue(char c) {
  return c == '&' || c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '"' || c == '\'' ||
         c == ',' || c == ';' || c == '<' || c == '>' || c == '}' || c == ')' || c == ']';
}

// Replaces, after `name=` or `"name":"` / `"name": "`, the value of secret parameters.
std::string redactParams(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  size_t i = 0;
  while (i < in.size()) {
    // Find a name token.
    if (!isNameChar(in[i]) || (i > 0 && isNameChar(in[i - 1]))) {
      out += in[i++];
      continue;
    }
    size_t j = i;
    while (j < in.size() && isNameChar(in[j])) ++j;
    const std::string_view name = in.substr(i, j - i);
    out.append(name);
    i = j;
    const bool query_only = !isSecretParam(name);
    if (query_only && !isSecretQueryParam(name)) continue;
    // Form: name=value ; also name: value (header-like or YAML-like prose)
    size_t k = i;
    bool quoted_name = k < in.size() && in[k] == '"';
    if (quoted_name) ++k;
    while (k < in.size() && (in[k] == ' ' || in[k] == '\t')) ++k;
    if (k >= in.size() || (in[k] != '=' && in[k] != ':')) continue;
    if (query_only && (quoted_name || in[k] != '=')) continue;
    ++k;
    while (k < in.size() && (in[k] == ' ' || in[k] == '\t')) ++k;
    out.append(in.substr(i, k - i));
    i = k;
    if (i < in.size() && (in[i] == '"' || in[i] == '\'')) {
      const char q = in[i];
      out += q;
      ++i;
      size_t end = i;
      while (end < in.size() && in[end] != q) {
        if (in[end] == '\\' && end + 1 < in.size()) ++end;
        ++end;
      }
      if (end > i) out.append(kRedacted);
      i = end;  // closing quote copied by the main loop
    } else {
      size_t end = i;
      while (end < in.size() && !endsValue(in[end])) ++end;
      if (end > i) out.append(kRedacted);
      i = end;
    }
  }
  return out;
}

// True when the word after "token" has a credential's shape rather than prose's: a digit,
// a base64 character no prose word carries, mixed case past the first letter, or the length
// of a generated value. "token refresh failed" and "token refresh_failing" are prose;
// "token ghp_16C7e42F..." is not.
bool looksLikeCredential(std::string_view v) {
  if (v.size() >= 24) return true;
  bool upper_inside = false;
  for (size_t i = 0; i < v.size(); ++i) {
    const char c = v[i];
    if ((c >= '0' && c <= '9') || c == '~' || c == '+' || c == '/' || c == '=') {
      return true;
    }
    if (i > 0 && c >= 'A' && c <= 'Z') upper_inside = true;
  }
  return upper_inside;
}

// Masks credentials after auth schemes: "Bearer xyz", "Basic xyz", "token xyz" (the last only
// when the value looks like a credential: "token" is also a word in prose).
std::string redactSchemes(std::string_view in) {
  static constexpr std::array<std::string_view, 3> kSchemes = {"bearer", "basic", "token"};
  std::string out;
  out.reserve(in.size());
  size_t i = 0;
  while (i < in.size()) {
    bool matched = false;
    if (i == 0 || !isNameChar(in[i - 1])) {
      for (auto scheme : kSchemes) {
        if (i + scheme.size() + 1 < in.size() && iequals(in.substr(i, scheme.size()), scheme) &&
            (in[i + scheme.size()] == ' ')) {
          size_t k = i + scheme.size();
          while (k < in.size() && in[k] == ' ') ++k;
          size_t end = k;
          while (end < in.size() && !endsValue(in[end])) ++end;
          // Only credential-looking values (at least 6 chars) - keeps prose like "Basic auth".
          const bool prose_word = scheme == "token" && !looksLikeCredential(in.substr(k, end - k));
          if (end - k >= 6 && !prose_word) {
            out.append(in.substr(i, k - i));
            out.append(kRedacted);
            i = end;
            matched = true;
          }
          break;
        }
      }
    }
    if (!matched) out += in[i++];
  }
  return out;
}

// Masks "Authorization: ..." style header lines completely.
std::string redactHeaderLines(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  size_t i = 0;
  while (i < in.size()) {
    bool matched = false;
    if (i == 0 || in[i - 1] == '\n' || in[i - 1] == ' ' || in[i - 1] == '"' || in[i - 1] == '{') {
      for (auto h : kSecretHeaders) {
        if (i + h.size() < in.size() && iequals(in.substr(i, h.size()), h)) {
          size_t k = i + h.size();
          if (k < in.size() && in[k] == '"') ++k;
          if (k < in.size() && in[k] == ':') {
            ++k;
            while (k < in.size() && (in[k] == ' ' || in[k] == '"')) ++k;
            size_t end = k;
            while (end < in.size() && in[end] != '\r' && in[end] != '\n' && in[end] != '"') ++end;
            out.append(in.substr(i, k - i));
            if (end > k) out.append(kRedacted);
            i = end;
            matched = true;
          }
          break;
        }
      }
    }
    if (!matched) out += in[i++];
  }
  return out;
}

}  // namespace

bool isSecretHeader(std::string_view name) {
  for (auto h : kSecretHeaders) {
    if (iequals(h, name)) return true;
  }
  return false;
}

bool isSecretParam(std::string_view name) {
  for (auto p : kSecretParams) {
    if (iequals(p, name)) return true;
  }
  return false;
}

std::string redactHeader(std::string_view name, std::string_view value) {
  if (isSecretHeader(name)) return std::string(kRedacted);
  return redactText(value);
}

std::string redactText(std::string_view text) {
  std::string out = redactHeaderLines(text);
  out = redactSchemes(out);
  out = redactParams(out);
  auto& reg = registry();
  std::shared_lock lock(reg.mu);
  for (const auto& secret : reg.values) {
    for (size_t pos = out.find(secret); pos != std::string::npos; pos = out.find(secret, pos)) {
      out.replace(pos, secret.size(), kRedacted);
      pos += kRedacted.size();
    }
  }
  return out;
}

void registerSecret(std::string_view value) {
  if (value.size() < 6) return;
  auto& reg = registry();
  std::unique_lock lock(reg.mu);
  for (const auto& v : reg.values) {
    if (v == value) return;
  }
  reg.values.emplace_back(value);
  // Longest first, so a secret containing another is masked whole.
  std::sort(reg.values.begin(), reg.values.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
}

void clearRegisteredSecrets() {
  auto& reg = registry();
  std::unique_lock lock(reg.mu);
  reg.values.clear();
}

}  // namespace tether::core

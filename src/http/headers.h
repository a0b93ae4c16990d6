#pragma once
/// HTTP header list shared by the server and the outbound client: order-preserving,
/// case-insensitive lookup. No Beast or curl types leak through here.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tether::http {

struct Header {
  std::string name;
  std::string value;
};

using Headers = std::vector<Header>;

/// First value of `name` (case-insensitive), if any.
std::optional<std::string_view> findHeader(const Headers& headers, std::string_view name);

/// Replaces every `name` header by one with `value` (appends when absent).
void setHeader(Headers& headers, std::string_view name, std::string_view value);

/// Removes every `name` header.
void removeHeader(Headers& headers, std::string_view name);

/// Parses `a=1&b=two+words` (form or query) into pairs (core::parseForm: at most
/// core::kMaxFormPairs pairs; malformed escapes keep the raw text).
std::vector<std::pair<std::string, std::string>> parseForm(std::string_view text);

/// First value of `key` in a parsed form.
std::optional<std::string> formValue(const std::vector<std::pair<std::string, std::string>>& form,
                                     std::string_view key);

}  // namespace tether::http

#pragma once
/// application/x-www-form-urlencoded bodies for the oauth module: building request bodies
/// and parsing (hostile) IdP bodies. Thread-safe (pure).

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tether::oauth {

using FormPairs = std::vector<std::pair<std::string, std::string>>;

/// `k1=v1&k2=v2` with each name and value form-urlencoded.
std::string encodeForm(const FormPairs& pairs);

/// Parses a form body. At most `max_pairs` pairs are kept; a malformed escape keeps the
/// raw text of that component.
FormPairs parseFormBody(std::string_view body, size_t max_pairs = 256);

/// First value of `key` in `pairs`.
std::optional<std::string_view> findFormValue(const FormPairs& pairs, std::string_view key);

}  // namespace tether::oauth

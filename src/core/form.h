#pragma once
/// application/x-www-form-urlencoded text (form bodies and query strings), bounded for
/// hostile input. Thread-safe (pure).

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tether::core {

using FormPairs = std::vector<std::pair<std::string, std::string>>;

/// The most pairs a parse keeps; anything after them is ignored.
inline constexpr size_t kMaxFormPairs = 256;

/// `k1=v1&k2=v2` with each name and value form-urlencoded.
std::string encodeForm(const FormPairs& pairs);

/// Parses `a=1&b=two+words`. At most `max_pairs` pairs are kept; a malformed escape keeps
/// the raw text of that component; empty parts are skipped.
FormPairs parseForm(std::string_view text, size_t max_pairs = kMaxFormPairs);

/// First value of `key` in `pairs`.
std::optional<std::string_view> findFormValue(const FormPairs& pairs, std::string_view key);

}  // namespace tether::core

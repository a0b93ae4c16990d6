#pragma once
// Helpers shared by the fuzz targets: split one input into several fields.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace tether::fuzz {

/// Takes the text up to the next NUL byte (or the rest) from `in`.
inline std::string_view takeField(std::string_view& in) {
  const size_t nul = in.find('\0');
  const std::string_view field = in.substr(0, nul);
  in = nul == std::string_view::npos ? std::string_view() : in.substr(nul + 1);
  return field;
}

/// A property that must hold whatever the input: abort so libFuzzer reports it.
inline void check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace tether::fuzz

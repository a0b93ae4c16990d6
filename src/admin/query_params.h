#pragma once
/// Numbers in admin API query strings and paths: one parser, one message shape
/// ("<name> must be a number from <min> to <max>", a 400), for every route file.

#include <charconv>
#include <string>
#include <string_view>

#include "core/errors.h"
#include "core/result.h"

namespace tether::admin {

/// `text` as an integer in [min, max]; otherwise kInvalidArgument naming `name`.
inline core::Result<int> boundedNumber(std::string_view text, std::string_view name, int min,
                                       int max) {
  int v = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ec != std::errc() || ptr != end || v < min || v > max) {
    return core::Error(core::Errc::kInvalidArgument, std::string(name) + " must be a number from " +
                                                         std::to_string(min) + " to " +
                                                         std::to_string(max));
  }
  return v;
}

}  // namespace tether::admin

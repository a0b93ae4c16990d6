#pragma once
/// Human durations as operators write them in config: `500ms`, `30s`, `5m`, `1h`, `90d`,
/// and sums such as `1h30m`.

#include <chrono>
#include <string>
#include <string_view>

#include "core/result.h"

namespace tether::core {

/// Parses a duration. Errors (kInvalidArgument) say what was expected.
Result<std::chrono::milliseconds> parseDuration(std::string_view text);

/// Shortest exact rendering, e.g. 90d, 1h30m, 500ms, 0s.
std::string formatDuration(std::chrono::milliseconds d);

}  // namespace tether::core

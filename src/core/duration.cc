#include "core/duration.h"

#include <array>
#include <cstdint>
#include <limits>
#include <utility>

namespace tether::core {
namespace {

constexpr int64_t kMs = 1;
constexpr int64_t kSec = 1000;
constexpr int64_t kMin = 60 * kSec;
constexpr int64_t kHour = 60 * kMin;
constexpr int64_t kDay = 24 * kHour;

Error bad(std::string_view text, std::string_view why) {
  return Error(Errc::kInvalidArgument,
               "invalid duration \"" + std::string(text.substr(0, 40)) + "\": " + std::string(why) +
                   " (expected a number and a unit ms, s, m, h or d, e.g. 30s, 5m, 1h, 90d)");
}

}  // namespace

Result<std::chrono::milliseconds> parseDuration(std::string_view text) {
  if (text.empty()) return bad(text, "empty");
  int64_t total = 0;
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] < '0' || text[i] > '9') return bad(text, "a number must come first");
    int64_t n = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      if (n > std::numeric_limits<int64_t>::max() / 10 / kDay) return bad(text, "too large");
      n = n * 10 + (text[i] - '0');
      ++i;
    }
    int64_t unit = 0;
    if (text.substr(i, 2) == "ms") {
      unit = kMs;
      i += 2;
    } else if (i < text.size()) {
      switch (text[i]) {
        case 's':
          unit = kSec;
          break;
        case 'm':
          unit = kMin;
          break;
        case 'h':
          unit = kHour;
          break;
        case 'd':
          unit = kDay;
          break;
        default:
          return bad(text, "unknown unit");
      }
      ++i;
    } else {
      return bad(text, "missing unit");
    }
    total += n * unit;
    if (total > 100LL * 365 * kDay) return bad(text, "too large (over 100 years)");
  }
  return std::chrono::milliseconds(total);
}

std::string formatDuration(std::chrono::milliseconds d) {
  int64_t ms = d.count();
  if (ms == 0) return "0s";
  std::string out;
  if (ms < 0) {
    out += '-';
    ms = -ms;
  }
  constexpr std::array<std::pair<int64_t, const char*>, 5> kUnits = {
      {{kDay, "d"}, {kHour, "h"}, {kMin, "m"}, {kSec, "s"}, {kMs, "ms"}}};
  for (const auto& [unit, name] : kUnits) {
    if (ms >= unit) {
      out += std::to_string(ms / unit);
      out += name;
      ms %= unit;
    }
  }
  return out;
}

}  // namespace tether::core

#pragma once
/// Retry-After (RFC 9110 §10.2.3) and HTTP-date (RFC 9110 §5.6.7) parsing. Pure functions,
/// thread-safe; "now" is injected so tests need no real clock.

#include <chrono>
#include <optional>
#include <string_view>

#include "core/clock.h"

namespace tether::oauth {

/// Parses an HTTP-date in any of the three forms a recipient must accept: IMF-fixdate
/// (`Sun, 06 Nov 1994 08:49:37 GMT`), RFC 850 (`Sunday, 06-Nov-94 08:49:37 GMT`) and
/// asctime (`Sun Nov  6 08:49:37 1994`). nullopt for anything else (including dates
/// before 1970 or impossible calendar values). The weekday is not cross-checked.
std::optional<core::TimePoint> parseHttpDate(std::string_view text);

/// Formats `t` as an IMF-fixdate (for servers and tests).
std::string formatHttpDate(core::TimePoint t);

/// The wait a Retry-After value asks for, relative to `now`: delta-seconds or an
/// HTTP-date; a date in the past means 0 s. Capped at protocol::kMaxRetryAfter. nullopt
/// when the value is neither form or longer than protocol::kMaxRetryAfterBytes.
std::optional<std::chrono::seconds> parseRetryAfter(std::string_view value, core::TimePoint now);

}  // namespace tether::oauth

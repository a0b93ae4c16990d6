#pragma once
/// W3C Trace Context (https://www.w3.org/TR/trace-context/): which `traceparent` a request
/// carries, strictly. Pure functions; thread-safe.

#include <string_view>

#include "http/headers.h"

namespace tether::http {

inline constexpr std::string_view kTraceparent = "traceparent";
inline constexpr std::string_view kTracestate = "tracestate";

/// True for a version-00 traceparent: "00-" 32 lower-case hex (the trace id, not all zeros)
/// "-" 16 lower-case hex (the parent id, not all zeros) "-" 2 lower-case hex (the flags),
/// nothing before or after.
bool validTraceparent(std::string_view value);

/// The request's traceparent when exactly one is present and it is valid, else empty (an
/// invalid or repeated one is dropped, and its tracestate with it).
std::string_view findTraceparent(const Headers& headers);

/// The trace id of a valid traceparent (its 32 hex digits).
inline std::string_view traceIdOf(std::string_view traceparent) {
  return traceparent.size() >= 35 ? traceparent.substr(3, 32) : std::string_view();
}

}  // namespace tether::http

// Fuzzes the Retry-After and HTTP-date parsers.
#include <cstdint>
#include <string_view>

#include "fuzz_util.h"
#include "oauth/retry_after.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tether;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const auto now = core::fromUnixSeconds(1'800'000'000);
  if (const auto wait = oauth::parseRetryAfter(in, now)) {
    fuzz::check(wait->count() >= 0 && wait->count() <= 3600);
  }
  if (const auto t = oauth::parseHttpDate(in)) {
    // Every accepted date formats and parses back to itself (leap second 60 aside).
    const auto again = oauth::parseHttpDate(oauth::formatHttpDate(*t));
    fuzz::check(again.has_value() && *again == *t);
  }
  return 0;
}

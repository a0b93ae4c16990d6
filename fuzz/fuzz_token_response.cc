// Fuzzes the token response parser (2xx bodies, JSON or form) and the JWT `exp` reader.
#include <cstdint>
#include <string_view>

#include "fuzz_util.h"
#include "oauth/token_response.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tether;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  const std::string_view content_type = fuzz::takeField(in);
  const std::string_view previous = fuzz::takeField(in);
  oauth::TokenParseOptions options;
  options.now = core::fromUnixSeconds(1'800'000'000);
  options.previous_refresh_token = previous;
  const auto r = oauth::parseTokenResponse(in, content_type, options);
  if (r.ok()) {
    const auto& t = *r.tokens;
    fuzz::check(oauth::isAcceptableToken(t.access_token));
    fuzz::check(t.access_expires_at > options.now);
    fuzz::check(t.token_type.size() <= oauth::protocol::kMaxSanitizedBytes);
    fuzz::check(t.scope.size() <= oauth::protocol::kMaxScopeBytes);
    fuzz::check(!t.refresh_token_rotated || !t.refresh_token.empty());
  }
  (void)oauth::jwtExpiry(in);
  return 0;
}

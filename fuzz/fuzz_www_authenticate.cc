// Fuzzes the WWW-Authenticate parser.
#include <cstdint>
#include <string_view>

#include "fuzz_util.h"
#include "oauth/protocol.h"
#include "oauth/www_authenticate.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tether;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const auto challenges = oauth::parseWwwAuthenticate(in);
  fuzz::check(challenges.size() <= oauth::protocol::kMaxWwwAuthenticateChallenges);
  for (const auto& c : challenges) {
    fuzz::check(!c.scheme.empty());
    fuzz::check(c.params.size() <= oauth::protocol::kMaxWwwAuthenticateParams);
    (void)c.param("error");
  }
  (void)oauth::wwwAuthenticateError({{"WWW-Authenticate", std::string(in)}});
  return 0;
}

// Fuzzes the WWW-Authenticate parser, the step-up (insufficient_scope) reader and the scope
// list bounds it applies.
#include <cstdint>
#include <string_view>

#include "fuzz_util.h"
#include "oauth/protocol.h"
#include "oauth/scopes.h"
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
  if (auto step_up = oauth::insufficientScopeChallenge({{"WWW-Authenticate", std::string(in)}})) {
    fuzz::check(step_up->scopes.size() <= oauth::kMaxScopes);
    fuzz::check(step_up->refused.empty() || step_up->scopes.empty());
  }
  if (auto scopes = oauth::parseScopeList(in); scopes.ok()) {
    fuzz::check(scopes->size() <= oauth::kMaxScopes);
    for (const auto& s : *scopes) fuzz::check(!s.empty() && s.size() <= oauth::kMaxScopeTokenBytes);
  }
  return 0;
}

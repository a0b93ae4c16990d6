#pragma once
/// Tether as an OAuth resource server (DESIGN.md §11): decides whether a bearer token from
/// the organisation's IdP lets its caller in, and who the caller is.
///
/// JWTs (compact JWS, identity/jose.h) are checked in this order, the first failure being
/// the answer: form; algorithm (one of `algorithms`; never none or HS*); key (the issuer's
/// JWK Set, by `kid`); signature; `iss` equal to the issuer; `aud` holding the audience of
/// the resource called; `exp` present and not past, `nbf` and `iat` not in the future (each
/// with `clock_skew`); a subject; the required scopes (the only failure that is 403).
/// Opaque tokens (anything that is not three dot-separated parts) go to RFC 7662
/// introspection when it is configured; an active answer is cached (bounded entries, for at
/// most `introspection_cache_ttl` and never past the token's `exp`), and the same claim
/// checks run on it.
///
/// A JWT that passed is remembered by its SHA-256 (bounded, until its `exp`, cleared when the
/// JWK Set changes): the next call with the same token and audience skips parse and
/// signature.
///
/// The JWK Set is fetched through `ValidatorDeps::fetch_jwks` on the blocking executor: at
/// start (`prefetch`), when a token names a `kid` the cached set does not hold, and in the
/// background when the set is older than `jwks_max_age`. Fetches start at most once per
/// `jwks_min_refresh` whatever the callers send (a flood of unknown kids costs one fetch a
/// minute, the others are refused at once; while no set was ever fetched, once per
/// `jwks_retry_without_keys`); calls that arrive while a fetch is running wait
/// for it (at most `max_waiters`, the rest refused).
///
/// Thread-safety: every member may be called from any thread. Callbacks run on the calling
/// thread (a decision made at once) or on the blocking executor. Owned by a shared_ptr: work
/// in flight keeps it alive.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "identity/jose.h"
#include "identity/jwk.h"

namespace tether::identity {

/// Which check refused a token: logged (never the token) and counted (a closed label set).
enum class Check {
  kMalformed,
  kAlgorithm,
  kUnknownKey,
  kKeysUnavailable,
  kSignature,
  kIssuer,
  kAudience,
  kExpired,
  kNotYetValid,
  kSubject,
  kInactive,
  kIntrospectionUnavailable,
  kScope,
};
std::string_view checkName(Check check);

/// Who a valid token names.
struct Caller {
  std::string subject;
  std::vector<std::string> groups;
  std::vector<std::string> scopes;
  std::string client_id;
};

struct Rejection {
  Check check = Check::kMalformed;
  std::string detail;  // one sentence for the log; never the token
};

using Verdict = core::Result<std::shared_ptr<const Caller>, Rejection>;

struct ValidatorOptions {
  std::string issuer;
  std::vector<Alg> algorithms = {Alg::kRS256, Alg::kES256, Alg::kPS256, Alg::kEdDSA};
  std::chrono::seconds clock_skew{60};
  std::vector<std::string> required_scopes;
  ClaimNames claims;
  std::chrono::seconds jwks_min_refresh{60};
  /// While no JWK Set was ever fetched (the IdP was down at start), fetches may start this
  /// often instead.
  std::chrono::seconds jwks_retry_without_keys{5};
  std::chrono::seconds jwks_max_age{3600};
  size_t max_waiters = 1024;
  /// Verified JWTs remembered (by SHA-256) until their exp, so a reused token skips the
  /// signature check; cleared when the JWK Set changes. 0: none.
  size_t verified_cache_entries = 4096;
  bool introspection = false;  // opaque tokens are refused when false
  size_t introspection_cache_entries = 4096;
  std::chrono::seconds introspection_cache_ttl{300};
  size_t max_introspections_in_flight = 32;
};

struct ValidatorDeps {
  const core::Clock* clock = nullptr;  // default: the system clock
  /// The JWK Set document (blocking; bounded in size and time by the implementation).
  std::function<core::Result<std::string>()> fetch_jwks;
  /// The RFC 7662 answer's body for `token` (blocking). Required when introspection is on.
  std::function<core::Result<std::string>(const std::string& token)> introspect;
  /// Runs blocking work off the I/O threads. Required.
  std::function<void(std::function<void()>)> run_blocking;
};

class Validator : public std::enable_shared_from_this<Validator> {
 public:
  static std::shared_ptr<Validator> create(ValidatorOptions options, ValidatorDeps deps);
  ~Validator();

  /// The verdict when it can be reached without I/O (the hot path: a JWT whose key is
  /// cached, a cached introspection answer, any refusal); nullopt when `validate` must run.
  std::optional<Verdict> tryValidate(std::string_view token, std::string_view audience);

  /// Reaches a verdict, fetching the JWK Set or introspecting when needed. `done` runs
  /// exactly once, on this thread or on the blocking executor.
  void validate(std::string token, std::string audience, std::function<void(Verdict)> done);

  /// Starts fetching the JWK Set now (at start), subject to the once-per-interval bound.
  void prefetch();

  /// JWK Set fetches started so far (tests, metrics).
  uint64_t jwksFetches() const { return jwks_fetches_.load(std::memory_order_relaxed); }

  const ValidatorOptions& options() const { return options_; }

 private:
  struct State;
  Validator(ValidatorOptions options, ValidatorDeps deps);
  // The JWT path. `may_fetch`: whether an unknown kid may start a fetch. Returns nullopt
  // when the caller must wait for the fetch just started (or running).
  std::optional<Verdict> checkJwt(std::string_view token, std::string_view audience, bool may_fetch,
                                  bool* must_wait, int64_t* exp = nullptr);
  Verdict checkClaims(const TokenClaims& claims, std::string_view audience, bool require_exp);
  bool startFetchLocked();                     // mu held
  std::chrono::seconds fetchInterval() const;  // mu held
  void runFetch();

  ValidatorOptions options_;
  ValidatorDeps deps_;
  const core::Clock* clock_;
  std::unique_ptr<State> state_;
  std::atomic<uint64_t> jwks_fetches_{0};
};

}  // namespace tether::identity

#pragma once
/// The refresh-failure classifier: DESIGN.md §3 as code. Every token endpoint outcome
/// (an HTTP answer, a transport failure, or a local reason not to call at all) becomes
/// success, transient or terminal, with a code an operator can read, the HTTP status and
/// the Retry-After to honour. Thread-safe (pure functions).

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "http/http_client.h"
#include "oauth/token_response.h"

namespace tether::oauth {

enum class OutcomeClass {
  kSuccess,    // tokens in hand
  kTransient,  // keep the tokens, back off, retry
  kTerminal,   // the IdP rejected the grant or the client: a human must re-authorize
};

std::string_view outcomeClassName(OutcomeClass c);  // "success" | "transient" | "terminal"

/// Reasons not to call the IdP at all.
enum class LocalFailure {
  kNoRefreshToken,  // no refresh token and the access token expired
  kRefreshExpired,  // refresh_expires_in or refresh_max_lifetime passed
};

/// One token endpoint outcome: either a local failure or what the outbound client returned.
struct Outcome {
  std::optional<LocalFailure> local;
  http::ClientResult result;

  static Outcome fromResult(http::ClientResult r) { return Outcome{std::nullopt, std::move(r)}; }
  static Outcome fromLocal(LocalFailure f) { return Outcome{f, {}}; }
};

struct Classification {
  OutcomeClass outcome_class = OutcomeClass::kTransient;
  /// Sanitized and safe to store: the IdP's structured code when it decided the class
  /// (or explains a transient 4xx/5xx), else one of Tether's own — malformed_response,
  /// response_too_large, http_<status>, transport_<what>, no_refresh_token,
  /// refresh_expired. Empty on success.
  std::string code;
  /// Sanitized structured code the IdP sent, whatever the status (empty if none). Differs
  /// from `code` e.g. for a 200 carrying `error` (code malformed_response).
  std::string idp_error;
  /// Retry-After to honour as a floor for the next attempt (429 and 503 only).
  std::optional<std::chrono::seconds> retry_after;
  int http_status = 0;  // 0: no HTTP answer
  http::TransportError transport_error = http::TransportError::kNone;
  /// The request reached the IdP (always true once an answer arrived). A transport
  /// failure with request_sent means the IdP may have acted on it: a one-time-use refresh
  /// token may already be spent ("answer lost after send").
  bool request_sent = false;

  bool success() const { return outcome_class == OutcomeClass::kSuccess; }
  bool terminal() const { return outcome_class == OutcomeClass::kTerminal; }
  bool transient() const { return outcome_class == OutcomeClass::kTransient; }
};

/// Classification plus, on success, the parsed tokens.
struct Interpretation {
  Classification classification;
  std::optional<TokenSet> tokens;  // set iff classification.success()
};

/// Interprets an outcome completely (parsing tokens on a 2xx). `options.now` is also the
/// reference for an HTTP-date Retry-After.
Interpretation interpret(const Outcome& outcome, const TokenParseOptions& options);

/// Just the class, code, status and Retry-After of an outcome.
Classification classify(const Outcome& outcome, core::TimePoint now);

/// Tether's code for a transport failure, e.g. "transport_timeout"; "response_too_large"
/// for kTooLarge.
std::string transportCode(http::TransportError e);

}  // namespace tether::oauth

#pragma once
/// Scripted faults of the mock IdP: what to answer instead of (or around) the real answer,
/// for which endpoint and grant, how many times. Rules form a queue: a request consumes
/// one use of the first rule that matches it, so "next 3 refreshes: 503, then succeed" is
/// one rule with times=3, and "succeed once, then invalid_grant" is a `pass` rule followed
/// by an `oauth_error` rule.

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace tether::mockidp {

/// The shapes a fault can take.
enum class FaultKind {
  kPass,           // no fault: answer normally (a step in a sequence)
  kHtml403,        // 403 with an HTML page (a WAF or CDN)
  kHtml401,        // 401 with an HTML page
  kEmpty400,       // 400 with an empty body
  kStatus,         // `status` with an empty (or `body`) body: 408, 429, 500, 502, 503, ...
  kOAuthError,     // RFC 6749 `error` = `error` as JSON, form or WWW-Authenticate (`format`)
  kHtml200,        // 200 with an HTML page
  kNoAccessToken,  // 200 with a JSON body lacking access_token
  kOversized,      // 200 with a body of `bytes` (default 1 MiB + 1 KiB)
  kSlow,           // the normal answer, `delay_ms` later
  kDrop,           // connection dropped before the request is processed
  kDropAfter,      // request processed (tokens issued, refresh token spent), then dropped
  kRedirect,       // `status` (default 302) to `location` (default the /redirect-target)
};

std::string_view faultKindName(FaultKind kind);
/// Accepts the names above plus "status_NNN" (kStatus with that status).
std::optional<FaultKind> parseFaultKind(std::string_view name, int* status = nullptr);

enum class ErrorFormat { kJson, kForm, kWwwAuthenticate };

struct Fault {
  FaultKind kind = FaultKind::kPass;
  int status = 0;                       // 0: the kind's default
  std::string error = "invalid_grant";  // kOAuthError
  ErrorFormat format = ErrorFormat::kJson;
  /// Retry-After to add: "120", "date+120" (an HTTP-date 120 s after the IdP's now), or
  /// any raw text. Empty: none.
  std::string retry_after;
  int delay_ms = 0;          // kSlow
  size_t bytes = 0;          // kOversized (0: 1 MiB + 1 KiB)
  std::string location;      // kRedirect (empty: the IdP's /redirect-target)
  std::string body;          // kStatus: optional body
  std::string content_type;  // kStatus: its Content-Type
};

struct FaultRule {
  /// "token", "authorize", "register", "introspect", "revoke", "jwks", "discovery" or "*".
  std::string endpoint = "token";
  /// For the token endpoint: "refresh_token", "authorization_code", "client_credentials";
  /// empty: any.
  std::string grant;
  /// How many matching requests it applies to; -1: forever.
  int times = 1;
  Fault fault;
};

/// Parses a rule from JSON (`{"endpoint":"token","grant":"refresh_token","times":3,
/// "kind":"status","status":503,"retry_after":"120"}`) or from the flag form
/// `KIND[,key=value...]` with the same keys (`status_503,grant=refresh_token,times=3`).
core::Result<FaultRule> parseFaultRule(std::string_view text);
/// Parses a JSON array of rules, or one rule.
core::Result<std::vector<FaultRule>> parseFaultRules(std::string_view text);
std::string faultRuleJson(const FaultRule& rule);

/// The queue of rules. Thread-safe.
class FaultQueue {
 public:
  void add(FaultRule rule);
  void clear();
  /// Consumes one use of the first rule matching (endpoint, grant), if any.
  std::optional<Fault> take(std::string_view endpoint, std::string_view grant);
  std::vector<FaultRule> pending() const;

 private:
  mutable std::mutex mu_;
  std::vector<FaultRule> rules_;
};

}  // namespace tether::mockidp

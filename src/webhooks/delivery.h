#pragma once
/// One webhook as configured and one signed delivery attempt to it. The attempt is bounded:
/// a per-attempt timeout (connect included), no redirect followed (a 3xx is a failure), at
/// most kMaxResponseBytes of the answer read (a longer answer is a failure; its body is
/// never kept or logged).
///
/// Thread-safety: `Webhook` is an immutable value; `deliver` may run on many threads at once
/// (the HttpClient is thread-safe).

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/config.h"
#include "core/clock.h"
#include "core/result.h"
#include "http/http_client.h"

namespace tether::webhooks {

/// Bytes of a receiver's answer read at most (then the transfer is dropped).
inline constexpr size_t kMaxResponseBytes = 64 * 1024;

/// A configured webhook, ready to sign with.
struct Webhook {
  size_t index = 0;  // position in `webhooks[]`
  std::string url;
  std::string masked_url;   // the query replaced by ********
  std::string key;          // SECRET: the signing key (decoded from whsec_...)
  std::string webhook_key;  // stored with its messages: a digest of the URL
  std::vector<config::WebhookEvent> events;
  std::vector<std::pair<std::string, std::string>> headers;  // values SECRET
  std::string ca_bundle;

  bool wants(config::WebhookEvent event) const;

  /// From its configuration; kConfig when the secret is malformed (never echoing it).
  static core::Result<Webhook> fromConfig(size_t index, const config::WebhookConfig& config);
};

/// "wh_" + the first 16 hex digits of SHA-256(url): identifies a webhook's messages without
/// storing its URL.
std::string webhookKey(std::string_view url);

/// What one attempt came to.
struct AttemptResult {
  bool delivered = false;  // the receiver answered 2xx
  int status = 0;          // its HTTP status; 0 when none was read
  std::string error;       // why not delivered: "http 500", "timeout", "redirect (3xx) ..."
};

/// Signs `body` as message `message_id` at `now` (webhook-timestamp) and POSTs it.
AttemptResult deliver(http::HttpClient& client, const Webhook& hook, std::string_view message_id,
                      std::string_view body, core::TimePoint now,
                      std::chrono::milliseconds timeout);

}  // namespace tether::webhooks

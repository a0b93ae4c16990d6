#pragma once
/// The `webhooks` and `webhook_delivery` sections of the configuration (see config/config.h).

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tether::config {

using std::chrono::milliseconds;

/// What a webhook is told about (see docs/webhooks.md). `needs_client_fix` is sent instead of
/// `needs_reauth` when the IdP rejected Tether's client (invalid_client, unauthorized_client).
enum class WebhookEvent {
  kNeedsReauth,
  kNeedsClientFix,
  kRefreshFailing,
  kRecovered,
  kConnected,
  kReauthorizeSoon,
};
inline constexpr WebhookEvent kAllWebhookEvents[] = {
    WebhookEvent::kNeedsReauth, WebhookEvent::kNeedsClientFix, WebhookEvent::kRefreshFailing,
    WebhookEvent::kRecovered,   WebhookEvent::kConnected,      WebhookEvent::kReauthorizeSoon};

/// The name used in the config file (and in URLs, logs and the admin API): "needs_reauth" | ...
std::string_view webhookEventName(WebhookEvent event);

struct WebhookConfig {
  std::string url;  // its query may carry a credential: show maskedUrl()
  /// SECRET: a Standard Webhooks signing secret, "whsec_" + Base64 of 24..64 bytes.
  std::string secret;
  std::vector<WebhookEvent> events;  // defaults to all of them; no duplicates
  /// Extra request headers (name as written, value). Values are SECRET (often a token).
  std::vector<std::pair<std::string, std::string>> headers;
  std::string ca_bundle;  // PEM file trusted besides the system roots; empty: none

  /// The URL with its query (and fragment) replaced by kMask (config.h): what messages, the admin
  /// API and `config check` show.
  std::string maskedUrl() const;
};

/// How webhooks are delivered (the top-level `webhook_delivery` section).
struct WebhookDeliveryConfig {
  /// `reauthorize_soon` is sent when a refresh deadline is this close (once per deadline).
  milliseconds warn_before = std::chrono::hours(24 * 7);
  /// A message not delivered this long after it was queued is given up (ERROR log).
  milliseconds max_age = std::chrono::hours(24);
  milliseconds timeout = std::chrono::seconds(10);  // per attempt, connect included
  milliseconds backoff_initial = std::chrono::seconds(5);
  milliseconds backoff_max = std::chrono::minutes(10);  // >= backoff_initial
  /// How often the outbox is polled for due messages (and new ones are noticed).
  milliseconds poll_interval = std::chrono::seconds(1);
  /// How often refresh deadlines are scanned for `reauthorize_soon`.
  milliseconds deadline_scan_interval = std::chrono::minutes(10);
  int concurrency = 4;  // deliveries at once per process, 1..64
};

}  // namespace tether::config

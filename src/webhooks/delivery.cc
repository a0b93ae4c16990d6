// One signed, bounded POST of a webhook message.

#include "webhooks/delivery.h"

#include <algorithm>

#include "core/digest.h"
#include "webhooks/signing.h"

namespace tether::webhooks {

bool Webhook::wants(config::WebhookEvent event) const {
  return std::find(events.begin(), events.end(), event) != events.end();
}

core::Result<Webhook> Webhook::fromConfig(size_t index, const config::WebhookConfig& c) {
  auto key = signingKey(c.secret);
  if (!key.ok()) {
    return core::Error(key.error().code,
                       "webhooks[" + std::to_string(index) + "].secret: " + key.error().message);
  }
  Webhook w;
  w.index = index;
  w.url = c.url;
  w.masked_url = c.maskedUrl();
  w.key = std::move(key).value();
  w.webhook_key = webhookKey(c.url);
  w.events = c.events;
  w.headers = c.headers;
  w.ca_bundle = c.ca_bundle;
  return w;
}

std::string webhookKey(std::string_view url) { return "wh_" + core::sha256Hex(url).substr(0, 16); }

AttemptResult deliver(http::HttpClient& client, const Webhook& hook, std::string_view message_id,
                      std::string_view body, core::TimePoint now,
                      std::chrono::milliseconds timeout) {
  const int64_t ts =
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  http::ClientRequest req;
  req.method = "POST";
  req.url = hook.url;
  req.body = std::string(body);
  req.headers.push_back({"Content-Type", "application/json"});
  req.headers.push_back({"webhook-id", std::string(message_id)});
  req.headers.push_back({"webhook-timestamp", std::to_string(ts)});
  req.headers.push_back({"webhook-signature", signature(hook.key, message_id, ts, body)});
  for (const auto& [name, value] : hook.headers) req.headers.push_back({name, value});
  req.connect_timeout = std::min<std::chrono::milliseconds>(timeout, std::chrono::seconds(5));
  req.total_timeout = timeout;
  req.max_response_bytes = kMaxResponseBytes;
  req.follow_redirects = false;
  req.ca_bundle_path = hook.ca_bundle;
  const http::ClientResult r = client.send(req);
  AttemptResult out;
  if (!r.ok()) {
    out.error = r.error == http::TransportError::kTooLarge
                    ? "the answer was longer than 64 KiB (dropped)"
                    : std::string(http::transportErrorName(r.error));
    return out;
  }
  out.status = r.response.status;
  if (out.status >= 200 && out.status < 300) {
    out.delivered = true;
  } else if (out.status >= 300 && out.status < 400) {
    out.error = "http " + std::to_string(out.status) + ": a redirect, not followed";
  } else {
    out.error = "http " + std::to_string(out.status);
  }
  return out;
}

}  // namespace tether::webhooks

// webhooks: where lifecycle alerts are posted and which ones.

#include <algorithm>

#include "config/sections/sections.h"

namespace tether::config::sections {

void parseWebhooks(Reader& r, const Entry& e, std::vector<WebhookConfig>& out) {
  auto items = r.readList(e);
  if (!items) return;
  for (const Entry& item : *items) {
    auto m = r.readMap(item, {"url", "secret", "events"});
    if (!m) continue;
    WebhookConfig hook;
    bool ok = true;
    if (const Entry* u = m->get("url")) {
      auto url = r.httpUrl(*u);
      ok = ok && url.has_value();
      if (url) hook.url = *url;
    } else {
      r.required(*m, "url", "an absolute http(s) URL");
      ok = false;
    }
    if (const Entry* s = m->get("secret")) {
      auto v = r.secret(*s, "a signing secret");
      ok = ok && v.has_value();
      if (v) hook.secret = *v;
    } else {
      r.required(*m, "secret", "a signing secret, e.g. ${HOOK_SECRET}");
      ok = false;
    }
    if (const Entry* ev = m->get("events")) {
      if (auto list = r.readList(*ev)) {
        if (list->empty()) {
          r.error(*ev, "expected at least one of needs_reauth, refresh_failing, recovered");
          ok = false;
        }
        for (const Entry& name : *list) {
          auto v = r.oneOf<WebhookEvent>(name, {{"needs_reauth", WebhookEvent::kNeedsReauth},
                                                {"refresh_failing", WebhookEvent::kRefreshFailing},
                                                {"recovered", WebhookEvent::kRecovered}});
          if (!v) {
            ok = false;
            continue;
          }
          if (std::find(hook.events.begin(), hook.events.end(), *v) != hook.events.end()) {
            r.error(name, "duplicate event " + quote(webhookEventName(*v)));
            ok = false;
            continue;
          }
          hook.events.push_back(*v);
        }
      } else {
        ok = false;
      }
    } else {
      hook.events = {WebhookEvent::kNeedsReauth, WebhookEvent::kRefreshFailing,
                     WebhookEvent::kRecovered};
    }
    if (ok) out.push_back(std::move(hook));
  }
}

}  // namespace tether::config::sections

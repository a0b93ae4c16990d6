// The HTML page a browser sees after the connect callback (and the admin listener's
// "starting" page): a title, what happened, what to do next, a link.
#include "core/json_escape.h"
#include "flows/flows.h"

namespace tether::flows {

std::string renderPage(std::string_view title, std::string_view message, std::string_view next_step,
                       std::string_view link_url, std::string_view link_text) {
  std::string html =
      "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
      "<title>" +
      core::htmlEscape(title) +
      " · Tether</title><style>"
      "body{font:16px/1.5 system-ui,sans-serif;background:#f5f6f8;color:#1d2430;margin:0}"
      "main{max-width:34rem;margin:12vh auto;background:#fff;border-radius:10px;"
      "padding:2rem 2.25rem;box-shadow:0 1px 3px rgba(0,0,0,.12)}"
      "h1{font-size:1.35rem;margin:0 0 .75rem}p{margin:.5rem 0}.next{color:#4a5568}"
      "a{color:#2457d6}</style></head><body><main><h1>" +
      core::htmlEscape(title) + "</h1><p>" + core::htmlEscape(message) + "</p>";
  if (!next_step.empty()) html += "<p class=\"next\">" + core::htmlEscape(next_step) + "</p>";
  if (!link_url.empty()) {
    html += "<p><a href=\"" + core::htmlEscape(link_url) + "\">" +
            core::htmlEscape(link_text.empty() ? link_url : link_text) + "</a></p>";
  }
  html += "</main></body></html>";
  return html;
}
}  // namespace tether::flows

#include "http/headers.h"

#include <algorithm>

#include "core/encoding.h"

namespace tether::http {

std::optional<std::string_view> findHeader(const Headers& headers, std::string_view name) {
  for (const auto& h : headers) {
    if (core::iequals(h.name, name)) return std::string_view(h.value);
  }
  return std::nullopt;
}

void setHeader(Headers& headers, std::string_view name, std::string_view value) {
  removeHeader(headers, name);
  headers.push_back({std::string(name), std::string(value)});
}

void removeHeader(Headers& headers, std::string_view name) {
  headers.erase(std::remove_if(headers.begin(), headers.end(),
                               [&](const Header& h) { return core::iequals(h.name, name); }),
                headers.end());
}

std::vector<std::pair<std::string, std::string>> parseForm(std::string_view text) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!text.empty()) {
    const size_t amp = text.find('&');
    const std::string_view part = text.substr(0, amp);
    text = amp == std::string_view::npos ? std::string_view() : text.substr(amp + 1);
    if (part.empty()) continue;
    const size_t eq = part.find('=');
    const std::string_view k = part.substr(0, eq);
    const std::string_view v =
        eq == std::string_view::npos ? std::string_view() : part.substr(eq + 1);
    auto dk = core::formUrlDecode(k);
    auto dv = core::formUrlDecode(v);
    out.emplace_back(dk.ok() ? std::move(dk).value() : std::string(k),
                     dv.ok() ? std::move(dv).value() : std::string(v));
  }
  return out;
}

std::optional<std::string> formValue(const std::vector<std::pair<std::string, std::string>>& form,
                                     std::string_view key) {
  for (const auto& [k, v] : form) {
    if (k == key) return v;
  }
  return std::nullopt;
}

}  // namespace tether::http

#include "http/headers.h"

#include <algorithm>

#include "core/encoding.h"
#include "core/form.h"

namespace tether::http {
namespace {

// The length check first spares most comparisons (lookups run per request and header).
bool sameName(std::string_view a, std::string_view b) {
  return a.size() == b.size() && core::iequals(a, b);
}

}  // namespace

std::optional<std::string_view> findHeader(const Headers& headers, std::string_view name) {
  for (const auto& h : headers) {
    if (sameName(h.name, name)) return std::string_view(h.value);
  }
  return std::nullopt;
}

void setHeader(Headers& headers, std::string_view name, std::string_view value) {
  removeHeader(headers, name);
  headers.push_back({std::string(name), std::string(value)});
}

void removeHeader(Headers& headers, std::string_view name) {
  headers.erase(std::remove_if(headers.begin(), headers.end(),
                               [&](const Header& h) { return sameName(h.name, name); }),
                headers.end());
}

std::vector<std::pair<std::string, std::string>> parseForm(std::string_view text) {
  return core::parseForm(text);
}

std::optional<std::string> formValue(const std::vector<std::pair<std::string, std::string>>& form,
                                     std::string_view key) {
  const auto v = core::findFormValue(form, key);
  return v ? std::optional<std::string>(*v) : std::nullopt;
}

}  // namespace tether::http

#include "core/form.h"

#include "core/encoding.h"

namespace tether::core {

std::string encodeForm(const FormPairs& pairs) {
  std::string out;
  for (const auto& [k, v] : pairs) {
    if (!out.empty()) out += '&';
    out += formUrlEncode(k);
    out += '=';
    out += formUrlEncode(v);
  }
  return out;
}

FormPairs parseForm(std::string_view body, size_t max_pairs) {
  FormPairs out;
  while (!body.empty() && out.size() < max_pairs) {
    const size_t amp = body.find('&');
    const std::string_view part = body.substr(0, amp);
    body = amp == std::string_view::npos ? std::string_view() : body.substr(amp + 1);
    if (part.empty()) continue;
    const size_t eq = part.find('=');
    const std::string_view k = part.substr(0, eq);
    const std::string_view v =
        eq == std::string_view::npos ? std::string_view() : part.substr(eq + 1);
    auto dk = formUrlDecode(k);
    auto dv = formUrlDecode(v);
    out.emplace_back(dk.ok() ? std::move(dk).value() : std::string(k),
                     dv.ok() ? std::move(dv).value() : std::string(v));
  }
  return out;
}

std::optional<std::string_view> findFormValue(const FormPairs& pairs, std::string_view key) {
  for (const auto& [k, v] : pairs) {
    if (k == key) return std::string_view(v);
  }
  return std::nullopt;
}

}  // namespace tether::core

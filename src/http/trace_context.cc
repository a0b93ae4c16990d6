#include "http/trace_context.h"

#include "core/encoding.h"

namespace tether::http {

namespace {

// `n` lower-case hex digits at `at`, and not all '0' when `nonzero`.
bool lowerHex(std::string_view v, size_t at, size_t n, bool nonzero) {
  bool any = false;
  for (size_t i = at; i < at + n; ++i) {
    const char c = v[i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    any = any || c != '0';
  }
  return any || !nonzero;
}

}  // namespace

bool validTraceparent(std::string_view v) {
  // 00-<trace id: 32>-<parent id: 16>-<flags: 2>
  if (v.size() != 55 || v[0] != '0' || v[1] != '0' || v[2] != '-' || v[35] != '-' || v[52] != '-') {
    return false;
  }
  return lowerHex(v, 3, 32, true) && lowerHex(v, 36, 16, true) && lowerHex(v, 53, 2, false);
}

std::string_view findTraceparent(const Headers& headers) {
  std::string_view found;
  bool seen = false;
  for (const auto& h : headers) {
    if (h.name.size() != kTraceparent.size() || !core::iequals(h.name, kTraceparent)) continue;
    if (seen) return {};  // repeated: ambiguous, dropped
    seen = true;
    found = h.value;
  }
  return seen && validTraceparent(found) ? found : std::string_view();
}

}  // namespace tether::http

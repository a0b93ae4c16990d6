#include "gateway/header_policy.h"

#include <algorithm>

#include "core/encoding.h"
#include "gateway/protocol.h"

namespace tether::gateway {
namespace {

bool startsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && core::iequals(s.substr(0, prefix.size()), prefix);
}

// Per request and header: the length check first spares most comparisons.
bool sameName(std::string_view a, std::string_view b) {
  return a.size() == b.size() && core::iequals(a, b);
}

template <size_t N>
bool inList(const std::array<std::string_view, N>& list, std::string_view name) {
  return std::any_of(list.begin(), list.end(),
                     [&](std::string_view n) { return sameName(n, name); });
}

bool hasConnectionHeader(const http::Headers& headers) {
  return std::any_of(headers.begin(), headers.end(),
                     [](const http::Header& h) { return sameName(h.name, kConnection); });
}

}  // namespace

bool isHopByHop(std::string_view name) {
  return inList(kHopByHopHeaders, name) || startsWithIgnoreCase(name, kProxyHeaderPrefix);
}

bool namedByConnection(const http::Headers& headers, std::string_view name) {
  for (const auto& h : headers) {
    if (!sameName(h.name, kConnection)) continue;
    std::string_view v = h.value;
    while (!v.empty()) {
      const size_t comma = v.find(',');
      std::string_view token = v.substr(0, comma);
      while (!token.empty() && (token.front() == ' ' || token.front() == '\t')) {
        token.remove_prefix(1);
      }
      while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) {
        token.remove_suffix(1);
      }
      if (!token.empty() && core::iequals(token, name)) return true;
      if (comma == std::string_view::npos) break;
      v.remove_prefix(comma + 1);
    }
  }
  return false;
}

http::Headers upstreamRequestHeaders(Surface surface, const http::Headers& inbound) {
  http::Headers out;
  out.reserve(inbound.size());
  const bool check_connection = hasConnectionHeader(inbound);
  for (const auto& h : inbound) {
    if (surface == Surface::kMcp) {
      if (!inList(kMcpRequestHeaders, h.name)) continue;
    } else {
      if (isHopByHop(h.name) || inList(kClientOnlyRequestHeaders, h.name) ||
          sameName(h.name, kContentLength) || sameName(h.name, "Expect") ||
          sameName(h.name, kRequestId)) {
        continue;
      }
    }
    if (check_connection && namedByConnection(inbound, h.name)) continue;
    out.push_back(h);
  }
  return out;
}

void filterResponseHeaders(http::Headers& headers) {
  const bool check_connection = hasConnectionHeader(headers);
  if (!check_connection) {
    // The usual case: each header decides alone, in place.
    std::erase_if(headers, [](const http::Header& h) {
      return isHopByHop(h.name) || inList(kDroppedResponseHeaders, h.name);
    });
    return;
  }
  // Decide on a copy of the names first: namedByConnection reads the original list.
  std::vector<bool> drop(headers.size(), false);
  for (size_t i = 0; i < headers.size(); ++i) {
    const auto& name = headers[i].name;
    drop[i] = isHopByHop(name) || inList(kDroppedResponseHeaders, name) ||
              (check_connection && namedByConnection(headers, name));
  }
  size_t w = 0;
  for (size_t i = 0; i < headers.size(); ++i) {
    if (drop[i]) continue;
    if (w != i) headers[w] = std::move(headers[i]);
    ++w;
  }
  headers.resize(w);
}

}  // namespace tether::gateway

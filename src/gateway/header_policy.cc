#include "gateway/header_policy.h"

#include <algorithm>
#include <boost/container/small_vector.hpp>

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

}  // namespace

namespace detail {

bool hasConnectionHeader(const http::Headers& headers) {
  return std::any_of(headers.begin(), headers.end(),
                     [](const http::Header& h) { return sameName(h.name, kConnection); });
}

bool sameHeaderName(std::string_view a, std::string_view b) { return sameName(a, b); }

bool relaysRequestHeader(Surface surface, const http::Headers& inbound, bool check_connection,
                         std::string_view name) {
  if (surface == Surface::kMcp) {
    if (!inList(kMcpRequestHeaders, name)) return false;
  } else {
    // Trace context is relayed by the proxy itself, only when valid (http/trace_context.h);
    // MCP's allow-list leaves it out already.
    if (sameName(name, kTraceparent) || sameName(name, kTracestate)) return false;
    if (isHopByHop(name) || inList(kClientOnlyRequestHeaders, name) ||
        sameName(name, kContentLength) || sameName(name, "Expect") || sameName(name, kRequestId)) {
      return false;
    }
  }
  return !check_connection || !namedByConnection(inbound, name);
}

}  // namespace detail

namespace {

// Calls `fn` with every non-empty token of every Connection header (RFC 9110 §7.6.1),
// optional whitespace trimmed.
template <class Fn>
void forEachConnectionToken(const http::Headers& headers, Fn&& fn) {
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
      if (!token.empty()) fn(token);
      if (comma == std::string_view::npos) break;
      v.remove_prefix(comma + 1);
    }
  }
}

}  // namespace

bool isHopByHop(std::string_view name) {
  return inList(kHopByHopHeaders, name) || startsWithIgnoreCase(name, kProxyHeaderPrefix);
}

bool namedByConnection(const http::Headers& headers, std::string_view name) {
  bool found = false;
  forEachConnectionToken(
      headers, [&](std::string_view token) { found = found || core::iequals(token, name); });
  return found;
}

http::Headers upstreamRequestHeaders(Surface surface, const http::Headers& inbound) {
  http::Headers out;
  out.reserve(inbound.size());
  forEachUpstreamRequestHeader(surface, inbound, {},
                               [&out](const http::Header& h) { out.push_back(h); });
  return out;
}

namespace {

// One pass over an upstream answer's headers: drops hop-by-hop and dropped headers, those
// a Connection header names, and (`relay_policy`) X-Content-Type-Options and, unless
// `forward_set_cookie`, Set-Cookie / Set-Cookie2.
void dropResponseHeaders(http::Headers& headers, bool relay_policy, bool forward_set_cookie) {
  // The tokens of Connection headers, gathered once (copies: the list is compacted below).
  // Most answers have none (the first check spares the second walk).
  boost::container::small_vector<std::string, 4> named;
  if (detail::hasConnectionHeader(headers)) {
    forEachConnectionToken(headers, [&](std::string_view token) { named.emplace_back(token); });
  }
  std::erase_if(headers, [&](const http::Header& h) {
    if (isHopByHop(h.name) || inList(kDroppedResponseHeaders, h.name)) return true;
    if (relay_policy && (sameName(h.name, kContentTypeOptions) ||
                         (!forward_set_cookie &&
                          (sameName(h.name, kSetCookie) || sameName(h.name, kSetCookie2))))) {
      return true;
    }
    return std::any_of(named.begin(), named.end(),
                       [&](const std::string& token) { return sameName(token, h.name); });
  });
}

}  // namespace

void filterResponseHeaders(http::Headers& headers) { dropResponseHeaders(headers, false, false); }

void relayResponseHeaders(http::Headers& headers, bool forward_set_cookie) {
  dropResponseHeaders(headers, true, forward_set_cookie);
}

}  // namespace tether::gateway

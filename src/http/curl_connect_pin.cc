#include "http/curl_connect_pin.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <optional>

namespace tether::http::detail {
namespace {

std::optional<IpAddress> addressOf(const sockaddr* sa, socklen_t len) {
  if (sa == nullptr) return std::nullopt;
  if (sa->sa_family == AF_INET && len >= static_cast<socklen_t>(sizeof(sockaddr_in))) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(sa);
    return IpAddress::v4(ntohl(in->sin_addr.s_addr));
  }
  if (sa->sa_family == AF_INET6 && len >= static_cast<socklen_t>(sizeof(sockaddr_in6))) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
    std::array<uint8_t, 16> b{};
    std::memcpy(b.data(), &in6->sin6_addr, 16);
    return IpAddress::v6(b);
  }
  return std::nullopt;
}

void appendCurlAddress(std::string& out, const IpAddress& a) {
  // Appended piece by piece: g++ 12 warns falsely (-Wrestrict) on "[" + s + "]".
  if (!a.isV4()) out += '[';
  out += a.str();
  if (!a.isV4()) out += ']';
}

// The host of a proxy setting ("http://proxy:3128", "proxy:3128", "socks5h://[::1]:1080").
std::string proxyHost(const std::string& proxy) {
  std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> u(curl_url(), &curl_url_cleanup);
  if (!u || curl_url_set(u.get(), CURLUPART_URL, proxy.c_str(),
                         CURLU_GUESS_SCHEME | CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK) {
    return {};
  }
  char* raw = nullptr;
  if (curl_url_get(u.get(), CURLUPART_HOST, &raw, 0) != CURLUE_OK || raw == nullptr) return {};
  std::string host(raw);
  curl_free(raw);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return host;
}

core::Result<std::vector<IpAddress>> lookUp(const std::string& host, const HostResolver& resolver,
                                            std::chrono::milliseconds timeout) {
  if (auto literal = IpAddress::parse(host)) return std::vector<IpAddress>{*literal};
  return resolver ? resolver(host, timeout) : resolveWithSystem(host, timeout);
}

}  // namespace

PinOutcome preparePin(ConnectPin& pin, const HostResolver& resolver,
                      std::chrono::milliseconds timeout, const std::string& proxy) {
  const std::string& host = pin.target.host;
  if (!proxy.empty()) {
    // The operator's proxy may be anywhere (often loopback): its addresses are let through
    // the socket check. A proxy this process cannot resolve leaves none: curl then fails to
    // reach it rather than connect unchecked.
    if (const std::string ph = proxyHost(proxy); !ph.empty()) {
      if (auto found = lookUp(ph, resolver, timeout); found.ok()) {
        pin.proxy_addresses = std::move(found).value();
      }
    }
  }
  if (auto literal = IpAddress::parse(host)) {
    pin.addresses = {*literal};
  } else {
    auto resolved = lookUp(host, resolver, timeout);
    if (!resolved.ok()) {
      // Through a proxy the proxy resolves the name (and is the egress control then); should
      // libcurl connect directly after all (NO_PROXY), each socket is judged by the guard.
      if (!proxy.empty()) return {};
      return {TransportError::kDns, resolved.error().message};
    }
    pin.addresses = std::move(resolved).value();
    if (pin.addresses.empty()) {
      return {TransportError::kDns, "the host name " + host + " does not resolve"};
    }
  }
  // Every address, not only the first: libcurl may fall back to any of them.
  for (const auto& a : pin.addresses) {
    if (std::string why = pin.guard->refusal(pin.target, a); !why.empty()) {
      return {TransportError::kInvalidRequest, std::move(why)};
    }
  }
  if (!IpAddress::parse(host)) {
    pin.resolve_entry = host + ":" + std::to_string(pin.target.port) + ":";
    for (size_t i = 0; i < pin.addresses.size(); ++i) {
      if (i > 0) pin.resolve_entry += ',';
      appendCurlAddress(pin.resolve_entry, pin.addresses[i]);
    }
  }
  return {};
}

curl_socket_t openPinnedSocket(void* clientp, curlsocktype purpose, curl_sockaddr* address) {
  auto& pin = *static_cast<ConnectPin*>(clientp);
  if (purpose == CURLSOCKTYPE_IPCXN) {
    const auto a = addressOf(&address->addr, address->addrlen);
    auto among = [&](const std::vector<IpAddress>& list) {
      return a && std::find(list.begin(), list.end(), *a) != list.end();
    };
    // Unresolved here (left to a proxy) but connected directly: the guard judges the socket.
    const bool unpinned = pin.addresses.empty() && a && pin.guard->refusal(pin.target, *a).empty();
    if (!among(pin.addresses) && !among(pin.proxy_addresses) && !unpinned) {
      // Not an address the guard passed (a cache or a resolver disagreed): asked again, the
      // guard's sentence says why; an address it would pass is still refused, unpinned.
      std::string why = a ? pin.guard->refusal(pin.target, *a) : std::string();
      if (why.empty()) {
        why = pin.target.host + " was to connect to " + (a ? a->str() : std::string("an address")) +
              ", which is not among the addresses checked for it";
      }
      if (pin.refused.empty()) pin.refused = std::move(why);
      return CURL_SOCKET_BAD;
    }
  }
  return ::socket(address->family, address->socktype, address->protocol);
}

}  // namespace tether::http::detail

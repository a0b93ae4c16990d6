#include "http/curl_connect_pin.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
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

}  // namespace

PinOutcome preparePin(ConnectPin& pin, const HostResolver& resolver,
                      std::chrono::milliseconds timeout, bool via_proxy) {
  const std::string& host = pin.target.host;
  pin.check_sockets = !via_proxy;
  if (auto literal = IpAddress::parse(host)) {
    pin.addresses = {*literal};
  } else {
    auto resolved = resolver ? resolver(host, timeout) : resolveWithSystem(host, timeout);
    if (!resolved.ok()) {
      if (via_proxy) return {};  // the proxy resolves it (and is the egress control then)
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
  if (pin.check_sockets && purpose == CURLSOCKTYPE_IPCXN) {
    const auto a = addressOf(&address->addr, address->addrlen);
    const bool checked =
        a && std::find(pin.addresses.begin(), pin.addresses.end(), *a) != pin.addresses.end();
    if (!checked) {
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

#include "http/ip_address.h"

#include <arpa/inet.h>

#include <cstring>

namespace tether::http {
namespace {

bool inV4(uint32_t v, uint32_t net, int prefix) {
  const uint32_t mask = prefix == 0 ? 0 : ~uint32_t{0} << (32 - prefix);
  return (v & mask) == (net & mask);
}

constexpr uint32_t ip4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  return uint32_t{a} << 24 | uint32_t{b} << 16 | uint32_t{c} << 8 | d;
}

AddressClass classifyV4(uint32_t v) {
  if (v == 0) return AddressClass::kUnspecified;
  if (v == 0xFFFFFFFFu) return AddressClass::kBroadcast;
  if (inV4(v, ip4(0, 0, 0, 0), 8)) return AddressClass::kThisNetwork;
  if (inV4(v, ip4(127, 0, 0, 0), 8)) return AddressClass::kLoopback;
  if (inV4(v, ip4(10, 0, 0, 0), 8) || inV4(v, ip4(172, 16, 0, 0), 12) ||
      inV4(v, ip4(192, 168, 0, 0), 16)) {
    return AddressClass::kPrivate;
  }
  if (inV4(v, ip4(169, 254, 0, 0), 16)) return AddressClass::kLinkLocal;
  if (inV4(v, ip4(100, 64, 0, 0), 10)) return AddressClass::kShared;
  if (inV4(v, ip4(224, 0, 0, 0), 4)) return AddressClass::kMulticast;
  if (inV4(v, ip4(240, 0, 0, 0), 4) || inV4(v, ip4(192, 0, 0, 0), 24) ||
      inV4(v, ip4(192, 0, 2, 0), 24) || inV4(v, ip4(198, 51, 100, 0), 24) ||
      inV4(v, ip4(203, 0, 113, 0), 24) || inV4(v, ip4(198, 18, 0, 0), 15) ||
      inV4(v, ip4(192, 88, 99, 0), 24)) {
    return AddressClass::kReserved;
  }
  return AddressClass::kPublic;
}

uint32_t v4At(const std::array<uint8_t, 16>& b, size_t at) {
  return uint32_t{b[at]} << 24 | uint32_t{b[at + 1]} << 16 | uint32_t{b[at + 2]} << 8 | b[at + 3];
}

bool zeros(const std::array<uint8_t, 16>& b, size_t from, size_t to) {
  for (size_t i = from; i < to; ++i) {
    if (b[i] != 0) return false;
  }
  return true;
}

}  // namespace

IpAddress IpAddress::v4(uint32_t host_order) {
  IpAddress a;
  a.v4_ = true;
  a.bytes_[0] = static_cast<uint8_t>(host_order >> 24);
  a.bytes_[1] = static_cast<uint8_t>(host_order >> 16);
  a.bytes_[2] = static_cast<uint8_t>(host_order >> 8);
  a.bytes_[3] = static_cast<uint8_t>(host_order);
  return a;
}

IpAddress IpAddress::v6(const std::array<uint8_t, 16>& bytes) {
  IpAddress a;
  a.v4_ = false;
  a.bytes_ = bytes;
  return a;
}

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']') {
    text = text.substr(1, text.size() - 2);
  }
  if (text.empty() || text.size() > 45) return std::nullopt;
  const std::string s(text);
  // inet_pton's IPv4 form is strict dotted decimal (no hex, octal or short forms).
  in_addr a4{};
  if (::inet_pton(AF_INET, s.c_str(), &a4) == 1) return v4(ntohl(a4.s_addr));
  in6_addr a6{};
  if (::inet_pton(AF_INET6, s.c_str(), &a6) == 1) {
    std::array<uint8_t, 16> b{};
    std::memcpy(b.data(), &a6, 16);
    return v6(b);
  }
  return std::nullopt;
}

uint32_t IpAddress::v4Value() const { return v4At(bytes_, 0); }

std::string IpAddress::str() const {
  char buf[INET6_ADDRSTRLEN] = {};
  if (v4_) {
    in_addr a{};
    a.s_addr = htonl(v4Value());
    ::inet_ntop(AF_INET, &a, buf, sizeof buf);
  } else {
    in6_addr a{};
    std::memcpy(&a, bytes_.data(), 16);
    ::inet_ntop(AF_INET6, &a, buf, sizeof buf);
  }
  return buf;
}

AddressClassification classifyAddress(const IpAddress& address) {
  if (address.isV4()) return {classifyV4(address.v4Value()), std::nullopt};
  const auto& b = address.bytes();
  auto embedded = [&](size_t at, bool deprecated_form) -> AddressClassification {
    const IpAddress inner = IpAddress::v4(v4At(b, at));
    AddressClass cls = classifyV4(inner.v4Value());
    // No one routes the deprecated IPv4-compatible form: nothing public hides behind it.
    if (cls == AddressClass::kPublic && deprecated_form) cls = AddressClass::kReserved;
    return {cls, inner};
  };
  if (zeros(b, 0, 15) && b[15] == 0) return {AddressClass::kUnspecified, std::nullopt};
  if (zeros(b, 0, 15) && b[15] == 1) return {AddressClass::kLoopback, std::nullopt};
  if (zeros(b, 0, 10) && b[10] == 0xFF && b[11] == 0xFF) return embedded(12, false);  // mapped
  if (zeros(b, 0, 12)) return embedded(12, true);  // IPv4-compatible ::a.b.c.d
  // NAT64 well-known prefix 64:ff9b::/96 (RFC 6052) and local-use 64:ff9b:1::/48 (RFC 8215).
  if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xFF && b[3] == 0x9B) {
    if (zeros(b, 4, 12)) return embedded(12, false);
    if (b[4] == 0x00 && b[5] == 0x01) return embedded(12, false);
  }
  if (b[0] == 0x20 && b[1] == 0x02) return embedded(2, false);  // 6to4 2002:AABB:CCDD::/48
  if (b[0] == 0xFF) return {AddressClass::kMulticast, std::nullopt};
  if (b[0] == 0xFE && (b[1] & 0xC0) == 0x80) return {AddressClass::kLinkLocal, std::nullopt};
  if (b[0] == 0xFE && (b[1] & 0xC0) == 0xC0) return {AddressClass::kUniqueLocal, std::nullopt};
  if ((b[0] & 0xFE) == 0xFC) return {AddressClass::kUniqueLocal, std::nullopt};
  // Documentation 2001:db8::/32, discard 100::/64, the rest of 2001::/23 (Teredo, ORCHID,
  // benchmarking): nothing an IdP is reachable at.
  if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0D && b[3] == 0xB8) {
    return {AddressClass::kReserved, std::nullopt};
  }
  if (b[0] == 0x01 && b[1] == 0x00 && zeros(b, 2, 8))
    return {AddressClass::kReserved, std::nullopt};
  if (b[0] == 0x20 && b[1] == 0x01 && b[2] <= 0x01) {
    return {AddressClass::kReserved, std::nullopt};
  }
  return {AddressClass::kPublic, std::nullopt};
}

std::string_view describeAddressClass(AddressClass cls) {
  switch (cls) {
    case AddressClass::kPublic:
      return "a public address";
    case AddressClass::kLoopback:
      return "a loopback address";
    case AddressClass::kPrivate:
      return "a private address";
    case AddressClass::kLinkLocal:
      return "a link-local address";
    case AddressClass::kUniqueLocal:
      return "a unique-local address";
    case AddressClass::kShared:
      return "a shared address (carrier-grade NAT)";
    case AddressClass::kUnspecified:
      return "an unspecified address";
    case AddressClass::kThisNetwork:
      return "a this-network address";
    case AddressClass::kMulticast:
      return "a multicast address";
    case AddressClass::kBroadcast:
      return "a broadcast address";
    case AddressClass::kReserved:
      return "a reserved address";
  }
  return "a reserved address";
}

std::string describeAddress(const IpAddress& address, const AddressClassification& c) {
  std::string out(describeAddressClass(c.cls));
  out += ' ';
  if (c.embedded_v4) {
    out += c.embedded_v4->str() + " (embedded in " + address.str() + ")";
  } else {
    out += address.str();
  }
  return out;
}

}  // namespace tether::http

#pragma once
/// IP addresses as the outbound client's connect guard sees them: one value type for IPv4 and
/// IPv6 and one classifier that says which special-purpose range (RFC 6890 and its updates)
/// an address is in. IPv6 forms that carry an IPv4 address (mapped ::ffff:0:0/96, the
/// deprecated compatible ::/96, NAT64 64:ff9b::/96 and 64:ff9b:1::/48, 6to4 2002::/16) are
/// classified by the IPv4 address they lead to, so `::ffff:127.0.0.1` is loopback.
///
/// Parsing is strict (dotted-decimal IPv4, RFC 4291 IPv6 text): non-canonical IPv4 spellings
/// such as `0x7f000001` or `127.1` are not addresses here. Callers that meet them must first
/// normalise them the way their connecting library does (libcurl does so in its URL parser).
///
/// Thread-safety: values and free functions, no shared state.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tether::http {

/// An IPv4 or IPv6 address (no zone, no port).
class IpAddress {
 public:
  static IpAddress v4(uint32_t host_order);
  static IpAddress v6(const std::array<uint8_t, 16>& bytes);
  /// Strict text form: "a.b.c.d" or IPv6 text, optionally in brackets; nullopt otherwise.
  static std::optional<IpAddress> parse(std::string_view text);

  bool isV4() const { return v4_; }
  /// The IPv4 value (host byte order); only meaningful when isV4().
  uint32_t v4Value() const;
  /// 16 bytes for IPv6; the first 4 bytes hold the IPv4 address otherwise.
  const std::array<uint8_t, 16>& bytes() const { return bytes_; }
  /// Canonical text: dotted decimal, or RFC 5952 IPv6 without brackets.
  std::string str() const;

  friend bool operator==(const IpAddress&, const IpAddress&) = default;

 private:
  bool v4_ = true;
  std::array<uint8_t, 16> bytes_{};
};

/// The ranges a connect guard tells apart. Everything but kPublic is refused for discovery.
enum class AddressClass {
  kPublic,
  kLoopback,     // 127/8, ::1
  kPrivate,      // 10/8, 172.16/12, 192.168/16
  kLinkLocal,    // 169.254/16 (cloud metadata), fe80::/10
  kUniqueLocal,  // fc00::/7, and the deprecated site-local fec0::/10
  kShared,       // 100.64/10 (carrier-grade NAT)
  kUnspecified,  // 0.0.0.0, ::
  kThisNetwork,  // 0/8
  kMulticast,    // 224/4, ff00::/8
  kBroadcast,    // 255.255.255.255
  kReserved,     // 240/4, 192.0.0/24, benchmarking, documentation, discard, IPv4-compatible
};

/// What an address is, and the IPv4 address it was classified by when it embeds one.
struct AddressClassification {
  AddressClass cls = AddressClass::kPublic;
  std::optional<IpAddress> embedded_v4;
};

AddressClassification classifyAddress(const IpAddress& address);

/// "a loopback address", "a private address", ... for error messages.
std::string_view describeAddressClass(AddressClass cls);

/// "a loopback address 127.0.0.2" or, for an embedded address, "a loopback address 127.0.0.2
/// (embedded in ::ffff:127.0.0.2)".
std::string describeAddress(const IpAddress& address, const AddressClassification& c);

}  // namespace tether::http

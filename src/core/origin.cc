#include "core/origin.h"

#include <boost/url/parse.hpp>
#include <cstdint>

#include "core/encoding.h"

namespace tether::core {

Result<std::string> normalizeOrigin(std::string_view text) {
  const auto refuse = [] {
    return Error(Errc::kInvalidArgument,
                 "expected an origin such as http://localhost:6274 (scheme, host and optional "
                 "port only)");
  };
  auto parsed = boost::urls::parse_uri(text);
  if (!parsed) return refuse();
  const boost::urls::url_view& u = *parsed;
  const std::string scheme = toLower(u.scheme());
  if (scheme != "http" && scheme != "https") return refuse();
  if (u.has_userinfo() || u.encoded_host().empty() || u.has_query() || u.has_fragment()) {
    return refuse();
  }
  const auto path = u.encoded_path();
  if (!path.empty() && path != "/") return refuse();
  std::string out = scheme;
  out.append("://");
  switch (u.host_type()) {
    case boost::urls::host_type::ipv6:
      out.push_back('[');
      out.append(toLower(u.host_ipv6_address().to_string()));
      out.push_back(']');
      break;
    case boost::urls::host_type::ipv4:
    case boost::urls::host_type::name:
      out += toLower(u.encoded_host());
      break;
    default:
      return refuse();
  }
  if (u.has_port()) {
    // port_number() wraps values past 65535; read the digits themselves.
    const std::string_view digits = u.port();
    if (digits.empty() || digits.size() > 5) return refuse();
    uint32_t port = 0;
    for (char c : digits) {
      if (c < '0' || c > '9') return refuse();
      port = port * 10 + static_cast<uint32_t>(c - '0');
    }
    if (port == 0 || port > 65535) return refuse();
    if (port != (scheme == "https" ? 443u : 80u)) {
      out.push_back(':');
      out.append(std::to_string(port));
    }
  }
  return out;
}

}  // namespace tether::core

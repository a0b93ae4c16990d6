#include "gateway/upstream_url.h"

#include <boost/url/parse.hpp>

#include "core/encoding.h"

namespace tether::gateway {
namespace {

core::Error invalid(std::string message) {
  return core::Error(core::Errc::kInvalidArgument, std::move(message));
}

// "." or ".." once %2E / %2e are decoded.
bool isDotSegment(std::string_view seg) {
  size_t dots = 0;
  for (size_t i = 0; i < seg.size(); ++i) {
    if (seg[i] == '.') {
      ++dots;
    } else if (seg[i] == '%' && i + 2 < seg.size() && seg[i + 1] == '2' &&
               (seg[i + 2] == 'e' || seg[i + 2] == 'E')) {
      ++dots;
      i += 2;
    } else {
      return false;
    }
  }
  return dots == 1 || dots == 2;
}

// %2F or %5C in any case at `i` (which holds '%').
bool encodedSeparatorAt(std::string_view s, size_t i) {
  if (i + 2 >= s.size()) return false;
  const char a = s[i + 1];
  const char b = static_cast<char>(s[i + 2] | 0x20);
  return (a == '2' && b == 'f') || (a == '5' && b == 'c');
}

}  // namespace

core::Status checkRequestTarget(std::string_view target) {
  for (const char c : target) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) {
      return invalid(
          "the request target must not contain non-ASCII or control bytes (percent-encode them)");
    }
    if (c == '#') return invalid("the request target must not contain a fragment (#...)");
  }
  return {};
}

core::Result<UpstreamEndpoint> parseUpstreamUrl(std::string_view url, std::string_view ca_bundle) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) return invalid("upstream URL is not an absolute URL");
  const auto& u = *parsed;
  UpstreamEndpoint e;
  const std::string scheme = core::toLower(u.scheme());
  if (scheme == "https") {
    e.origin.tls = true;
  } else if (scheme != "http") {
    return invalid("upstream URL must use http or https");
  }
  if (u.has_userinfo()) return invalid("upstream URL must not carry credentials");
  switch (u.host_type()) {
    case boost::urls::host_type::ipv4:
      e.origin.host = u.host_ipv4_address().to_string();
      e.origin.host_is_ip = true;
      break;
    case boost::urls::host_type::ipv6:
      e.origin.host = core::toLower(u.host_ipv6_address().to_string());
      e.origin.host_is_ip = true;
      break;
    case boost::urls::host_type::name:
      e.origin.host = core::toLower(u.encoded_host());
      break;
    default:
      return invalid("upstream URL has an unsupported host");
  }
  if (e.origin.host.empty()) return invalid("upstream URL has no host");
  const uint16_t default_port = e.origin.tls ? 443 : 80;
  if (u.has_port()) {
    const auto p = u.port_number();
    if (p == 0) return invalid("upstream URL has an invalid port");
    e.origin.port = p;
  } else {
    e.origin.port = default_port;
  }
  const bool v6 = u.host_type() == boost::urls::host_type::ipv6;
  if (v6) {
    e.origin.host_header.reserve(e.origin.host.size() + 2);
    e.origin.host_header.append(1, '[').append(e.origin.host).append(1, ']');
  } else {
    e.origin.host_header = e.origin.host;
  }
  if (e.origin.port != default_port) {
    e.origin.host_header.append(1, ':').append(std::to_string(e.origin.port));
  }
  e.origin.ca_bundle = std::string(ca_bundle);
  e.origin.key.append(e.origin.tls ? "https://" : "http://")
      .append(e.origin.host_header)
      .append(1, '|')
      .append(e.origin.ca_bundle);
  e.base_path = std::string(u.encoded_path());
  if (e.base_path.empty()) e.base_path.assign(1, '/');
  if (u.has_query()) e.base_query = std::string(u.encoded_query());
  return e;
}

std::string mcpTarget(const UpstreamEndpoint& endpoint) {
  if (endpoint.base_query.empty()) return endpoint.base_path;
  return endpoint.base_path + "?" + endpoint.base_query;
}

std::string_view apiRemainder(std::string_view raw_path) {
  // "/api/<name>/<rest>": skip the prefix and the name segment, keep the rest as sent.
  size_t pos = 0;
  if (raw_path.starts_with("/api/")) pos = 5;
  const size_t slash = raw_path.find('/', pos);
  if (slash == std::string_view::npos) return {};
  return raw_path.substr(slash);
}

core::Result<std::string> apiTarget(const UpstreamEndpoint& endpoint, std::string_view remainder,
                                    std::string_view query) {
  for (size_t i = 0; i < remainder.size(); ++i) {
    if (remainder[i] == '\\') return invalid("the path must not contain a backslash");
    if (remainder[i] == '%' && encodedSeparatorAt(remainder, i)) {
      return invalid("the path must not contain an encoded slash or backslash (%2F, %5C)");
    }
  }
  std::string_view rest = remainder;
  while (!rest.empty()) {
    if (rest.front() == '/') {
      rest.remove_prefix(1);
      continue;
    }
    const size_t slash = rest.find('/');
    if (isDotSegment(rest.substr(0, slash))) {
      return invalid("the path must not contain \".\" or \"..\" segments");
    }
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash);
  }
  std::string target = endpoint.base_path;
  if (!remainder.empty()) {
    if (target.back() == '/') target.pop_back();
    target.append(remainder);
  }
  if (!endpoint.base_query.empty() || !query.empty()) {
    target += '?';
    target += endpoint.base_query;
    if (!endpoint.base_query.empty() && !query.empty()) target += '&';
    target += query;
  }
  return target;
}

}  // namespace tether::gateway

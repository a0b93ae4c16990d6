#include "gateway/client_guard.h"

#include <boost/url/authority_view.hpp>
#include <boost/url/parse.hpp>
#include <cctype>
#include <optional>
#include <utility>

#include "core/digest.h"
#include "core/encoding.h"
#include "core/origin.h"
#include "gateway/protocol.h"

namespace tether::gateway {
namespace {

constexpr size_t kSha256Bytes = 32;  // a key configured by its digest (`sha256:`)

bool isLoopbackOrigin(std::string_view normalized) {
  auto parsed = boost::urls::parse_uri(normalized);
  if (!parsed) return false;
  const auto& u = *parsed;
  switch (u.host_type()) {
    case boost::urls::host_type::ipv4:
      return u.host_ipv4_address().is_loopback();
    case boost::urls::host_type::ipv6:
      return u.host_ipv6_address().is_loopback();
    case boost::urls::host_type::name: {
      const std::string host = core::toLower(u.encoded_host());
      return host == "localhost" || host.ends_with(".localhost");
    }
    default:
      return false;
  }
}

// A Host header value (or a config entry in the same form) split into its lower-case host
// (IPv6 in brackets, canonical) and port (0 when none); nullopt when malformed.
std::optional<std::pair<std::string, uint16_t>> parseHost(std::string_view value) {
  if (value.empty() || value.size() > 300) return std::nullopt;
  auto parsed = boost::urls::parse_authority(value);
  if (!parsed) return std::nullopt;
  const auto& a = *parsed;
  if (a.has_userinfo()) return std::nullopt;
  std::string host;
  switch (a.host_type()) {
    case boost::urls::host_type::ipv4:
      host = a.host_ipv4_address().to_string();
      break;
    case boost::urls::host_type::ipv6:
      host.assign(1, '[').append(a.host_ipv6_address().to_string()).append(1, ']');
      break;
    case boost::urls::host_type::name:
      host = core::toLower(a.encoded_host());
      break;
    default:
      return std::nullopt;
  }
  if (host.empty()) return std::nullopt;
  uint16_t port = 0;
  if (a.has_port()) {
    port = a.port_number();
    if (port == 0) return std::nullopt;  // "host:", "host:0", "host:99999"
  }
  return std::make_pair(std::move(host), port);
}

// At most 64 characters of a refused Host, reduced to the characters a host name may hold.
std::string shownHost(std::string_view host) {
  std::string out;
  for (char c : host.substr(0, 64)) {
    const bool plain = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' ||
                       c == ':' || c == '[' || c == ']' || c == '_';
    out += plain ? c : '?';
  }
  if (host.size() > 64) out += "...";
  return out;
}

}  // namespace

HostGuard::HostGuard(const config::HostPort& listen, std::string_view public_url,
                     const std::vector<std::string>& allowed_hosts) {
  const std::string port = std::to_string(listen.port);
  if (listen.host != "0.0.0.0" && listen.host != "::" && !listen.host.empty()) {
    add(listen.toString());
  }
  for (const char* loopback : {"127.0.0.1", "localhost", "[::1]"}) {
    add(std::string(loopback).append(1, ':').append(port));
  }
  if (auto url = boost::urls::parse_uri(public_url)) add(url->encoded_host_and_port());
  for (const auto& h : allowed_hosts) add(h);
}

void HostGuard::add(std::string_view authority) {
  auto parsed = parseHost(authority);
  if (!parsed) {
    // Port 0 (any free port, tests) does not parse as a port: the name alone then.
    const size_t colon = authority.rfind(':');
    if (colon == std::string_view::npos || authority.substr(colon) != ":0") return;
    parsed = parseHost(authority.substr(0, colon));
    if (!parsed) return;
  }
  std::string spelled = parsed->first;
  if (parsed->second != 0) spelled.append(1, ':').append(std::to_string(parsed->second));
  spelled_.push_back(std::move(spelled));
  names_.push_back({std::move(parsed->first), parsed->second});
}

bool HostGuard::allowed(std::string_view host) const {
  for (const auto& s : spelled_) {
    if (core::iequals(host, s)) return true;
  }
  auto parsed = parseHost(host);
  if (!parsed) return false;
  for (const auto& n : names_) {
    if (n.host == parsed->first &&
        (n.port == 0 || parsed->second == 0 || n.port == parsed->second)) {
      return true;
    }
  }
  return false;
}

core::Status HostGuard::check(const http::Headers& headers) const {
  auto host = http::findHeader(headers, kHost);
  if (!host || allowed(*host)) return {};
  return core::Error(core::Errc::kPermissionDenied,
                     "Host \"" + shownHost(*host) +
                         "\" is not a name of this Tether listener (DNS-rebinding protection): "
                         "add it to server.allowed_hosts in the Tether config (accepted: the "
                         "listen address, public_url's host and loopback names)");
}

core::Status checkFetchSite(const http::Headers& headers) {
  auto site = http::findHeader(headers, kSecFetchSite);
  if (site && core::iequals(*site, "cross-site")) {
    return core::Error(core::Errc::kPermissionDenied,
                       "cross-site browser requests (Sec-Fetch-Site: cross-site) are refused on "
                       "the gateway routes");
  }
  return {};
}

ClientGuard::ClientGuard(const std::vector<config::AccessKey>& keys,
                         const std::vector<std::string>& allowed_origins,
                         std::string_view public_url) {
  for (const auto& k : keys) {
    if (k.sha256.size() == kSha256Bytes) {
      keys_.push_back({k.sha256, k.id});
    } else if (!k.key.empty()) {
      keys_.push_back({core::sha256(k.key), k.id});
    }
  }
  for (const auto& o : allowed_origins) {
    auto n = core::normalizeOrigin(o);
    if (n.ok()) origins_.push_back(std::move(n).value());
  }
  allow_loopback_ = origins_.empty();
  auto portal = core::normalizeOrigin(public_url);
  if (!portal.ok()) {
    // public_url has a path? Keep only scheme://authority.
    auto parsed = boost::urls::parse_uri(public_url);
    if (parsed) {
      portal = core::normalizeOrigin(std::string(parsed->scheme()) + "://" +
                                     std::string(parsed->encoded_host_and_port()));
    }
  }
  if (portal.ok()) origins_.push_back(std::move(portal).value());
}

bool ClientGuard::originAllowed(std::string_view origin) const {
  const auto n = core::normalizeOrigin(origin);
  if (!n.ok()) return false;
  for (const auto& o : origins_) {
    if (o == *n) return true;
  }
  return allow_loopback_ && isLoopbackOrigin(*n);
}

const std::string* ClientGuard::matchedKeyId(std::string_view authorization) const {
  constexpr std::string_view kBearer = "Bearer ";
  if (authorization.size() <= kBearer.size() ||
      !core::iequals(authorization.substr(0, kBearer.size()), kBearer)) {
    return nullptr;
  }
  std::string_view key = authorization.substr(kBearer.size());
  while (!key.empty() && key.front() == ' ') key.remove_prefix(1);
  while (!key.empty() && key.back() == ' ') key.remove_suffix(1);
  if (key.empty()) return nullptr;
  // Every configured digest is compared, in constant time each.
  const auto digest_of = [](const Key& k) -> std::string_view { return k.sha256; };
  const Key* match = core::findBySha256(keys_, key, digest_of);
  return match ? &match->id : nullptr;
}

core::Status ClientGuard::check(const http::Headers& headers, std::string_view* subject) const {
  if (auto origin = http::findHeader(headers, kOrigin)) {
    if (!originAllowed(*origin)) {
      return core::Error(core::Errc::kPermissionDenied,
                         "origin not allowed; add it to allowed_origins in the Tether config");
    }
  }
  if (!keys_.empty()) {
    auto auth = http::findHeader(headers, kAuthorization);
    const std::string* id = auth ? matchedKeyId(*auth) : nullptr;
    if (!id) {
      return core::Error(core::Errc::kUnauthenticated,
                         auth ? "the gateway client key is not valid"
                              : "a gateway client key is required (Authorization: Bearer <key>)");
    }
    if (subject) *subject = *id;
  }
  return {};
}

core::Status ClientGuard::checkCaller(const http::Headers& headers, bool tokens,
                                      std::string_view* subject, std::string_view* bearer) const {
  if (!tokens) return check(headers, subject);
  if (auto origin = http::findHeader(headers, kOrigin)) {
    if (!originAllowed(*origin)) {
      return core::Error(core::Errc::kPermissionDenied,
                         "origin not allowed; add it to allowed_origins in the Tether config");
    }
  }
  auto auth = http::findHeader(headers, kAuthorization);
  if (auth) {
    if (const std::string* id = keys_.empty() ? nullptr : matchedKeyId(*auth)) {
      if (subject) *subject = *id;
      return {};
    }
    constexpr std::string_view kBearer = "Bearer ";
    if (auth->size() > kBearer.size() && core::iequals(auth->substr(0, kBearer.size()), kBearer)) {
      std::string_view token = auth->substr(kBearer.size());
      while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
      while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
      if (!token.empty()) {
        if (bearer) *bearer = token;
        return {};
      }
    }
  }
  return core::Error(core::Errc::kUnauthenticated,
                     auth ? "the Authorization header holds no bearer token"
                          : "a bearer token is required (Authorization: Bearer <token>)");
}

}  // namespace tether::gateway

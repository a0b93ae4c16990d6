#include "admin/from_config.h"

#include <boost/url/parse.hpp>
#include <string_view>
#include <utility>

#include "core/digest.h"
#include "store/from_config.h"

namespace tether::admin {
namespace {

/// host[:port][/path] of an upstream URL: what an operator tells upstreams apart by.
std::string upstreamOf(std::string_view url) {
  auto u = boost::urls::parse_uri(url);
  if (!u) return std::string(url);
  std::string out(u->encoded_host_and_port());
  std::string path(u->encoded_path());
  if (path != "/") out += path;
  return out;
}

}  // namespace

std::vector<ConnectionView> connectionViewsFromConfig(
    const std::vector<config::ConnectionConfig>& connections) {
  std::vector<ConnectionView> out;
  for (const auto& c : connections) {
    ConnectionView v;
    v.key = store::connectionKeyFromConfig(c);
    v.url_host = config::urlHost(c.url);
    v.source = std::string(config::sourceName(c.source));
    v.upstream = upstreamOf(c.url);
    v.auth_mode = std::string(config::authModeName(c.auth.mode));
    if (c.auth.oauth) {
      v.refresh_max_lifetime = c.auth.oauth->refresh_max_lifetime;
      v.issuer = c.auth.oauth->issuer;
    }
    out.push_back(std::move(v));
  }
  return out;
}

std::string sessionSecretFromConfig(const config::EncryptionConfig& encryption) {
  if (!encryption.hasKey()) return {};
  constexpr std::string_view kLabel = "tether admin session v1";
  return core::hmacSha256(encryption.key, kLabel);
}

}  // namespace tether::admin

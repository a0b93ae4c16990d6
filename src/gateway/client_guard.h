#pragma once
/// Who may call the data plane: the gateway-client keys (`clients.keys`) and the Origin
/// allow-list (`allowed_origins`), checked before anything is forwarded.
///
/// Keys: when any are configured, a request must carry `Authorization: Bearer <key>`; the
/// presented key is hashed (SHA-256) and compared with every configured hash
/// (core::findBySha256), so the time taken says nothing about which byte or key differs. With no
/// keys configured, callers are not authenticated (the config loader warns about it).
///
/// Origin (MCP Streamable HTTP's DNS-rebinding protection): a request without Origin (a
/// non-browser client) passes. A present Origin must match the allow-list after
/// normalisation (lower-case scheme and host, default port dropped). With an empty list,
/// loopback origins (localhost, *.localhost, 127.0.0.0/8, [::1]) are allowed, so local
/// browser tools such as the MCP Inspector work out of the box while a page on any other
/// site is refused. The origin of `public_url` (the portal) is always allowed. "null" and
/// malformed origins are refused.
///
/// Thread-safety: immutable after construction; `check` may run on any thread.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "core/result.h"
#include "http/headers.h"

namespace tether::gateway {

class ClientGuard {
 public:
  ClientGuard(const std::vector<config::AccessKey>& keys,
              const std::vector<std::string>& allowed_origins, std::string_view public_url);

  /// OK, or kPermissionDenied (disallowed Origin, checked first) or kUnauthenticated
  /// (missing or wrong key). Messages never echo the presented key. On success `subject`
  /// (when given) is the id of the key presented, empty when no key is required; it views
  /// storage of this guard.
  core::Status check(const http::Headers& headers, std::string_view* subject = nullptr) const;

  /// As check, with bearer tokens from the inbound issuer also accepted (`inbound:` on): a
  /// configured key is still matched first (its id is the subject); any other `Bearer`
  /// credential is returned in `bearer` (a view into `headers`) for identity::Validator to
  /// decide, and OK. No Authorization, or another scheme, is kUnauthenticated. With
  /// `tokens` false this is exactly check().
  core::Status checkCaller(const http::Headers& headers, bool tokens, std::string_view* subject,
                           std::string_view* bearer) const;

  bool requiresKey() const { return !keys_.empty(); }
  bool originAllowed(std::string_view origin) const;
  /// True when `authorization` (the header's value) presents a configured key.
  bool keyAccepted(std::string_view authorization) const {
    return matchedKeyId(authorization) != nullptr;
  }
  /// The id of the configured key `authorization` presents, or null.
  const std::string* matchedKeyId(std::string_view authorization) const;

 private:
  struct Key {
    std::string sha256;  // 32 raw bytes
    std::string id;      // as configured (client-N for the string form)
  };
  std::vector<Key> keys_;
  std::vector<std::string> origins_;  // normalised
  bool allow_loopback_ = false;
};

/// The host names one listener answers to: DNS-rebinding protection. A page on a name the
/// attacker controls (rebound.example) whose address is switched to the gateway's sends
/// same-origin requests with `Host: rebound.example` and, on a GET, no Origin at all; only
/// the Host header tells them apart. Accepted names:
///   - the listen address, unless it is a wildcard (0.0.0.0, ::), with its port;
///   - public_url's host (with its port when the URL names one, else any port);
///   - 127.0.0.1, localhost and [::1] with the listener's port;
///   - every `server.allowed_hosts` entry ("host": any port, "host:port": that port).
/// A listen port 0 (tests) stands for any port. A Host without a port matches a name
/// whatever its port (the port is not what an attacker can choose: the name is). Names
/// compare case-insensitively, IPv6 literals in canonical form. A request without Host
/// (HTTP/1.0; browsers always send one) passes; an empty or malformed Host is refused.
///
/// Thread-safety: immutable after construction; `check` may run on any thread.
class HostGuard {
 public:
  HostGuard(const config::HostPort& listen, std::string_view public_url,
            const std::vector<std::string>& allowed_hosts);

  /// OK, or kPermissionDenied naming the rule (and at most 64 characters of the Host).
  core::Status check(const http::Headers& headers) const;
  /// True when `host` (a Host header value) is one of the listener's names.
  bool allowed(std::string_view host) const;

 private:
  struct Name {
    std::string host;   // lower case; IPv6 in brackets
    uint16_t port = 0;  // 0: any
  };
  void add(std::string_view authority);
  std::vector<Name> names_;
  // Each name as a Host header spells it in canonical form ("host:port", or "host" for any
  // port): a request whose Host is one of these (nearly all) is let through by a
  // case-insensitive compare, without parsing it.
  std::vector<std::string> spelled_;
};

/// kPermissionDenied for a request a browser marks `Sec-Fetch-Site: cross-site` (a page of
/// another site, e.g. `<script src>` or `<img>` pointing at the gateway); OK otherwise.
core::Status checkFetchSite(const http::Headers& headers);

}  // namespace tether::gateway

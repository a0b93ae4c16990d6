#pragma once
/// Building blocks of the config loader, exposed for its unit tests only. Other modules
/// include config/config.h. Every error message here is the "what was expected" part
/// only (the loader prefixes file, line and key path) and never echoes a secret.

#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "core/result.h"

namespace tether::config::internal {

/// Expands `${NAME}` references; `$${` stands for a literal `${`. Errors name the
/// missing variable ("${NAME} is not set") but never echo the scalar itself.
core::Result<std::string> interpolateEnv(std::string_view raw, const EnvLookup& env);

/// What the loader needs to know about a checked URL.
struct UrlFacts {
  std::string scheme;  // lower case
  std::string host;    // lower case, IPv6 without brackets
  bool loopback = false;
};

/// Checks an absolute http/https URL: host required; no userinfo, no fragment. The error
/// echoes the URL only when that cannot leak a credential.
core::Result<UrlFacts> checkHttpUrl(std::string_view url);

/// localhost (and *.localhost), 127.0.0.0/8, ::1. `host` without brackets.
bool isLoopbackHost(std::string_view host);

/// The config message for an allowed_origins entry that core::normalizeOrigin refuses: the
/// URL's problem when it is not an absolute http(s) URL, else what an origin may hold.
std::string badOriginMessage(std::string_view text);

/// "host:port" or "[v6]:port".
core::Result<HostPort> parseListen(std::string_view text);

/// A `server.allowed_hosts` entry: "host", "host:port", "[v6]" or "[v6]:port" (host a DNS
/// name or an IP literal), normalised to lower case (IPv6 in its canonical form).
core::Result<std::string> normalizeAllowedHost(std::string_view text);

/// True when two listen addresses cannot both be bound: the same port (not 0) on the same
/// host, or on a wildcard host (0.0.0.0, ::) and any other.
bool listenersOverlap(const HostPort& a, const HostPort& b);

/// A 32-byte key written as 64 hex characters or Base64. Errors never echo the text.
core::Result<std::string> decodeKey32(std::string_view text);

/// The pattern of connection names and key ids, as messages show it.
inline constexpr std::string_view kNamePattern = "[a-z0-9][a-z0-9_-]{0,62}";

/// [a-z0-9][a-z0-9_-]{0,62}
bool isValidName(std::string_view name);

/// The DSN (libpq key=value or postgres:// URI form) with its password replaced by kMask.
/// A DSN that cannot be parsed is masked entirely.
std::string maskDsnPassword(std::string_view dsn);

/// The password(s) in a DSN as written and as decoded (both, when they differ).
std::vector<std::string> dsnPasswords(std::string_view dsn);

}  // namespace tether::config::internal

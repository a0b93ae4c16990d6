#pragma once
/// Web origins (RFC 6454 serialisation), the one rule set used both to validate the
/// config's `allowed_origins` and to judge an `Origin` header at request time.

#include <string>
#include <string_view>

#include "core/result.h"

namespace tether::core {

/// "scheme://host[:port]": scheme and host in lower case, an IPv6 host in brackets in its
/// canonical form, the scheme's default port (80, 443) dropped, a lone trailing "/"
/// accepted. Only http and https origins with a host are accepted: "null", other schemes,
/// user info, a path, a query, a fragment, port 0 or an IPvFuture host are
/// kInvalidArgument, whose message says what an origin looks like (never echoes `text`).
/// Thread-safe (pure).
Result<std::string> normalizeOrigin(std::string_view text);

}  // namespace tether::core

#pragma once
/// Name resolution for the outbound client's connect guard: the guard resolves a host
/// itself, checks every address, then pins the connection to a checked one.
///
/// Thread-safety: safe to call from many threads.

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "core/result.h"
#include "http/ip_address.h"

namespace tether::http {

/// Resolves `host` (a name, never an IP literal) to its addresses within `timeout`.
/// Errors: kNotFound (no such name, or no address), kUnavailable (lookup failed or timed
/// out, or too many lookups are outstanding). Tests inject their own (no real DNS).
using HostResolver = std::function<core::Result<std::vector<IpAddress>>(
    const std::string& host, std::chrono::milliseconds timeout)>;

/// The system resolver (getaddrinfo, TCP addresses of both families). getaddrinfo has no
/// deadline of its own: it runs on a helper thread the caller stops waiting for at
/// `timeout`; at most 8 such lookups are outstanding at once, further ones fail at once.
core::Result<std::vector<IpAddress>> resolveWithSystem(const std::string& host,
                                                       std::chrono::milliseconds timeout);

}  // namespace tether::http

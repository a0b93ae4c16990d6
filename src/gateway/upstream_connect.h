#pragma once
// Internal to the upstream client (Asio types): opening a connection to an upstream origin,
// TCP and, for https, the TLS handshake with peer verification.

#include <memory>
#include <string>

#include "gateway/upstream_client.h"
#include "gateway/upstream_pool.h"
#include "gateway/upstream_url.h"

namespace tether::gateway::upstream {

/// A connection ready for requests, or why there is none (`failure` and `message`, for
/// operators; never holds request secrets).
struct Connected {
  std::unique_ptr<Conn> conn;
  UpstreamFailure failure = UpstreamFailure::kNone;
  std::string message;
};

/// Opens a connection to `origin` on `ctx` (the calling thread's): resolves a host name
/// (bounded by the connect timeout), connects, and for https completes a TLS handshake that
/// verifies the peer's certificate (system roots plus the origin's CA bundle) and its host
/// name or IP address; SNI is sent for host names. `deadline` (watched by `pool`) bounds
/// connect and handshake. While they run, `in_progress` points at the connection, so that
/// the caller's cancel() can stop them; `cancelled` is the caller's flag, read to report
/// kCancelled rather than a failure of the upstream. Runs on `ctx`'s thread only.
Awaitable<Connected> connectUpstream(asio::io_context& ctx, PoolService& pool,
                                     const UpstreamOrigin& origin, const UpstreamLimits& limits,
                                     Deadline& deadline, Conn*& in_progress, const bool& cancelled);

}  // namespace tether::gateway::upstream

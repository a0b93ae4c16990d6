#pragma once
/// The HTTP server's part of the configuration: a listener's address with the limits and
/// timeouts of `server`.

#include "config/config.h"
#include "http/server.h"

namespace tether::http {

/// Options for a listener on `listen` (the main `listen`, or admin.listen) with
/// server.io_threads, the size limits, the timeouts and max_connections.
ServerOptions serverOptionsFromConfig(const config::ServerConfig& server,
                                      const config::HostPort& listen);

}  // namespace tether::http

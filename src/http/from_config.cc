#include "http/from_config.h"

namespace tether::http {

ServerOptions serverOptionsFromConfig(const config::ServerConfig& server,
                                      const config::HostPort& listen) {
  ServerOptions options;
  options.host = listen.host;
  options.port = listen.port;
  options.io_threads = static_cast<size_t>(server.io_threads);
  options.max_header_bytes = server.max_header_bytes;
  options.max_body_bytes = server.max_body_bytes;
  options.read_timeout = server.read_timeout;
  options.idle_timeout = server.idle_timeout;
  options.write_timeout = server.write_timeout;
  options.drain_timeout = server.drain_timeout;
  options.max_connections = server.max_connections;
  return options;
}

}  // namespace tether::http

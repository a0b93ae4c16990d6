// The HTTP server's part of the configuration.

#include "http/from_config.h"

#include <gtest/gtest.h>

namespace tether::http {
namespace {

TEST(HttpFromConfigTest, ListenerOptionsFromServer) {
  config::ServerConfig server;
  server.io_threads = 6;
  server.max_header_bytes = 4096;
  server.max_body_bytes = 8192;
  server.read_timeout = std::chrono::seconds(3);
  server.idle_timeout = std::chrono::seconds(4);
  server.write_timeout = std::chrono::seconds(5);
  server.drain_timeout = std::chrono::seconds(6);
  server.max_connections = 77;
  config::HostPort admin{"::1", 9090};
  const ServerOptions o = serverOptionsFromConfig(server, admin);
  EXPECT_EQ(o.host, "::1");
  EXPECT_EQ(o.port, 9090);
  EXPECT_EQ(o.io_threads, 6u);
  EXPECT_EQ(o.max_header_bytes, 4096u);
  EXPECT_EQ(o.max_body_bytes, 8192u);
  EXPECT_EQ(o.read_timeout, std::chrono::seconds(3));
  EXPECT_EQ(o.idle_timeout, std::chrono::seconds(4));
  EXPECT_EQ(o.write_timeout, std::chrono::seconds(5));
  EXPECT_EQ(o.drain_timeout, std::chrono::seconds(6));
  EXPECT_EQ(o.max_connections, 77u);
}

}  // namespace
}  // namespace tether::http

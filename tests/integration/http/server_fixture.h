#pragma once
// The live-server fixture the http_server tests share: a Server on a free loopback port with
// its own router and metrics registry.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "http/server.h"
#include "support/raw_http.h"

namespace tether::http {

using std::chrono::milliseconds;
using ::testing::HasSubstr;
using ::testing::Not;
using tether::testing::bodyOf;
using tether::testing::RawConnection;
using tether::testing::statusOf;

class ServerTest : public ::testing::Test {
 protected:
  void start(ServerOptions options = {}) {
    options.port = 0;
    options.host = "127.0.0.1";
    server_ = std::make_unique<Server>(options, router_, &metrics_);
    ASSERT_TRUE(server_->start().ok());
  }
  void TearDown() override {
    if (server_) server_->stop();
    if (worker_.joinable()) worker_.join();
    for (auto& t : worker_pool_) t.join();
  }
  uint16_t port() const { return server_->port(); }
  // Serves GET /sse as an event stream and starts the server; sseWriter() waits for the
  // stream of the one request sent there.
  void startSse() {
    router_.add("GET", "/sse", [this](Request&, Responder r) {
      sse_writer_.set_value(r.startStream(200, {{"Content-Type", "text/event-stream"}}));
    });
    start();
  }
  std::shared_ptr<StreamWriter> sseWriter() { return sse_writer_.get_future().get(); }

  Router router_;
  core::MetricsRegistry metrics_;
  std::unique_ptr<Server> server_;
  std::thread worker_;
  std::vector<std::thread> worker_pool_;  // touched by handlers on one I/O thread (one client)
  std::promise<std::shared_ptr<StreamWriter>> sse_writer_;
};

// Waits (bounded) for a condition that has no notification of its own.
template <class Pred>
bool eventually(Pred pred, milliseconds deadline = milliseconds(5000)) {
  const auto end = std::chrono::steady_clock::now() + deadline;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::yield();
  }
  return true;
}

}  // namespace tether::http

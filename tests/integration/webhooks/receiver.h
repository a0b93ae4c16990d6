#pragma once
// A webhook receiver on loopback for the tests: records every request (headers and body)
// and answers as scripted: a status, a hang, a redirect or an oversized body.

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "http/router.h"
#include "http/server.h"

namespace tether::webhooks::testing {

struct Received {
  std::string id, timestamp, signature, content_type, custom;
  std::string body;
};

enum class Behaviour { kOk, kStatus500, kHang, kRedirect, kHugeBody };

class Receiver {
 public:
  Receiver() {
    router_.add("POST", "/hook", [this](http::Request& req, http::Responder r) {
      Received got;
      auto h = [&](std::string_view n) { return std::string(req.header(n).value_or("")); };
      got.id = h("webhook-id");
      got.timestamp = h("webhook-timestamp");
      got.signature = h("webhook-signature");
      got.content_type = h("content-type");
      got.custom = h("x-custom");
      got.body = req.body;
      Behaviour b;
      {
        std::lock_guard lock(mu_);
        received_.push_back(got);
        b = script_.empty() ? fallback_ : script_.front();
        if (!script_.empty()) script_.pop_front();
      }
      cv_.notify_all();
      switch (b) {
        case Behaviour::kOk:
          return r.send(http::Response::json(200, "{}"));
        case Behaviour::kStatus500:
          return r.send(http::Response::json(500, R"({"error":"boom"})"));
        case Behaviour::kRedirect:
          return r.send(http::Response::redirect("http://127.0.0.1:1/elsewhere", 302));
        case Behaviour::kHugeBody:
          return r.send(http::Response::text(200, std::string(10 * 1024 * 1024, 'x')));
        case Behaviour::kHang: {
          // Answers after 60 s (or never, if the server stops first).
          auto held = std::make_shared<http::Responder>(std::move(r));
          server_->schedule(std::chrono::seconds(60),
                            [held] { held->send(http::Response::json(200, "{}")); });
          return;
        }
      }
    });
    http::ServerOptions o;
    o.host = "127.0.0.1";
    o.port = 0;
    o.drain_timeout = std::chrono::milliseconds(100);
    o.write_timeout = std::chrono::seconds(120);
    server_ = std::make_unique<http::Server>(o, router_, nullptr);
  }
  ~Receiver() { stop(); }

  bool start() { return server_->start().ok(); }
  void stop() {
    if (server_) server_->stop();
  }
  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(server_->port()) + "/hook";
  }

  /// The next answers, in order; then `fallback`.
  void script(std::vector<Behaviour> steps, Behaviour fallback = Behaviour::kOk) {
    std::lock_guard lock(mu_);
    script_.assign(steps.begin(), steps.end());
    fallback_ = fallback;
  }
  std::vector<Received> received() const {
    std::lock_guard lock(mu_);
    return received_;
  }
  /// Waits (up to `deadline`) until `n` requests arrived.
  bool waitFor(size_t n, std::chrono::milliseconds deadline) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, deadline, [&] { return received_.size() >= n; });
  }

 private:
  http::Router router_;
  std::unique_ptr<http::Server> server_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Received> received_;
  std::deque<Behaviour> script_;
  Behaviour fallback_ = Behaviour::kOk;
};

}  // namespace tether::webhooks::testing

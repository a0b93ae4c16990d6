#pragma once
/// A raw-socket HTTP/1.1 upstream for the smuggling corpus: it records every request it
/// receives exactly as framed (method, target, decoded body, raw head) and answers each with
/// `rec <method> <target> <body bytes>`, so a client can tell which request an answer
/// belongs to. Strict on purpose: Content-Length or chunked bodies only; a head it cannot
/// parse is recorded as garbage and the connection closed. Thread-safe (one thread per
/// connection, bounded buffers, every wait polled against the stop flag).

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace tether::testing {

/// One request as the upstream saw it.
struct RecordedRequest {
  std::string method;
  std::string target;
  std::string body;      // decoded (chunked or Content-Length)
  std::string raw_head;  // request line and fields, as received
  bool garbage = false;  // the bytes did not form a request (raw_head holds them)
};

/// The answer body the upstream sends for a request (what clients compare against).
std::string recordedAnswer(const std::string& method, const std::string& target, size_t body_size);

class RecordingUpstream {
 public:
  RecordingUpstream();
  ~RecordingUpstream();
  RecordingUpstream(const RecordingUpstream&) = delete;
  RecordingUpstream& operator=(const RecordingUpstream&) = delete;

  /// The loopback port it listens on (0 if it could not bind).
  uint16_t port() const { return port_; }
  /// Everything recorded since the last take(), in arrival order; clears the record.
  std::vector<RecordedRequest> take();
  /// Number of connections accepted so far.
  size_t connections() const;

 private:
  void acceptLoop();
  void serve(int fd);

  int listen_fd_ = -1;
  uint16_t port_ = 0;
  bool stop_ = false;
  mutable std::mutex mu_;
  std::vector<RecordedRequest> records_;
  size_t connections_ = 0;
  std::vector<std::thread> threads_;
  std::thread acceptor_;
};

}  // namespace tether::testing

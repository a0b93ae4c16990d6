#pragma once
// A deliberately dumb HTTP/1.1 client over POSIX sockets for tests that need to misbehave:
// send half a request, stall, oversize headers, or read a stream chunk by chunk. Every
// wait is bounded by a real deadline (these tests are about network behaviour).

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace tether::testing {

class RawConnection {
 public:
  explicit RawConnection(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  ~RawConnection() {
    if (fd_ >= 0) ::close(fd_);
  }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool connected() const { return connected_; }

  bool send(std::string_view data) {
    while (!data.empty()) {
      const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  /// Sends a FIN: the request (or part of one) is all this client will send.
  void finishSending() { ::shutdown(fd_, SHUT_WR); }

  void closeNow() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  /// Reads until `needle` appears in everything read so far, EOF, or the deadline.
  /// Returns what was read (all of it, accumulated in `received()`).
  std::string readUntil(std::string_view needle, std::chrono::milliseconds deadline) {
    const auto end = std::chrono::steady_clock::now() + deadline;
    while (received_.find(needle) == std::string::npos && !eof_) {
      if (!readSome(end)) break;
    }
    return received_;
  }

  /// Reads until the peer closes (true) or the deadline passes (false).
  bool readUntilClosed(std::chrono::milliseconds deadline) {
    const auto end = std::chrono::steady_clock::now() + deadline;
    while (!eof_) {
      if (!readSome(end)) return eof_;
    }
    return true;
  }

  const std::string& received() const { return received_; }
  bool eof() const { return eof_; }
  void clear() { received_.clear(); }

 private:
  bool readSome(std::chrono::steady_clock::time_point end) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        end - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    char buf[16384];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) {
      eof_ = true;
      return false;
    }
    received_.append(buf, static_cast<size_t>(n));
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
  bool eof_ = false;
  std::string received_;
};

/// Status code of the first response in `raw` (0 when none).
inline int statusOf(std::string_view raw) {
  if (raw.size() < 12 || raw.substr(0, 5) != "HTTP/") return 0;
  return std::atoi(std::string(raw.substr(9, 3)).c_str());
}

/// Body of a Content-Length response in `raw` ("" when incomplete).
inline std::string bodyOf(std::string_view raw) {
  const size_t head_end = raw.find("\r\n\r\n");
  if (head_end == std::string_view::npos) return "";
  return std::string(raw.substr(head_end + 4));
}

}  // namespace tether::testing

#pragma once
// A loopback HTTP upstream for the live-connection tests: every request is answered with the
// upstream's name and the request path; GET /sse is an event stream.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace tether::testing {

using std::chrono::seconds;

// A loopback upstream: every request is answered with the upstream's name (and the request
// path), except GET /sse, an event stream that sends one event each time the test says so,
// and POST /token, a token endpoint handing out `<name>-token-<n>` (client_credentials).
class Upstream {
 public:
  explicit Upstream(std::string name) : name_(std::move(name)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
        ::listen(listen_fd_, 16) != 0 ||
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      throw std::runtime_error("upstream: cannot listen");
    }
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { acceptLoop(); });
  }
  ~Upstream() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    acceptor_.join();
    for (auto& t : workers_) t.join();
    ::close(listen_fd_);
  }

  uint16_t port() const { return port_; }

  /// Sends `data` as one SSE event on every open stream.
  void sendEvent(const std::string& data) {
    std::lock_guard lock(mu_);
    events_.push_back(data);
    cv_.notify_all();
  }
  /// The path of every request received, in order.
  std::vector<std::string> paths() {
    std::lock_guard lock(mu_);
    return paths_;
  }
  /// How many tokens POST /token handed out.
  int tokensIssued() {
    std::lock_guard lock(mu_);
    return tokens_issued_;
  }
  int openStreams() {
    std::lock_guard lock(mu_);
    return open_streams_;
  }

 private:
  void acceptLoop() {
    for (;;) {
      {
        std::lock_guard lock(mu_);
        if (stopping_) return;
      }
      pollfd p{listen_fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      const int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) continue;
      workers_.emplace_back([this, fd] {
        serve(fd);
        ::close(fd);
      });
    }
  }

  void serve(int fd) {
    std::string head;
    const auto end = std::chrono::steady_clock::now() + seconds(10);
    while (head.find("\r\n\r\n") == std::string::npos) {
      pollfd p{fd, POLLIN, 0};
      if (std::chrono::steady_clock::now() >= end || ::poll(&p, 1, 100) < 0) return;
      if (!(p.revents & POLLIN)) continue;
      char buf[4096];
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) return;
      head.append(buf, static_cast<size_t>(n));
    }
    const size_t sp = head.find(' ');
    const std::string path = head.substr(sp + 1, head.find(' ', sp + 1) - sp - 1);
    // Read the body (unread bytes at close would reset the answer).
    size_t length = 0;
    for (const char* name : {"Content-Length: ", "content-length: "}) {
      if (auto at = head.find(name); at != std::string::npos) {
        length = std::stoul(head.substr(at + std::char_traits<char>::length(name)));
      }
    }
    std::string request_body = head.substr(head.find("\r\n\r\n") + 4);
    while (request_body.size() < length && std::chrono::steady_clock::now() < end) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      char buf[4096];
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) return;
      request_body.append(buf, static_cast<size_t>(n));
    }
    {
      std::lock_guard lock(mu_);
      paths_.push_back(path);
    }
    if (path == "/token") {
      int issued = 0;
      {
        std::lock_guard lock(mu_);
        issued = ++tokens_issued_;
      }
      const std::string json = "{\"access_token\":\"" + name_ + "-token-" + std::to_string(issued) +
                               "\",\"token_type\":\"Bearer\",\"expires_in\":3600}";
      send(fd,
           "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
           "Content-Length: " +
               std::to_string(json.size()) + "\r\n\r\n" + json);
      return;
    }
    if (path != "/sse") {
      const std::string body = name_ + " " + path;
      send(fd,
           "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n"
           "Content-Length: " +
               std::to_string(body.size()) + "\r\n\r\n" + body);
      return;
    }
    send(fd,
         "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\n"
         "Transfer-Encoding: chunked\r\n\r\n");
    std::unique_lock lock(mu_);
    ++open_streams_;
    size_t sent = events_.size();  // only events asked for from now on
    for (;;) {
      cv_.wait(lock, [&] { return stopping_ || sent < events_.size(); });
      if (stopping_) break;
      const std::string event = "data: " + events_[sent++] + "\n\n";
      lock.unlock();
      std::ostringstream chunk;
      chunk << std::hex << event.size() << "\r\n" << event << "\r\n";
      const bool ok = send(fd, chunk.str());
      lock.lock();
      if (!ok) break;
    }
    --open_streams_;
  }

  static bool send(int fd, const std::string& data) {
    size_t off = 0;
    while (off < data.size()) {
      const ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return false;
      off += static_cast<size_t>(n);
    }
    return true;
  }

  std::string name_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::thread acceptor_;
  std::vector<std::thread> workers_;  // the acceptor's; joined after it
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::vector<std::string> events_;
  int open_streams_ = 0;
  int tokens_issued_ = 0;
  std::vector<std::string> paths_;
};

}  // namespace tether::testing

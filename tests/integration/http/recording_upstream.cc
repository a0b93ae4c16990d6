#include "recording_upstream.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <optional>
#include <string>

namespace tether::testing {
namespace {

constexpr size_t kMaxBuffered = 1 << 20;

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

enum class Parse { kNeedMore, kDone, kGarbage };

// Decodes a chunked body starting at `pos`; kDone sets `end` past the trailer section.
Parse dechunk(const std::string& buf, size_t pos, std::string& body, size_t& end) {
  for (;;) {
    const size_t eol = buf.find("\r\n", pos);
    if (eol == std::string::npos) return Parse::kNeedMore;
    std::string size_text = buf.substr(pos, eol - pos);
    size_text = size_text.substr(0, size_text.find(';'));
    if (size_text.empty() || size_text.size() > 8 ||
        !std::all_of(size_text.begin(), size_text.end(), ::isxdigit)) {
      return Parse::kGarbage;
    }
    const size_t n = std::stoul(size_text, nullptr, 16);
    pos = eol + 2;
    if (n == 0) {
      const size_t trailers_end = buf.find("\r\n", pos) == pos ? pos : buf.find("\r\n\r\n", pos);
      if (trailers_end == std::string::npos) return Parse::kNeedMore;
      end = trailers_end + (trailers_end == pos ? 2 : 4);
      return Parse::kDone;
    }
    if (buf.size() < pos + n + 2) return Parse::kNeedMore;
    if (buf.compare(pos + n, 2, "\r\n") != 0) return Parse::kGarbage;
    body.append(buf, pos, n);
    pos += n + 2;
  }
}

// One request at the start of `buf`; kDone fills `rec` and `used`.
Parse parseRequest(const std::string& buf, RecordedRequest& rec, size_t& used, bool& close) {
  const size_t head_end = buf.find("\r\n\r\n");
  if (head_end == std::string::npos) {
    return buf.size() > 64 * 1024 ? Parse::kGarbage : Parse::kNeedMore;
  }
  rec = {};
  rec.raw_head = buf.substr(0, head_end + 2);
  const size_t line_end = buf.find("\r\n");
  const std::string line = buf.substr(0, line_end);
  const size_t sp1 = line.find(' ');
  const size_t sp2 = line.rfind(' ');
  if (sp1 == std::string::npos || sp2 == sp1 || line.compare(sp2 + 1, 5, "HTTP/") != 0) {
    return Parse::kGarbage;
  }
  rec.method = line.substr(0, sp1);
  rec.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::optional<size_t> content_length;
  bool chunked = false;
  size_t pos = line_end + 2;
  while (pos < head_end + 2) {
    const size_t eol = buf.find("\r\n", pos);
    const std::string field = buf.substr(pos, eol - pos);
    pos = eol + 2;
    const size_t colon = field.find(':');
    if (colon == std::string::npos || colon == 0) return Parse::kGarbage;
    const std::string name = lower(field.substr(0, colon));
    const std::string value = trim(field.substr(colon + 1));
    if (name == "content-length") {
      if (content_length || value.empty() || value.size() > 9 ||
          !std::all_of(value.begin(), value.end(), ::isdigit)) {
        return Parse::kGarbage;
      }
      content_length = std::stoul(value);
    } else if (name == "transfer-encoding") {
      if (lower(value) != "chunked") return Parse::kGarbage;
      chunked = true;
    } else if (name == "connection" && lower(value).find("close") != std::string::npos) {
      close = true;
    }
  }
  if (chunked && content_length) return Parse::kGarbage;
  const size_t body_start = head_end + 4;
  if (chunked) return dechunk(buf, body_start, rec.body, used);
  const size_t n = content_length.value_or(0);
  if (buf.size() < body_start + n) return Parse::kNeedMore;
  rec.body = buf.substr(body_start, n);
  used = body_start + n;
  return Parse::kDone;
}

bool sendAll(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    const ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

std::string recordedAnswer(const std::string& method, const std::string& target, size_t body_size) {
  return "rec " + method + " " + target + " " + std::to_string(body_size);
}

RecordingUpstream::RecordingUpstream() {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listen_fd_, 64) != 0) {
    return;
  }
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { acceptLoop(); });
}

RecordingUpstream::~RecordingUpstream() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  if (acceptor_.joinable()) acceptor_.join();
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(mu_);
    threads.swap(threads_);
  }
  for (auto& t : threads) t.join();
  if (listen_fd_ >= 0) ::close(listen_fd_);
}

std::vector<RecordedRequest> RecordingUpstream::take() {
  std::lock_guard lock(mu_);
  std::vector<RecordedRequest> out;
  out.swap(records_);
  return out;
}

size_t RecordingUpstream::connections() const {
  std::lock_guard lock(mu_);
  return connections_;
}

void RecordingUpstream::acceptLoop() {
  for (;;) {
    {
      std::lock_guard lock(mu_);
      if (stop_) return;
    }
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    const int fd = ::accept(listen_fd_, nullptr, nullptr);
    if (fd < 0) continue;
    std::lock_guard lock(mu_);
    ++connections_;
    threads_.emplace_back([this, fd] { serve(fd); });
  }
}

void RecordingUpstream::serve(int fd) {
  std::string buf;
  char chunk[16384];
  bool open = true;
  while (open) {
    {
      std::lock_guard lock(mu_);
      if (stop_) break;
    }
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) break;
    buf.append(chunk, static_cast<size_t>(n));
    for (;;) {
      RecordedRequest rec;
      size_t used = 0;
      bool close = false;
      const Parse r = parseRequest(buf, rec, used, close);
      if (r == Parse::kNeedMore && buf.size() <= kMaxBuffered) break;
      if (r != Parse::kDone) {
        RecordedRequest bad;
        bad.garbage = true;
        bad.raw_head = buf.substr(0, 4096);
        std::lock_guard lock(mu_);
        records_.push_back(std::move(bad));
        open = false;
        break;
      }
      buf.erase(0, used);
      const std::string answer = recordedAnswer(rec.method, rec.target, rec.body.size());
      {
        std::lock_guard lock(mu_);
        records_.push_back(std::move(rec));
      }
      const std::string out = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " +
                              std::to_string(answer.size()) + "\r\n" +
                              (close ? "Connection: close\r\n" : "") + "\r\n" + answer;
      if (!sendAll(fd, out) || close) {
        open = false;
        break;
      }
    }
  }
  ::close(fd);
}

}  // namespace tether::testing

#include "support/tls_test_server.h"

#include <openssl/ssl.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <cctype>
#include <charconv>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>

namespace tether::testing {
namespace {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;

constexpr size_t kMaxHeadBytes = 1 << 20;

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

const char* reasonPhrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 204:
      return "No Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 303:
      return "See Other";
    case 307:
      return "Temporary Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "Status";
  }
}

}  // namespace

std::optional<std::string> ReceivedRequest::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (iequals(k, name)) return v;
  }
  return std::nullopt;
}

namespace {

// Everything of a server but its public face; connections call back into it.
class ServerCore {
 public:
  ServerCore(TestServer::Handler handler, TestServerOptions options);
  ~ServerCore() { stop(); }

  void stop();
  uint16_t port() const { return port_; }
  bool tls() const { return ssl_ctx_.has_value(); }

  void record(const ReceivedRequest& request) {
    std::lock_guard lock(mu_);
    requests_.push_back(request);
  }
  void unregisterFd(int fd) {
    std::lock_guard lock(mu_);
    open_fds_.erase(fd);
  }
  std::vector<ReceivedRequest> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }
  bool stopping() const { return stopping_.load(); }

  std::atomic<size_t> accepted{0};
  std::atomic<size_t> failed_handshakes{0};

 private:
  void acceptLoop();

  TestServer::Handler handler_;
  asio::io_context io_;  // never run: every operation here is synchronous
  std::optional<ssl::context> ssl_ctx_;
  tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};

  mutable std::mutex mu_;
  std::set<int> open_fds_;  // connections a stop() must unblock
  std::vector<std::thread> connection_threads_;
  std::vector<ReceivedRequest> requests_;
  std::thread accept_thread_;
};

class Connection final : public TestConnection {
 public:
  Connection(ServerCore& server, tcp::socket socket, size_t id, ssl::context* ssl_ctx)
      : server_(server), id_(id), fd_(socket.native_handle()) {
    if (ssl_ctx != nullptr) {
      tls_ = std::make_unique<ssl::stream<tcp::socket>>(std::move(socket), *ssl_ctx);
    } else {
      plain_ = std::make_unique<tcp::socket>(std::move(socket));
    }
  }
  ~Connection() override { close(); }

  int fd() const { return fd_; }

  bool handshake() {
    boost::system::error_code ec;
    tls_->handshake(ssl::stream_base::server, ec);
    return !ec;
  }

  std::optional<ReceivedRequest> readRequest() override { return read(/*with_body=*/true); }

  std::optional<ReceivedRequest> readRequestHead() override { return read(/*with_body=*/false); }

  std::optional<ReceivedRequest> read(bool with_body) {
    size_t end;
    while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (buffer_.size() > kMaxHeadBytes || !fill()) return std::nullopt;
    }
    ReceivedRequest req;
    req.connection_id = id_;
    req.head = buffer_.substr(0, end + 4);
    buffer_.erase(0, end + 4);

    std::string_view rest(req.head);
    auto nextLine = [&rest]() {
      const size_t eol = rest.find("\r\n");
      std::string_view line = rest.substr(0, eol);
      rest.remove_prefix(eol + 2);
      return line;
    };
    const std::string_view request_line = nextLine();
    const size_t sp1 = request_line.find(' ');
    const size_t sp2 = request_line.rfind(' ');
    if (sp1 == std::string_view::npos || sp2 == sp1) return std::nullopt;
    req.method = request_line.substr(0, sp1);
    req.target = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
    req.version = request_line.substr(sp2 + 1);
    for (std::string_view line = nextLine(); !line.empty(); line = nextLine()) {
      const size_t colon = line.find(':');
      if (colon == std::string_view::npos) return std::nullopt;
      req.headers.emplace_back(std::string(line.substr(0, colon)),
                               std::string(trim(line.substr(colon + 1))));
    }

    const auto te = req.header("Transfer-Encoding");
    if (!with_body) {
      // Leave the body in the socket.
    } else if (te && iequals(*te, "chunked")) {
      if (!readChunkedBody(req.body)) return std::nullopt;
    } else if (const auto cl = req.header("Content-Length")) {
      size_t length = 0;
      if (std::from_chars(cl->data(), cl->data() + cl->size(), length).ec != std::errc()) {
        return std::nullopt;
      }
      if (!ensure(length)) return std::nullopt;
      req.body = buffer_.substr(0, length);
      buffer_.erase(0, length);
    }
    server_.record(req);
    return req;
  }

  bool write(std::string_view bytes) override {
    boost::system::error_code ec;
    if (tls_) {
      asio::write(*tls_, asio::buffer(bytes.data(), bytes.size()), ec);
    } else {
      asio::write(*plain_, asio::buffer(bytes.data(), bytes.size()), ec);
    }
    return !ec;
  }

  void waitForPeerClose() override {
    buffer_.clear();
    while (fill()) buffer_.clear();
  }

  void close() override {
    if (closed_) return;
    closed_ = true;
    server_.unregisterFd(fd_);  // before the descriptor can be reused
    boost::system::error_code ec;
    if (tls_) {
      // Sends close_notify; returns once the peer answers or goes away (or stop() unblocks).
      tls_->shutdown(ec);
    }
    socket().shutdown(tcp::socket::shutdown_both, ec);
    socket().close(ec);
  }

  void abort() override {
    if (closed_) return;
    closed_ = true;
    server_.unregisterFd(fd_);
    boost::system::error_code ec;
    socket().set_option(asio::socket_base::linger(true, 0), ec);
    socket().close(ec);  // linger 0: RST
  }

  std::string serverName() const override {
    if (!tls_) return {};
    const char* name =
        SSL_get_servername(const_cast<SSL*>(tls_->native_handle()), TLSEXT_NAMETYPE_host_name);
    return name != nullptr ? name : "";
  }

  size_t id() const override { return id_; }

 private:
  tcp::socket& socket() { return tls_ ? tls_->next_layer() : *plain_; }

  bool fill() {
    if (closed_) return false;
    char chunk[16384];
    boost::system::error_code ec;
    const size_t n = tls_ ? tls_->read_some(asio::buffer(chunk), ec)
                          : plain_->read_some(asio::buffer(chunk), ec);
    if (n > 0) buffer_.append(chunk, n);
    return n > 0 || !ec;
  }

  bool ensure(size_t n) {
    while (buffer_.size() < n) {
      if (!fill()) return false;
    }
    return true;
  }

  bool readLine(std::string& line) {
    size_t eol;
    while ((eol = buffer_.find("\r\n")) == std::string::npos) {
      if (buffer_.size() > kMaxHeadBytes || !fill()) return false;
    }
    line = buffer_.substr(0, eol);
    buffer_.erase(0, eol + 2);
    return true;
  }

  bool readChunkedBody(std::string& body) {
    for (;;) {
      std::string line;
      if (!readLine(line)) return false;
      size_t size = 0;
      const auto [ptr, ec] = std::from_chars(line.data(), line.data() + line.size(), size, 16);
      if (ec != std::errc()) return false;
      if (size == 0) break;
      if (!ensure(size + 2)) return false;
      body.append(buffer_, 0, size);
      buffer_.erase(0, size + 2);
    }
    std::string trailer;
    do {
      if (!readLine(trailer)) return false;
    } while (!trailer.empty());
    return true;
  }

  ServerCore& server_;
  const size_t id_;
  const int fd_;
  std::unique_ptr<tcp::socket> plain_;
  std::unique_ptr<ssl::stream<tcp::socket>> tls_;
  std::string buffer_;
  bool closed_ = false;
};

ServerCore::ServerCore(TestServer::Handler handler, TestServerOptions options)
    : handler_(std::move(handler)), acceptor_(io_) {
  if (options.tls) {
    ssl_ctx_.emplace(ssl::context::tls_server);
    ssl_ctx_->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                          ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                          ssl::context::no_tlsv1_1);
    ssl_ctx_->use_certificate_chain_file(options.cert_path);
    ssl_ctx_->use_private_key_file(options.key_path, ssl::context::pem);
  }
  const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), 0);
  acceptor_.open(endpoint.protocol());
  acceptor_.bind(endpoint);
  acceptor_.listen(asio::socket_base::max_listen_connections);
  port_ = acceptor_.local_endpoint().port();
  accept_thread_ = std::thread([this] { acceptLoop(); });
}

void ServerCore::acceptLoop() {
  for (;;) {
    tcp::socket socket(io_);
    boost::system::error_code ec;
    acceptor_.accept(socket, ec);
    if (stopping_.load()) return;
    if (ec) {
      if (ec == asio::error::connection_aborted || ec == asio::error::interrupted) continue;
      return;
    }
    const size_t id = ++accepted;
    auto connection =
        std::make_unique<Connection>(*this, std::move(socket), id, ssl_ctx_ ? &*ssl_ctx_ : nullptr);
    std::lock_guard lock(mu_);
    if (stopping_.load()) return;  // `connection` closes its socket
    open_fds_.insert(connection->fd());
    connection_threads_.emplace_back([this, c = std::move(connection)] {
      if (tls() && !c->handshake()) {
        ++failed_handshakes;
      } else {
        try {
          handler_(*c);
        } catch (...) {
          // A handler failing is the test's business; the connection is simply closed.
        }
      }
      c->close();
    });
  }
}

void ServerCore::stop() {
  if (stopping_.exchange(true)) return;
  // shutdown(2) on a listening socket wakes a blocked accept(2) on Linux.
  ::shutdown(acceptor_.native_handle(), SHUT_RDWR);
  if (accept_thread_.joinable()) accept_thread_.join();
  boost::system::error_code ec;
  acceptor_.close(ec);
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(mu_);
    for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);
    threads.swap(connection_threads_);
  }
  for (auto& t : threads) t.join();
}

}  // namespace

class TestServer::Impl : public ServerCore {
 public:
  using ServerCore::ServerCore;
};

TestServer::TestServer(Handler handler, TestServerOptions options)
    : impl_(std::make_unique<Impl>(std::move(handler), std::move(options))) {}

TestServer::~TestServer() = default;

uint16_t TestServer::port() const { return impl_->port(); }

std::string TestServer::url(std::string_view path, std::string_view host) const {
  return std::string(impl_->tls() ? "https://" : "http://") + std::string(host) + ":" +
         std::to_string(port()) + std::string(path);
}

size_t TestServer::acceptedConnections() const { return impl_->accepted.load(); }

size_t TestServer::failedHandshakes() const { return impl_->failed_handshakes.load(); }

std::vector<ReceivedRequest> TestServer::requests() const { return impl_->requests(); }

void TestServer::stop() { impl_->stop(); }

TestServer::Handler serveHttp(std::function<std::string(const ReceivedRequest&)> responder) {
  return [responder = std::move(responder)](TestConnection& connection) {
    while (auto request = connection.readRequest()) {
      if (!connection.write(responder(*request))) return;
      const auto c = request->header("Connection");
      if (c && iequals(*c, "close")) return;
    }
  };
}

std::string httpResponse(int status, std::string_view body,
                         const std::vector<std::pair<std::string, std::string>>& headers) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + reasonPhrase(status) + "\r\n";
  for (const auto& [name, value] : headers) out += name + ": " + value + "\r\n";
  out += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  out += body;
  return out;
}

}  // namespace tether::testing

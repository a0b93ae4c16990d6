#pragma once
/// Reading requests: the Beast parser that fills an http::Request, the fast path for plain
/// requests (head_scanner.h), the parse loop with its buffer bound, the framing checks both
/// paths share, and the answers to what does not parse.
///
/// Internal to the server (brings Beast in): include only from src/http implementation
/// files. Runs on the connection's I/O thread.

#include <boost/beast/http.hpp>
#include <optional>
#include <string>

#include "http/head_scanner.h"
#include "http/message.h"
#include "http/socket_io.h"

namespace tether::http {

namespace bhttp = boost::beast::http;

/// Builds the http::Request straight from the parser's callbacks: no intermediate Beast
/// fields container, and the session's Request (with its headers' storage) is reused from
/// one request to the next.
class RequestParser final : public bhttp::basic_parser<true> {
 public:
  explicit RequestParser(Request& req) : req_(req) {}

  unsigned version() const { return version_; }

 private:
  void on_request_impl(bhttp::verb, beast::string_view method, beast::string_view target,
                       int version, boost::system::error_code&) override {
    req_.method.assign(method.data(), method.size());
    req_.target.assign(target.data(), target.size());
    version_ = static_cast<unsigned>(version);
  }
  void on_response_impl(int, beast::string_view, int, boost::system::error_code&) override {}
  void on_field_impl(bhttp::field, beast::string_view name, beast::string_view value,
                     boost::system::error_code&) override {
    // Beast reports trailer fields here too: they are dropped, never merged into the
    // headers (which are relayed upstream and checked for the client key).
    if (in_trailer_) return;
    if (fields_ < req_.headers.size()) {
      auto& h = req_.headers[fields_];
      h.name.assign(name.data(), name.size());
      h.value.assign(value.data(), value.size());
    } else {
      req_.headers.push_back({std::string(name), std::string(value)});
    }
    ++fields_;
  }
  void on_header_impl(boost::system::error_code&) override {
    req_.headers.resize(fields_);
    in_trailer_ = true;
  }
  void on_body_init_impl(const boost::optional<std::uint64_t>& length,
                         boost::system::error_code&) override {
    // Reached only once the route's body limit is set (and checked against the length).
    if (length) req_.body.reserve(static_cast<size_t>(*length));
  }
  size_t on_body_impl(beast::string_view body, boost::system::error_code&) override {
    req_.body.append(body.data(), body.size());
    return body.size();
  }
  void on_chunk_header_impl(std::uint64_t, beast::string_view,
                            boost::system::error_code&) override {}
  size_t on_chunk_body_impl(std::uint64_t, beast::string_view body,
                            boost::system::error_code&) override {
    req_.body.append(body.data(), body.size());
    return body.size();
  }
  void on_finish_impl(boost::system::error_code&) override {}

  Request& req_;
  size_t fields_ = 0;
  unsigned version_ = 11;
  bool in_trailer_ = false;
};

/// Why a parsed head is refused (the connection then closes).
struct FramingError {
  int status;  // 400, or 501 for a transfer coding this server does not decode
  std::string message;
};

/// Refuses what two HTTP implementations could frame differently (RFC 9112 §6, §3.2):
/// Transfer-Encoding with Content-Length, a coding other than a final chunked (501 for a
/// coding before chunked), a repeated or non-numeric Content-Length, and an HTTP/1.1 request
/// without exactly one Host. For the heads of both parsers; nullopt when fine.
std::optional<FramingError> checkFraming(const Headers& headers, unsigned version);

/// checkFraming() for a head the fast scanner took: it falls back to Beast on
/// Transfer-Encoding and on a repeated or non-numeric Content-Length, so only the Host
/// rule is left to check (without another pass over the headers).
std::optional<FramingError> checkScannedFraming(const ScannedHead& head);

/// Whether a client's X-Request-Id is sane enough to adopt.
bool validRequestId(std::string_view id);

/// A generated request id: 16 hex digits per thread at random, then a per-thread counter
/// (the format of core::newRequestId, built in place).
void newRequestId(std::string& out);

/// Clears `req` for the next request of a connection (header entries kept for reuse).
void resetRequest(Request& req);

/// Fills `req` from a request whose head scanRequestHead() accepts (`head` receives it) and
/// whose body is buffered whole, and consumes it. False (nothing consumed): Beast's parser
/// takes it.
bool scanWholeRequest(beast::flat_buffer& buffer, ScannedHead& head, size_t max_header_bytes,
                      Request& req);

/// Feeds buffered bytes to the parser without reading: {} once complete (`until_done`: the
/// whole message, else just the header), need_more when it wants more bytes than the buffer
/// holds, or the error. Most requests arrive whole in one read, so the session calls this
/// first and needs parseRequest() (a coroutine frame, reads) only for the rest.
template <class Parser>
boost::system::error_code parseBuffered(beast::flat_buffer& buffer, Parser& parser,
                                        bool until_done) {
  for (;;) {
    const bool complete = until_done ? parser.is_done() : parser.is_header_done();
    if (complete) return {};
    if (buffer.size() == 0) return bhttp::error::need_more;
    boost::system::error_code ec;
    const size_t used = parser.put(buffer.data(), ec);
    buffer.consume(used);
    if (ec) return ec;
    if (used == 0) return bhttp::error::need_more;
  }
}

/// parseBuffered(), reading more while the parser needs it. The buffer holds the framing
/// Beast wants whole (a head, a chunk-size line, trailers): past its max_size, header_limit.
/// `Stream`: tcp::socket or TlsStream (instantiated for both in request_reading.cc).
template <class Stream>
asio::awaitable<boost::system::error_code, Strand> parseRequest(Stream& sock,
                                                                beast::flat_buffer& buffer,
                                                                RequestParser& parser,
                                                                bool until_done);

/// The client went away, the read timed out or the session is being closed: no answer.
bool isIoEnd(boost::system::error_code ec);

/// The answer to a request head that did not parse (nullopt when the client just went
/// away or timed out): 431 past the header limit, else 400.
std::optional<Response> headParseRefusal(boost::system::error_code ec, size_t max_header_bytes);

/// Whether a head refused at the header limit was made too large by its Authorization field
/// (an oversized bearer token): an Authorization line of more than half `max_header_bytes`
/// among what the session still holds of the head (`buffered`; Beast's parser takes the
/// request line and each complete field as they come, so the field being read at the limit
/// is there). Fills req.method and req.target from the request line when the parser has not
/// taken it. False for any other head (it keeps its 431).
bool oversizedAuthorization(std::string_view buffered, size_t max_header_bytes, Request& req);

/// The answer to a body that did not parse (nullopt as above): 413 past `body_limit`, 400
/// for a chunk-size line, extension or trailer section past the framing bound, or malformed
/// chunking.
std::optional<Response> bodyParseRefusal(boost::system::error_code ec, size_t body_limit,
                                         size_t max_header_bytes);

}  // namespace tether::http

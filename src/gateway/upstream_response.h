#pragma once
// Internal to the upstream client (Beast types): reading an upstream's answer. The parser
// that takes a response head and body straight into Tether's types, and how read errors map
// to UpstreamFailure.

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/encoding.h"
#include "gateway/protocol.h"
#include "gateway/upstream_client.h"
#include "http/headers.h"

namespace tether::gateway::upstream {

namespace bhttp = boost::beast::http;

inline bool isEventStream(std::string_view content_type) {
  return content_type.size() >= kEventStream.size() &&
         core::iequals(content_type.substr(0, kEventStream.size()), kEventStream);
}

// A pooled connection failing this way before any answer byte was closed by the upstream
// while idle: the request did not reach it, so it may be sent again.
inline bool isStaleConnectionError(const boost::system::error_code& ec) {
  return ec == bhttp::error::end_of_stream || ec == boost::asio::error::eof ||
         ec == boost::asio::error::connection_reset || ec == boost::asio::error::broken_pipe ||
         ec == boost::asio::error::connection_aborted ||
         ec == boost::asio::ssl::error::stream_truncated;
}

inline UpstreamFailure failureOf(const boost::system::error_code& ec) {
  if (ec == boost::beast::error::timeout) return UpstreamFailure::kTimeout;
  if (ec == bhttp::error::header_limit || ec == bhttp::error::body_limit ||
      ec == bhttp::error::buffer_overflow) {
    return UpstreamFailure::kTooLarge;
  }
  if (ec == boost::asio::error::operation_aborted) return UpstreamFailure::kCancelled;
  if (ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message ||
      ec == boost::asio::error::eof || ec == boost::asio::error::connection_reset ||
      ec == boost::asio::error::broken_pipe || ec == boost::asio::error::connection_aborted ||
      ec == boost::asio::ssl::error::stream_truncated) {
    return UpstreamFailure::kClosed;
  }
  if (ec.category() == boost::asio::error::get_ssl_category()) return UpstreamFailure::kTls;
  if (ec.category() == bhttp::make_error_code(bhttp::error::bad_version).category()) {
    return UpstreamFailure::kProtocol;
  }
  return UpstreamFailure::kClosed;
}

// Parses a response head and body straight into Tether's types (no intermediate Beast
// fields container). Framing headers are the server's and are not kept, except a HEAD
// answer's Content-Length (the length a GET would have had). In `whole` mode the body
// collects in `body`; otherwise `body` holds what arrived since the relay last took it.
class ResponseParser final : public bhttp::basic_parser<false> {
 public:
  explicit ResponseParser(bool keep_content_length) : keep_content_length_(keep_content_length) {}

  int status = 0;
  http::Headers headers;
  std::string body;
  bool event_stream = false;

 private:
  void on_request_impl(bhttp::verb, boost::beast::string_view, boost::beast::string_view, int,
                       boost::system::error_code&) override {}
  void on_response_impl(int code, boost::beast::string_view, int,
                        boost::system::error_code&) override {
    status = code;
  }
  void on_field_impl(bhttp::field f, boost::beast::string_view name,
                     boost::beast::string_view value, boost::system::error_code&) override {
    // Trailer fields: dropped. The head went through the caller's filter before the body was
    // read; nothing after it may add to the answer's headers.
    if (is_header_done()) return;
    if (f == bhttp::field::transfer_encoding) return;
    if (f == bhttp::field::content_length && !keep_content_length_) return;
    if (f == bhttp::field::content_type) {
      event_stream = isEventStream(std::string_view(value.data(), value.size()));
    }
    if (headers.empty()) headers.reserve(8);  // one allocation for a usual head
    headers.push_back({std::string(name), std::string(value)});
  }
  void on_header_impl(boost::system::error_code&) override {}
  void on_body_init_impl(const boost::optional<std::uint64_t>& length,
                         boost::system::error_code&) override {
    // Reached once the body limit for the chosen mode is set (and checked by the parser).
    if (length && *length <= kReserveMax) body.reserve(static_cast<size_t>(*length));
  }
  size_t on_body_impl(boost::beast::string_view data, boost::system::error_code&) override {
    body.append(data.data(), data.size());
    return data.size();
  }
  void on_chunk_header_impl(std::uint64_t, boost::beast::string_view,
                            boost::system::error_code&) override {}
  size_t on_chunk_body_impl(std::uint64_t, boost::beast::string_view data,
                            boost::system::error_code&) override {
    body.append(data.data(), data.size());
    return data.size();
  }
  void on_finish_impl(boost::system::error_code&) override {}

  static constexpr std::uint64_t kReserveMax = 16 * 1024 * 1024;
  const bool keep_content_length_;
};

}  // namespace tether::gateway::upstream

#pragma once
/// The server's TLS stream type. Internal: include only from src/http implementation files
/// that instantiate the session's templates for it (server.cc, request_reading.cc,
/// responding.cc, tls_server.cc); OpenSSL and Asio's SSL layer come in with it.

#include <boost/asio/ssl.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "http/socket_io.h"

namespace tether::http {

/// One TLS client connection: a TCP socket under Beast's SSL stream (which coalesces the
/// buffers of a write into one TLS record where it can).
using TlsStream = beast::ssl_stream<tcp::socket>;

}  // namespace tether::http

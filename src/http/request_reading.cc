#include "http/request_reading.h"

#include <algorithm>

#include "core/encoding.h"
#include "core/errors.h"
#include "core/random.h"
#include "http/tls_stream.h"

namespace tether::http {

namespace {

// ---- framing checks (RFC 9112 §6, §3.2) on a parsed head, for both parsers ----------

bool isOws(char c) { return c == ' ' || c == '\t'; }

std::string_view trimOws(std::string_view v) {
  while (!v.empty() && isOws(v.front())) v.remove_prefix(1);
  while (!v.empty() && isOws(v.back())) v.remove_suffix(1);
  return v;
}

bool allDigits(std::string_view v) {
  if (v.empty() || v.size() > 19) return false;
  for (char c : v) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// The transfer codings of the Transfer-Encoding fields, in order: the last must be
// `chunked` (else the body length is unknowable: 400), once; others are not supported (501).
std::optional<FramingError> checkTransferCodings(const Headers& headers) {
  std::string_view last;
  size_t chunked = 0;
  std::string_view unsupported;
  for (const auto& h : headers) {
    if (h.name.size() != 17 || !core::iequals(h.name, "Transfer-Encoding")) continue;
    std::string_view v = h.value;
    while (true) {
      const size_t comma = v.find(',');
      const std::string_view coding = trimOws(v.substr(0, comma));
      if (!coding.empty()) {
        last = coding;
        if (core::iequals(coding, "chunked")) {
          ++chunked;
        } else if (unsupported.empty()) {
          unsupported = coding;
        }
      }
      if (comma == std::string_view::npos) break;
      v.remove_prefix(comma + 1);
    }
  }
  if (last.empty() || !core::iequals(last, "chunked") || chunked != 1) {
    return FramingError{400, "Transfer-Encoding must end with chunked, once"};
  }
  if (!unsupported.empty()) {
    return FramingError{
        501, "transfer coding \"" + std::string(unsupported.substr(0, 32)) + "\" is not supported"};
  }
  return std::nullopt;
}

}  // namespace

// Refuses what two HTTP implementations could frame differently: Transfer-Encoding with
// Content-Length, a coding other than a final chunked, a repeated or non-numeric
// Content-Length, and an HTTP/1.1 request without exactly one Host.
static std::optional<FramingError> checkHostCount(size_t hosts, unsigned version) {
  if (hosts > 1 || (version >= 11 && hosts == 0)) {
    return FramingError{400, "Host header missing or repeated: a request needs exactly one"};
  }
  return std::nullopt;
}

std::optional<FramingError> checkScannedFraming(const ScannedHead& head) {
  return checkHostCount(head.host_fields, head.version);
}

std::optional<FramingError> checkFraming(const Headers& headers, unsigned version) {
  size_t hosts = 0;
  size_t lengths = 0;
  bool bad_length = false;
  bool transfer_encoding = false;
  for (const auto& h : headers) {
    switch (h.name.size()) {
      case 4:
        hosts += core::iequals(h.name, "Host") ? 1 : 0;
        break;
      case 14:
        if (core::iequals(h.name, "Content-Length")) {
          ++lengths;
          bad_length |= !allDigits(h.value);
        }
        break;
      case 17:
        transfer_encoding |= core::iequals(h.name, "Transfer-Encoding");
        break;
      default:
        break;
    }
  }
  if (auto bad = checkHostCount(hosts, version)) return bad;
  if (lengths > 1 || bad_length) {
    return FramingError{400, "Content-Length must be one field of digits"};
  }
  if (!transfer_encoding) return std::nullopt;
  if (lengths > 0) {
    return FramingError{400, "Transfer-Encoding and Content-Length together"};
  }
  if (version < 11) {
    return FramingError{400, "Transfer-Encoding in an HTTP/1.0 request"};
  }
  return checkTransferCodings(headers);
}

bool validRequestId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

// A generated request id: 16 hex digits per thread at random, then a per-thread counter
// (the format of core::newRequestId, built in place).
void newRequestId(std::string& out) {
  thread_local const std::string prefix = core::hexEncode(core::randomBytes(8));
  thread_local uint64_t counter = 0;
  ++counter;
  static constexpr char kHex[] = "0123456789abcdef";
  char tail[16];
  for (int i = 0; i < 16; ++i) tail[i] = kHex[(counter >> ((15 - i) * 4)) & 0xF];
  out.assign(prefix).append(tail, sizeof tail);
}

// Fills `req` from a request whose head scanRequestHead() accepts and whose body is
// buffered whole, and consumes it. False (nothing consumed): Beast's parser takes it.
bool scanWholeRequest(beast::flat_buffer& buffer, ScannedHead& head, size_t max_header_bytes,
                      Request& req) {
  const std::string_view bytes(static_cast<const char*>(buffer.data().data()), buffer.size());
  if (scanRequestHead(bytes, max_header_bytes, head) != ScanResult::kOk) return false;
  const uint64_t body_size = head.content_length.value_or(0);
  if (bytes.size() - head.size < body_size) return false;
  for (size_t i = 0; i < head.field_count; ++i) {
    // Expect: 100-continue is answered by the full path, as before.
    if (head.fields[i].name.size() == 6 && core::iequals(head.fields[i].name, "Expect")) {
      return false;
    }
  }
  req.method.assign(head.method);
  req.target.assign(head.target);
  // The same reuse of header entries as RequestParser::on_field_impl.
  const size_t reused = std::min(req.headers.size(), head.field_count);
  for (size_t i = 0; i < reused; ++i) {
    req.headers[i].name.assign(head.fields[i].name);
    req.headers[i].value.assign(head.fields[i].value);
  }
  req.headers.resize(head.field_count);
  for (size_t i = reused; i < head.field_count; ++i) {
    req.headers[i].name.assign(head.fields[i].name);
    req.headers[i].value.assign(head.fields[i].value);
  }
  req.body.assign(bytes.substr(head.size, static_cast<size_t>(body_size)));
  buffer.consume(head.size + static_cast<size_t>(body_size));
  return true;
}

void resetRequest(Request& req) {
  req.method.clear();
  req.target.clear();
  req.path.clear();
  req.query.clear();
  req.body.clear();
  req.request_id.clear();
  req.params.clear();
  req.route.clear();
  req.traceparent = {};
  req.connection = {};
  req.subject = {};
  // req.headers: the parser reuses the entries (and their strings' storage).
}

// While a chunked body is parsed, what Beast leaves in the buffer is framing it wants whole
// (a chunk-size line or the trailers; chunk data is taken as it comes). Beast looks for CRLF
// and reads past a bare LF, so a client ending its chunk lines with LF alone would wait for
// the read timeout and get no answer; another parser might take the LF as the line's end.
// Refused as soon as it is seen.
static bool holdsBareLf(const beast::flat_buffer& buffer) {
  const std::string_view bytes(static_cast<const char*>(buffer.data().data()), buffer.size());
  for (size_t i = bytes.find('\n'); i != std::string_view::npos; i = bytes.find('\n', i + 1)) {
    if (i == 0 || bytes[i - 1] != '\r') return true;
  }
  return false;
}

// parseBuffered(), reading more while the parser needs it.
template <class Stream>
asio::awaitable<boost::system::error_code, Strand> parseRequest(Stream& sock,
                                                                beast::flat_buffer& buffer,
                                                                RequestParser& parser,
                                                                bool until_done) {
  for (;;) {
    const auto pec = parseBuffered(buffer, parser, until_done);
    if (pec != bhttp::error::need_more) co_return pec;
    if (until_done && parser.chunked() && holdsBareLf(buffer)) {
      co_return bhttp::error::bad_line_ending;
    }
    // The buffer holds framing Beast wants whole (a head, a chunk-size line, trailers):
    // bounded by its max_size, so an endless line is refused, not buffered.
    if (buffer.size() >= buffer.max_size()) co_return bhttp::error::header_limit;
    const size_t want = std::max<size_t>(4096, std::min<size_t>(65536, buffer.size()));
    const auto [ec, n] =
        co_await readMore(sock, buffer.prepare(std::min(want, buffer.max_size() - buffer.size())));
    if (ec == asio::error::eof) {
      boost::system::error_code eof_ec;
      parser.put_eof(eof_ec);
      co_return eof_ec ? eof_ec : boost::system::error_code(bhttp::error::end_of_stream);
    }
    if (ec) co_return ec;
    buffer.commit(n);
  }
}

template asio::awaitable<boost::system::error_code, Strand> parseRequest(tcp::socket&,
                                                                         beast::flat_buffer&,
                                                                         RequestParser&, bool);
template asio::awaitable<boost::system::error_code, Strand> parseRequest(TlsStream&,
                                                                         beast::flat_buffer&,
                                                                         RequestParser&, bool);

// The answer to a request head that did not parse (none when the client just went away or
// timed out): 431 past the header limit, else 400.
std::optional<Response> headParseRefusal(boost::system::error_code ec, size_t max_header_bytes) {
  if (ec == bhttp::error::header_limit) {
    return Response::error(
        core::Error(core::Errc::kHeadersTooLarge,
                    "request headers exceed " + std::to_string(max_header_bytes) + " bytes"));
  }
  if (ec == bhttp::error::body_limit) {
    return Response::error(core::Error(core::Errc::kPayloadTooLarge, "request body too large"));
  }
  if (isIoEnd(ec)) return std::nullopt;
  return Response::error(
      core::Error(core::Errc::kInvalidArgument, "malformed HTTP request: " + ec.message()));
}

// The request line unless the parser took it, then each field line as far as the buffer
// goes (the last one cut off).
bool oversizedAuthorization(std::string_view buffered, size_t max_header_bytes, Request& req) {
  size_t at = 0;
  if (req.method.empty()) {
    const size_t line_end = buffered.find("\r\n");
    if (line_end == std::string_view::npos) return false;
    const std::string_view line = buffered.substr(0, line_end);
    const size_t sp1 = line.find(' ');
    const size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
    if (sp1 == 0 || sp2 == std::string_view::npos || sp2 == sp1 + 1 || line[sp1 + 1] != '/' ||
        !line.substr(sp2 + 1).starts_with("HTTP/1.")) {
      return false;
    }
    req.method.assign(line.substr(0, sp1));
    req.target.assign(line.substr(sp1 + 1, sp2 - sp1 - 1));
    at = line_end + 2;
  }
  static constexpr std::string_view kName = "authorization:";
  while (at < buffered.size()) {
    const size_t end = std::min(buffered.find("\r\n", at), buffered.size());
    if (end == at) break;  // the end of the head
    const std::string_view field = buffered.substr(at, end - at);
    if (field.size() > max_header_bytes / 2 &&
        core::iequals(field.substr(0, kName.size()), kName)) {
      return true;
    }
    at = end + 2;
  }
  return false;
}

// The answer to a body that did not parse: 413 past the limit, 400 for a chunk-size line,
// extension or trailer section past the framing bound or malformed chunking.
std::optional<Response> bodyParseRefusal(boost::system::error_code ec, size_t body_limit,
                                         size_t max_header_bytes) {
  if (ec == bhttp::error::body_limit) {
    return Response::error(
        core::Error(core::Errc::kPayloadTooLarge,
                    "request body exceeds " + std::to_string(body_limit) + " bytes"));
  }
  if (ec == bhttp::error::header_limit) {
    return Response::error(core::Error(
        core::Errc::kInvalidArgument,
        "chunk line or trailers exceed " + std::to_string(max_header_bytes) + " bytes"));
  }
  if (isIoEnd(ec)) return std::nullopt;
  return Response::error(
      core::Error(core::Errc::kInvalidArgument, "malformed request body: " + ec.message()));
}

// The client went away, the read timed out or the session is being closed: no answer.
bool isIoEnd(boost::system::error_code ec) {
  return ec == beast::error::timeout || ec == bhttp::error::end_of_stream ||
         ec == bhttp::error::partial_message || ec == asio::error::eof ||
         ec == asio::error::connection_reset || ec == asio::error::operation_aborted ||
         ec == asio::error::bad_descriptor;
}

}  // namespace tether::http

#include "http/responding.h"

#include <boost/beast/http.hpp>
#include <charconv>
#include <vector>

#include "core/encoding.h"
#include "core/errors.h"
#include "core/log.h"
#include "http/session.h"
#include "http/tls_stream.h"

namespace tether::http {

namespace bhttp = boost::beast::http;
using namespace std::string_view_literals;

namespace {

// ---- response heads, serialized by hand into a per-session buffer ---------------------

void appendStatusLine(std::string& out, unsigned version, int status) {
  out.append("HTTP/"sv);
  out.push_back(static_cast<char>('0' + (version / 10) % 10));
  out.push_back('.');
  out.push_back(static_cast<char>('0' + version % 10));
  out.push_back(' ');
  char digits[16];
  out.append(digits, std::to_chars(digits, digits + sizeof digits, status).ptr);
  out.push_back(' ');
  const auto reason = bhttp::obsolete_reason(bhttp::int_to_status(static_cast<unsigned>(status)));
  out.append(reason.data(), reason.size());
  out.append("\r\n"sv);
}

// A header that would split the response (CR, LF in it) is dropped, not sent.
void appendHeader(std::string& out, std::string_view name, std::string_view value) {
  if (!validHeaderName(name) || !validHeaderValue(value)) {
    core::log::warn("dropped a response header with forbidden characters",
                    {{"header", validHeaderName(name) ? name : std::string_view("?")}});
    return;
  }
  appendFieldLine(out, name, value);
}

void appendConnection(std::string& out, unsigned version, bool keep_alive) {
  if (version >= 11 && !keep_alive) out.append("Connection: close\r\n"sv);
  if (version < 11 && keep_alive) out.append("Connection: keep-alive\r\n"sv);
}

bool isContentLength(std::string_view name) {
  return name.size() == 14 && core::iequals(name, "Content-Length");
}

// Framing and the request id are the server's: a handler's own are not sent.
bool isServerOwned(std::string_view name) {
  switch (name.size()) {
    case 10:
      return core::iequals(name, "Connection");
    case 12:
      return core::iequals(name, "X-Request-Id");
    case 17:
      return core::iequals(name, "Transfer-Encoding");
    default:
      return false;
  }
}

bool validLength(std::string_view v) {
  if (v.empty() || v.size() > 19) return false;
  for (char c : v) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

}  // namespace

Responder::~Responder() {
  if (slot_ && !slot_->ready()) {
    if (slot_->complete(Slot::Kind::kDropped,
                        Response::error(core::Error(core::Errc::kInternal, "")))) {
      core::log::error("handler dropped its responder without answering");
    }
  }
}

void Responder::send(Response response) {
  if (slot_) slot_->complete(Slot::Kind::kResponse, std::move(response));
}

std::shared_ptr<StreamWriter> Responder::startStream(int status, Headers headers,
                                                     std::string_view fixed_header_lines) {
  if (!slot_) {
    auto closed = std::make_shared<StreamImpl>(std::nullopt);
    closed->markClosed();
    return closed;
  }
  auto stream = std::make_shared<StreamImpl>(slot_->strand());
  Response fixed;  // carries only the fixed lines of the stream's head
  fixed.fixed_header_lines = fixed_header_lines;
  if (!slot_->complete(Slot::Kind::kStream, std::move(fixed), stream, status, std::move(headers))) {
    stream->markClosed();  // nobody will drain it: writes fail, closed() is true
  }
  return stream;
}

void Responder::abort() {
  if (slot_) slot_->complete(Slot::Kind::kAbort, Response{});
}

void Responder::onClientGone(std::function<void()> fn) {
  if (slot_) slot_->onClientGone(std::move(fn));
}

// A handler's (or relayed upstream's) answer with a status no client can read becomes a
// 500, logged: the status line is always 200..599.
void refuseInvalidStatus(Response& r, const Request& req) {
  if (validFinalStatus(r.status)) return;
  core::log::error("handler answered with an invalid status; sent 500 instead",
                   {{"status", r.status}, {"route", req.route}, {"request_id", req.request_id}});
  r = Response::error(core::Error(core::Errc::kInternal, ""));
}

// Serializes a response head into the session's buffer: the head and body to write.
std::array<asio::const_buffer, 2> responseBuffers(std::string& out, Response& r,
                                                  std::string_view request_id, bool keep_alive,
                                                  unsigned version, bool head) {
  out.clear();
  appendStatusLine(out, version, r.status);
  const bool bodiless = (r.status >= 100 && r.status < 200) || r.status == 204 || r.status == 304;
  std::optional<std::string_view> head_length;
  for (const auto& h : r.headers) {
    if (isContentLength(h.name)) {
      // A HEAD answer states the length a GET would have had (a relayed upstream's).
      if (head) head_length = h.value;
      continue;
    }
    if (isServerOwned(h.name)) continue;
    appendHeader(out, h.name, h.value);
  }
  out.append(r.fixed_header_lines);
  if (!request_id.empty()) appendHeader(out, "X-Request-Id", request_id);
  appendConnection(out, version, keep_alive);
  if (!bodiless) {
    out.append("Content-Length: "sv);
    if (head_length && validLength(*head_length)) {
      out.append(*head_length);
    } else {
      char digits[24];
      out.append(digits, std::to_chars(digits, digits + sizeof digits, r.body.size()).ptr);
    }
    out.append("\r\n"sv);
  }
  out.append("\r\n"sv);
  const std::string_view body = head || bodiless ? std::string_view() : std::string_view(r.body);
  return {asio::buffer(out), asio::buffer(body)};
}

// Writes a complete response. Returns false when the connection must close.
template <class Stream>
asio::awaitable<bool, Strand> writeResponse(Stream& stream, SessionState& state, Response& r,
                                            std::string_view request_id, bool keep_alive,
                                            unsigned version, bool head) {
  const auto buffers = responseBuffers(state.head, r, request_id, keep_alive, version, head);
  const bool ok = co_await writeAll(stream, state.deadline, state.write_timeout, buffers);
  co_return ok&& keep_alive;
}

// The hot path's writeResponse(): a coroutine frame only when the socket does not take the
// whole answer at once.
template <class Stream>
asio::awaitable<bool, Strand> writeResponseSlow(Stream& stream, SessionState& state,
                                                const std::array<asio::const_buffer, 2>& buffers,
                                                size_t written, bool keep_alive) {
  const auto ec = co_await writeRest(stream, state.deadline, buffers, written, state.write_timeout);
  co_return !ec && keep_alive;
}

// Streams a chunked response until the producer finishes or the client leaves.
template <class Stream>
asio::awaitable<StreamEnd, Strand> writeStream(Stream& stream,
                                               const std::shared_ptr<SessionState>& session,
                                               Responder::Slot& slot, const Request& req,
                                               unsigned version, bool keep_alive) {
  SessionState& state = *session;
  const std::string_view request_id = req.request_id;
  auto impl = slot.stream();
  if (!validFinalStatus(slot.streamStatus())) {
    impl->markClosed();
    Response r;
    r.status = slot.streamStatus();
    refuseInvalidStatus(r, req);
    co_await writeResponse(stream, state, r, request_id, false, version, false);
    co_return StreamEnd{r.status, false};
  }
  // Chunked framing needs HTTP/1.1; a HEAD answer has no body for the client to skip.
  keep_alive = keep_alive && version >= 11 && req.method != "HEAD";
  std::string& out = state.head;
  out.clear();
  appendStatusLine(out, version, slot.streamStatus());
  for (const auto& h : slot.streamHeaders()) {
    if (isContentLength(h.name) || isServerOwned(h.name)) continue;
    appendHeader(out, h.name, h.value);
  }
  out.append(slot.response().fixed_header_lines);
  if (!request_id.empty()) appendHeader(out, "X-Request-Id", request_id);
  appendConnection(out, version, keep_alive);
  out.append("Transfer-Encoding: chunked\r\n\r\n");

  // Watch for the client going away while we wait for chunks: the read posted while the
  // handler worked, if it is still out, else one posted now. Its end closes the stream; its
  // bytes (a client that sends its next request early) stay in the session's buffer, and
  // then the client is not watched any more (a write that fails, or the stream's idle
  // deadline, still ends the stream).
  state.streaming = impl;
  if (state.read_ahead_error) {
    impl->markClosed();
  } else if (!state.read_ahead_pending && state.buffer.size() == 0) {
    readAhead(session, stream);
  }

  // A relay on this thread starts the stream and, before it waits for its upstream, queues
  // the body bytes it already holds (and ends the stream when they are all of it): one turn
  // of the scheduler lets the head go out with them in one write, instead of one write for
  // the head, one per chunk and one for the end. It never waits for the producer.
  co_await asio::post(state.strand, asio::use_awaitable_t<Strand>{});

  // Each round writes what is queued in one gathered write: the head with the chunks that
  // are already there (the first round does not wait, so the head is never held back), each
  // chunk framed, and the last chunk with the data it ends.
  static constexpr std::string_view kCrlf = "\r\n";
  static constexpr std::string_view kLastChunk = "0\r\n\r\n";
  std::vector<asio::const_buffer> gather;
  std::vector<std::array<char, 24>> size_lines;
  bool head_sent = false;
  bool clean_end = false;
  for (;;) {
    if (head_sent) co_await impl->asyncWait(asio::use_awaitable_t<Strand>{});
    bool finished = false;
    bool aborted = false;
    auto chunks = impl->take(finished, aborted);
    gather.clear();
    size_lines.resize(chunks.size());
    if (!head_sent) gather.push_back(asio::buffer(out));
    for (size_t i = 0; i < chunks.size(); ++i) {
      const std::string& data = chunks[i].data;
      if (data.empty()) continue;
      auto& line = size_lines[i];
      char* end = std::to_chars(line.data(), line.data() + line.size() - 2, data.size(), 16).ptr;
      *end++ = '\r';
      *end++ = '\n';
      gather.push_back(asio::buffer(line.data(), static_cast<size_t>(end - line.data())));
      gather.push_back(asio::buffer(data));
      gather.push_back(asio::buffer(kCrlf.data(), kCrlf.size()));
    }
    // An aborted stream ends without its last chunk: the client sees it cut short.
    const bool last = finished && !aborted;
    if (last) gather.push_back(asio::buffer(kLastChunk.data(), kLastChunk.size()));
    bool failed = false;
    if (!gather.empty()) {
      failed = !co_await writeAll(stream, state.deadline, state.write_timeout, gather);
    }
    head_sent = true;
    for (auto& c : chunks) {
      if (c.done) c.done(!failed);
    }
    if (failed) break;
    if (finished) {
      clean_end = last;
      break;
    }
    if (impl->clientGone()) break;
  }
  state.streaming.reset();
  keep_alive = keep_alive && clean_end && !impl->clientGone() && !state.read_ahead_error;
  impl->markClosed();
  if (!keep_alive) {
    boost::system::error_code ignored;
    beast::get_lowest_layer(stream).shutdown(tcp::socket::shutdown_send, ignored);
  }
  co_return StreamEnd{slot.streamStatus(), keep_alive};
}

#define TETHER_INSTANTIATE_WRITERS(Stream)                                                       \
  template asio::awaitable<bool, Strand> writeResponse(Stream&, SessionState&, Response&,        \
                                                       std::string_view, bool, unsigned, bool);  \
  template asio::awaitable<bool, Strand> writeResponseSlow(                                      \
      Stream&, SessionState&, const std::array<asio::const_buffer, 2>&, size_t, bool);           \
  template asio::awaitable<StreamEnd, Strand> writeStream(                                       \
      Stream&, const std::shared_ptr<SessionState>&, Responder::Slot&, const Request&, unsigned, \
      bool);
TETHER_INSTANTIATE_WRITERS(tcp::socket)
TETHER_INSTANTIATE_WRITERS(TlsStream)
#undef TETHER_INSTANTIATE_WRITERS

}  // namespace tether::http

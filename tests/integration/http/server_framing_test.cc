// Request framing on a hostile network (issue 20): every request either gets exactly one
// answer and is read as exactly the bytes its framing says, or is refused with a 4xx/5xx and
// the connection closed. A body left unread is never parsed as the next request.
#include <atomic>
#include <ostream>
#include <string>

#include "server_fixture.h"

namespace tether::http {
namespace {

// The request the tests try to smuggle (padded to a fixed length so it can be the body of a
// Content-Length request).
std::string smuggled() {
  std::string s = "GET /smuggled HTTP/1.1\r\nHost: t\r\nX: ";
  const std::string end = "\r\n\r\n";
  s.append(64 - s.size() - end.size(), 'a');
  return s + end;
}

// Number of responses (status lines) in what a client read.
size_t answers(const std::string& raw) {
  size_t n = 0;
  for (size_t at = raw.find("HTTP/1.1 "); at != std::string::npos;
       at = raw.find("HTTP/1.1 ", at + 1)) {
    ++n;
  }
  return n;
}

class FramingTest : public ServerTest {
 protected:
  void SetUp() override {
    router_.add("GET", "/only-get", [](Request&, Responder r) { r.send(Response::text(200, "")); });
    router_.add("POST", "/echo", [this](Request& req, Responder r) {
      std::string names;
      for (const auto& h : req.headers) names += h.name + ";";
      {
        std::lock_guard lock(mu_);
        last_names_ = names;
      }
      r.send(Response::text(200, "body=" + req.body));
    });
    router_.add("GET", "/smuggled", [this](Request&, Responder r) {
      ++smuggled_;
      r.send(Response::text(200, "SMUGGLED"));
    });
  }
  void startShort() {
    ServerOptions o;
    o.read_timeout = milliseconds(2000);
    o.max_body_bytes = 1024;
    start(o);
  }
  std::string lastNames() {
    std::lock_guard lock(mu_);
    return last_names_;
  }

  std::atomic<int> smuggled_{0};
  std::mutex mu_;
  std::string last_names_;
};

struct SplitCase {
  const char* name;
  std::string head;  // sent first
  std::string rest;  // sent once the server had its chance to answer the head alone
  friend void PrintTo(const SplitCase& c, std::ostream* os) { *os << c.name; }
};

class ImmediateAnswerTest : public FramingTest, public ::testing::WithParamInterface<SplitCase> {};

// The head arrives alone (so the fast scanner, which wants the whole body, does not take
// it); whatever the server answers, the body that follows is never served as a request.
TEST_P(ImmediateAnswerTest, LeftoverBodyIsNeverServedAsTheNextRequest) {
  startShort();
  RawConnection c(port());
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.send(GetParam().head));
  c.readUntil("\r\n\r\n", milliseconds(300));  // the old server answered here at once
  c.send(GetParam().rest);
  c.readUntilClosed(milliseconds(3000));
  EXPECT_EQ(smuggled_.load(), 0) << c.received();
  EXPECT_THAT(c.received(), Not(HasSubstr("SMUGGLED")));
  EXPECT_EQ(answers(c.received()), 1u) << c.received();
  const int status = statusOf(c.received());
  EXPECT_TRUE(status == 404 || status == 405 || status == 413 || status == 400) << status;
}

INSTANTIATE_TEST_SUITE_P(
    Smuggling, ImmediateAnswerTest,
    ::testing::Values(
        SplitCase{"NotFoundWithContentLength",
                  "POST /no-such-route HTTP/1.1\r\nHost: t\r\nContent-Length: 64\r\n\r\n",
                  smuggled()},
        SplitCase{"MethodNotAllowedWithContentLength",
                  "POST /only-get HTTP/1.1\r\nHost: t\r\nContent-Length: 64\r\n\r\n", smuggled()},
        SplitCase{"NotFoundWithExpectContinue",
                  "POST /nope HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\n"
                  "Content-Length: 64\r\n\r\n",
                  smuggled()},
        SplitCase{"NotFoundWithATabInAHeader",
                  "POST /nope HTTP/1.1\r\nHost: t\r\nX-Tab: a\tb\r\nContent-Length: 64\r\n\r\n",
                  smuggled()},
        SplitCase{
            "NotFoundWithANonAsciiHeaderByte",
            "POST /nope HTTP/1.1\r\nHost: t\r\nX-Utf8: \xc3\xa9\r\nContent-Length: 64\r\n\r\n",
            smuggled()},
        SplitCase{"NotFoundChunked",
                  "POST /nope HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n",
                  "40\r\n" + smuggled() + "\r\n0\r\n\r\n"},
        SplitCase{"TooLargeByContentLength",
                  "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5000\r\n\r\n", smuggled()}),
    [](const auto& info) { return std::string(info.param.name); });

// The same requests, whole in one segment (the body buffered with the head): still one
// answer, and the next request on the connection is the client's real next request.
TEST_F(FramingTest, ABodyBufferedWithA404IsSkippedNotServed) {
  startShort();
  RawConnection c(port());
  c.send("POST /nope HTTP/1.1\r\nHost: t\r\nX-Tab: a\tb\r\nContent-Length: 64\r\n\r\n" +
         smuggled());
  c.readUntilClosed(milliseconds(1500));
  EXPECT_EQ(smuggled_.load(), 0);
  EXPECT_EQ(answers(c.received()), 1u) << c.received();
  EXPECT_EQ(statusOf(c.received()), 404);
}

struct RefusedCase {
  const char* name;
  std::string request;
  int status;
  friend void PrintTo(const RefusedCase& c, std::ostream* os) { *os << c.name; }
};

class RefusedFramingTest : public FramingTest, public ::testing::WithParamInterface<RefusedCase> {};

// Ambiguous framing (RFC 9112 §6.1, §6.3): refused with the status and the connection
// closed, nothing after the head served.
TEST_P(RefusedFramingTest, IsRefusedAndTheConnectionClosed) {
  startShort();
  RawConnection c(port());
  ASSERT_TRUE(c.send(GetParam().request));
  EXPECT_TRUE(c.readUntilClosed(milliseconds(3000))) << c.received();
  EXPECT_EQ(statusOf(c.received()), GetParam().status) << c.received();
  EXPECT_EQ(answers(c.received()), 1u) << c.received();
  EXPECT_THAT(c.received(), HasSubstr("Connection: close\r\n"));
  EXPECT_EQ(smuggled_.load(), 0);
}

const std::string kPost = "POST /echo HTTP/1.1\r\nHost: t\r\n";

INSTANTIATE_TEST_SUITE_P(
    Framing, RefusedFramingTest,
    ::testing::Values(
        RefusedCase{"TransferEncodingXchunked",
                    kPost + "Transfer-Encoding: xchunked\r\n\r\n" + smuggled(), 400},
        RefusedCase{"TransferEncodingChunkedThenIdentity",
                    kPost + "Transfer-Encoding: chunked, identity\r\n\r\n" + smuggled(), 400},
        RefusedCase{"TransferEncodingIdentity",
                    kPost + "Transfer-Encoding: identity\r\n\r\n" + smuggled(), 400},
        RefusedCase{"TransferEncodingGzipChunked",
                    kPost + "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n" + smuggled(), 501},
        RefusedCase{"TransferEncodingChunkedTwice",
                    kPost + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n" +
                        "0\r\n\r\n" + smuggled(),
                    400},
        RefusedCase{
            "TransferEncodingXchunkedWithContentLength",
            kPost + "Transfer-Encoding: xchunked\r\nContent-Length: 64\r\n\r\n" + smuggled(), 400},
        RefusedCase{
            "ContentLengthThenChunked",
            kPost + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + smuggled(),
            400},
        RefusedCase{"ContentLengthList", kPost + "Content-Length: 5, 5\r\n\r\nhello" + smuggled(),
                    400},
        RefusedCase{"ContentLengthTwice",
                    kPost + "Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello" + smuggled(),
                    400},
        RefusedCase{"ContentLengthSigned", kPost + "Content-Length: +5\r\n\r\nhello" + smuggled(),
                    400},
        RefusedCase{"Http11WithoutHost", "GET /only-get HTTP/1.1\r\nX: y\r\n\r\n" + smuggled(),
                    400},
        RefusedCase{"TwoHosts", "GET /only-get HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},
        RefusedCase{"MalformedChunkSize",
                    kPost + "Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n", 400},
        RefusedCase{"ChunkWithoutItsCrlf",
                    kPost + "Transfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n", 400},
        // Bare LF in chunked framing: refused at once, not left to the read timeout.
        RefusedCase{"ChunkLinesEndedByBareLf",
                    kPost + "Transfer-Encoding: chunked\r\n\r\n3\nabc\n0\n\n", 400},
        RefusedCase{"TrailerEndedByBareLf",
                    kPost + "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-T: 1\n\n", 400}),
    [](const auto& info) { return std::string(info.param.name); });

TEST_F(FramingTest, TrailerFieldsAreNotMergedIntoTheHeaders) {
  startShort();
  RawConnection c(port());
  c.send(kPost +
         "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n"
         "X-Client-Key: from-trailer\r\n\r\n");
  ASSERT_TRUE(c.readUntilClosed(milliseconds(3000)));
  EXPECT_EQ(statusOf(c.received()), 200) << c.received();
  EXPECT_EQ(bodyOf(c.received()), "body=hello");
  EXPECT_THAT(lastNames(), Not(HasSubstr("X-Client-Key")));
}

TEST_F(FramingTest, PlainHttp10WithoutHostIsServed) {
  startShort();
  RawConnection c(port());
  c.send("GET /only-get HTTP/1.0\r\n\r\n");
  ASSERT_TRUE(c.readUntilClosed(milliseconds(3000)));
  EXPECT_EQ(statusOf(c.received()), 200) << c.received();
}

// How much a flooding client sends at most before it gives up.
constexpr size_t kFloodLimit = 16u * 1024u * 1024u;

// Sends `piece` again and again until the server answers, stops reading, or kFloodLimit bytes
// went out; then waits (bounded) for the answer's head. Returns the bytes of `piece` sent.
size_t sendUntilAnswered(RawConnection& c, const std::string& piece) {
  size_t sent = 0;
  while (sent < kFloodLimit && statusOf(c.received()) == 0) {
    if (!c.send(piece)) break;
    sent += piece.size();
    c.readUntil("\r\n\r\n", milliseconds(1));
  }
  c.readUntil("\r\n\r\n", milliseconds(2000));
  return sent;
}

// A chunk-size line with an endless extension is refused after a bounded number of bytes,
// not buffered whole.
TEST_F(FramingTest, AnEndlessChunkExtensionIsRefusedEarly) {
  startShort();
  RawConnection c(port());
  c.send(kPost + "Transfer-Encoding: chunked\r\n\r\n1;");
  const size_t sent = sendUntilAnswered(c, std::string(16 * 1024, 'a'));
  EXPECT_EQ(statusOf(c.received()), 400) << "after " << sent << " bytes";
  EXPECT_LT(sent, kFloodLimit);  // refused before the client gave up
}

// An endless folded header (obs-fold) is refused at the header limit.
TEST_F(FramingTest, AnEndlessFoldedHeaderIsRefusedAtTheHeaderLimit) {
  startShort();
  RawConnection c(port());
  c.send("GET /only-get HTTP/1.1\r\nHost: t\r\nX-Fold: a\r\n");
  const size_t sent = sendUntilAnswered(c, " " + std::string(1022, 'b') + "\r\n");
  const int status = statusOf(c.received());
  EXPECT_TRUE(status == 431 || status == 400) << status;
  EXPECT_LT(sent, kFloodLimit);
}

}  // namespace
}  // namespace tether::http

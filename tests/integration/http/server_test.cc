// Live-server tests: real sockets on loopback, real limits and timeouts.
#include "http/server.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <future>
#include <thread>

#include "core/log.h"
#include "server_fixture.h"
#include "support/raw_http.h"

namespace tether::http {
namespace {

TEST_F(ServerTest, ServesRoutesWithParamsAndKeepAlive) {
  router_.add("GET", "/hello/{name}", [](Request& req, Responder r) {
    r.send(
        Response::text(200, "hi " + req.param("name") + " q=" + req.queryParam("q").value_or("")));
  });
  start();
  RawConnection c(port());
  ASSERT_TRUE(c.connected());
  c.send("GET /hello/ada?q=x%20y HTTP/1.1\r\nHost: t\r\n\r\n");
  std::string raw = c.readUntil("x y", milliseconds(2000));
  EXPECT_EQ(statusOf(raw), 200);
  EXPECT_EQ(bodyOf(raw), "hi ada q=x y");
  // Same connection, second request: keep-alive works.
  c.clear();
  c.send("GET /hello/bob HTTP/1.1\r\nHost: t\r\n\r\n");
  raw = c.readUntil("hi bob", milliseconds(2000));
  EXPECT_EQ(statusOf(raw), 200);
  EXPECT_EQ(server_->openConnections(), 1u);
}

TEST_F(ServerTest, UnknownRouteIs404JsonAndWrongMethodIs405WithAllow) {
  router_.add("GET", "/only-get", [](Request&, Responder r) { r.send(Response::text(200, "")); });
  start();
  {
    RawConnection c(port());
    c.send("GET /nope HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    ASSERT_TRUE(c.readUntilClosed(milliseconds(2000)));
    EXPECT_EQ(statusOf(c.received()), 404);
    auto body = boost::json::parse(bodyOf(c.received())).as_object();
    EXPECT_EQ(body["error"].as_object()["code"].as_string(), "not_found");
  }
  {
    RawConnection c(port());
    c.send("POST /only-get HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    ASSERT_TRUE(c.readUntilClosed(milliseconds(2000)));
    EXPECT_EQ(statusOf(c.received()), 405);
    EXPECT_THAT(c.received(), HasSubstr("Allow: GET\r\n"));
  }
}

TEST_F(ServerTest, HeaderOverTheLimitIs431) {
  router_.add("GET", "/", [](Request&, Responder r) { r.send(Response::text(200, "")); });
  start();  // default 16 KiB
  RawConnection c(port());
  c.send("GET / HTTP/1.1\r\nHost: t\r\nX-Big: " + std::string(20 * 1024, 'a') + "\r\n\r\n");
  c.readUntilClosed(milliseconds(3000));
  EXPECT_EQ(statusOf(c.received()), 431);
}

TEST_F(ServerTest, BodyOverTheLimitIs413ByContentLengthAndByChunks) {
  bool called = false;
  router_.add("POST", "/", [&](Request&, Responder r) {
    called = true;
    r.send(Response::text(200, ""));
  });
  router_.add(
      "POST", "/small", [](Request&, Responder r) { r.send(Response::text(200, "")); },
      RouteOptions{.max_body_bytes = 10});
  ServerOptions o;
  o.max_body_bytes = 1024;
  start(o);
  {
    RawConnection c(port());
    c.send("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5000\r\n\r\n");
    c.readUntil("\r\n\r\n", milliseconds(2000));
    EXPECT_EQ(statusOf(c.received()), 413);
  }
  {
    RawConnection c(port());
    std::string chunk(600, 'x');
    c.send("POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n258\r\n" + chunk +
           "\r\n258\r\n" + chunk + "\r\n0\r\n\r\n");
    c.readUntil("\r\n\r\n", milliseconds(2000));
    EXPECT_EQ(statusOf(c.received()), 413) << c.received();
  }
  {
    RawConnection c(port());
    c.send("POST /small HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\n\r\nhello world");
    c.readUntil("\r\n\r\n", milliseconds(2000));
    EXPECT_EQ(statusOf(c.received()), 413);
  }
  EXPECT_FALSE(called);
}

TEST_F(ServerTest, ExactLimitBodyIsAccepted) {
  std::string seen;
  router_.add("POST", "/", [&](Request& req, Responder r) {
    seen = req.body;
    r.send(Response::text(200, "ok"));
  });
  ServerOptions o;
  o.max_body_bytes = 1024;
  start(o);
  RawConnection c(port());
  c.send("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1024\r\n\r\n" + std::string(1024, 'b'));
  c.readUntil("ok", milliseconds(2000));
  EXPECT_EQ(statusOf(c.received()), 200);
  EXPECT_EQ(seen.size(), 1024u);
}

TEST_F(ServerTest, HalfARequestThenStallIsDroppedAfterTheReadTimeout) {
  router_.add("GET", "/", [](Request&, Responder r) { r.send(Response::text(200, "")); });
  ServerOptions o;
  o.read_timeout = milliseconds(300);
  o.idle_timeout = milliseconds(60'000);
  start(o);
  RawConnection c(port());
  const auto t0 = std::chrono::steady_clock::now();
  c.send("GET / HTTP/1.1\r\nHost: t\r\nX-Half: ");  // never finished
  ASSERT_TRUE(c.readUntilClosed(milliseconds(5000))) << "server kept a stalled client";
  const auto elapsed = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(elapsed, milliseconds(250));
  EXPECT_LT(elapsed, milliseconds(3000));
  EXPECT_EQ(statusOf(c.received()), 0);  // no response, just closed
}

TEST_F(ServerTest, HalfARequestThenTheClientsEndIsSeenAtOnce) {
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<bool> blocking{false};
  router_.add("GET", "/", [](Request&, Responder r) { r.send(Response::text(200, "x")); });
  router_.add("GET", "/block", [&](Request&, Responder r) {
    blocking = true;
    released.wait();  // holds the only I/O thread
    r.send(Response::text(200, "done"));
  });
  ServerOptions o;
  o.io_threads = 1;
  o.read_timeout = milliseconds(60'000);
  o.idle_timeout = milliseconds(60'000);
  start(o);
  // One whole exchange first: the server then waits for this client's next request.
  RawConnection b(port());
  b.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
  b.readUntil("\r\n\r\nx", milliseconds(2000));
  ASSERT_EQ(statusOf(b.received()), 200);
  // While another request holds the I/O thread, half a request and the client's end (FIN)
  // arrive together: the server sees them as one readiness, and the end comes with the bytes.
  RawConnection a(port());
  a.send("GET /block HTTP/1.1\r\nHost: t\r\n\r\n");
  ASSERT_TRUE(eventually([&] { return blocking.load(); }));
  b.clear();
  b.send("GET / HTTP/1.1\r\nHost: t\r\nX-Half: ");
  b.finishSending();
  const auto t0 = std::chrono::steady_clock::now();
  release.set_value();
  // Closed now, not when the one-minute read deadline passes.
  ASSERT_TRUE(b.readUntilClosed(milliseconds(5000))) << "the server waited for a deadline";
  EXPECT_LT(std::chrono::steady_clock::now() - t0, milliseconds(5000));
  EXPECT_EQ(statusOf(b.received()), 0);
  a.readUntil("done", milliseconds(2000));
  EXPECT_EQ(statusOf(a.received()), 200);
}

TEST_F(ServerTest, IdleKeepAliveConnectionIsClosedAfterTheIdleTimeout) {
  router_.add("GET", "/", [](Request&, Responder r) { r.send(Response::text(200, "x")); });
  ServerOptions o;
  o.idle_timeout = milliseconds(300);
  start(o);
  RawConnection c(port());
  c.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
  c.readUntil("\r\n\r\nx", milliseconds(2000));
  ASSERT_EQ(statusOf(c.received()), 200);
  EXPECT_TRUE(c.readUntilClosed(milliseconds(5000)));
}

TEST_F(ServerTest, RequestIdIsAcceptedWhenSaneAndGeneratedOtherwise) {
  std::string last_id;
  router_.add("GET", "/", [&](Request& req, Responder r) {
    last_id = req.request_id;
    r.send(Response::text(200, ""));
  });
  start();
  {
    RawConnection c(port());
    c.send("GET / HTTP/1.1\r\nHost: t\r\nX-Request-Id: abc-123\r\nConnection: close\r\n\r\n");
    c.readUntilClosed(milliseconds(2000));
    EXPECT_THAT(c.received(), HasSubstr("X-Request-Id: abc-123\r\n"));
    EXPECT_EQ(last_id, "abc-123");
  }
  {
    RawConnection c(port());
    c.send("GET / HTTP/1.1\r\nHost: t\r\nX-Request-Id: bad id\"<>\r\nConnection: close\r\n\r\n");
    c.readUntilClosed(milliseconds(2000));
    EXPECT_EQ(last_id.size(), 32u);
    EXPECT_THAT(c.received(), HasSubstr("X-Request-Id: " + last_id));
  }
}

TEST_F(ServerTest, HandlersMayAnswerLaterFromAnotherThread) {
  std::promise<Responder> pending;
  router_.add("GET", "/later", [&](Request&, Responder r) { pending.set_value(std::move(r)); });
  start();
  RawConnection c(port());
  c.send("GET /later HTTP/1.1\r\nHost: t\r\n\r\n");
  auto responder = pending.get_future().get();
  worker_ = std::thread(
      [r = std::move(responder)]() mutable { r.send(Response::json(201, R"({"done":true})")); });
  c.readUntil("true}", milliseconds(2000));
  EXPECT_EQ(statusOf(c.received()), 201);
  EXPECT_EQ(bodyOf(c.received()), R"({"done":true})");
}

TEST_F(ServerTest, StreamedChunksArriveBeforeTheStreamEnds) {
  startSse();
  RawConnection c(port());
  c.send("GET /sse HTTP/1.1\r\nHost: t\r\n\r\n");
  auto writer = sseWriter();
  writer->write("data: one\n\n");
  // The first event is on the wire while the stream is still open.
  std::string raw = c.readUntil("data: one", milliseconds(2000));
  ASSERT_THAT(raw, HasSubstr("data: one"));
  EXPECT_THAT(raw, HasSubstr("Transfer-Encoding: chunked"));
  EXPECT_THAT(raw, Not(HasSubstr("\r\n0\r\n\r\n")));
  std::promise<bool> written;
  writer->write("data: two\n\n", [&](bool ok) { written.set_value(ok); });
  EXPECT_TRUE(written.get_future().get());
  writer->finish();
  c.readUntil("\r\n0\r\n\r\n", milliseconds(2000));
  EXPECT_THAT(c.received(), HasSubstr("data: two"));
  EXPECT_THAT(c.received(), HasSubstr("\r\n0\r\n\r\n"));
}

// A finished stream (an SSE answer, a large body) leaves the connection open for the next
// request, as a whole answer does: a client must not pay a new connection per streamed call.
TEST_F(ServerTest, AFinishedStreamKeepsTheConnectionForTheNextRequest) {
  router_.add("GET", "/ping", [](Request&, Responder r) { r.send(Response::text(200, "pong")); });
  startSse();
  RawConnection c(port());
  c.send("GET /sse HTTP/1.1\r\nHost: t\r\n\r\n");
  auto writer = sseWriter();
  writer->write("data: one\n\n");
  writer->finish();
  const std::string raw = c.readUntil("\r\n0\r\n\r\n", milliseconds(2000));
  ASSERT_THAT(raw, HasSubstr("\r\n0\r\n\r\n"));
  EXPECT_THAT(raw, Not(HasSubstr("Connection: close")));
  c.send("GET /ping HTTP/1.1\r\nHost: t\r\n\r\n");
  EXPECT_THAT(c.readUntil("pong", milliseconds(2000)), HasSubstr("pong"));
}

// A client that asked to close gets its stream and then the close.
TEST_F(ServerTest, AStreamToAClientThatAskedToCloseEndsTheConnection) {
  startSse();
  RawConnection c(port());
  c.send("GET /sse HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  auto writer = sseWriter();
  writer->write("data: one\n\n");
  writer->finish();
  ASSERT_TRUE(c.readUntilClosed(milliseconds(2000)));
  EXPECT_THAT(c.received(), HasSubstr("Connection: close"));
  EXPECT_THAT(c.received(), HasSubstr("\r\n0\r\n\r\n"));
}

TEST_F(ServerTest, ClientLeavingMidStreamNotifiesTheProducer) {
  startSse();
  auto c = std::make_unique<RawConnection>(port());
  c->send("GET /sse HTTP/1.1\r\nHost: t\r\n\r\n");
  auto writer = sseWriter();
  std::promise<void> closed;
  writer->onClose([&] { closed.set_value(); });
  writer->write("data: hello\n\n");
  c->readUntil("hello", milliseconds(2000));
  c->closeNow();
  ASSERT_EQ(closed.get_future().wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_TRUE(writer->closed());
  std::promise<bool> after;
  writer->write("data: late\n\n", [&](bool ok) { after.set_value(ok); });
  EXPECT_FALSE(after.get_future().get());
}

TEST_F(ServerTest, AnAbortedStreamEndsWithoutItsLastChunk) {
  startSse();
  RawConnection c(port());
  c.send("GET /sse HTTP/1.1\r\nHost: t\r\n\r\n");
  auto writer = sseWriter();
  writer->write("data: one\n\n");
  writer->abort();
  writer->finish();  // no effect after abort
  ASSERT_TRUE(c.readUntilClosed(milliseconds(2000)));
  EXPECT_THAT(c.received(), HasSubstr("data: one"));
  EXPECT_THAT(c.received(), Not(HasSubstr("\r\n0\r\n\r\n")));
  EXPECT_TRUE(writer->closed());
}

TEST_F(ServerTest, ClientLeavingBeforeTheAnswerNotifiesTheHandler) {
  std::promise<Responder> pending;
  router_.add("POST", "/slow", [&](Request&, Responder r) { pending.set_value(std::move(r)); });
  start();
  auto c = std::make_unique<RawConnection>(port());
  c->send("POST /slow HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n{}");
  auto responder = pending.get_future().get();
  std::promise<void> gone;
  responder.onClientGone([&] { gone.set_value(); });
  c->closeNow();
  ASSERT_EQ(gone.get_future().wait_for(std::chrono::seconds(5)), std::future_status::ready);
  // Answering afterwards is harmless (the answer is dropped); the connection is gone.
  responder.send(Response::text(200, "late"));
  EXPECT_TRUE(eventually([&] { return server_->openConnections() == 0; }));
  // Registered after the fact, the callback runs at once.
  bool ran = false;
  responder.onClientGone([&] { ran = true; });
  EXPECT_TRUE(ran);
}

TEST_F(ServerTest, ClientLeavingAfterTheAnswerIsNotReportedAsGone) {
  std::promise<Responder> pending;
  router_.add("GET", "/later", [&](Request&, Responder r) { pending.set_value(std::move(r)); });
  start();
  RawConnection c(port());
  c.send("GET /later HTTP/1.1\r\nHost: t\r\n\r\n");
  auto responder = pending.get_future().get();
  bool gone = false;
  responder.onClientGone([&] { gone = true; });
  worker_ =
      std::thread([r = std::move(responder)]() mutable { r.send(Response::text(200, "ok")); });
  c.readUntil("\r\n\r\nok", milliseconds(2000));
  EXPECT_EQ(statusOf(c.received()), 200);
  worker_.join();
  EXPECT_FALSE(gone);
}

TEST_F(ServerTest, HeadAnswersStateTheLengthOfTheBodyTheyOmit) {
  router_.add("GET", "/doc", [](Request&, Responder r) { r.send(Response::text(200, "abcdef")); });
  router_.add("HEAD", "/relayed", [](Request&, Responder r) {
    Response res;
    res.headers.push_back({"Content-Length", "5000"});  // a relayed HEAD answer's length
    r.send(std::move(res));
  });
  start();
  {
    RawConnection c(port());
    c.send("HEAD /doc HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    ASSERT_TRUE(c.readUntilClosed(milliseconds(2000)));
    EXPECT_THAT(c.received(), HasSubstr("Content-Length: 6\r\n"));
    EXPECT_THAT(c.received(), Not(HasSubstr("abcdef")));
  }
  {
    RawConnection c(port());
    c.send("HEAD /relayed HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    ASSERT_TRUE(c.readUntilClosed(milliseconds(2000)));
    EXPECT_THAT(c.received(), HasSubstr("Content-Length: 5000\r\n"));
    EXPECT_EQ(bodyOf(c.received()), "");
  }
}

TEST_F(ServerTest, HeadersThatWouldSplitTheResponseAreDropped) {
  router_.add("GET", "/", [](Request&, Responder r) {
    Response res = Response::text(200, "x");
    res.headers.push_back({"X-Evil", "a\r\nSet-Cookie: s=1"});
    res.headers.push_back({"X-Fine", "b"});
    r.send(std::move(res));
  });
  start();
  RawConnection c(port());
  c.send("GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  ASSERT_TRUE(c.readUntilClosed(milliseconds(2000)));
  EXPECT_EQ(statusOf(c.received()), 200);
  EXPECT_THAT(c.received(), Not(HasSubstr("Set-Cookie")));
  EXPECT_THAT(c.received(), HasSubstr("X-Fine: b\r\n"));
}

TEST_F(ServerTest, PipelinedRequestsAnsweredLaterKeepTheirOrder) {
  // Odd requests are answered later from the connection's own I/O thread (which writes the
  // answer at once, the next request already buffered), even ones from another thread.
  std::atomic<int> n{0};
  ServerOptions o;
  o.io_threads = 1;
  router_.add("GET", "/n", [&](Request&, Responder r) {
    const int i = ++n;
    auto shared = std::make_shared<Responder>(std::move(r));
    auto answer = [shared, i] { shared->send(Response::text(200, "n" + std::to_string(i) + ";")); };
    if (i % 2 == 1) {
      server_->schedule(milliseconds(0), answer);
    } else {
      worker_pool_.emplace_back(answer);
    }
  });
  start(o);
  RawConnection c(port());
  c.send(
      "GET /n HTTP/1.1\r\nHost: t\r\n\r\nGET /n HTTP/1.1\r\nHost: t\r\n\r\n"
      "GET /n HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  ASSERT_TRUE(c.readUntilClosed(milliseconds(3000)));
  const std::string& raw = c.received();
  const size_t a = raw.find("n1;"), b = raw.find("n2;"), d = raw.find("n3;");
  ASSERT_NE(a, std::string::npos) << raw;
  ASSERT_NE(b, std::string::npos) << raw;
  ASSERT_NE(d, std::string::npos) << raw;
  EXPECT_LT(a, b);
  EXPECT_LT(b, d);
}

TEST_F(ServerTest, StopDrainsInFlightRequestsAndClosesIdleOnes) {
  std::promise<Responder> pending;
  router_.add("GET", "/slow", [&](Request&, Responder r) { pending.set_value(std::move(r)); });
  router_.add("GET", "/fast", [](Request&, Responder r) { r.send(Response::text(200, "f")); });
  start();
  RawConnection idle(port());
  idle.send("GET /fast HTTP/1.1\r\nHost: t\r\n\r\n");
  idle.readUntil("\r\n\r\nf", milliseconds(2000));
  RawConnection busy(port());
  busy.send("GET /slow HTTP/1.1\r\nHost: t\r\n\r\n");
  auto responder = pending.get_future().get();
  std::thread stopper([&] { server_->stop(); });
  // The idle connection is closed promptly; the busy one still gets its answer.
  EXPECT_TRUE(idle.readUntilClosed(milliseconds(3000)));
  responder.send(Response::text(200, "drained"));
  busy.readUntilClosed(milliseconds(3000));
  stopper.join();
  EXPECT_EQ(statusOf(busy.received()), 200);
  EXPECT_THAT(busy.received(), HasSubstr("drained"));
  EXPECT_THAT(busy.received(), HasSubstr("Connection: close"));
}

TEST_F(ServerTest, MetricsCountRequestsByRouteAndStatus) {
  router_.add("GET", "/c/{name}", [](Request&, Responder r) { r.send(Response::text(204, "")); });
  start();
  for (int i = 0; i < 3; ++i) {
    RawConnection c(port());
    c.send("GET /c/n" + std::to_string(i) + " HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    c.readUntilClosed(milliseconds(2000));
  }
  // The route pattern, not the raw path, is the label (bounded cardinality).
  EXPECT_THAT(
      metrics_.render(),
      HasSubstr("tether_http_requests_total{route=\"/c/{name}\",method=\"GET\",status=\"204\"} 3"));
}

TEST_F(ServerTest, AccessLogsNeverContainSecretHeadersOrParameters) {
  std::vector<std::string> lines;
  std::mutex mu;
  core::log::init(core::log::Format::kJson, core::LogLevel::kDebug);
  core::log::setSinkForTesting([&](std::string_view l) {
    std::lock_guard lock(mu);
    lines.emplace_back(l);
  });
  router_.add("POST", "/oauth/callback", [](Request& req, Responder r) {
    core::log::info("callback body", {{"body", req.body}});
    r.send(Response::text(200, "ok"));
  });
  start();
  const std::string body =
      "grant_type=refresh_token&refresh_token=RT-SECRET-1&client_secret=CS-SECRET-2&"
      "code_verifier=CV-SECRET-3&password=PW-SECRET-4&assertion=AS-SECRET-5&id_token=ID-SECRET-6";
  RawConnection c(port());
  c.send(
      "POST /oauth/callback?code=CODE-SECRET-7&access_token=AT-SECRET-8&state=STATE-SECRET-12 "
      "HTTP/1.1\r\n"
      "Host: t\r\nAuthorization: Bearer AUTH-SECRET-9\r\nProxy-Authorization: Basic "
      "PROXY-SECRET-10\r\n"
      "Cookie: s=COOKIE-SECRET-11\r\nContent-Type: application/x-www-form-urlencoded\r\n"
      "Connection: close\r\nContent-Length: " +
      std::to_string(body.size()) + "\r\n\r\n" + body);
  c.readUntilClosed(milliseconds(2000));
  server_->stop();
  core::log::setSinkForTesting(nullptr);
  core::log::init(core::log::Format::kJson, core::LogLevel::kInfo);
  std::string all;
  for (const auto& l : lines) all += l + "\n";
  // The request was logged by its route; its query (code, state) not even redacted.
  ASSERT_THAT(all, HasSubstr("\"route\":\"/oauth/callback\""));
  EXPECT_THAT(all, Not(HasSubstr("code=")));
  EXPECT_THAT(all, Not(HasSubstr("state=")));
  for (int i = 1; i <= 12; ++i) {
    EXPECT_THAT(all, Not(HasSubstr("SECRET-" + std::to_string(i) + "\""))) << i;
    EXPECT_THAT(all, Not(HasSubstr("SECRET-" + std::to_string(i) + "&"))) << i;
    EXPECT_THAT(all, Not(HasSubstr("-SECRET-" + std::to_string(i)))) << i;
  }
}

TEST_F(ServerTest, BindFailureIsAClearError) {
  start();
  ServerOptions o;
  o.host = "127.0.0.1";
  o.port = port();
  Server second(o, router_, nullptr);
  auto st = second.start();
  ASSERT_FALSE(st.ok());
  EXPECT_THAT(st.error().message,
              HasSubstr("cannot listen on 127.0.0.1:" + std::to_string(port())));
}

}  // namespace
}  // namespace tether::http

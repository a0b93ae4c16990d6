#include "edge_cases.h"

#include <cstdio>
#include <utility>

// Expectations follow RFC 9112 (HTTP/1.1 messages) and RFC 9110 §5 (fields). Where the RFC
// lets a server choose (reject, or read leniently), the case says kEither: the lenient
// reading must then frame the request exactly as written below.

namespace tether::testing {
namespace {

using namespace std::string_literals;

// Builds request bytes for one host value.
struct Builder {
  std::string host;

  /// A request head: request line, Host, `fields` (each ending in CRLF), blank line.
  std::string head(const std::string& method, const std::string& target,
                   const std::string& fields = "", const std::string& version = "HTTP/1.1") const {
    return method + " " + target + " " + version + "\r\nHost: " + host + "\r\n" + fields + "\r\n";
  }
  std::string get(const std::string& path, const std::string& fields = "") const {
    return head("GET", "/api/rec" + path, fields);
  }
  /// A request to `target` (not under /api/rec) with a Content-Length body.
  std::string postTo(const std::string& target, const std::string& body,
                     const std::string& fields = "", const std::string& method = "POST") const {
    return head(method, target,
                "Content-Length: " + std::to_string(body.size()) + "\r\n" + fields) +
           body;
  }
  std::string post(const std::string& path, const std::string& body,
                   const std::string& fields = "") const {
    return postTo("/api/rec" + path, body, fields);
  }
  /// A whole request the client never sent as its own: it must never reach the upstream.
  std::string smuggled() const {
    return "GET /api/rec/SMUGGLED HTTP/1.1\r\nHost: " + host + "\r\n\r\n";
  }
  /// A smuggled head left open: the next request's line becomes the value of X-Swallow.
  std::string swallow() const {
    return "GET /api/rec/SMUGGLED HTTP/1.1\r\nHost: " + host + "\r\nX-Swallow: ";
  }
};

std::string chunk(const std::string& data) {
  char size[32];
  std::snprintf(size, sizeof size, "%zx", data.size());
  return size + "\r\n"s + data + "\r\n";
}

const std::string kLastChunk = "0\r\n\r\n";

Expected ok(std::string method, std::string path, std::string body = "") {
  Expected e;
  e.method = std::move(method);
  e.path = std::move(path);
  e.body = std::move(body);
  return e;
}
/// An answer from Tether itself (no route, method, limits): never forwarded; the connection
/// may close after it (closing is how a server avoids reading a body it refuses).
Expected immediate(int status) {
  Expected e;
  e.status = status;
  e.close_ok = true;
  return e;
}
/// Refused with 4xx (or 501) and the connection closed (RFC 9112: framing in doubt).
Expected refuse() {
  Expected e;
  e.outcome = Outcome::kRefuse;
  e.close_after = true;
  return e;
}
/// Refused with 4xx; the framing is sound, so the connection may stay open.
Expected refuseKeep() {
  Expected e = refuse();
  e.close_after = false;
  e.refusal_may_keep_alive = true;
  return e;
}
Expected either(std::string method, std::string path, std::string body = "") {
  Expected e = ok(std::move(method), std::move(path), std::move(body));
  e.outcome = Outcome::kEither;
  return e;
}
/// The connection must close after answering this one (RFC 9112 §6.1, §9.3).
Expected closing(Expected e) {
  e.close_after = true;
  return e;
}
Expected never() {
  Expected e;
  e.outcome = Outcome::kNever;
  return e;
}

}  // namespace

std::vector<EdgeCase> edgeCases(const std::string& host) {
  const Builder b{host};
  const std::string H = "Host: " + host + "\r\n";
  const std::string te = "Transfer-Encoding: chunked\r\n";
  const std::string abc = chunk("abc") + kLastChunk;  // a chunked body "abc"
  const std::string big(5000, 'a');                   // over max_header_bytes (4096)
  const std::string over_body = b.smuggled() + std::string(8000 - b.smuggled().size(), 'p');
  std::vector<EdgeCase> c;
  auto add = [&c](EdgeCase e) { c.push_back(std::move(e)); };

  // ---- baseline: plain requests every front must pass through exactly once ----
  add({"base-get", "plain GET", {b.get("/a")}, {ok("GET", "/a")}});
  add({"base-post",
       "POST with a Content-Length body",
       {b.post("/a", "hello")},
       {ok("POST", "/a", "hello")}});
  add({"base-pipeline",
       "three pipelined requests with bodies in one segment",
       {b.get("/a") + b.post("/b", "x=1") + b.post("/c", "y=22")},
       {ok("GET", "/a"), ok("POST", "/b", "x=1"), ok("POST", "/c", "y=22")}});
  add({"base-chunked",
       "chunked body in two chunks",
       {b.head("POST", "/api/rec/a", te) + chunk("hel") + chunk("lo") + kLastChunk},
       {ok("POST", "/a", "hello")}});
  add({"base-body-later",
       "Content-Length body in a later segment",
       {b.head("POST", "/api/rec/a", "Content-Length: 5\r\n"), "hello"},
       {ok("POST", "/a", "hello")}});
  add({"base-chunked-later",
       "chunked body split across delayed segments",
       {b.head("POST", "/api/rec/a", te) + chunk("hel"), chunk("lo") + kLastChunk},
       {ok("POST", "/a", "hello")}});
  add({"base-get-body",
       "GET with a Content-Length body (framing holds whatever the method)",
       {b.head("GET", "/api/rec/a", "Content-Length: 3\r\n") + "abc" + b.get("/b")},
       {ok("GET", "/a", "abc"), ok("GET", "/b")}});
  add({"http10-keepalive",
       "HTTP/1.0 with Connection: keep-alive, then a second request",
       {b.head("GET", "/api/rec/a", "Connection: keep-alive\r\n", "HTTP/1.0") +
        b.head("GET", "/api/rec/b", "Connection: keep-alive\r\n", "HTTP/1.0")},
       {ok("GET", "/a"), ok("GET", "/b")}});
  add({"http10-close",
       "HTTP/1.0 without keep-alive closes: a pipelined request is not served",
       {b.head("GET", "/api/rec/a", "", "HTTP/1.0") + b.smuggled()},
       {closing(ok("GET", "/a")), never()}});
  add({"http11-close",
       "Connection: close closes: a pipelined request is not served",
       {b.get("/a", "Connection: close\r\n") + b.smuggled()},
       {closing(ok("GET", "/a")), never()}});
  add({"http10-no-host",
       "HTTP/1.0 needs no Host",
       {"GET /api/rec/a HTTP/1.0\r\n\r\n"},
       {closing(ok("GET", "/a"))}});

  // ---- CL.TE / TE.CL: both framings; Transfer-Encoding wins or 400, and the connection
  // closes after the answer either way (RFC 9112 §6.1) ----
  {
    const std::string body = kLastChunk + b.smuggled();
    add({"clte",
         "CL covers a smuggled request that chunked framing leaves over",
         {b.head("POST", "/api/rec/a",
                 "Content-Length: " + std::to_string(body.size()) + "\r\n" + te) +
          body},
         {closing(either("POST", "/a")), never()}});
    add({"clte-te-first",
         "as clte, Transfer-Encoding before Content-Length",
         {b.head("POST", "/api/rec/a",
                 te + "Content-Length: " + std::to_string(body.size()) + "\r\n") +
          body},
         {closing(either("POST", "/a")), never()}});
  }
  add({"tecl",
       "CL 3 covers only the chunk-size line; the chunk holds a request",
       {b.head("POST", "/api/rec/a", "Content-Length: 3\r\n" + te) + chunk(b.smuggled()) +
        kLastChunk + b.smuggled()},
       {closing(either("POST", "/a", b.smuggled())), never()}});
  add({"tecl-zero",
       "CL 0 with a chunked body holding a request",
       {b.head("POST", "/api/rec/a", "Content-Length: 0\r\n" + te) + chunk(b.smuggled()) +
        kLastChunk},
       {closing(either("POST", "/a", b.smuggled()))}});
  add({"te-http10",
       "Transfer-Encoding in HTTP/1.0: faulty framing, close after",
       {b.head("POST", "/api/rec/a", te, "HTTP/1.0") + abc + b.smuggled()},
       {closing(either("POST", "/a", "abc")), never()}});

  // ---- Transfer-Encoding obfuscations: a final coding other than chunked is a 400 and a
  // close (RFC 9112 §6.3); the bytes after the head must not run as a request ----
  auto teCase = [&](std::string id, std::string description, std::string fields) {
    add({std::move(id),
         std::move(description),
         {b.head("POST", "/api/rec/a", fields) + b.smuggled()},
         {refuse(), never()}});
  };
  teCase("te-xchunked", "Transfer-Encoding: xchunked", "Transfer-Encoding: xchunked\r\n");
  teCase("te-chunked-identity", "final coding identity",
         "Transfer-Encoding: chunked, identity\r\n");
  teCase("te-identity", "Transfer-Encoding: identity alone", "Transfer-Encoding: identity\r\n");
  teCase("te-gzip", "Transfer-Encoding: gzip alone", "Transfer-Encoding: gzip\r\n");
  teCase("te-dup-identity", "two Transfer-Encoding lines: chunked, then identity",
         te + "Transfer-Encoding: identity\r\n");
  teCase("te-vtab", "a vertical tab before chunked (not whitespace)",
         "Transfer-Encoding:\x0b"
         "chunked\r\n");
  teCase("te-nul", "NUL after chunked", "Transfer-Encoding: chunked\0\r\n"s);
  teCase("te-chunked-x", "Transfer-Encoding: chunked-x", "Transfer-Encoding: chunked-x\r\n");
  teCase("te-name-space", "whitespace between the field name and the colon (MUST 400)",
         "Transfer-Encoding : chunked\r\n");
  teCase("te-quoted", "a quoted coding", "Transfer-Encoding: \"chunked\"\r\n");
  add({"te-gzip-chunked",
       "gzip, chunked: an unsupported coding (501 or 400)",
       {b.head("POST", "/api/rec/a", "Transfer-Encoding: gzip, chunked\r\n") + abc + b.smuggled()},
       {refuse(), never()}});
  add({"te-chunked-twice",
       "chunked applied twice (RFC 9112 §6.1: MUST NOT)",
       {b.head("POST", "/api/rec/a", te + te) + abc + b.smuggled()},
       {refuse(), never()}});
  // Valid spellings: the body is chunked "abc", a second request follows.
  auto teValid = [&](std::string id, std::string description, std::string fields, bool lenient) {
    EdgeCase e{std::move(id),
               std::move(description),
               {b.head("POST", "/api/rec/a", fields) + abc + b.get("/b")},
               {lenient ? either("POST", "/a", "abc") : ok("POST", "/a", "abc"), ok("GET", "/b")}};
    e.nginx_may_refuse = true;
    add(std::move(e));
  };
  teValid("te-ows", "extra spaces around chunked", "Transfer-Encoding:   chunked  \r\n", false);
  teValid("te-tab-trailing", "a TAB after chunked (OWS)", "Transfer-Encoding: chunked\t\r\n",
          false);
  teValid("te-tab-leading", "a TAB before chunked (OWS)", "Transfer-Encoding:\tchunked\r\n", false);
  teValid("te-upper", "CHUNKED (codings are case-insensitive)", "Transfer-Encoding: CHUNKED\r\n",
          false);
  teValid("te-empty-element", "an empty list element before chunked",
          "Transfer-Encoding: , chunked\r\n", true);
  add({"te-leading-ws-line",
       "whitespace before the first field line: reject, or ignore that line (RFC 9112 §2.2)",
       {"GET /api/rec/a HTTP/1.1\r\n Transfer-Encoding: chunked\r\n" + H + "\r\n" + b.get("/b")},
       {either("GET", "/a"), ok("GET", "/b")}});

  // ---- Content-Length: one value of digits, else 400 and close (RFC 9112 §6.3) ----
  auto clBad = [&](std::string id, std::string description, std::string fields) {
    add({std::move(id),
         std::move(description),
         {b.head("POST", "/api/rec/a", fields) + "hello" + b.smuggled()},
         {refuse(), never()}});
  };
  clBad("cl-plus", "Content-Length: +5", "Content-Length: +5\r\n");
  clBad("cl-negative", "Content-Length: -5", "Content-Length: -5\r\n");
  clBad("cl-hex", "Content-Length: 0x5", "Content-Length: 0x5\r\n");
  clBad("cl-decimal", "Content-Length: 5.0", "Content-Length: 5.0\r\n");
  clBad("cl-inner-space", "Content-Length: 5 5", "Content-Length: 5 5\r\n");
  clBad("cl-empty", "an empty Content-Length", "Content-Length:\r\n");
  clBad("cl-dup-differ", "two Content-Length values that differ",
        "Content-Length: 5\r\nContent-Length: 46\r\n");
  clBad("cl-list-differ", "a Content-Length list that differs", "Content-Length: 5, 46\r\n");
  clBad("cl-huge", "a Content-Length past 64 bits", "Content-Length: 99999999999999999999999\r\n");
  clBad("cl-wrap", "2^64+5: wraps to 5 in a careless parser",
        "Content-Length: 18446744073709551621\r\n");
  clBad("cl-name-space", "whitespace before the colon (MUST 400)", "Content-Length : 5\r\n");
  clBad("cl-name-tab", "a TAB before the colon (MUST 400)", "Content-Length\t: 5\r\n");
  clBad("cl-obs-fold", "a folded Content-Length value (5 5)", "Content-Length: 5\r\n 5\r\n");
  add({"cl-list-same",
       "Content-Length: 5, 5 (RFC 9110 §8.6: accept as 5 or reject)",
       {b.head("POST", "/api/rec/a", "Content-Length: 5, 5\r\n") + "hello" + b.get("/b")},
       {either("POST", "/a", "hello"), ok("GET", "/b")}});
  add({"cl-dup-same",
       "two Content-Length: 5 lines (accept as 5 or reject)",
       {b.head("POST", "/api/rec/a", "Content-Length: 5\r\nContent-Length: 5\r\n") + "hello" +
        b.get("/b")},
       {either("POST", "/a", "hello"), ok("GET", "/b")}});
  add({"cl-leading-zero",
       "Content-Length: 005 is 5 (1*DIGIT)",
       {b.head("POST", "/api/rec/a", "Content-Length: 005\r\n") + "hello" + b.get("/b")},
       {ok("POST", "/a", "hello"), ok("GET", "/b")}});

  // ---- chunk lines, extensions and trailers ----
  add({"chunk-ext",
       "chunk extensions are ignored",
       {b.head("POST", "/api/rec/a", te) + "3;name=value\r\nabc\r\n" + "2;q=\"x;y\"\r\nde\r\n" +
        kLastChunk + b.get("/b")},
       {ok("POST", "/a", "abcde"), ok("GET", "/b")}});
  add({"chunk-ext-long",
       "an 8 KiB chunk extension: read (bounded) or refused",
       {b.head("POST", "/api/rec/a", te) + "1;" + std::string(8000, 'e') + "\r\nx\r\n" +
        kLastChunk + b.get("/b")},
       {either("POST", "/a", "x"), ok("GET", "/b")}});
  auto chunkBad = [&](std::string id, std::string description, std::string body) {
    add({std::move(id),
         std::move(description),
         {b.head("POST", "/api/rec/a", te) + body + b.smuggled()},
         {refuse(), never()}});
  };
  chunkBad("chunk-size-overflow", "a chunk size past 64 bits",
           "10000000000000003\r\nabc\r\n" + kLastChunk);
  chunkBad("chunk-size-0x", "a chunk size 0x3", "0x3\r\nabc\r\n" + kLastChunk);
  chunkBad("chunk-size-plus", "a chunk size +3", "+3\r\nabc\r\n" + kLastChunk);
  chunkBad("chunk-size-bad", "a chunk size zz", "zz\r\nabc\r\n" + kLastChunk);
  chunkBad("chunk-overrun", "chunk data longer than its size", "3\r\nabcdef\r\n" + kLastChunk);
  chunkBad("chunk-no-crlf", "chunk data not followed by CRLF", "3\r\nabcX" + kLastChunk);
  chunkBad("chunk-trailer-request-line", "a request line in the trailer section",
           "3\r\nabc\r\n0\r\nGET /api/rec/SMUGGLED HTTP/1.1\r\n\r\n");
  add({"chunk-lf",
       "bare LF after chunk lines (RFC 9112 §2.2: MAY accept)",
       {b.head("POST", "/api/rec/a", te) + "3\nabc\n0\n\n"},
       {either("POST", "/a", "abc")}});
  {
    EdgeCase e{
        "chunk-trailer-auth",
        "a trailer field is not merged into the forwarded head",
        {b.head("POST", "/api/rec/a", te) + chunk("abc") +
         "0\r\nAuthorization: Bearer evil-trailer\r\nX-Trailer-Evil: 1\r\n\r\n" + b.get("/b")},
        {ok("POST", "/a", "abc"), ok("GET", "/b")}};
    e.upstream_must_not_contain = "X-Trailer-Evil";
    add(std::move(e));
  }
  {
    EdgeCase e{"chunk-trailer-host",
               "a Host trailer does not change the forwarded head",
               {b.head("POST", "/api/rec/a", te) + chunk("abc") +
                "0\r\nHost: evil-trailer.example\r\n\r\n" + b.get("/b")},
               {ok("POST", "/a", "abc"), ok("GET", "/b")}};
    e.upstream_must_not_contain = "evil-trailer";
    add(std::move(e));
  }

  // ---- line endings, folding and bytes in names and values ----
  add({"bare-lf-head",
       "a head with bare LF line ends (MAY accept)",
       {"GET /api/rec/a HTTP/1.1\nHost: " + host + "\n\n" + b.get("/b")},
       {either("GET", "/a"), ok("GET", "/b")}});
  add({"bare-lf-mixed",
       "one field line ended by a bare LF",
       {"POST /api/rec/a HTTP/1.1\r\n" + H + "Content-Length: 5\nX-A: y\r\n\r\nhello" +
        b.get("/b")},
       {either("POST", "/a", "hello"), ok("GET", "/b")}});
  add({"bare-cr-line",
       "a bare CR ends the request line (invalid)",
       {"GET /api/rec/a HTTP/1.1\rX-A: y\r\n" + H + "\r\n" + b.smuggled()},
       {refuse(), never()}});
  add({"bare-cr-value",
       "a bare CR inside a value: reject, or read it as SP",
       {b.head("POST", "/api/rec/a",
               "X-A: a\rTransfer-Encoding: chunked\r\nContent-Length: 5\r\n") +
        "hello" + b.get("/b")},
       {either("POST", "/a", "hello"), ok("GET", "/b")}});
  add({"obs-fold",
       "a folded value (RFC 9112 §5.2: reject, or unfold to SP)",
       {b.head("POST", "/api/rec/a", "X-A: a\r\n b\r\nContent-Length: 5\r\n") + "hello" +
        b.get("/b")},
       {either("POST", "/a", "hello"), ok("GET", "/b")}});
  add({"obs-fold-te",
       "Transfer-Encoding folded into another value is not a field",
       {b.head("POST", "/api/rec/a",
               "X-A: a\r\n Transfer-Encoding: chunked\r\nContent-Length: 5\r\n") +
        "hello" + b.get("/b")},
       {either("POST", "/a", "hello"), ok("GET", "/b")}});
  add({"value-nul",
       "NUL in a value: reject, or read it as SP",
       {b.head("POST", "/api/rec/a", "X-A: a\0b\r\nContent-Length: 5\r\n"s) + "hello" +
        b.get("/b")},
       {either("POST", "/a", "hello"), ok("GET", "/b")}});
  add({"value-del",
       "DEL in a value (not a field-vchar)",
       {b.head("POST", "/api/rec/a",
               "X-A: a\x7f"
               "b\r\nContent-Length: 5\r\n") +
        "hello" + b.get("/b")},
       {either("POST", "/a", "hello"), ok("GET", "/b")}});
  add({"value-tab",
       "a TAB inside a value is valid",
       {b.post("/a", "hello", "X-A: a\tb\r\n") + b.get("/b")},
       {ok("POST", "/a", "hello"), ok("GET", "/b")}});
  add({"value-non-ascii",
       "obs-text (UTF-8) in a value is valid",
       {b.post("/a", "hello", "X-A: caf\xc3\xa9\r\n") + b.get("/b")},
       {ok("POST", "/a", "hello"), ok("GET", "/b")}});
  add({"name-non-ascii",
       "a non-ASCII field name (not a token)",
       {b.post("/a", "hello", "X-\xc3\xa9: v\r\n") + b.smuggled()},
       {refuse(), never()}});
  add({"name-nul",
       "NUL in a field name",
       {b.post("/a", "hello", "X\0A: v\r\n"s) + b.smuggled()},
       {refuse(), never()}});
  add({"name-empty",
       "an empty field name",
       {b.post("/a", "hello", ": v\r\n") + b.smuggled()},
       {refuse(), never()}});
  {
    // Refusing it is no framing doubt: the connection may stay open.
    Expected abs = either("GET", "/a");
    abs.refusal_may_keep_alive = true;
    add({"absolute-form",
         "an absolute-form target (RFC 9112 §3.2.2: MUST accept)",
         {"GET http://" + host + "/api/rec/a HTTP/1.1\r\n" + H + "\r\n" + b.get("/b")},
         {abs, ok("GET", "/b")}});
  }
  add({"request-line-spaces",
       "two spaces in the request line (reject, or split on words)",
       {"GET  /api/rec/a HTTP/1.1\r\n" + H + "\r\n" + b.get("/b")},
       {either("GET", "/a"), ok("GET", "/b")}});
  add({"version-lowercase",
       "http/1.1 (HTTP-name is case-sensitive)",
       {"GET /api/rec/a http/1.1\r\n" + H + "\r\n" + b.smuggled()},
       {refuse(), never()}});
  add({"host-missing",
       "HTTP/1.1 without Host (RFC 9112 §3.2: MUST 400)",
       {"GET /api/rec/a HTTP/1.1\r\n\r\n" + b.get("/b")},
       {refuseKeep(), ok("GET", "/b")}});
  add({"host-duplicate",
       "two Host lines (MUST 400)",
       {b.get("/a", "Host: other.example\r\n") + b.get("/b")},
       {refuseKeep(), ok("GET", "/b")}});

  // ---- immediate answers (404, 405, 413, 431, Expect) with a body: the body is read or the
  // connection closed; it never runs as the next request (issue 20, defect 1) ----
  const std::string sw = b.swallow();
  const std::string victim = b.get("/victim");
  auto immediateCase = [&](std::string id, std::string description,
                           std::vector<std::string> segments, int status) {
    add({std::move(id),
         std::move(description),
         std::move(segments),
         {immediate(status), ok("GET", "/victim")}});
  };
  immediateCase("404-body", "no route, body in the same segment",
                {b.postTo("/no-such-route", sw), victim}, 404);
  immediateCase(
      "404-body-later", "no route, body 250 ms after the head (the issue's repro)",
      {b.head("POST", "/no-such-route", "Content-Length: " + std::to_string(sw.size()) + "\r\n"),
       sw, victim},
      404);
  immediateCase("404-tab", "no route, a TAB in a header sends it to the full parser",
                {b.postTo("/no-such-route", sw, "X-T: a\tb\r\n"), victim}, 404);
  immediateCase("404-non-ascii", "no route, a non-ASCII header value",
                {b.postTo("/no-such-route", sw, "X-T: caf\xc3\xa9\r\n"), victim}, 404);
  immediateCase(
      "404-expect", "no route, Expect: 100-continue, body later",
      {b.head("POST", "/no-such-route",
              "Content-Length: " + std::to_string(sw.size()) + "\r\nExpect: 100-continue\r\n"),
       sw, victim},
      404);
  immediateCase("404-chunked", "no route, a chunked body holding a request",
                {b.head("POST", "/no-such-route", te) + chunk(sw) + kLastChunk, victim}, 404);
  immediateCase("404-http10", "no route, HTTP/1.0 keep-alive with a body",
                {b.head("POST", "/no-such-route",
                        "Connection: keep-alive\r\nX-T: a\tb\r\nContent-Length: " +
                            std::to_string(sw.size()) + "\r\n",
                        "HTTP/1.0") +
                     sw,
                 victim},
                404);
  immediateCase("404-get-body", "no route, GET with a body",
                {b.postTo("/no-such-route", sw, "X-T: a\tb\r\n", "GET"), victim}, 404);
  immediateCase("405-body", "method not allowed, body in the same segment",
                {b.postTo("/healthz", sw, "X-T: a\tb\r\n"), victim}, 405);
  immediateCase(
      "405-body-later", "method not allowed, body later",
      {b.head("POST", "/healthz", "Content-Length: " + std::to_string(sw.size()) + "\r\n"), sw,
       victim},
      405);
  immediateCase(
      "405-expect", "PUT on /mcp/{name}, Expect: 100-continue",
      {b.head("PUT", "/mcp/x",
              "Content-Length: " + std::to_string(sw.size()) + "\r\nExpect: 100-continue\r\n"),
       sw, victim},
      405);
  immediateCase("413-body", "body over the limit (4096), sent whole",
                {b.post("/a", over_body), victim}, 413);
  immediateCase(
      "413-body-later", "body over the limit, sent after the head",
      {b.head("POST", "/api/rec/a", "Content-Length: " + std::to_string(over_body.size()) + "\r\n"),
       over_body, victim},
      413);
  immediateCase("413-chunked", "chunked body over the limit",
                {b.head("POST", "/api/rec/a", te) + chunk(std::string(3000, 'p')) +
                     chunk(sw + std::string(3000, 'p')) + kLastChunk,
                 victim},
                413);
  immediateCase("431-body", "header over the limit, with a body holding a request",
                {b.post("/a", sw, "X-Big: " + big + "\r\n"), victim}, 431);
  add({"expect-continue",
       "Expect: 100-continue, body after a delay",
       {b.head("POST", "/api/rec/a", "Content-Length: 5\r\nExpect: 100-continue\r\n"), "hello"},
       {ok("POST", "/a", "hello")}});
  {
    Expected e = either("POST", "/a", "hello");
    e.status = 200;
    e.refusal_may_keep_alive = true;
    add({"expect-unknown",
         "an unknown expectation: 417 or served",
         {b.post("/a", "hello", "Expect: bogus\r\n") + b.get("/b")},
         {e, ok("GET", "/b")}});
  }
  add({"pipeline-404-ok",
       "a 404 then a request, pipelined",
       {b.head("GET", "/no-such-route") + b.get("/b")},
       {immediate(404), ok("GET", "/b")}});
  add({"pipeline-after-chunked",
       "a chunked request then one with Content-Length, pipelined",
       {b.head("POST", "/api/rec/a", te) + abc + b.post("/b", "hello")},
       {ok("POST", "/a", "abc"), ok("POST", "/b", "hello")}});
  return c;
}

}  // namespace tether::testing

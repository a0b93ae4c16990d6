#pragma once
/// The smuggling/desync corpus: raw request bytes a hostile client sends to the HTTP edge,
/// each with what RFC 9112 says must happen to every request in them. One table
/// (edge_cases.cc), read by the corpus test (Tether alone and behind nginx) and written out
/// as seeds for the head-scanner fuzz target (edge_corpus_seeds).
///
/// Paths: the client sends `/api/rec/...` (an `api` connection named `rec`); the upstream
/// sees `/up/...`. Any path holding `SMUGGLED` is one the client never sent as a request
/// line of its own (or one sent after the server had to close): the upstream must never see
/// it.

#include <string>
#include <utility>
#include <vector>

namespace tether::testing {

enum class Outcome {
  kAnswer,  // answered with `status` (200: forwarded once, same method/target/body)
  kRefuse,  // refused: 4xx (or 501 for an unknown coding)
  kEither,  // answered as kAnswer says, or refused
  kNever,   // must not be answered nor forwarded (comes after a mandatory close)
};

/// What must happen to one request of a case, in the order the client sent them.
struct Expected {
  Outcome outcome = Outcome::kAnswer;
  int status = 200;
  std::string method;  // forwarded requests (status 200)
  std::string path;    // after /api/rec (client) and /up (upstream)
  std::string body;
  /// The connection must close after this answer (RFC 9112 MUST close), and after any
  /// refusal of kRefuse/kEither unless `refusal_may_keep_alive`.
  bool close_after = false;
  /// The connection may close after this answer (the rest then goes unanswered).
  bool close_ok = false;
  bool refusal_may_keep_alive = false;
};

struct EdgeCase {
  EdgeCase(std::string id_, std::string description_, std::vector<std::string> segments_,
           std::vector<Expected> expected_)
      : id(std::move(id_)),
        description(std::move(description_)),
        segments(std::move(segments_)),
        expected(std::move(expected_)) {}

  std::string id;
  std::string description;
  /// Bytes sent; each segment after the first follows a delay (`delay_ms`).
  std::vector<std::string> segments;
  std::vector<Expected> expected;
  int delay_ms = 250;
  /// Text that must not appear in any head the upstream receives (e.g. a trailer field).
  std::string upstream_must_not_contain;
  /// Behind nginx: nginx may refuse this request itself although it is valid for Tether
  /// (nginx implements a subset, e.g. only the exact coding `chunked`).
  bool nginx_may_refuse = false;
};

/// The corpus. `host` is the Host value of every well-formed request (the front's
/// `127.0.0.1:port`).
std::vector<EdgeCase> edgeCases(const std::string& host);

}  // namespace tether::testing

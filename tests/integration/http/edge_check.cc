#include "edge_check.h"

#include <cctype>
#include <cstdlib>
#include <optional>

namespace tether::testing {
namespace {

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string printable(const std::string& s, size_t max = 160) {
  std::string out;
  for (unsigned char c : s.substr(0, max)) {
    if (c == '\r') {
      out += "\\r";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c < 0x20 || c >= 0x7f) {
      static const char* kHex = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return s.size() > max ? out + "..." : out;
}

// One response at `pos`: false when incomplete. Sets `status` -1 for non-HTTP bytes.
bool parseOne(const std::string& raw, size_t& pos, bool eof, Answer& a) {
  if (raw.compare(pos, 5, "HTTP/") != 0) {
    if (raw.size() - pos < 5 && !eof) return false;
    a.status = -1;
    a.body = raw.substr(pos);
    pos = raw.size();
    return true;
  }
  const size_t head_end = raw.find("\r\n\r\n", pos);
  if (head_end == std::string::npos) return false;
  a.status = std::atoi(raw.substr(pos + 9, 3).c_str());
  std::optional<size_t> length;
  bool chunked = false;
  size_t line = raw.find("\r\n", pos) + 2;
  while (line < head_end + 2) {
    const size_t eol = raw.find("\r\n", line);
    const std::string field = lower(raw.substr(line, eol - line));
    line = eol + 2;
    if (field.rfind("content-length:", 0) == 0)
      length = std::strtoul(field.c_str() + 15, nullptr, 10);
    if (field.rfind("transfer-encoding:", 0) == 0 && field.find("chunked") != std::string::npos) {
      chunked = true;
    }
  }
  size_t p = head_end + 4;
  a.body.clear();
  if ((a.status >= 100 && a.status < 200) || a.status == 204 || a.status == 304) {
    length = 0;
  }
  if (chunked) {
    for (;;) {
      const size_t eol = raw.find("\r\n", p);
      if (eol == std::string::npos) return false;
      const size_t n = std::strtoul(raw.substr(p, eol - p).c_str(), nullptr, 16);
      p = eol + 2;
      if (n == 0) {
        const size_t end = raw.find("\r\n", p);
        if (end == std::string::npos) return false;
        p = end + 2;  // no trailers expected from the fronts under test
        break;
      }
      if (raw.size() < p + n + 2) return false;
      a.body.append(raw, p, n);
      p += n + 2;
    }
  } else if (length) {
    if (raw.size() < p + *length) return false;
    a.body = raw.substr(p, *length);
    p += *length;
  } else {
    if (!eof) return false;
    a.body = raw.substr(p);
    p = raw.size();
  }
  pos = p;
  return true;
}

// A SMUGGLED path the client never sent as a request of its own. Behind nginx, a whole
// `GET /api/rec/SMUGGLED` request the client pipelined is nginx's to serve (it is then
// matched against the answers like any other); one carrying a swallowed request never is.
bool smuggledRecord(const RecordedRequest& r, bool behind_nginx) {
  if (r.target.find("SMUGGLED") == std::string::npos) return false;
  return !behind_nginx || r.target != "/up/SMUGGLED" ||
         r.raw_head.find("X-Swallow") != std::string::npos;
}

}  // namespace

std::vector<Answer> parseAnswers(const std::string& raw, bool eof) {
  std::vector<Answer> out;
  size_t pos = 0;
  while (pos < raw.size()) {
    Answer a;
    if (!parseOne(raw, pos, eof, a)) break;
    if (a.status >= 100 && a.status < 200) continue;
    out.push_back(std::move(a));
  }
  return out;
}

Verdict judge(const EdgeCase& c, const std::vector<Answer>& answers, bool eof,
              const std::vector<RecordedRequest>& upstream, bool behind_nginx) {
  Verdict v;
  auto problem = [&v](std::string p) { v.problems.push_back(std::move(p)); };
  struct Forward {
    std::string method, target;       // empty: any (a request nginx normalized)
    std::optional<std::string> body;  // nullopt: any body (normalized by nginx)
  };
  std::vector<Forward> forwards;
  size_t ai = 0;
  bool may_be_closed = false;  // the previous answer allows the rest to go unanswered
  bool stopped = false;
  for (size_t i = 0; i < c.expected.size() && !stopped; ++i) {
    const Expected& e = c.expected[i];
    const std::string which = "request " + std::to_string(i + 1);
    if (e.outcome == Outcome::kNever) {
      // Behind nginx, nginx frames the client's bytes: a whole request after the case's one
      // is a request to nginx, which may serve it as such (forwarded clean, answered).
      if (behind_nginx && ai < answers.size() && answers[ai].status == 200 &&
          answers[ai].body == recordedAnswer("GET", "/up/SMUGGLED", 0)) {
        ++ai;
        forwards.push_back({"GET", "/up/SMUGGLED", ""});
      }
      continue;
    }
    if (ai >= answers.size()) {
      if (!(eof && may_be_closed)) {
        problem(which + ": no answer" + (eof ? " (connection closed)" : ""));
      }
      break;
    }
    const Answer& a = answers[ai++];
    if (a.status < 0) {
      problem(which + ": not an HTTP answer: " + printable(a.body));
      break;
    }
    Outcome outcome = e.outcome;
    if (behind_nginx && outcome == Outcome::kAnswer && c.nginx_may_refuse)
      outcome = Outcome::kEither;
    bool answered = false;
    bool refused = false;
    bool normalized = false;
    switch (outcome) {
      case Outcome::kAnswer:
        if (a.status == e.status) {
          answered = true;
        } else if (behind_nginx && e.status != 200 && isRefusal(e.status) && isRefusal(a.status)) {
          refused = true;
        } else {
          problem(which + ": status " + std::to_string(a.status) + ", want " +
                  std::to_string(e.status));
        }
        break;
      case Outcome::kRefuse:
        if (isRefusal(a.status)) {
          refused = true;
        } else if (behind_nginx && a.status == 200) {
          normalized = true;
        } else {
          problem(which + ": status " + std::to_string(a.status) + ", want a refusal (4xx)");
        }
        break;
      case Outcome::kEither:
        if (a.status == e.status) {
          answered = true;
        } else if (isRefusal(a.status)) {
          refused = true;
        } else {
          problem(which + ": status " + std::to_string(a.status) + ", want " +
                  std::to_string(e.status) + " or a refusal (4xx)");
        }
        break;
      case Outcome::kNever:
        break;
    }
    if (answered && e.status == 200) {
      const std::string target = "/up" + e.path;
      if (a.body != recordedAnswer(e.method, target, e.body.size())) {
        problem(which + ": answered with \"" + printable(a.body) + "\", want the answer to " +
                e.method + " " + target + " (" + std::to_string(e.body.size()) + " body bytes)");
      }
      forwards.push_back({e.method, target, e.body});
    }
    if (normalized) forwards.push_back({"", e.path.empty() ? "" : "/up" + e.path, std::nullopt});
    const bool close_now =
        (answered && e.close_after) ||
        (refused && !e.refusal_may_keep_alive && (e.close_after || outcome != Outcome::kAnswer));
    // Behind nginx the client's connection is nginx's: it re-frames, and may keep it open.
    if (close_now && !behind_nginx) {
      v.must_close = true;
      if (ai < answers.size()) {
        problem(which + ": " + std::to_string(answers.size() - ai) +
                " more answer(s) after the answer that must close the connection");
      }
      if (!eof) problem(which + ": connection left open after an answer that must close it");
      stopped = true;
    }
    may_be_closed = e.close_ok || refused || normalized;
  }
  if (!stopped && ai < answers.size()) {
    problem(std::to_string(answers.size() - ai) + " extra answer(s), first: status " +
            std::to_string(answers[ai].status) + " \"" + printable(answers[ai].body) + "\"");
  }

  // The upstream: exactly the forwarded requests, in order, and never a smuggled path.
  for (const auto& r : upstream) {
    if (r.garbage) problem("upstream got bytes that are not a request: " + printable(r.raw_head));
    if (smuggledRecord(r, behind_nginx)) {
      problem("SMUGGLED reached the upstream: " + printable(r.raw_head, 240));
    }
    if (!c.upstream_must_not_contain.empty() &&
        r.raw_head.find(c.upstream_must_not_contain) != std::string::npos) {
      problem("upstream head holds \"" + c.upstream_must_not_contain +
              "\": " + printable(r.raw_head, 400));
    }
  }
  std::vector<const RecordedRequest*> plain;
  for (const auto& r : upstream) {
    if (!r.garbage && !smuggledRecord(r, behind_nginx)) plain.push_back(&r);
  }
  for (size_t i = 0; i < plain.size() || i < forwards.size(); ++i) {
    if (i >= plain.size()) {
      problem("upstream never got " + forwards[i].target + " (answered 200)");
      break;
    }
    const RecordedRequest& r = *plain[i];
    const std::string got = r.method + " " + printable(r.target) + " (" +
                            std::to_string(r.body.size()) + " body bytes)";
    if (i >= forwards.size()) {
      problem("upstream got " + got + " that was not answered as forwarded");
      break;
    }
    const auto& f = forwards[i];
    if ((!f.target.empty() && r.target != f.target) ||
        (!f.method.empty() && r.method != f.method) || (f.body && r.body != *f.body)) {
      problem("upstream got " + got + ", want " + f.method + " " + f.target +
              (f.body ? " (" + std::to_string(f.body->size()) + " body bytes)" : ""));
    }
  }
  return v;
}

}  // namespace tether::testing

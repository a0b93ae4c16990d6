#pragma once
/// Judging one corpus case: the answers a client read back and what the recording upstream
/// received, against the case's expectations (edge_cases.h). Pure functions.

#include <string>
#include <vector>

#include "edge_cases.h"
#include "recording_upstream.h"

namespace tether::testing {

/// One final (non-1xx) answer as the client read it.
struct Answer {
  int status = 0;  // -1: bytes that are not an HTTP response
  std::string body;
};

/// The complete final answers at the start of `raw` (interim 1xx skipped). A body without
/// length runs to the close, so it counts only once `eof`.
std::vector<Answer> parseAnswers(const std::string& raw, bool eof);

/// Whether `status` refuses a request (4xx, or 501 for a coding the server does not know).
inline bool isRefusal(int status) { return (status >= 400 && status < 500) || status == 501; }

struct Verdict {
  std::vector<std::string> problems;  // empty: the case holds
  /// With the answers so far, the connection must now close (a refusal or close_after).
  bool must_close = false;
};

/// Judges a case. `behind_nginx` relaxes what nginx decides on its own: it may refuse
/// requests it does not support (`nginx_may_refuse`), answer a refusal in place of Tether's
/// immediate 4xx, and normalize a malformed request into a well-framed one (then forwarded
/// once, its body not compared).
Verdict judge(const EdgeCase& c, const std::vector<Answer>& answers, bool eof,
              const std::vector<RecordedRequest>& upstream, bool behind_nginx);

}  // namespace tether::testing

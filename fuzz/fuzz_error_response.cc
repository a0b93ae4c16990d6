// Fuzzes the RFC 6749 §5.2 error parser and the classifier over a whole answer: status,
// Content-Type, WWW-Authenticate and Retry-After headers, body.
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_util.h"
#include "oauth/classify.h"
#include "oauth/error_response.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tether;
  if (size < 2) return 0;
  const int status = 100 + (data[0] | (data[1] << 8)) % 500;
  std::string_view in(reinterpret_cast<const char*>(data + 2), size - 2);
  http::Headers headers;
  headers.push_back({"Content-Type", std::string(fuzz::takeField(in))});
  headers.push_back({"WWW-Authenticate", std::string(fuzz::takeField(in))});
  headers.push_back({"Retry-After", std::string(fuzz::takeField(in))});
  const auto e = oauth::parseErrorResponse(headers, in);
  if (e) {
    fuzz::check(!e->code.empty() && e->code.size() <= oauth::protocol::kMaxSanitizedBytes);
    fuzz::check(e->code.find("://") == std::string::npos);
  }
  http::ClientResult r;
  r.request_sent = true;
  r.response.status = status;
  r.response.headers = std::move(headers);
  r.response.body = std::string(in);
  const auto now = core::fromUnixSeconds(1'800'000'000);
  const auto c = oauth::classify(oauth::Outcome::fromResult(std::move(r)), now);
  // The table's safety property: only 400/401/403 can ever be terminal.
  if (c.terminal()) fuzz::check(status == 400 || status == 401 || status == 403);
  if (c.retry_after) fuzz::check(c.retry_after->count() >= 0 && c.retry_after->count() <= 3600);
  fuzz::check(c.code.size() <= oauth::protocol::kMaxSanitizedBytes);
  return 0;
}

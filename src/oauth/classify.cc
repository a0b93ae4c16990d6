#include "oauth/classify.h"

#include "oauth/error_response.h"
#include "oauth/protocol.h"
#include "oauth/retry_after.h"

namespace tether::oauth {
namespace {

std::string statusCode(int status) {
  return std::string(protocol::kHttpStatusCodePrefix) + std::to_string(status);
}

Classification transient(std::string code, int status) {
  Classification c;
  c.outcome_class = OutcomeClass::kTransient;
  c.code = std::move(code);
  c.http_status = status;
  c.request_sent = true;
  return c;
}

Interpretation fromAnswer(const http::ClientResponse& response, const TokenParseOptions& options) {
  Interpretation out;
  const int status = response.status;
  if (response.body.size() > protocol::kMaxResponseBytes) {
    out.classification = transient(std::string(protocol::kResponseTooLarge), status);
    return out;
  }

  if (status >= 200 && status <= 299) {
    const auto content_type = headerValue(response.headers, protocol::kHeaderContentType);
    TokenParseResult parsed =
        parseTokenResponse(response.body, content_type.value_or(std::string_view()), options);
    if (parsed.ok()) {
      out.classification.outcome_class = OutcomeClass::kSuccess;
      out.classification.http_status = status;
      out.classification.request_sent = true;
      out.tokens = std::move(parsed.tokens);
      return out;
    }
    out.classification = transient(std::string(protocol::kMalformedResponse), status);
    out.classification.idp_error = std::move(parsed.error.idp_error);
    return out;
  }

  // Every other status is transient unless a 400/401/403 carries a terminal code. The
  // status alone never decides: a WAF's HTML 403 is not a revocation.
  const auto error = parseErrorResponse(response.headers, response.body);
  out.classification = transient(error ? error->code : statusCode(status), status);
  if (error) out.classification.idp_error = error->code;
  if (status >= 300 && status <= 399) {
    out.classification.code = statusCode(status);  // never followed, whatever it says
    return out;
  }
  if ((status == 400 || status == 401 || status == 403) && error && error->terminal_code) {
    out.classification.outcome_class = OutcomeClass::kTerminal;
  }
  if (status == 429 || status == 503) {
    if (const auto ra = headerValue(response.headers, protocol::kHeaderRetryAfter)) {
      out.classification.retry_after = parseRetryAfter(*ra, options.now);
    }
  }
  return out;
}

}  // namespace

std::string_view outcomeClassName(OutcomeClass c) {
  switch (c) {
    case OutcomeClass::kSuccess:
      return "success";
    case OutcomeClass::kTransient:
      return "transient";
    case OutcomeClass::kTerminal:
      return "terminal";
  }
  return "transient";
}

std::string transportCode(http::TransportError e) {
  std::string_view what;
  switch (e) {
    case http::TransportError::kNone:
      what = "none";
      break;
    case http::TransportError::kDns:
      what = "dns";
      break;
    case http::TransportError::kConnect:
      what = "connect";
      break;
    case http::TransportError::kTls:
      what = "tls";
      break;
    case http::TransportError::kTimeout:
      what = "timeout";
      break;
    case http::TransportError::kReset:
      what = "reset";
      break;
    case http::TransportError::kTooLarge:
      return std::string(protocol::kResponseTooLarge);
    case http::TransportError::kProtocol:
      what = "protocol";
      break;
    case http::TransportError::kInvalidRequest:
      what = "invalid_request";
      break;
    case http::TransportError::kOther:
      what = "other";
      break;
  }
  if (what.empty()) what = "other";
  return std::string(protocol::kTransportCodePrefix) + std::string(what);
}

Interpretation interpret(const Outcome& outcome, const TokenParseOptions& options) {
  Interpretation out;
  if (outcome.local) {
    // Nothing to ask the IdP: a human must re-authorize.
    out.classification.outcome_class = OutcomeClass::kTerminal;
    out.classification.code =
        std::string(*outcome.local == LocalFailure::kNoRefreshToken ? protocol::kNoRefreshToken
                                                                    : protocol::kRefreshExpired);
    return out;
  }
  const http::ClientResult& r = outcome.result;
  if (!r.ok()) {
    // Never delete a credential because of our own network: every transport error is
    // transient, and whether the request left us stays visible.
    out.classification.outcome_class = OutcomeClass::kTransient;
    out.classification.code = transportCode(r.error);
    out.classification.transport_error = r.error;
    out.classification.request_sent = r.request_sent;
    return out;
  }
  return fromAnswer(r.response, options);
}

Classification classify(const Outcome& outcome, core::TimePoint now) {
  TokenParseOptions options;
  options.now = now;
  return interpret(outcome, options).classification;
}

}  // namespace tether::oauth

#include "oauth/error_response.h"

#include <boost/json.hpp>

#include "core/encoding.h"
#include "oauth/form.h"
#include "oauth/protocol.h"
#include "oauth/sanitize.h"
#include "oauth/www_authenticate.h"

namespace tether::oauth {
namespace {

bool isAsciiSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view trimAscii(std::string_view s) {
  while (!s.empty() && isAsciiSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && isAsciiSpace(s.back())) s.remove_suffix(1);
  return s;
}

std::optional<OAuthError> makeError(std::string_view raw, ErrorSource source) {
  std::string code = sanitizeIdpString(trimAscii(raw));
  if (code.empty()) return std::nullopt;
  return OAuthError{std::move(code), isTerminalErrorCode(raw), source};
}

std::optional<OAuthError> fromJson(std::string_view body) {
  const std::string_view trimmed = trimAscii(body);
  if (trimmed.empty() || trimmed.front() != '{') return std::nullopt;
  boost::json::parse_options opts;
  opts.max_depth = protocol::kMaxJsonDepth;
  boost::system::error_code ec;
  const boost::json::value v = boost::json::parse(trimmed, ec, {}, opts);
  if (ec || !v.is_object()) return std::nullopt;
  const auto* e = v.get_object().if_contains(protocol::kError);
  if (!e || !e->is_string()) return std::nullopt;
  const auto& s = e->get_string();
  return makeError(std::string_view(s.data(), s.size()), ErrorSource::kJsonBody);
}

// A body that is plausibly `error=...&...` rather than HTML or prose.
bool looksLikeForm(std::string_view body) {
  body = trimAscii(body);
  if (body.empty()) return false;
  for (char c : body) {
    if (c == '<' || c == '{' || isAsciiSpace(c)) return false;
  }
  return true;
}

std::optional<OAuthError> fromForm(std::string_view content_type, std::string_view body) {
  const std::string type = mediaType(content_type);
  const bool labelled = type == protocol::kMediaForm;
  const bool unlabelled = type.empty() || type == "text/plain";
  if (!labelled && !(unlabelled && looksLikeForm(body))) return std::nullopt;
  const FormPairs pairs = parseFormBody(trimAscii(body), 64);
  const auto e = findFormValue(pairs, protocol::kError);
  if (!e) return std::nullopt;
  return makeError(*e, ErrorSource::kFormBody);
}

}  // namespace

bool isTerminalErrorCode(std::string_view code) {
  code = trimAscii(code);
  for (std::string_view t : protocol::kTerminalErrorCodes) {
    if (code == t) return true;
  }
  return false;
}

std::string mediaType(std::string_view content_type) {
  const size_t semi = content_type.find(';');
  return core::toLower(trimAscii(content_type.substr(0, semi)));
}

std::optional<std::string_view> headerValue(const http::Headers& headers, std::string_view name) {
  for (const auto& h : headers) {
    if (core::iequals(h.name, name)) return std::string_view(h.value);
  }
  return std::nullopt;
}

std::optional<OAuthError> parseErrorResponse(const http::Headers& headers, std::string_view body) {
  if (body.size() > protocol::kMaxResponseBytes) body = {};
  if (auto e = fromJson(body)) return e;
  const auto content_type = headerValue(headers, protocol::kHeaderContentType);
  if (auto e = fromForm(content_type.value_or(std::string_view()), body)) return e;
  if (auto raw = wwwAuthenticateError(headers)) {
    if (auto e = makeError(*raw, ErrorSource::kWwwAuthenticate)) return e;
  }
  return std::nullopt;
}

}  // namespace tether::oauth

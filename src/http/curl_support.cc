#include "http/curl_support.h"

#include <charconv>
#include <memory>
#include <optional>
#include <string>

#include "core/encoding.h"

namespace tether::http {

const char* transportErrorName(TransportError e) {
  switch (e) {
    case TransportError::kNone:
      return "none";
    case TransportError::kDns:
      return "dns";
    case TransportError::kConnect:
      return "connect";
    case TransportError::kTls:
      return "tls";
    case TransportError::kTimeout:
      return "timeout";
    case TransportError::kReset:
      return "reset";
    case TransportError::kTooLarge:
      return "too_large";
    case TransportError::kProtocol:
      return "protocol";
    case TransportError::kInvalidRequest:
      return "invalid_request";
    case TransportError::kOther:
      return "other";
  }
  return "other";
}

namespace detail {

CurlGlobal::CurlGlobal() {
  init_code = curl_global_init(CURL_GLOBAL_DEFAULT);
  const curl_version_info_data* info = curl_version_info(CURLVERSION_NOW);
  openssl = info != nullptr && info->ssl_version != nullptr &&
            std::string_view(info->ssl_version).find("OpenSSL") != std::string_view::npos;
}

// curl_global_init is not thread-safe in older libcurl; a function-local static is.
const CurlGlobal& curlGlobal() {
  static const CurlGlobal global;
  return global;
}

TransportError classifyCurlCode(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
      return TransportError::kDns;
    case CURLE_COULDNT_CONNECT:
    case CURLE_PROXY:
      return TransportError::kConnect;
    case CURLE_OPERATION_TIMEDOUT:
      return TransportError::kTimeout;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_SSL_CLIENTCERT:
    case CURLE_USE_SSL_FAILED:
      return TransportError::kTls;
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
      return TransportError::kReset;
    case CURLE_FILESIZE_EXCEEDED:
      return TransportError::kTooLarge;
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_HTTP3:
    case CURLE_BAD_CONTENT_ENCODING:
    case CURLE_TOO_MANY_REDIRECTS:
    case CURLE_UNSUPPORTED_PROTOCOL:  // a redirect to a non-HTTP scheme (ours is checked)
      return TransportError::kProtocol;
    case CURLE_URL_MALFORMAT:
    case CURLE_BAD_FUNCTION_ARGUMENT:
    case CURLE_UNKNOWN_OPTION:
    case CURLE_NOT_BUILT_IN:
      return TransportError::kInvalidRequest;
    default:
      return TransportError::kOther;
  }
}

}  // namespace detail

std::optional<UrlTarget> parseClientUrl(std::string_view url) {
  (void)detail::curlGlobal();
  std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> u(curl_url(), &curl_url_cleanup);
  const std::string text(url);
  if (!u || curl_url_set(u.get(), CURLUPART_URL, text.c_str(), 0) != CURLUE_OK) {
    return std::nullopt;
  }
  auto part = [&](CURLUPart which, unsigned flags) -> std::string {
    char* raw = nullptr;
    if (curl_url_get(u.get(), which, &raw, flags) != CURLUE_OK || raw == nullptr) return {};
    std::string value(raw);
    curl_free(raw);
    return value;
  };
  UrlTarget out;
  out.scheme = core::toLower(part(CURLUPART_SCHEME, 0));
  if (out.scheme != "http" && out.scheme != "https") return std::nullopt;
  out.host = core::toLower(part(CURLUPART_HOST, 0));
  if (out.host.size() >= 2 && out.host.front() == '[' && out.host.back() == ']') {
    out.host = out.host.substr(1, out.host.size() - 2);
  }
  if (out.host.empty()) return std::nullopt;
  const std::string port = part(CURLUPART_PORT, CURLU_DEFAULT_PORT);
  const auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), out.port);
  if (ec != std::errc() || ptr != port.data() + port.size() || out.port == 0) return std::nullopt;
  return out;
}

}  // namespace tether::http

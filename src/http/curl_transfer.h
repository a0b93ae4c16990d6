#pragma once
// Internal to the libcurl client: the state of one transfer and the libcurl callbacks that
// fill it (response headers and body under their size caps, request_sent tracking, cancel,
// and the per-request CA bundle merged into the TLS trust store). Not for other modules (it
// includes curl.h).

#include <curl/curl.h>

#include <atomic>
#include <cstddef>
#include <string>

#include "http/http_client.h"

namespace tether::http::detail {

/// Response header bytes accepted in total (all header lines of all interim responses).
inline constexpr size_t kMaxHeaderBytes = 256 * 1024;

/// State shared with libcurl's callbacks during one curl_easy_perform. Lives on the stack of
/// `send`; libcurl's pointers to it are cleared (curl_easy_reset) before the handle is pooled.
struct Transfer {
  Transfer(const ClientRequest& r, bool is_head, const std::atomic<bool>& stop)
      : request(r), head(is_head), stopping(stop) {}

  const ClientRequest& request;
  const bool head;
  const std::atomic<bool>& stopping;

  ClientResponse response;
  int current_status = 0;
  size_t header_bytes = 0;
  bool too_large = false;
  bool headers_too_large = false;
  bool cancelled = false;
  std::string bundle_error;

  // request_sent tracking (see onDebug).
  bool request_sent = false;
  bool out_block_open = false;
  bool out_block_is_tunnel = false;
  bool request_headers_done = false;
  std::string out_tail;
  size_t body_out = 0;
};

/// CURLOPT_HEADERFUNCTION: keeps the final response's headers; refuses an announced body over
/// the cap and header blocks over kMaxHeaderBytes (sets `too_large`).
size_t onHeader(char* data, size_t size, size_t nitems, void* user);
/// CURLOPT_WRITEFUNCTION: appends to the body up to `max_response_bytes`.
size_t onBody(char* data, size_t size, size_t nmemb, void* user);
/// CURLOPT_DEBUGFUNCTION: derives `request_sent` from the bytes libcurl wrote.
int onDebug(CURL*, curl_infotype type, char* data, size_t size, void* user);
/// CURLOPT_XFERINFOFUNCTION: aborts the transfer once the client is stopping.
int onProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t);
/// CURLOPT_SSL_CTX_FUNCTION: installs a fresh trust store, the system one plus the request's
/// CA bundle (`bundle_error` says why the bundle could not be used).
CURLcode onSslCtx(CURL* curl, void* ssl_ctx, void* user);

}  // namespace tether::http::detail

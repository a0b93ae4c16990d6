#pragma once
// Internal to the libcurl client: process-wide libcurl state and the mapping of libcurl's
// result codes. Not for other modules (it includes curl.h).

#include <curl/curl.h>

#include <string_view>

#include "http/http_client.h"

namespace tether::http::detail {

struct CurlGlobal {
  CurlGlobal();
  CURLcode init_code = CURLE_OK;
  bool openssl = false;  // the SSL_CTX callback assumes OpenSSL types
};

/// libcurl initialised once (curl_global_init is not thread-safe in older libcurl).
const CurlGlobal& curlGlobal();

/// What a failed transfer's CURLcode means to callers.
TransportError classifyCurlCode(CURLcode code);

}  // namespace tether::http::detail

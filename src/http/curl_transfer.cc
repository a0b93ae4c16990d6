// The libcurl callbacks of one transfer (see curl_transfer.h).

#include "http/curl_transfer.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <algorithm>
#include <charconv>
#include <memory>
#include <string_view>
#include <vector>

#include "core/encoding.h"

namespace tether::http::detail {

namespace {

struct X509Deleter {
  void operator()(X509* x) const { X509_free(x); }
};
struct X509StoreDeleter {
  void operator()(X509_STORE* s) const { X509_STORE_free(s); }
};
struct BioDeleter {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509InfoStackDeleter {
  void operator()(STACK_OF(X509_INFO) * s) const { sk_X509_INFO_pop_free(s, X509_INFO_free); }
};

using X509Ptr = std::unique_ptr<X509, X509Deleter>;
using X509StorePtr = std::unique_ptr<X509_STORE, X509StoreDeleter>;
using BioPtr = std::unique_ptr<BIO, BioDeleter>;
using X509InfoStackPtr = std::unique_ptr<STACK_OF(X509_INFO), X509InfoStackDeleter>;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

}  // namespace

size_t onHeader(char* data, size_t size, size_t nitems, void* user) {
  auto& t = *static_cast<Transfer*>(user);
  const size_t len = size * nitems;
  t.header_bytes += len;
  if (t.header_bytes > kMaxHeaderBytes) {
    t.too_large = t.headers_too_large = true;
    return 0;  // aborts the transfer
  }
  const std::string_view raw(data, len);
  if (raw.starts_with("HTTP/")) {
    // A new response begins (interim 1xx, a followed redirect, or the final one): only the
    // final response's headers are returned.
    t.response.headers.clear();
    t.response.body.clear();
    t.current_status = 0;
    const size_t sp = raw.find(' ');
    if (sp != std::string_view::npos) {
      const std::string_view rest = raw.substr(sp + 1);
      std::from_chars(rest.data(), rest.data() + std::min<size_t>(rest.size(), 3),
                      t.current_status);
    }
    return len;
  }
  std::string_view line = raw;
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.remove_suffix(1);
  if (line.empty()) return len;  // end of a header block
  if (line.front() == ' ' || line.front() == '\t') {
    // Obsolete line folding: continues the previous header's value.
    if (!t.response.headers.empty()) {
      auto& value = t.response.headers.back().value;
      value += ' ';
      value += trim(line);
    }
    return len;
  }
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) return len;  // not a header; ignore
  const std::string_view name = trim(line.substr(0, colon));
  const std::string_view value = trim(line.substr(colon + 1));
  if (core::iequals(name, "content-length") && !t.head && t.current_status >= 200 &&
      t.current_status != 204 && t.current_status != 304) {
    uint64_t announced = 0;
    const auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), announced);
    if (ec == std::errc::result_out_of_range ||
        (ec == std::errc() && announced > t.request.max_response_bytes)) {
      t.too_large = true;  // refuse before reading the body
      return 0;
    }
  }
  t.response.headers.push_back({std::string(name), std::string(value)});
  return len;
}

size_t onBody(char* data, size_t size, size_t nmemb, void* user) {
  auto& t = *static_cast<Transfer*>(user);
  const size_t len = size * nmemb;
  if (t.response.body.size() + len > t.request.max_response_bytes) {
    t.too_large = true;
    return 0;  // len > 0 here (the body never exceeds the cap): a short count aborts
  }
  t.response.body.append(data, len);
  return len;
}

// libcurl reports through the debug callback exactly the bytes it has written to the
// connection: the header block (CURLINFO_HEADER_OUT, possibly in pieces) and then body bytes
// (CURLINFO_DATA_OUT). The request counts as sent once its blank line and all body bytes are
// out. A proxy CONNECT request is reported the same way and is skipped.
int onDebug(CURL*, curl_infotype type, char* data, size_t size, void* user) {
  auto& t = *static_cast<Transfer*>(user);
  if (type == CURLINFO_HEADER_OUT) {
    const std::string_view chunk(data, size);
    if (!t.out_block_open) {
      t.out_block_open = true;
      t.out_block_is_tunnel = chunk.starts_with("CONNECT ") && t.request.method != "CONNECT";
      t.out_tail.clear();
      t.body_out = 0;
    }
    t.out_tail.append(chunk);
    if (t.out_tail.size() > 4) t.out_tail.erase(0, t.out_tail.size() - 4);
    if (t.out_tail == "\r\n\r\n") {
      t.out_block_open = false;
      if (!t.out_block_is_tunnel) {
        t.request_headers_done = true;
        if (t.head || t.request.body.empty()) t.request_sent = true;
      }
    }
  } else if (type == CURLINFO_DATA_OUT && t.request_headers_done) {
    t.body_out += size;
    if (t.body_out >= t.request.body.size()) t.request_sent = true;
  }
  return 0;
}

int onProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto& t = *static_cast<Transfer*>(user);
  if (t.stopping.load(std::memory_order_relaxed)) {
    t.cancelled = true;
    return 1;  // CURLE_ABORTED_BY_CALLBACK
  }
  return 0;
}

namespace {

// Reads every certificate of a PEM file. Empty result with `error` set on failure.
std::vector<X509Ptr> loadPemCertificates(const std::string& path, std::string& error) {
  std::vector<X509Ptr> certs;
  BioPtr bio(BIO_new_file(path.c_str(), "r"));
  if (!bio) {
    error = "cannot open the CA bundle file";
    return certs;
  }
  X509InfoStackPtr infos(PEM_X509_INFO_read_bio(bio.get(), nullptr, nullptr, nullptr));
  if (infos) {
    for (int i = 0; i < sk_X509_INFO_num(infos.get()); ++i) {
      X509_INFO* info = sk_X509_INFO_value(infos.get(), i);
      if (info->x509 != nullptr && X509_up_ref(info->x509) == 1) certs.emplace_back(info->x509);
    }
  }
  if (certs.empty()) error = "the CA bundle file holds no PEM certificate";
  return certs;
}

}  // namespace

// Installs into the SSL_CTX a new trust store: the system store libcurl prepared, plus the
// request's CA bundle. Runs once per new TLS connection, after libcurl loaded its CA store.
CURLcode onSslCtx(CURL* curl, void* ssl_ctx, void* user) {
  auto& t = *static_cast<Transfer*>(user);
  auto* ctx = static_cast<SSL_CTX*>(ssl_ctx);
  std::vector<X509Ptr> extra = loadPemCertificates(t.request.ca_bundle_path, t.bundle_error);
  if (extra.empty()) {
    ERR_clear_error();
    return CURLE_SSL_CACERT_BADFILE;
  }
  X509StorePtr fresh(X509_STORE_new());
  if (!fresh) return CURLE_OUT_OF_MEMORY;
  if (X509_STORE* current = SSL_CTX_get_cert_store(ctx); current != nullptr) {
    X509_STORE_set1_param(fresh.get(), X509_STORE_get0_param(current));
    X509_STORE_lock(current);
    STACK_OF(X509_OBJECT)* objects = X509_STORE_get0_objects(current);
    for (int i = 0; i < sk_X509_OBJECT_num(objects); ++i) {
      X509_OBJECT* obj = sk_X509_OBJECT_value(objects, i);
      if (X509_OBJECT_get_type(obj) == X509_LU_X509) {
        X509_STORE_add_cert(fresh.get(), X509_OBJECT_get0_X509(obj));
      } else if (X509_OBJECT_get_type(obj) == X509_LU_CRL) {
        X509_STORE_add_crl(fresh.get(), X509_OBJECT_get0_X509_CRL(obj));
      }
    }
    X509_STORE_unlock(current);
  }
  // libcurl's default CA directory is a lazy lookup, not objects in the store: add it again.
  char* capath = nullptr;
  if (curl_easy_getinfo(curl, CURLINFO_CAPATH, &capath) == CURLE_OK && capath != nullptr &&
      *capath != '\0') {
    X509_STORE_load_path(fresh.get(), capath);
  }
  for (const auto& cert : extra) X509_STORE_add_cert(fresh.get(), cert.get());
  SSL_CTX_set_cert_store(ctx, fresh.release());  // the context owns it now
  ERR_clear_error();
  return CURLE_OK;
}
}  // namespace tether::http::detail

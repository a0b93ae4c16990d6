// listen, public_url, client_metadata_url, log and server: how the process listens and logs.

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <fstream>
#include <memory>

#include "config/internal.h"
#include "config/sections/sections.h"

namespace tether::config::sections {

namespace {

// A PEM file past this is not a certificate chain or a key.
constexpr size_t kMaxPemBytes = 1024 * 1024;

// The content of a readable file (readableFile() checked it), at most kMaxPemBytes + 1.
std::string readSmallFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string content(kMaxPemBytes + 1, '\0');
  in.read(content.data(), static_cast<std::streamsize>(content.size()));
  content.resize(static_cast<size_t>(in.gcount()));
  return content;
}

using BioPtr = std::unique_ptr<BIO, decltype(&BIO_free)>;
using X509Ptr = std::unique_ptr<X509, decltype(&X509_free)>;
using KeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

// Refuses every passphrase prompt, noting that one was asked for: an encrypted key.
int refusePassphrase(char*, int, int, void* asked) {
  *static_cast<bool*>(asked) = true;
  return -1;
}

// server.tls.cert and server.tls.key: PEM files OpenSSL reads, an unencrypted key, and the
// key of the (first) certificate. Each problem names its field.
void checkTlsFiles(Reader& r, const Entry& cert_entry, const std::string& cert_path,
                   const Entry& key_entry, const std::string& key_path) {
  const std::string cert_pem = readSmallFile(cert_path);
  const std::string key_pem = readSmallFile(key_path);
  X509Ptr cert(nullptr, X509_free);
  KeyPtr key(nullptr, EVP_PKEY_free);
  if (cert_pem.size() > kMaxPemBytes) {
    r.error(cert_entry, quote(cert_path) + " is too large to be a PEM certificate chain");
  } else {
    BioPtr bio(BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size())), BIO_free);
    if (bio) cert.reset(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!cert) {
      r.error(cert_entry, quote(cert_path) +
                              " holds no PEM certificate (expected -----BEGIN CERTIFICATE-----)");
    }
  }
  if (key_pem.size() > kMaxPemBytes) {
    r.error(key_entry, quote(key_path) + " is too large to be a PEM private key");
  } else {
    bool asked = false;
    BioPtr bio(BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size())), BIO_free);
    if (bio) key.reset(PEM_read_bio_PrivateKey(bio.get(), nullptr, refusePassphrase, &asked));
    if (asked || key_pem.find("ENCRYPTED") != std::string::npos) {
      key.reset();
      r.error(key_entry, quote(key_path) +
                             " is encrypted: Tether reads an unencrypted key (protect the file "
                             "with its mode, e.g. 0600, instead)");
    } else if (!key) {
      r.error(key_entry,
              quote(key_path) + " holds no PEM private key (expected -----BEGIN PRIVATE KEY-----)");
    }
  }
  if (cert && key && X509_check_private_key(cert.get(), key.get()) != 1) {
    r.error(key_entry,
            quote(key_path) + " is not the private key of the certificate in " + quote(cert_path));
  }
  ERR_clear_error();
}

void parseTls(Reader& r, const Entry& e, std::optional<TlsConfig>& out) {
  auto m = r.readMap(e, {"cert", "key"});
  if (!m) return;
  const Entry* cert = m->get("cert");
  const Entry* key = m->get("key");
  if (!cert) r.required(*m, "cert", "a PEM certificate file");
  if (!key) r.required(*m, "key", "a PEM private key file");
  if (!cert || !key) return;
  auto cert_path = r.readableFile(*cert);
  auto key_path = r.readableFile(*key);
  if (!cert_path || !key_path) return;
  const size_t errors = r.errorCount();
  checkTlsFiles(r, *cert, *cert_path, *key, *key_path);
  if (r.errorCount() == errors) out = TlsConfig{*cert_path, *key_path};
}

}  // namespace

void parseListen(Reader& r, const Entry& e, HostPort& out) {
  auto s = r.str(e, "host:port");
  if (!s) return;
  auto hp = internal::parseListen(*s);
  if (hp.ok()) {
    out = *hp;
  } else {
    r.error(e, hp.error().message);
  }
}

void parsePublicUrl(Reader& r, const Entry& e, std::string& out) {
  if (auto url = r.httpUrl(e, /*allow_query=*/false)) {
    while (url->size() > 1 && url->back() == '/') url->pop_back();
    out = *url;
  }
}

void parseClientMetadataUrl(Reader& r, const Entry& e, std::string& out) {
  auto url = r.httpUrl(e, /*allow_query=*/false);
  if (!url) return;
  if (!url->starts_with("https://")) {
    r.error(e,
            "must be an https URL (an authorization server fetches client metadata only "
            "over https), got " +
                *url);
    return;
  }
  const auto path_at = url->find('/', std::string_view("https://").size());
  if (path_at == std::string::npos || path_at + 1 >= url->size()) {
    r.error(e,
            "must have a path naming the document (e.g. "
            "https://tether.example/oauth/client-metadata.json), got " +
                *url);
    return;
  }
  if (url->find('#') != std::string::npos) {
    r.error(e, "must not have a fragment (#...), got " + *url);
    return;
  }
  out = *url;
}

void parseLog(Reader& r, const Entry& e, LogConfig& out) {
  auto m = r.readMap(e, {"level", "format", "access"});
  if (!m) return;
  if (const Entry* a = m->get("access")) {
    if (auto v = r.boolean(*a)) out.access = *v;
  }
  if (const Entry* l = m->get("level")) {
    if (auto v = r.oneOf<core::LogLevel>(*l, {{"debug", core::LogLevel::kDebug},
                                              {"info", core::LogLevel::kInfo},
                                              {"warn", core::LogLevel::kWarn},
                                              {"error", core::LogLevel::kError}})) {
      out.level = *v;
    }
  }
  if (const Entry* f = m->get("format")) {
    if (auto v = r.oneOf<core::log::Format>(
            *f, {{"json", core::log::Format::kJson}, {"text", core::log::Format::kText}})) {
      out.format = *v;
    }
  }
}

void parseServer(Reader& r, const Entry& e, ServerConfig& out) {
  auto m = r.readMap(
      e, {"io_threads", "max_header_bytes", "max_body_bytes", "read_timeout", "idle_timeout",
          "write_timeout", "drain_timeout", "max_connections", "allowed_hosts", "tls"});
  if (!m) return;
  ServerConfig& s = out;
  r.setInt(*m, "io_threads", s.io_threads, 1, 256);
  r.setInt(*m, "max_header_bytes", s.max_header_bytes, 1024, 1024 * 1024);
  r.setInt(*m, "max_body_bytes", s.max_body_bytes, 1024, int64_t{1024} * 1024 * 1024);
  r.setDuration(*m, "read_timeout", s.read_timeout);
  r.setDuration(*m, "idle_timeout", s.idle_timeout);
  r.setDuration(*m, "write_timeout", s.write_timeout);
  r.setDuration(*m, "drain_timeout", s.drain_timeout);
  r.setInt(*m, "max_connections", s.max_connections, 1, 1'000'000);
  if (const Entry* tls = m->get("tls")) parseTls(r, *tls, s.tls);
  if (const Entry* hosts = m->get("allowed_hosts")) {
    if (auto items = r.readList(*hosts)) {
      for (const Entry& item : *items) {
        auto text = r.nonEmpty(item, "a host name or host:port such as tether.internal");
        if (!text) continue;
        auto host = internal::normalizeAllowedHost(*text);
        if (!host.ok()) {
          r.error(item, host.error().message);
          continue;
        }
        s.allowed_hosts.push_back(std::move(host).value());
      }
    }
  }
}

}  // namespace tether::config::sections

#include "support/test_certs.h"

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace tether::testing {
namespace {

struct PkeyDeleter {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct X509Deleter {
  void operator()(X509* x) const { X509_free(x); }
};
struct X509ExtDeleter {
  void operator()(X509_EXTENSION* e) const { X509_EXTENSION_free(e); }
};
struct BioDeleter {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct BnDeleter {
  void operator()(BIGNUM* b) const { BN_free(b); }
};

using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyDeleter>;
using X509Ptr = std::unique_ptr<X509, X509Deleter>;
using X509ExtPtr = std::unique_ptr<X509_EXTENSION, X509ExtDeleter>;
using BioPtr = std::unique_ptr<BIO, BioDeleter>;
using BnPtr = std::unique_ptr<BIGNUM, BnDeleter>;

[[noreturn]] void fail(const std::string& what) {
  const unsigned long code = ERR_get_error();
  char buf[256] = {};
  if (code != 0) ERR_error_string_n(code, buf, sizeof buf);
  throw std::runtime_error("test PKI: " + what + (code != 0 ? std::string(": ") + buf : ""));
}

PkeyPtr newKey() {
  PkeyPtr key(EVP_EC_gen("P-256"));
  if (!key) fail("EC key generation failed");
  return key;
}

void setName(X509_NAME* name, const std::string& common_name) {
  if (X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                                 reinterpret_cast<const unsigned char*>("Tether tests"), -1, -1,
                                 0) != 1 ||
      X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                 reinterpret_cast<const unsigned char*>(common_name.c_str()), -1,
                                 -1, 0) != 1) {
    fail("setting a name failed");
  }
}

void addExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509ExtPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) fail("extension " + value + " failed");
}

// A certificate for `key`, valid from an hour ago for a day, with a random serial.
X509Ptr newCert(EVP_PKEY* key, const std::string& common_name) {
  X509Ptr cert(X509_new());
  if (!cert || X509_set_version(cert.get(), X509_VERSION_3) != 1) fail("X509_new failed");
  BnPtr serial(BN_new());
  if (!serial || BN_rand(serial.get(), 64, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
      BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())) == nullptr) {
    fail("serial number failed");
  }
  if (X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600) == nullptr ||
      X509_gmtime_adj(X509_getm_notAfter(cert.get()), 24 * 3600) == nullptr) {
    fail("validity failed");
  }
  setName(X509_get_subject_name(cert.get()), common_name);
  if (X509_set_pubkey(cert.get(), key) != 1) fail("X509_set_pubkey failed");
  return cert;
}

void writePem(const std::string& path, X509* cert, EVP_PKEY* key) {
  BioPtr bio(BIO_new_file(path.c_str(), "w"));
  if (!bio) fail("cannot write " + path);
  if (cert != nullptr && PEM_write_bio_X509(bio.get(), cert) != 1) fail("PEM cert failed");
  if (key != nullptr &&
      PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    fail("PEM key failed");
  }
}

std::string makeTempDir() {
  const std::string pattern =
      (std::filesystem::temp_directory_path() / "tether-pki-XXXXXX").string();
  std::string buf = pattern;
  if (mkdtemp(buf.data()) == nullptr) throw std::runtime_error("test PKI: mkdtemp failed");
  return buf;
}

}  // namespace

struct TestCa::Impl {
  PkeyPtr key;
  X509Ptr cert;
};

TestCa::TestCa(const std::string& common_name) : impl_(std::make_unique<Impl>()) {
  dir_ = makeTempDir();
  impl_->key = newKey();
  impl_->cert = newCert(impl_->key.get(), common_name);
  X509* cert = impl_->cert.get();
  if (X509_set_issuer_name(cert, X509_get_subject_name(cert)) != 1) fail("issuer failed");
  addExtension(cert, cert, NID_basic_constraints, "critical,CA:TRUE");
  addExtension(cert, cert, NID_key_usage, "critical,keyCertSign,cRLSign");
  addExtension(cert, cert, NID_subject_key_identifier, "hash");
  if (X509_sign(cert, impl_->key.get(), EVP_sha256()) == 0) fail("CA signing failed");
  ca_cert_path_ = dir_ + "/ca.pem";
  writePem(ca_cert_path_, cert, nullptr);
}

TestCa::~TestCa() {
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

CertKeyFiles TestCa::issueServerCert(const std::string& file_stem,
                                     const std::vector<std::string>& subject_alt_names) {
  PkeyPtr key = newKey();
  X509Ptr cert = newCert(key.get(), file_stem);
  X509* ca = impl_->cert.get();
  if (X509_set_issuer_name(cert.get(), X509_get_subject_name(ca)) != 1) fail("issuer failed");
  addExtension(cert.get(), ca, NID_basic_constraints, "critical,CA:FALSE");
  addExtension(cert.get(), ca, NID_key_usage, "critical,digitalSignature");
  addExtension(cert.get(), ca, NID_ext_key_usage, "serverAuth");
  addExtension(cert.get(), ca, NID_subject_key_identifier, "hash");
  addExtension(cert.get(), ca, NID_authority_key_identifier, "keyid:always");
  std::string sans;
  for (const auto& san : subject_alt_names) sans += (sans.empty() ? "" : ",") + san;
  if (!sans.empty()) addExtension(cert.get(), ca, NID_subject_alt_name, sans);
  if (X509_sign(cert.get(), impl_->key.get(), EVP_sha256()) == 0) fail("leaf signing failed");

  CertKeyFiles files{dir_ + "/" + file_stem + ".crt.pem", dir_ + "/" + file_stem + ".key.pem"};
  writePem(files.cert_path, cert.get(), nullptr);
  writePem(files.key_path, nullptr, key.get());
  return files;
}

}  // namespace tether::testing

#pragma once
/// A throwaway private PKI for TLS tests: a CA and leaf certificates generated at test time
/// with the OpenSSL 3 C API (EC P-256, SHA-256) into a fresh temporary directory, which is
/// removed when the TestCa is destroyed. No fixed files, nothing checked in.
///
/// Thread-safety: create and issue from one thread; the resulting files are read-only and
/// may be used from anywhere. Failures (which would be a broken test environment) throw
/// std::runtime_error.

#include <memory>
#include <string>
#include <vector>

namespace tether::testing {

/// PEM files of one issued certificate and its private key.
struct CertKeyFiles {
  std::string cert_path;  // leaf certificate only
  std::string key_path;   // unencrypted PKCS#8 private key
};

class TestCa {
 public:
  /// Generates a self-signed CA (basicConstraints CA:TRUE, keyCertSign) in a new temp dir.
  explicit TestCa(const std::string& common_name = "Tether Test CA");
  ~TestCa();
  TestCa(const TestCa&) = delete;
  TestCa& operator=(const TestCa&) = delete;

  /// The CA certificate (PEM): what a client passes as its CA bundle.
  const std::string& caCertPath() const { return ca_cert_path_; }
  /// The temporary directory holding every file of this CA.
  const std::string& dir() const { return dir_; }

  /// Issues a server certificate signed by this CA. `subject_alt_names` uses OpenSSL's
  /// syntax, e.g. {"IP:127.0.0.1", "DNS:localhost"}. `file_stem` names the files in dir().
  CertKeyFiles issueServerCert(const std::string& file_stem,
                               const std::vector<std::string>& subject_alt_names);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string dir_;
  std::string ca_cert_path_;
};

}  // namespace tether::testing

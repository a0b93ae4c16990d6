#pragma once
// Test issuer: makes key pairs (RSA 2048, P-256, Ed25519) with OpenSSL, publishes them as a
// JWK Set and signs compact JWS tokens, including the malformed and hostile ones the
// bad-input tests need (alg none, HS256 keyed with the public key). Header-only; tests and
// benchmarks link OpenSSL::Crypto and Boost::json.

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <boost/json.hpp>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/encoding.h"

namespace tether::testing {

class TestKey {
 public:
  enum class Type { kRsa, kEc, kEd25519 };

  TestKey(Type type, std::string kid) : type_(type), kid_(std::move(kid)) {
    EVP_PKEY* k = nullptr;
    switch (type) {
      case Type::kRsa:
        k = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048));
        break;
      case Type::kEc:
        k = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
        break;
      case Type::kEd25519:
        k = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
        break;
    }
    if (!k) throw std::runtime_error("keygen failed");
    key_.reset(k, EVP_PKEY_free);
  }

  const std::string& kid() const { return kid_; }
  std::string defaultAlg() const {
    return type_ == Type::kRsa ? "RS256" : type_ == Type::kEc ? "ES256" : "EdDSA";
  }

  /// The public JWK as a JSON object.
  boost::json::object jwk() const {
    boost::json::object o;
    if (!kid_.empty()) o["kid"] = kid_;
    o["use"] = "sig";
    if (type_ == Type::kRsa) {
      o["kty"] = "RSA";
      o["n"] = core::base64UrlEncode(bnParam(OSSL_PKEY_PARAM_RSA_N));
      o["e"] = core::base64UrlEncode(bnParam(OSSL_PKEY_PARAM_RSA_E));
    } else if (type_ == Type::kEc) {
      unsigned char buf[65];
      size_t len = 0;
      EVP_PKEY_get_octet_string_param(key_.get(), OSSL_PKEY_PARAM_PUB_KEY, buf, sizeof buf, &len);
      std::string pt(reinterpret_cast<char*>(buf), len);
      o["kty"] = "EC";
      o["crv"] = "P-256";
      o["x"] = core::base64UrlEncode(pt.substr(1, 32));
      o["y"] = core::base64UrlEncode(pt.substr(33, 32));
    } else {
      unsigned char buf[32];
      size_t len = sizeof buf;
      EVP_PKEY_get_raw_public_key(key_.get(), buf, &len);
      o["kty"] = "OKP";
      o["crv"] = "Ed25519";
      o["x"] = core::base64UrlEncode(std::string(reinterpret_cast<char*>(buf), len));
    }
    return o;
  }

  /// The RSA public key's PEM text (what an attacker keys HS256 with).
  std::string publicPem() const {
    unsigned char* der = nullptr;
    int len = i2d_PUBKEY(key_.get(), &der);
    std::string b64 = core::base64Encode(std::string(reinterpret_cast<char*>(der), len));
    OPENSSL_free(der);
    std::string pem = "-----BEGIN PUBLIC KEY-----\n";
    for (size_t i = 0; i < b64.size(); i += 64) pem += b64.substr(i, 64) + "\n";
    return pem + "-----END PUBLIC KEY-----\n";
  }

  /// Signs `input` with `alg` (RS256, PS256, ES256, EdDSA) and returns the JWS signature.
  std::string sign(const std::string& alg, const std::string& input) const {
    std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> md(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    EVP_PKEY_CTX* pctx = nullptr;
    const EVP_MD* digest = alg == "EdDSA" ? nullptr : EVP_sha256();
    EVP_DigestSignInit(md.get(), &pctx, digest, nullptr, key_.get());
    if (alg == "PS256") {
      EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
      EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST);
    }
    size_t len = 0;
    EVP_DigestSign(md.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()),
                   input.size());
    std::string sig(len, '\0');
    EVP_DigestSign(md.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                   reinterpret_cast<const unsigned char*>(input.data()), input.size());
    sig.resize(len);
    if (alg == "ES256") {  // DER -> r || s
      const unsigned char* p = reinterpret_cast<const unsigned char*>(sig.data());
      ECDSA_SIG* es = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size()));
      std::string raw(64, '\0');
      BN_bn2binpad(ECDSA_SIG_get0_r(es), reinterpret_cast<unsigned char*>(raw.data()), 32);
      BN_bn2binpad(ECDSA_SIG_get0_s(es), reinterpret_cast<unsigned char*>(raw.data()) + 32, 32);
      ECDSA_SIG_free(es);
      return raw;
    }
    return sig;
  }

 private:
  std::string bnParam(const char* name) const {
    BIGNUM* bn = nullptr;
    EVP_PKEY_get_bn_param(key_.get(), name, &bn);
    std::string out(static_cast<size_t>(BN_num_bytes(bn)), '\0');
    BN_bn2bin(bn, reinterpret_cast<unsigned char*>(out.data()));
    BN_free(bn);
    return out;
  }

  Type type_;
  std::string kid_;
  std::shared_ptr<EVP_PKEY> key_;
};

/// A JWK Set document holding `keys`.
inline std::string jwksJson(const std::vector<const TestKey*>& keys) {
  boost::json::array arr;
  for (const TestKey* k : keys) arr.push_back(k->jwk());
  return boost::json::serialize(boost::json::object{{"keys", std::move(arr)}});
}

inline std::string b64(const std::string& s) { return core::base64UrlEncode(s); }

/// A compact JWS of `claims` signed by `key` with `alg` (default: the key's), kid = key's.
inline std::string signJwt(const TestKey& key, const boost::json::object& claims,
                           std::string alg = "", boost::json::object header = {}) {
  if (alg.empty()) alg = key.defaultAlg();
  header["alg"] = alg;
  if (!header.contains("kid") && !key.kid().empty()) header["kid"] = key.kid();
  if (!header.contains("typ")) header["typ"] = "at+jwt";
  const std::string input =
      b64(boost::json::serialize(header)) + "." + b64(boost::json::serialize(claims));
  return input + "." + b64(key.sign(alg, input));
}

/// `alg: none` with an empty signature (and with a junk one).
inline std::string unsignedJwt(const boost::json::object& claims, bool junk_signature = false) {
  const std::string input =
      b64(R"({"alg":"none","typ":"JWT"})") + "." + b64(boost::json::serialize(claims));
  return input + "." + (junk_signature ? b64("x") : "");
}

/// HS256 keyed with the issuer's public key PEM: the classic algorithm-confusion forgery.
inline std::string hs256WithPublicKey(const TestKey& key, const boost::json::object& claims) {
  boost::json::object header{{"alg", "HS256"}, {"kid", key.kid()}};
  const std::string input =
      b64(boost::json::serialize(header)) + "." + b64(boost::json::serialize(claims));
  const std::string secret = key.publicPem();
  unsigned char mac[32];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &len);
  return input + "." + b64(std::string(reinterpret_cast<char*>(mac), len));
}

}  // namespace tether::testing

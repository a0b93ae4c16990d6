#include "store/sealer.h"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <utility>

#include "core/digest.h"
#include "core/encoding.h"

namespace tether::store {
namespace {

using core::Errc;
using core::Error;
using core::Result;

constexpr std::string_view kSealedPrefix = "ts1:";
constexpr std::string_view kPlainPrefix = "plain:";
constexpr size_t kNonceSize = 12;
constexpr size_t kTagSize = 16;
constexpr size_t kKeyIdSize = 8;

struct CipherDeleter {
  void operator()(EVP_CIPHER* c) const { EVP_CIPHER_free(c); }
};
struct CtxDeleter {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};

// Fetching the cipher once avoids OpenSSL 3's per-call implicit fetch (about a microsecond).
const EVP_CIPHER* aesGcm() {
  static const std::unique_ptr<EVP_CIPHER, CipherDeleter> cipher(
      EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr));
  return cipher.get();
}

// Nonces come from a small per-thread buffer of CSPRNG output: OpenSSL 3 checks the pid
// (a system call) on every RAND_bytes, which would dominate the cost of sealing a token.
// Each nonce is used once and wiped from the buffer. A child process created by fork()
// must not reuse its parent's buffered bytes, so fork bumps a generation that forces a
// refill.
std::atomic<uint64_t> g_fork_generation{0};

void onFork() { g_fork_generation.fetch_add(1, std::memory_order_relaxed); }

struct NoncePool {
  static constexpr size_t kNonces = 64;
  uint64_t generation = ~uint64_t{0};
  size_t next = kNonces;
  unsigned char bytes[kNonces * kNonceSize] = {};
  ~NoncePool() { OPENSSL_cleanse(bytes, sizeof(bytes)); }
};

bool nextNonce(unsigned char* out) {
  static const bool registered = [] { return pthread_atfork(nullptr, nullptr, onFork) == 0; }();
  thread_local NoncePool pool;
  const uint64_t generation = g_fork_generation.load(std::memory_order_relaxed);
  if (!registered || pool.generation != generation || pool.next >= NoncePool::kNonces) {
    if (RAND_bytes(pool.bytes, sizeof(pool.bytes)) != 1) return false;
    pool.generation = generation;
    pool.next = 0;
  }
  unsigned char* nonce = pool.bytes + pool.next * kNonceSize;
  std::memcpy(out, nonce, kNonceSize);
  OPENSSL_cleanse(nonce, kNonceSize);
  ++pool.next;
  return true;
}

// One context per thread, re-initialised for each value.
EVP_CIPHER_CTX* threadCtx() {
  thread_local std::unique_ptr<EVP_CIPHER_CTX, CtxDeleter> ctx(EVP_CIPHER_CTX_new());
  return ctx.get();
}

const unsigned char* u8(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}
unsigned char* u8(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }

Error cryptoError(std::string message) { return Error(Errc::kCrypto, std::move(message)); }

// Base64url without padding, local and table-driven: core::base64Decode appends byte by
// byte and took most of the time of opening a 1 KiB token.
constexpr char kB64Url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

constexpr std::array<int8_t, 256> makeB64UrlTable() {
  std::array<int8_t, 256> t{};
  for (auto& v : t) v = -1;
  for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(kB64Url[i])] = static_cast<int8_t>(i);
  return t;
}
constexpr std::array<int8_t, 256> kB64UrlValue = makeB64UrlTable();

void appendBase64Url(std::string& out, const unsigned char* in, size_t n) {
  const size_t start = out.size();
  out.resize(start + (n * 4 + 2) / 3);
  char* o = out.data() + start;
  size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    const uint32_t v = (uint32_t{in[i]} << 16) | (uint32_t{in[i + 1]} << 8) | in[i + 2];
    *o++ = kB64Url[(v >> 18) & 63];
    *o++ = kB64Url[(v >> 12) & 63];
    *o++ = kB64Url[(v >> 6) & 63];
    *o++ = kB64Url[v & 63];
  }
  if (n - i == 1) {
    const uint32_t v = uint32_t{in[i]} << 16;
    *o++ = kB64Url[(v >> 18) & 63];
    *o++ = kB64Url[(v >> 12) & 63];
  } else if (n - i == 2) {
    const uint32_t v = (uint32_t{in[i]} << 16) | (uint32_t{in[i + 1]} << 8);
    *o++ = kB64Url[(v >> 18) & 63];
    *o++ = kB64Url[(v >> 12) & 63];
    *o++ = kB64Url[(v >> 6) & 63];
  }
}

// Strict: url alphabet only, no padding, no stray bits. False on malformed input.
bool decodeBase64Url(std::string_view in, std::string& out) {
  if (in.size() % 4 == 1) return false;
  out.resize(in.size() / 4 * 3 + (in.size() % 4 == 0 ? 0 : in.size() % 4 - 1));
  unsigned char* o = reinterpret_cast<unsigned char*>(out.data());
  const auto* p = reinterpret_cast<const unsigned char*>(in.data());
  size_t i = 0;
  for (; i + 4 <= in.size(); i += 4) {
    const int a = kB64UrlValue[p[i]], b = kB64UrlValue[p[i + 1]], c = kB64UrlValue[p[i + 2]],
              d = kB64UrlValue[p[i + 3]];
    if ((a | b | c | d) < 0) return false;
    const uint32_t v = (uint32_t(a) << 18) | (uint32_t(b) << 12) | (uint32_t(c) << 6) | uint32_t(d);
    *o++ = static_cast<unsigned char>(v >> 16);
    *o++ = static_cast<unsigned char>(v >> 8);
    *o++ = static_cast<unsigned char>(v);
  }
  const size_t rest = in.size() - i;
  if (rest >= 2) {
    const int a = kB64UrlValue[p[i]], b = kB64UrlValue[p[i + 1]];
    const int c = rest == 3 ? kB64UrlValue[p[i + 2]] : 0;
    if ((a | b | c) < 0) return false;
    const uint32_t v = (uint32_t(a) << 18) | (uint32_t(b) << 12) | (uint32_t(c) << 6);
    if (rest == 2 && (v & 0xFFFF) != 0) return false;
    if (rest == 3 && (v & 0xFF) != 0) return false;
    *o++ = static_cast<unsigned char>(v >> 16);
    if (rest == 3) *o++ = static_cast<unsigned char>(v >> 8);
  }
  return true;
}

class AesGcmSealer final : public Sealer {
 public:
  explicit AesGcmSealer(std::vector<SealingKey> keys) : keys_(std::move(keys)) {}

  Result<std::string> seal(std::string_view plaintext, std::string_view aad) const override {
    const SealingKey& key = keys_.front();
    EVP_CIPHER_CTX* ctx = threadCtx();
    const EVP_CIPHER* cipher = aesGcm();
    if (ctx == nullptr || cipher == nullptr) return cryptoError("AES-256-GCM is unavailable");
    std::string raw(kNonceSize + plaintext.size() + kTagSize, '\0');
    unsigned char* nonce = u8(raw);
    if (!nextNonce(nonce)) return cryptoError("the random generator failed");
    int len = 0;
    unsigned char* out = nonce + kNonceSize;
    if (EVP_EncryptInit_ex2(ctx, cipher, u8(key.bytes()), nonce, nullptr) != 1 ||
        (!aad.empty() &&
         EVP_EncryptUpdate(ctx, nullptr, &len, u8(aad), static_cast<int>(aad.size())) != 1) ||
        (!plaintext.empty() && EVP_EncryptUpdate(ctx, out, &len, u8(plaintext),
                                                 static_cast<int>(plaintext.size())) != 1) ||
        EVP_EncryptFinal_ex(ctx, out + plaintext.size(), &len) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, static_cast<int>(kTagSize),
                            out + plaintext.size()) != 1) {
      return cryptoError("AES-256-GCM sealing failed");
    }
    std::string sealed;
    sealed.reserve(kSealedPrefix.size() + kKeyIdSize + 1 + (raw.size() * 4 + 2) / 3);
    sealed += kSealedPrefix;
    sealed += key.id();
    sealed += ':';
    appendBase64Url(sealed, u8(raw), raw.size());
    OPENSSL_cleanse(raw.data(), raw.size());
    return sealed;
  }

  Result<std::string> open(std::string_view sealed, std::string_view aad) const override {
    if (sealed.starts_with(kPlainPrefix)) {
      return cryptoError(
          "value is stored in plaintext (written without a sealing key) but a sealing key is "
          "configured");
    }
    if (!sealed.starts_with(kSealedPrefix)) {
      return cryptoError("value is not in a known sealed format (corrupted?)");
    }
    std::string_view rest = sealed.substr(kSealedPrefix.size());
    if (rest.size() < kKeyIdSize + 1 || rest[kKeyIdSize] != ':') {
      return cryptoError("sealed value is truncated or corrupted (no key id)");
    }
    const std::string_view kid = rest.substr(0, kKeyIdSize);
    const SealingKey* key = nullptr;
    for (const auto& k : keys_) {
      if (k.id() == kid) key = &k;
    }
    if (key == nullptr) {
      return cryptoError(
          fmt::format("value is sealed under key id {} which is not configured (configured: {})",
                      kid, keyIds()));
    }
    std::string raw;
    if (!decodeBase64Url(rest.substr(kKeyIdSize + 1), raw) || raw.size() < kNonceSize + kTagSize) {
      return cryptoError("sealed value is truncated or corrupted");
    }
    const size_t ct_size = raw.size() - kNonceSize - kTagSize;
    unsigned char* nonce = u8(raw);
    const unsigned char* ct = nonce + kNonceSize;
    unsigned char* tag = nonce + kNonceSize + ct_size;
    std::string plain(ct_size, '\0');
    EVP_CIPHER_CTX* ctx = threadCtx();
    const EVP_CIPHER* cipher = aesGcm();
    if (ctx == nullptr || cipher == nullptr) return cryptoError("AES-256-GCM is unavailable");
    int len = 0;
    if (EVP_DecryptInit_ex2(ctx, cipher, u8(key->bytes()), nonce, nullptr) != 1 ||
        (!aad.empty() &&
         EVP_DecryptUpdate(ctx, nullptr, &len, u8(aad), static_cast<int>(aad.size())) != 1) ||
        (ct_size > 0 &&
         EVP_DecryptUpdate(ctx, u8(plain), &len, ct, static_cast<int>(ct_size)) != 1) ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, static_cast<int>(kTagSize), tag) != 1 ||
        EVP_DecryptFinal_ex(ctx, u8(plain) + ct_size, &len) != 1) {
      OPENSSL_cleanse(plain.data(), plain.size());
      return cryptoError(
          "sealed value failed authentication (corrupted, truncated, or moved from another "
          "row or column)");
    }
    return plain;
  }

  bool isCurrent(std::string_view sealed) const override {
    return sealed.starts_with(kSealedPrefix) &&
           sealed.substr(kSealedPrefix.size()).starts_with(keys_.front().id());
  }

  bool encrypts() const override { return true; }

  std::string describe() const override {
    std::string out = "aes-256-gcm key " + keys_.front().id();
    if (keys_.size() > 1) out += fmt::format(" (+{} older)", keys_.size() - 1);
    return out;
  }

 private:
  std::string keyIds() const {
    std::string out;
    for (const auto& k : keys_) {
      if (!out.empty()) out += ", ";
      out += k.id();
    }
    return out;
  }

  std::vector<SealingKey> keys_;
};

class PlaintextSealer final : public Sealer {
 public:
  Result<std::string> seal(std::string_view plaintext, std::string_view) const override {
    std::string out(kPlainPrefix);
    appendBase64Url(out, u8(plaintext), plaintext.size());
    return out;
  }

  Result<std::string> open(std::string_view sealed, std::string_view) const override {
    if (sealed.starts_with(kSealedPrefix)) {
      return cryptoError(
          "value is sealed with AES-256-GCM but no sealing key is configured (plaintext mode "
          "cannot open sealed values)");
    }
    if (!sealed.starts_with(kPlainPrefix)) {
      return cryptoError("value is not in a known format (corrupted?)");
    }
    std::string decoded;
    if (!decodeBase64Url(sealed.substr(kPlainPrefix.size()), decoded)) {
      return cryptoError("plaintext value is corrupted");
    }
    return decoded;
  }

  bool isCurrent(std::string_view sealed) const override {
    return sealed.starts_with(kPlainPrefix);
  }
  bool encrypts() const override { return false; }
  std::string describe() const override { return "plaintext"; }
};

}  // namespace

Result<SealingKey> SealingKey::fromBytes(std::string_view raw) {
  if (raw.size() != kSize) {
    return Error(Errc::kInvalidArgument,
                 fmt::format("sealing key must be {} bytes, got {}", kSize, raw.size()));
  }
  std::string material = "tether-key-id:";
  material += raw;
  std::string id = core::sha256Hex(material).substr(0, kKeyIdSize);
  OPENSSL_cleanse(material.data(), material.size());
  return SealingKey(std::string(raw), std::move(id));
}

SealingKey::SealingKey(SealingKey&& other) noexcept
    : bytes_(std::move(other.bytes_)), id_(std::move(other.id_)) {
  OPENSSL_cleanse(other.bytes_.data(), other.bytes_.size());
  other.bytes_.clear();
}

SealingKey& SealingKey::operator=(SealingKey&& other) noexcept {
  if (this != &other) {
    OPENSSL_cleanse(bytes_.data(), bytes_.size());
    bytes_ = std::move(other.bytes_);
    id_ = std::move(other.id_);
    OPENSSL_cleanse(other.bytes_.data(), other.bytes_.size());
    other.bytes_.clear();
  }
  return *this;
}

SealingKey::~SealingKey() { OPENSSL_cleanse(bytes_.data(), bytes_.size()); }

std::string sealingAad(std::string_view table, std::initializer_list<std::string_view> row,
                       std::string_view column) {
  std::string out = "tether-aad-v1";
  auto part = [&out](std::string_view p) {
    out += '|';
    out += std::to_string(p.size());
    out += ':';
    out += p;
  };
  part(table);
  for (std::string_view p : row) part(p);
  part(column);
  return out;
}

Result<std::unique_ptr<Sealer>> makeAesGcmSealer(std::vector<SealingKey> keys) {
  if (keys.empty()) return Error(Errc::kInvalidArgument, "no sealing key given");
  for (size_t i = 0; i < keys.size(); ++i) {
    for (size_t j = i + 1; j < keys.size(); ++j) {
      if (keys[i].id() == keys[j].id()) {
        return Error(Errc::kInvalidArgument,
                     fmt::format("sealing key {} is configured twice", keys[i].id()));
      }
    }
  }
  if (aesGcm() == nullptr) return Error(Errc::kCrypto, "AES-256-GCM is unavailable in OpenSSL");
  return std::unique_ptr<Sealer>(std::make_unique<AesGcmSealer>(std::move(keys)));
}

std::unique_ptr<Sealer> makePlaintextSealer() { return std::make_unique<PlaintextSealer>(); }

}  // namespace tether::store

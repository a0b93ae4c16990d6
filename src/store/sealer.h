#pragma once
/// Sealing of secrets at rest (tokens, client secrets, PKCE verifiers).
///
/// Sealed format (text, so it fits a TEXT column on both backends):
///   `ts1:<key id>:<base64url(nonce[12] || ciphertext || tag[16])>`  AES-256-GCM
///   `plain:<base64url(value)>`                                      plaintext opt-out
/// The associated data binds each value to its row and column (see `sealingAad`), so a
/// value copied to another row or column does not open. The key id (8 hex characters
/// derived from a SHA-256 of the key) lets a key ring hold the new key (used for sealing)
/// and older keys (still opening) during rotation.
///
/// Thread-safety: `Sealer` implementations are immutable after construction and safe to
/// share between threads. Errors are `Errc::kCrypto` with messages that never contain key
/// material or plaintext.

#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace tether::store {

/// A 256-bit AES key and its public id. The bytes are wiped when the object dies.
class SealingKey {
 public:
  static constexpr size_t kSize = 32;

  /// `raw` must be exactly 32 bytes (the config layer decodes hex/base64 first).
  /// kInvalidArgument otherwise.
  static core::Result<SealingKey> fromBytes(std::string_view raw);

  SealingKey(const SealingKey& other) = default;
  SealingKey& operator=(const SealingKey& other) = default;
  SealingKey(SealingKey&& other) noexcept;
  SealingKey& operator=(SealingKey&& other) noexcept;
  ~SealingKey();

  /// 8 lowercase hex characters: the first 4 bytes of SHA-256("tether-key-id:" || key).
  const std::string& id() const { return id_; }
  /// The raw key bytes. Only the sealer should need them.
  std::string_view bytes() const { return bytes_; }

 private:
  SealingKey(std::string bytes, std::string id) : bytes_(std::move(bytes)), id_(std::move(id)) {}
  std::string bytes_;
  std::string id_;
};

/// Associated data for the value in `column` of the row identified by `row` in `table`.
/// Each part is length-prefixed, so no two different locations produce the same bytes.
std::string sealingAad(std::string_view table, std::initializer_list<std::string_view> row,
                       std::string_view column);

/// Seals and opens values bound to associated data.
class Sealer {
 public:
  virtual ~Sealer() = default;

  /// Seals `plaintext` (any bytes) bound to `aad`. A fresh random nonce each call.
  virtual core::Result<std::string> seal(std::string_view plaintext,
                                         std::string_view aad) const = 0;

  /// Opens a value produced by `seal` with the same `aad`. kCrypto when the value is
  /// truncated or corrupted, sealed under a key this sealer does not hold, bound to other
  /// associated data, or in the other mode (plaintext vs sealed).
  virtual core::Result<std::string> open(std::string_view sealed, std::string_view aad) const = 0;

  /// True when `sealed` is already in the form `seal` produces now (same mode, primary
  /// key): key rotation leaves such values alone.
  virtual bool isCurrent(std::string_view sealed) const = 0;

  /// True for AES-GCM, false for the plaintext opt-out.
  virtual bool encrypts() const = 0;

  /// For logs: "aes-256-gcm key 1a2b3c4d (+1 older)" or "plaintext". No key material.
  virtual std::string describe() const = 0;
};

/// AES-256-GCM sealer over a key ring. `keys[0]` seals; every key opens values carrying its
/// id. kInvalidArgument when `keys` is empty or two keys share an id.
core::Result<std::unique_ptr<Sealer>> makeAesGcmSealer(std::vector<SealingKey> keys);

/// The explicit plaintext opt-out: values are stored base64url-encoded behind a `plain:`
/// prefix (not encrypted). Opening a sealed (`ts1:`) value with it is a kCrypto error.
std::unique_ptr<Sealer> makePlaintextSealer();

}  // namespace tether::store

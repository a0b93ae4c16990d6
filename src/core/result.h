#pragma once
/// Recoverable failures as values: `Result<T>` holds either a T or an `Error`.
/// Every module reports failures through the project's own error codes (`Errc`), which
/// the one error table (core/errors.h) maps to HTTP status, JSON-RPC code and log level.

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace tether::core {

/// The project's error codes. Add a code here and a row in errors.cc together.
enum class Errc {
  kInvalidArgument,         // caller supplied something malformed
  kNotFound,                // named thing does not exist
  kAlreadyExists,           // unique thing exists already
  kConflict,                // compare-and-swap lost, state changed meanwhile
  kUnauthenticated,         // no or wrong credentials from the caller
  kPermissionDenied,        // credentials lack the right
  kPayloadTooLarge,         // a body exceeded its limit
  kHeadersTooLarge,         // request headers exceeded their limit
  kTimeout,                 // a deadline passed
  kUnavailable,             // a dependency (store, IdP, upstream) is unreachable for now
  kUpstreamError,           // an upstream answered but not usefully
  kTemporarilyUnavailable,  // connection's token cannot be had right now; retry later
  kNeedsReauth,             // connection must be re-authorized by a human
  kConfig,                  // configuration is invalid
  kCrypto,                  // sealing / opening failed (wrong key, tampered value)
  kStore,                   // the store failed in an unexpected way
  kInternal,                // a bug
};

/// A failure: a code and a human message. The message must never contain a secret.
struct Error {
  Errc code = Errc::kInternal;
  std::string message;

  Error() = default;
  Error(Errc c, std::string m) : code(c), message(std::move(m)) {}
};

/// Either a value or an error (`Error` unless a module needs a richer one, such as the
/// lifecycle's TokenError). Cheap to move; accessing the wrong side is a bug (asserts).
template <class T, class E = Error>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT(implicit)
  Result(E error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT(implicit)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & {
    assert(ok());
    return std::get<0>(v_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(v_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const E& error() const {
    assert(!ok());
    return std::get<1>(v_);
  }
  E&& takeError() && {
    assert(!ok());
    return std::get<1>(std::move(v_));
  }

 private:
  std::variant<T, E> v_;
};

/// Success without a value.
template <class E>
class [[nodiscard]] Result<void, E> {
 public:
  Result() = default;
  Result(E error) : error_(std::move(error)), ok_(false) {}  // NOLINT(implicit)

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const E& error() const {
    assert(!ok_);
    return error_;
  }
  E&& takeError() && {
    assert(!ok_);
    return std::move(error_);
  }

 private:
  E error_;
  bool ok_ = true;
};

using Status = Result<void>;

inline Status okStatus() { return {}; }

}  // namespace tether::core

/// Propagation: `TETHER_TRY(status_expr)` returns the error of a failed `Status` (or
/// `Result<T>` whose value is not needed) from the enclosing function, whose return type
/// must be constructible from `core::Error`.
#define TETHER_TRY(expr)                                                            \
  do {                                                                              \
    auto&& tether_try_result_ = (expr);                                             \
    if (!tether_try_result_.ok()) return std::move(tether_try_result_).takeError(); \
  } while (false)

#define TETHER_TRY_CONCAT_INNER_(a, b) a##b
#define TETHER_TRY_CONCAT_(a, b) TETHER_TRY_CONCAT_INNER_(a, b)

/// `TETHER_TRY_ASSIGN(auto row, store.get(key));` declares `row` from the value of a
/// `Result<T>`, or returns its error from the enclosing function.
#define TETHER_TRY_ASSIGN(decl, expr) \
  TETHER_TRY_ASSIGN_IMPL_(TETHER_TRY_CONCAT_(tether_try_r_, __LINE__), decl, expr)
#define TETHER_TRY_ASSIGN_IMPL_(tmp, decl, expr)    \
  auto tmp = (expr);                                \
  if (!tmp.ok()) return std::move(tmp).takeError(); \
  decl = std::move(tmp).value()

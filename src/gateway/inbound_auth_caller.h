#pragma once
/// The proxy's inbound caller path (DESIGN.md §11): a caller that presented a bearer token
/// of the inbound issuer is admitted (its subject noted for the access log and the call) or
/// refused (gateway/inbound_auth.h) before its call goes any further.
///
///   - `tryAdmit` decides at once when the validator can (a JWT whose key is cached, any
///     refusal): the hot path, no allocation beyond the validator's;
///   - otherwise `admitLater` waits for the validator's I/O (a JWK Set fetch, introspection)
///     and continues on the request's I/O thread, unless the client left meanwhile;
///   - a request whose head passed the server's limit because of its Authorization field
///     (a token of 1 MiB) is answered 401 invalid_token by `oversized()`, installed on the
///     proxy routes through http::RouteOptions::oversized_credentials.
///
/// Thread-safety: the members may be called from any thread; the request and responder
/// belong to the calling I/O thread, and `Proceed` runs on it.

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "gateway/inbound_auth.h"
#include "http/router.h"

namespace tether::gateway {

class InboundCallers {
 public:
  /// Continues an admitted call (on the request's I/O thread).
  using Proceed = std::function<void(http::Request&, http::Responder)>;
  /// Runs `fn` on the I/O thread of `io_context` (UpstreamClient::post).
  using Post = std::function<void(void* io_context, std::function<void()> fn)>;

  InboundCallers(InboundOptions options, std::shared_ptr<identity::Validator> validator,
                 core::MetricsRegistry* metrics, Post post);
  InboundCallers(const InboundCallers&) = delete;  // oversized() hands out member pointers
  InboundCallers& operator=(const InboundCallers&) = delete;

  const InboundAuth& auth() const { return auth_; }

  /// Checks `bearer` for the resource `req` names when that needs no I/O: true (admitted:
  /// the caller's subject set on `req`), or false, with `*pending` telling whether the
  /// refusal was sent (false) or admitLater() must decide (true). `audience` receives the
  /// audience for admitLater.
  bool tryAdmit(Surface surface, http::Request& req, http::Responder& responder,
                std::string_view bearer, std::string& audience, bool* pending) const;

  /// Validates with I/O, then on the request's I/O thread admits the caller and calls
  /// `then`, or sends the refusal. Nothing happens once `owner` (the proxy, which owns this
  /// object and the poster) is gone or the client left.
  void admitLater(Surface surface, http::Request& req, http::Responder responder, std::string token,
                  std::string audience, std::weak_ptr<const void> owner, Proceed then) const;

  /// The answer to a token too large for the request head: 401 invalid_token, logged and
  /// counted as `malformed` ("token too large"). For RouteOptions::oversized_credentials.
  const http::OversizedCredentials* oversized(Surface surface) const {
    return surface == Surface::kMcp ? &oversized_mcp_ : &oversized_api_;
  }

 private:
  // The verdict applied: subject noted, or the refusal sent (false).
  bool admit(Surface surface, http::Request& req, http::Responder& responder,
             const identity::Verdict& verdict) const;
  http::Response oversizedAnswer(Surface surface, http::Request& req) const;

  InboundAuth auth_;
  Post post_;
  http::OversizedCredentials oversized_mcp_;
  http::OversizedCredentials oversized_api_;
};

/// Where the caller's token subject is kept for the access log: a path-parameter slot the
/// router never fills (names there are identifiers), cleared with the request's parameters.
inline const std::string kSubjectParam = "~subject";

}  // namespace tether::gateway

#include "gateway/inbound_auth_caller.h"

#include <optional>
#include <thread>

namespace tether::gateway {

namespace {

// A call whose caller's token is being checked with I/O (a JWK Set fetch, introspection).
// The request stays the session's until the answer: it may be used again only while the
// client is still there (`gone` is set on the request's I/O thread when it leaves).
struct PendingCaller {
  Surface surface = Surface::kMcp;
  http::Request* request = nullptr;
  std::optional<http::Responder> responder;
  std::thread::id io_thread;
  bool gone = false;
};

std::string connectionName(Surface surface, std::string_view name) {
  return std::string(surface == Surface::kMcp ? "mcp/" : "api/") + std::string(name);
}

ErrorShape callerShape(Surface surface, const http::Request& req) {
  ErrorShape shape;
  shape.jsonrpc = surface == Surface::kMcp && req.method == "POST";
  shape.request_body = req.body;
  return shape;
}

}  // namespace

InboundCallers::InboundCallers(InboundOptions options,
                               std::shared_ptr<identity::Validator> validator,
                               core::MetricsRegistry* metrics, Post post)
    : auth_(std::move(options), std::move(validator), metrics),
      post_(std::move(post)),
      oversized_mcp_([this](http::Request& req) { return oversizedAnswer(Surface::kMcp, req); }),
      oversized_api_([this](http::Request& req) { return oversizedAnswer(Surface::kApi, req); }) {}

bool InboundCallers::tryAdmit(Surface surface, http::Request& req, http::Responder& responder,
                              std::string_view bearer, std::string& audience, bool* pending) const {
  audience = auth_.audience(surface, req.param("name"));
  auto verdict = auth_.validator().tryValidate(bearer, audience);
  *pending = !verdict;
  if (!verdict) return false;
  return admit(surface, req, responder, *verdict);
}

bool InboundCallers::admit(Surface surface, http::Request& req, http::Responder& responder,
                           const identity::Verdict& verdict) const {
  if (!verdict.ok()) {
    const std::string name = req.param("name");
    auth_.noteRejection(verdict.error(), connectionName(surface, name), req.request_id);
    responder.send(auth_.refusal(core::Error(core::Errc::kUnauthenticated, ""),
                                 callerShape(surface, req), surface, name, &verdict.error()));
    return false;
  }
  auto& slot = req.params[kSubjectParam];
  slot = (*verdict)->subject;
  req.subject = slot;
  return true;
}

void InboundCallers::admitLater(Surface surface, http::Request& req, http::Responder responder,
                                std::string token, std::string audience,
                                std::weak_ptr<const void> owner, Proceed then) const {
  auto pending = std::make_shared<PendingCaller>();
  pending->surface = surface;
  pending->request = &req;
  pending->io_thread = std::this_thread::get_id();
  responder.onClientGone([weak = std::weak_ptr<PendingCaller>(pending)] {
    if (auto p = weak.lock()) p->gone = true;
  });
  pending->responder.emplace(std::move(responder));
  void* io_context = req.io_context;
  auth_.validator().validate(
      std::move(token), std::move(audience),
      [this, owner, pending, io_context, then = std::move(then)](identity::Verdict verdict) {
        const auto alive = owner.lock();  // `this` and post_ live while the owner does
        if (!alive) return;
        auto resume = [this, owner, pending, then, verdict = std::move(verdict)]() {
          const auto alive = owner.lock();
          if (!alive || pending->gone || !pending->responder) return;
          http::Request& req = *pending->request;
          http::Responder responder = std::move(*pending->responder);
          pending->responder.reset();
          if (!admit(pending->surface, req, responder, verdict)) return;
          then(req, std::move(responder));
        };
        if (std::this_thread::get_id() == pending->io_thread) {
          resume();
          return;
        }
        post_(io_context, std::move(resume));
      });
}

http::Response InboundCallers::oversizedAnswer(Surface surface, http::Request& req) const {
  const identity::Rejection rejection{
      identity::Check::kMalformed,
      "token too large: the Authorization field passes the server's request head limit"};
  const std::string name = req.param("name");
  auth_.noteRejection(rejection, connectionName(surface, name), req.request_id);
  return auth_.refusal(core::Error(core::Errc::kUnauthenticated, ""), callerShape(surface, req),
                       surface, name, &rejection);
}

}  // namespace tether::gateway

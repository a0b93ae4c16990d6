#pragma once
/// Maps (method, path) to handlers. Patterns are literal segments, `{name}` (one segment)
/// and a final `{name*}` (the rest of the path, possibly empty). Literal segments win over
/// parameters. Not thread-safe while adding; read-only (and so thread-safe) once serving.

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "http/message.h"

namespace tether::http {

/// The answer to a request whose head passed the header limit because of its Authorization
/// field (an oversized bearer token): called on the I/O thread with the method, target, path,
/// parameters and a request id filled (no headers, no body); the connection is closed after
/// the answer. Its captures must outlive the server, like a handler's.
using OversizedCredentials = std::function<Response(Request&)>;

struct RouteOptions {
  /// Largest buffered request body for this route (0: the server default).
  size_t max_body_bytes = 0;
  /// Set: such a request gets this answer instead of 431 (not owned; outlives the router).
  const OversizedCredentials* oversized_credentials = nullptr;
};

struct RouteMatch {
  enum class Kind { kFound, kNotFound, kMethodNotAllowed } kind = Kind::kNotFound;
  const Handler* handler = nullptr;
  RouteOptions options;
  std::map<std::string, std::string> params;
  std::string_view pattern;  // the matched route pattern (the router's own storage)
  std::string allow;         // for kMethodNotAllowed: "GET, POST"
};

class Router {
 public:
  Router();
  ~Router();
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;

  /// Registers `handler` for `method` ("GET", ... or "*" for any) on `pattern`.
  /// Throws std::invalid_argument on a malformed pattern or a duplicate (start-up only).
  void add(std::string_view method, std::string_view pattern, Handler handler,
           RouteOptions options = {});

  /// Wraps every handler added from now on with `wrap` (empty: no wrapping), so that a
  /// check can guard a group of routes another module registers (the app puts the admin
  /// API and the portal behind the Host check this way). Start-up only.
  void setWrapper(std::function<Handler(Handler)> wrap) { wrap_ = std::move(wrap); }

  /// Finds the handler for a request path (not decoded; segments are percent-decoded
  /// before they become parameters).
  RouteMatch match(std::string_view method, std::string_view path) const;

 private:
  struct Node;
  std::unique_ptr<Node> root_;
  std::function<Handler(Handler)> wrap_;
};

}  // namespace tether::http

#include "http/router.h"

#include <boost/container/small_vector.hpp>
#include <stdexcept>

#include "core/encoding.h"

namespace tether::http {

struct Router::Node {
  std::map<std::string, std::unique_ptr<Node>, std::less<>> literals;
  std::unique_ptr<Node> param;  // {name}
  std::string param_name;
  std::string rest_name;  // {name*}: matches the rest of the path
  struct Entry {
    Handler handler;
    RouteOptions options;
    std::string pattern;
  };
  std::map<std::string, Entry, std::less<>> methods;       // at this node
  std::map<std::string, Entry, std::less<>> rest_methods;  // for the {name*} tail here
};

namespace {

// Matching runs per request: segments stay on the stack for ordinary paths.
using Segments = boost::container::small_vector<std::string_view, 16>;

Segments splitPath(std::string_view path) {
  Segments parts;
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  while (true) {
    const size_t slash = path.find('/');
    parts.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return parts;
}

std::string decodeSegment(std::string_view s) {
  // Path segments: %XX decoded, '+' kept literally.
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      auto dec = core::hexDecode(s.substr(i + 1, 2));
      if (dec.ok()) {
        out += dec.value();
        i += 2;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

template <class MethodMap>
std::string allowList(const MethodMap& methods) {
  std::string allow;
  for (const auto& [m, _] : methods) {
    if (m == "*") return "*";
    if (!allow.empty()) allow += ", ";
    allow += m;
  }
  return allow;
}

}  // namespace

Router::Router() : root_(std::make_unique<Node>()) {}
Router::~Router() = default;

void Router::add(std::string_view method, std::string_view pattern, Handler handler,
                 RouteOptions options) {
  if (pattern.empty() || pattern.front() != '/') {
    throw std::invalid_argument("route pattern must start with '/': " + std::string(pattern));
  }
  if (wrap_) handler = wrap_(std::move(handler));
  Node* node = root_.get();
  const auto parts = splitPath(pattern);
  for (size_t i = 0; i < parts.size(); ++i) {
    const std::string_view seg = parts[i];
    if (seg.size() >= 2 && seg.front() == '{' && seg.back() == '}') {
      std::string name(seg.substr(1, seg.size() - 2));
      if (!name.empty() && name.back() == '*') {
        if (i + 1 != parts.size()) {
          throw std::invalid_argument("{name*} must be the last segment: " + std::string(pattern));
        }
        name.pop_back();
        if (!node->rest_name.empty() && node->rest_name != name) {
          throw std::invalid_argument("conflicting tail parameter in " + std::string(pattern));
        }
        node->rest_name = name;
        auto [it, inserted] = node->rest_methods.try_emplace(
            std::string(method), Node::Entry{std::move(handler), options, std::string(pattern)});
        if (!inserted) throw std::invalid_argument("duplicate route " + std::string(pattern));
        return;
      }
      if (!node->param) {
        node->param = std::make_unique<Node>();
        node->param_name = name;
      } else if (node->param_name != name) {
        throw std::invalid_argument("conflicting parameter names at " + std::string(pattern));
      }
      node = node->param.get();
    } else {
      auto& child = node->literals[std::string(seg)];
      if (!child) child = std::make_unique<Node>();
      node = child.get();
    }
  }
  auto [it, inserted] = node->methods.try_emplace(
      std::string(method), Node::Entry{std::move(handler), options, std::string(pattern)});
  if (!inserted) throw std::invalid_argument("duplicate route " + std::string(pattern));
}

RouteMatch Router::match(std::string_view method, std::string_view path) const {
  RouteMatch result;
  const auto parts = splitPath(path);

  // Depth-first with backtracking: literal, then {param}, then {rest*}.
  struct Walker {
    const Segments& parts;
    std::string_view method;
    RouteMatch& result;
    std::map<std::string, std::string>& params;  // result.params, built as the walk goes
    std::string allow;

    bool pick(const std::map<std::string, Node::Entry, std::less<>>& methods) {
      auto it = methods.find(method);
      if (it == methods.end()) it = methods.find("*");
      if (it == methods.end() && method == "HEAD") it = methods.find("GET");
      if (it == methods.end()) {
        if (!methods.empty() && allow.empty()) allow = allowList(methods);
        return false;
      }
      result.kind = RouteMatch::Kind::kFound;
      result.handler = &it->second.handler;
      result.options = it->second.options;
      result.pattern = it->second.pattern;
      return true;
    }

    bool walk(const Node* node, size_t i) {
      if (i == parts.size()) {
        if (pick(node->methods)) return true;
      } else {
        auto lit = node->literals.find(parts[i]);
        if (lit != node->literals.end() && walk(lit->second.get(), i + 1)) return true;
        if (node->param && !parts[i].empty()) {
          params[node->param_name] = decodeSegment(parts[i]);
          if (walk(node->param.get(), i + 1)) return true;
          params.erase(node->param_name);
        }
      }
      if (!node->rest_name.empty()) {
        std::string rest;
        for (size_t k = i; k < parts.size(); ++k) {
          if (k > i) rest += '/';
          rest += parts[k];
        }
        params[node->rest_name] = rest;
        if (pick(node->rest_methods)) return true;
        params.erase(node->rest_name);
      }
      return false;
    }
  };

  Walker walker{parts, method, result, result.params, {}};
  if (walker.walk(root_.get(), 0)) return result;
  if (!walker.allow.empty()) {
    result.kind = RouteMatch::Kind::kMethodNotAllowed;
    result.allow = walker.allow;
  }
  return result;
}

}  // namespace tether::http

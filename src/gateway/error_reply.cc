#include "gateway/error_reply.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "core/errors.h"
#include "gateway/protocol.h"

namespace tether::gateway {

namespace json = boost::json;

http::Response errorResponse(const core::Error& error, const ErrorShape& shape) {
  const auto& info = core::errorInfo(error.code);
  const std::string_view message = error.message.empty() ? info.summary : error.message;
  json::object details;
  details["code"] = info.name;
  if (!shape.connection.empty()) details["connection"] = shape.connection;
  if (!shape.reconnect_url.empty()) details["reconnect_url"] = shape.reconnect_url;
  if (shape.retry_after_seconds) details["retry_after"] = *shape.retry_after_seconds;

  std::string body;
  if (shape.jsonrpc) {
    json::object err;
    err["code"] = info.jsonrpc_code;
    err["message"] = message;
    err["data"] = std::move(details);
    body = R"({"jsonrpc":"2.0","id":)" + jsonRpcId(shape.request_body) + R"(,"error":)" +
           json::serialize(err) + "}";
  } else {
    json::object err;
    err["code"] = info.name;
    err["message"] = message;
    for (auto& [k, v] : details) {
      if (k != "code") err[k] = v;
    }
    json::object doc;
    doc["error"] = std::move(err);
    body = json::serialize(doc);
  }
  http::Response r = http::Response::json(info.http_status, std::move(body));
  if (shape.retry_after_seconds) {
    r.headers.push_back({std::string(kRetryAfter), std::to_string(*shape.retry_after_seconds)});
  }
  if (info.http_status == 401) {
    // Only for the gateway's own client keys (never for an upstream token problem).
    r.headers.push_back({std::string(kWwwAuthenticate), R"(Bearer realm="tether")"});
  }
  return r;
}

std::string jsonRpcId(std::string_view body) {
  if (body.empty() || body.size() > (1u << 20)) return "null";
  boost::system::error_code ec;
  const json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) return "null";
  const auto* id = v.get_object().if_contains("id");
  if (!id || !(id->is_string() || id->is_int64() || id->is_uint64() || id->is_double())) {
    return "null";
  }
  return json::serialize(*id);
}

std::string reconnectUrl(std::string_view public_url, std::string_view kind,
                         std::string_view name) {
  std::string url(public_url);
  while (!url.empty() && url.back() == '/') url.pop_back();
  url += kPortalConnectionsPath;
  url += kind;
  url += '/';
  url += name;
  return url;
}

core::Error tokenError(const lifecycle::TokenError& error, const store::ConnectionKey& key,
                       std::string_view reconnect_url) {
  core::Error e = error.toError(key);
  if (error.kind == lifecycle::TokenError::Kind::kNeedsReauth && !reconnect_url.empty()) {
    e.message += " at ";
    e.message += reconnect_url;
  }
  return e;
}

std::optional<int64_t> retryAfterSeconds(const lifecycle::TokenError& error, core::TimePoint now) {
  if (error.kind != lifecycle::TokenError::Kind::kTemporarilyUnavailable || !error.retry_at) {
    return std::nullopt;
  }
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(*error.retry_at - now).count();
  return std::max<int64_t>(1, (ms + 999) / 1000);
}

}  // namespace tether::gateway

#pragma once
/// The admin API's two answer shapes, shared by every admin route file: a JSON body that is
/// never cached, and an error as `{"error":{"code","message"}}` with its HTTP status from
/// core's error table.

#include <boost/json.hpp>

#include "core/errors.h"
#include "http/message.h"

namespace tether::admin {

/// An error answer: the status and body core's error table gives `e`.
inline http::Response errorResponse(const core::Error& e) {
  return http::Response::json(core::errorInfo(e.code).http_status, core::errorJson(e));
}

/// A JSON answer with `Cache-Control: no-store` (admin answers describe live state).
inline http::Response jsonResponse(int status, const boost::json::value& v) {
  auto res = http::Response::json(status, boost::json::serialize(v));
  res.headers.push_back({"Cache-Control", "no-store"});
  return res;
}

}  // namespace tether::admin

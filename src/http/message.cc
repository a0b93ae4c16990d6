#include "http/message.h"

#include "core/errors.h"
#include "core/log.h"

namespace tether::http {

std::optional<std::string> Request::queryParam(std::string_view name) const {
  return formValue(parseForm(query), name);
}

Response Response::json(int status, std::string body) {
  Response r;
  r.status = status;
  r.headers.push_back({"Content-Type", "application/json"});
  r.body = std::move(body);
  return r;
}

Response Response::text(int status, std::string body) {
  Response r;
  r.status = status;
  r.headers.push_back({"Content-Type", "text/plain; charset=utf-8"});
  r.body = std::move(body);
  return r;
}

Response Response::html(int status, std::string body) {
  Response r;
  r.status = status;
  r.headers.push_back({"Content-Type", "text/html; charset=utf-8"});
  r.headers.push_back({"Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'"});
  r.body = std::move(body);
  return r;
}

Response Response::error(const core::Error& error) {
  return json(core::errorInfo(error.code).http_status, core::errorJson(error));
}

Response Response::redirect(std::string location, int status) {
  Response r;
  r.status = status;
  r.headers.push_back({"Location", std::move(location)});
  return r;
}

}  // namespace tether::http

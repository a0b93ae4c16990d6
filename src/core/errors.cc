#include "core/errors.h"

#include <array>
#include <string>

#include "core/json_escape.h"

namespace tether::core {
namespace {

// JSON-RPC: -32600 invalid request, -32603 internal; -32000..-32099 server-defined.
constexpr std::array kTable = {
    ErrorInfo{Errc::kInvalidArgument, "invalid_argument", 400, -32600, LogLevel::kInfo,
              "The request is invalid."},
    ErrorInfo{Errc::kNotFound, "not_found", 404, -32001, LogLevel::kInfo, "Not found."},
    ErrorInfo{Errc::kAlreadyExists, "already_exists", 409, -32002, LogLevel::kInfo,
              "Already exists."},
    ErrorInfo{Errc::kConflict, "conflict", 409, -32003, LogLevel::kInfo,
              "The resource changed meanwhile; retry."},
    ErrorInfo{Errc::kUnauthenticated, "unauthenticated", 401, -32004, LogLevel::kInfo,
              "Authentication required."},
    ErrorInfo{Errc::kPermissionDenied, "permission_denied", 403, -32005, LogLevel::kInfo,
              "Permission denied."},
    ErrorInfo{Errc::kPayloadTooLarge, "payload_too_large", 413, -32006, LogLevel::kInfo,
              "The request body is too large."},
    ErrorInfo{Errc::kHeadersTooLarge, "headers_too_large", 431, -32007, LogLevel::kInfo,
              "The request headers are too large."},
    ErrorInfo{Errc::kTimeout, "timeout", 504, -32008, LogLevel::kWarn, "A deadline passed."},
    ErrorInfo{Errc::kUnavailable, "unavailable", 503, -32009, LogLevel::kWarn,
              "A dependency is unavailable; retry later."},
    ErrorInfo{Errc::kUpstreamError, "upstream_error", 502, -32010, LogLevel::kWarn,
              "The upstream failed."},
    ErrorInfo{Errc::kTemporarilyUnavailable, "temporarily_unavailable", 503, -32011,
              LogLevel::kWarn, "The connection's credentials are being renewed; retry later."},
    ErrorInfo{Errc::kNeedsReauth, "needs_reauth", 424, -32012, LogLevel::kWarn,
              "The connection must be re-authorized in the portal."},
    ErrorInfo{Errc::kConfig, "config_error", 500, -32603, LogLevel::kError,
              "The configuration is invalid."},
    ErrorInfo{Errc::kCrypto, "crypto_error", 500, -32603, LogLevel::kError,
              "A sealed value could not be opened."},
    ErrorInfo{Errc::kStore, "store_error", 500, -32603, LogLevel::kError, "The store failed."},
    ErrorInfo{Errc::kInternal, "internal", 500, -32603, LogLevel::kError, "Internal error."},
};

}  // namespace

const ErrorInfo& errorInfo(Errc code) {
  for (const auto& row : kTable) {
    if (row.code == code) return row;
  }
  return kTable.back();  // unreachable while the table is complete (tested)
}

std::string errorJson(const Error& error) {
  const auto& info = errorInfo(error.code);
  std::string out = R"({"error":{"code":")";
  out += info.name;
  out += R"(","message":)";
  appendJsonString(out, error.message.empty() ? info.summary : error.message);
  out += "}}";
  return out;
}

}  // namespace tether::core

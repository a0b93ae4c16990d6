#pragma once
/// The one error table: each `Errc` maps to an HTTP status, a JSON-RPC error code, a log
/// level and a stable machine-readable name, so the admin API, the MCP proxy and the API
/// proxy all answer alike. Thread-safe (immutable data).

#include <string_view>

#include "core/result.h"

namespace tether::core {

enum class LogLevel { kDebug, kInfo, kWarn, kError };

struct ErrorInfo {
  Errc code;
  std::string_view name;  // e.g. "not_found", used in JSON error bodies
  int http_status;
  int jsonrpc_code;
  LogLevel log_level;
  std::string_view summary;  // generic user-facing text when there is no better message
};

/// Row of the table for `code`. Never fails: every Errc has a row (checked by a test).
const ErrorInfo& errorInfo(Errc code);

/// `{"error":{"code":"<name>","message":"<message>"}}` with proper JSON escaping.
std::string errorJson(const Error& error);

}  // namespace tether::core

#pragma once
/// Structured logs: one JSON object per line on stderr (or human-readable text), built on
/// spdlog. Every message and field value passes through `redactText` before it is
/// written, so a secret that slips into a log call is still masked. Thread-safe.
///
/// Usage: `log::info("refresh succeeded", {{"connection", "mcp/demo"}, {"duration_ms", 12}})`.

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "core/errors.h"

namespace tether::core::log {

enum class Format { kJson, kText };

/// One key/value pair. Numbers and booleans are written unquoted in JSON.
struct Field {
  Field(std::string_view k, std::string_view v) : key(k), value(v) {}
  Field(std::string_view k, const char* v) : key(k), value(v ? v : "") {}
  Field(std::string_view k, const std::string& v) : key(k), value(v) {}
  Field(std::string_view k, int64_t v) : key(k), value(std::to_string(v)), raw(true) {}
  Field(std::string_view k, int v) : key(k), value(std::to_string(v)), raw(true) {}
  Field(std::string_view k, uint64_t v) : key(k), value(std::to_string(v)), raw(true) {}
  Field(std::string_view k, double v);
  Field(std::string_view k, bool v) : key(k), value(v ? "true" : "false"), raw(true) {}

  std::string_view key;
  std::string value;
  bool raw = false;
};

/// Configures the process logger. Safe to call again (tests, reconfiguration).
void init(Format format, LogLevel level);

/// The format of a process's logs: `requested` (a command-line override) when given;
/// otherwise text when the logs go to a terminal, where a person reads them (for example
/// below the `make run` banner); otherwise `configured` (`log.format`, JSON by default) for
/// log collectors, pipes and files.
Format chooseFormat(std::optional<Format> requested, Format configured, bool to_terminal);

/// True when stderr, where the logs go, is a terminal.
bool stderrIsTerminal();

/// Sends every formatted line to `sink` instead of stderr (tests); nullptr restores stderr.
void setSinkForTesting(std::function<void(std::string_view line)> sink);

bool enabled(LogLevel level);
void write(LogLevel level, std::string_view message, std::initializer_list<Field> fields = {});

inline void debug(std::string_view m, std::initializer_list<Field> f = {}) {
  write(LogLevel::kDebug, m, f);
}
inline void info(std::string_view m, std::initializer_list<Field> f = {}) {
  write(LogLevel::kInfo, m, f);
}
inline void warn(std::string_view m, std::initializer_list<Field> f = {}) {
  write(LogLevel::kWarn, m, f);
}
inline void error(std::string_view m, std::initializer_list<Field> f = {}) {
  write(LogLevel::kError, m, f);
}

/// "debug" | "info" | "warn" | "error".
std::optional<LogLevel> parseLevel(std::string_view name);
std::string_view levelName(LogLevel level);

/// Renders a line exactly as `write` would (exposed for tests and the formatter bench).
std::string formatLine(Format format, LogLevel level, std::string_view message,
                       std::initializer_list<Field> fields);

}  // namespace tether::core::log

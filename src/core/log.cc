#include "core/log.h"

#include <fmt/format.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <unistd.h>

#include <atomic>
#include <charconv>
#include <cstdint>
#include <memory>
#include <mutex>

#include "core/clock.h"
#include "core/json_escape.h"
#include "core/log_line.h"
#include "core/redact.h"

namespace tether::core::log {
namespace {

class CallbackSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit CallbackSink(std::function<void(std::string_view)> fn) : fn_(std::move(fn)) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    fn_(std::string_view(msg.payload.data(), msg.payload.size()));
  }
  void flush_() override {}

 private:
  std::function<void(std::string_view)> fn_;
};

struct State {
  std::mutex mu;  // guards replacing the logger
  std::shared_ptr<spdlog::logger> logger;
  std::atomic<Format> format{Format::kJson};
  std::atomic<int> level{static_cast<int>(LogLevel::kInfo)};
};

State& state() {
  static State s;
  return s;
}

std::shared_ptr<spdlog::logger> makeStderrLogger() {
  auto logger =
      std::make_shared<spdlog::logger>("tether", std::make_shared<spdlog::sinks::stderr_sink_mt>());
  logger->set_pattern("%v");
  logger->set_level(spdlog::level::trace);
  logger->flush_on(spdlog::level::trace);
  return logger;
}

std::shared_ptr<spdlog::logger> currentLogger() {
  auto& s = state();
  std::lock_guard lock(s.mu);
  if (!s.logger) s.logger = makeStderrLogger();
  return s.logger;
}

}  // namespace

Field::Field(std::string_view k, double v) : key(k), value(fmt::format("{}", v)), raw(true) {}

void init(Format format, LogLevel level) {
  auto& s = state();
  s.format = format;
  s.level = static_cast<int>(level);
  currentLogger();
}

Format chooseFormat(std::optional<Format> requested, Format configured, bool to_terminal) {
  if (requested) return *requested;
  return to_terminal ? Format::kText : configured;
}

bool stderrIsTerminal() { return ::isatty(STDERR_FILENO) == 1; }

void setSinkForTesting(std::function<void(std::string_view line)> sink) {
  auto& s = state();
  std::shared_ptr<spdlog::logger> logger;
  if (sink) {
    logger = std::make_shared<spdlog::logger>("tether-test",
                                              std::make_shared<CallbackSink>(std::move(sink)));
    logger->set_pattern("%v");
    logger->set_level(spdlog::level::trace);
  } else {
    logger = makeStderrLogger();
  }
  std::lock_guard lock(s.mu);
  s.logger = std::move(logger);
}

bool enabled(LogLevel level) { return static_cast<int>(level) >= state().level.load(); }

std::string_view levelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

std::optional<LogLevel> parseLevel(std::string_view name) {
  for (auto l : {LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarn, LogLevel::kError}) {
    if (levelName(l) == name) return l;
  }
  if (name == "warning") return LogLevel::kWarn;
  return std::nullopt;
}

namespace {

// How a field's value is written: write()'s fields are all redacted, writeFields()'s as told.
std::string_view valueOf(const Field& f) { return f.value; }
bool redacts(const Field& f) { return !f.raw; }
std::string_view valueOf(const LineField& f) { return f.value; }
bool redacts(const LineField& f) { return f.redact && !f.raw; }

// appendJsonString's output, without its per-character pass for the common value that
// needs no escaping (printable ASCII without a quote or backslash).
void appendJsonValue(std::string& line, std::string_view v) {
  for (const char c : v) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f || c == '"' || c == '\\') {
      appendJsonString(line, v);
      return;
    }
  }
  line += '"';
  line += v;
  line += '"';
}

// formatRfc3339(now) appended: the part up to the seconds is formatted once a second per
// thread, the milliseconds by hand.
void appendTimestamp(std::string& line) {
  const auto now = systemClock().now();
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  int64_t secs = ms / 1000;
  int millis = static_cast<int>(ms % 1000);
  if (millis < 0) {
    millis += 1000;
    --secs;
  }
  thread_local int64_t cached_secs = INT64_MIN;
  thread_local std::string prefix;  // "YYYY-MM-DDTHH:MM:SS."
  if (secs != cached_secs) {
    const std::string full = formatRfc3339(now);  // "...SS.mmmZ"
    prefix.assign(full, 0, full.size() - 4);
    cached_secs = secs;
  }
  line += prefix;
  line += static_cast<char>('0' + millis / 100);
  line += static_cast<char>('0' + millis / 10 % 10);
  line += static_cast<char>('0' + millis % 10);
  line += 'Z';
}

template <class F>
void formatInto(std::string& line, Format format, LogLevel level, std::string_view message,
                bool redact_message, std::span<const F> fields) {
  line.reserve(128 + message.size());
  if (format == Format::kJson) {
    line += R"({"ts":")";
    appendTimestamp(line);
    line += R"(","level":")";
    line += levelName(level);
    line += R"(","msg":)";
    if (redact_message) {
      appendJsonValue(line, redactText(message));
    } else {
      appendJsonValue(line, message);
    }
    for (const auto& f : fields) {
      line += ',';
      appendJsonValue(line, f.key);
      line += ':';
      if (f.raw) {
        line += valueOf(f);
      } else if (redacts(f)) {
        appendJsonValue(line, redactText(valueOf(f)));
      } else {
        appendJsonValue(line, valueOf(f));
      }
    }
    line += '}';
  } else {
    appendTimestamp(line);
    line += ' ';
    std::string lvl(levelName(level));
    for (auto& c : lvl) c = static_cast<char>(c - 'a' + 'A');
    line += fmt::format("{:<5} ", lvl);
    // Text mode still strips control characters so a hostile value cannot forge lines.
    std::string msg = redact_message ? redactText(message) : std::string(message);
    for (auto& c : msg) {
      if (static_cast<unsigned char>(c) < 0x20) c = ' ';
    }
    line += msg;
    for (const auto& f : fields) {
      line += ' ';
      line += f.key;
      line += '=';
      std::string v = redacts(f) ? redactText(valueOf(f)) : std::string(valueOf(f));
      for (auto& c : v) {
        if (static_cast<unsigned char>(c) < 0x20) c = ' ';
      }
      if (!f.raw && (v.empty() || v.find(' ') != std::string::npos)) {
        line += jsonString(v);
      } else {
        line += v;
      }
    }
  }
}

}  // namespace

std::string formatLine(Format format, LogLevel level, std::string_view message,
                       std::initializer_list<Field> fields) {
  std::string line;
  formatInto(line, format, level, message, true,
             std::span<const Field>(fields.begin(), fields.size()));
  return line;
}

NumberText::NumberText(double v) {
  size_ = fmt::format_to_n(buf_, sizeof buf_, "{}", v).size;
  if (size_ > sizeof buf_) size_ = sizeof buf_;
}

NumberText::NumberText(long long v) {
  size_ = static_cast<size_t>(std::to_chars(buf_, buf_ + sizeof buf_, v).ptr - buf_);
}

void writeFields(LogLevel level, std::string_view message, std::span<const LineField> fields) {
  if (!enabled(level)) return;
  thread_local std::string line;  // storage reused by this thread's next line
  line.clear();
  formatInto(line, state().format.load(), level, message, false, fields);
  auto logger = currentLogger();
  logger->log(spdlog::level::info, std::string_view(line));
}

void write(LogLevel level, std::string_view message, std::initializer_list<Field> fields) {
  if (!enabled(level)) return;
  const std::string line = formatLine(state().format.load(), level, message, fields);
  auto logger = currentLogger();
  logger->log(spdlog::level::info, std::string_view(line));
}

}  // namespace tether::core::log

#include "core/log.h"

#include <fmt/format.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <mutex>

#include "core/clock.h"
#include "core/json_escape.h"
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

std::string formatLine(Format format, LogLevel level, std::string_view message,
                       std::initializer_list<Field> fields) {
  const std::string ts = formatRfc3339(systemClock().now());
  std::string line;
  line.reserve(128 + message.size());
  if (format == Format::kJson) {
    line += R"({"ts":")";
    line += ts;
    line += R"(","level":")";
    line += levelName(level);
    line += R"(","msg":)";
    appendJsonString(line, redactText(message));
    for (const auto& f : fields) {
      line += ',';
      appendJsonString(line, f.key);
      line += ':';
      if (f.raw) {
        line += f.value;
      } else {
        appendJsonString(line, redactText(f.value));
      }
    }
    line += '}';
  } else {
    line += ts;
    line += ' ';
    std::string lvl(levelName(level));
    for (auto& c : lvl) c = static_cast<char>(c - 'a' + 'A');
    line += fmt::format("{:<5} ", lvl);
    // Text mode still strips control characters so a hostile value cannot forge lines.
    std::string msg = redactText(message);
    for (auto& c : msg) {
      if (static_cast<unsigned char>(c) < 0x20) c = ' ';
    }
    line += msg;
    for (const auto& f : fields) {
      line += ' ';
      line += f.key;
      line += '=';
      std::string v = f.raw ? f.value : redactText(f.value);
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
  return line;
}

void write(LogLevel level, std::string_view message, std::initializer_list<Field> fields) {
  if (!enabled(level)) return;
  const std::string line = formatLine(state().format.load(), level, message, fields);
  auto logger = currentLogger();
  logger->log(spdlog::level::info, std::string_view(line));
}

}  // namespace tether::core::log
